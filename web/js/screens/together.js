// Touch and time: the physical pillar and the screens-versus-presence balance.

import { call } from "../api.js";
import { choices, field, form, h, note, say, section, select, values, words } from "../ui.js";

export const title = "touch and time";

const TOUCH = ["hug", "holding_hands", "cuddle", "massage", "kiss", "sleeping_close", "sex", "other"];

function privacy() {
  return choices("Who sees this", "visibility", [["private", "Only me (private)"], ["shared", "Shared"]],
    { checked: ["private"] });
}

function localDate(tz) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: tz }).format(new Date());
}

export async function render(ctx) {
  const touch = form("touch", [
    field("Kind of touch", select("kind", TOUCH.map((k) => [k, words(k)]))),
    h("div", { class: "field" }, h("label", { class: "choice" },
      h("input", { type: "checkbox", name: "sexual", value: "true", id: "touch-sexual" }), h("span", {}, "It was sexual"))),
    field("Minutes", h("input", { name: "minutes", type: "number", min: 0, max: 1440, inputmode: "numeric" }), "Optional."),
    privacy(),
  ], async (el) => {
    const raw = values(el);
    const body = { kind: raw.kind, sexual: raw.sexual !== undefined, visibility: raw.visibility };
    if (raw.minutes) body.minutes = Number(raw.minutes);
    await call("POST", `${ctx.base}/touches`, { body });
    el.reset();
    say("Touch logged.");
  }, "Log touch");

  const time = form("time", [
    field("Day", h("input", { name: "date", type: "date", value: localDate(ctx.tz) })),
    field("Minutes on screens", h("input", { name: "screen_minutes", type: "number", min: 0, max: 1440, inputmode: "numeric" })),
    field("Minutes face to face", h("input", { name: "face_to_face_minutes", type: "number", min: 0, max: 1440, inputmode: "numeric" })),
    privacy(),
  ], async (el) => {
    const raw = values(el);
    await call("POST", `${ctx.base}/time-logs`, {
      body: {
        date: raw.date, visibility: raw.visibility,
        screen_minutes: raw.screen_minutes === "" ? null : Number(raw.screen_minutes),
        face_to_face_minutes: raw.face_to_face_minutes === "" ? null : Number(raw.face_to_face_minutes),
      },
    });
    say("Day logged.");
  }, "Log the day");

  return h("div", { class: "screen" },
    h("h1", {}, "Touch and time"),
    note("Closeness far beyond sex: hugs, holding hands, sleeping close. Private unless you share it."),
    section("Touch", touch),
    section("Time together", time));
}
