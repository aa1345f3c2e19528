// Rituals and the schedule, in the member's own local time.

import { call } from "../api.js";
import { button, dayAndTime, field, form, h, note, say, section, select, values, words } from "../ui.js";

export const title = "rituals";

const REPEATS = [
  ["FREQ=DAILY", "Every day"], ["FREQ=WEEKLY", "Every week"], ["FREQ=WEEKLY;INTERVAL=2", "Every two weeks"],
  ["FREQ=MONTHLY", "Every month"],
];

function nextEvening() {
  const at = new Date(Date.now() + 86400000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T19:00`;
}

function outcome(ctx, item, value, text) {
  return button(text, async () => {
    await call("POST", `${ctx.base}/rituals/${encodeURIComponent(item.ref_id)}/outcomes`,
      { body: { occurrence: item.starts_at, outcome: value } });
    say("Noted.");
  });
}

export async function render(ctx) {
  const [rituals, schedule] = await Promise.all([
    call("GET", `${ctx.base}/rituals`), call("GET", `${ctx.base}/schedule`),
  ]);
  const titles = Object.fromEntries(rituals.entries.map((r) => [r.id, r.title]));
  const create = form("ritual", [
    field("What you will do", h("input", { name: "title", required: true, autocomplete: "off" }),
      "For example: a walk after dinner, one question before bed."),
    field("How often", select("rrule", REPEATS)),
    field(`First time (your local time, ${ctx.tz.replaceAll("_", " ")})`,
      h("input", { name: "starts_at", type: "datetime-local", value: nextEvening() })),
    field("Minutes", h("input", { name: "duration_minutes", type: "number", min: 1, max: 1440, value: 30 })),
  ], async (el) => {
    const raw = values(el);
    await call("POST", `${ctx.base}/rituals`, {
      body: {
        title: raw.title, rrule: raw.rrule, timezone: ctx.tz,
        starts_at: raw.starts_at.length === 16 ? `${raw.starts_at}:00` : raw.starts_at,
        duration_minutes: Number(raw.duration_minutes),
      },
    });
    say("Ritual added.");
    ctx.refresh();
  }, "Add the ritual");

  const items = schedule.items || [];
  return h("div", { class: "screen" },
    h("h1", {}, "Rituals and schedule"),
    section("Coming up (next 7 days)", items.length ? h("ul", { class: "cards", id: "schedule" }, items.map((item) =>
      h("li", { class: "card" },
        h("p", {}, h("strong", {}, dayAndTime(item.starts_at, ctx.tz)), " ",
          item.kind === "ritual" ? titles[item.ref_id] || "A ritual" : words(item.kind)),
        item.kind === "ritual" && item.ref_id && new Date(item.starts_at) < new Date()
          ? h("div", { class: "actions" }, outcome(ctx, item, "completed", "We did it"), outcome(ctx, item, "skipped", "Skipped"))
          : null)))
      : note("Nothing scheduled in the next week.")),
    section("Your rituals", rituals.entries.length ? h("ul", { class: "plain", id: "rituals" },
      rituals.entries.map((r) => h("li", {}, `${r.title}: ${(REPEATS.find(([v]) => v === r.rrule) || [0, r.rrule])[1]}`)))
      : note("No rituals yet.")),
    section("Start a ritual", create));
}
