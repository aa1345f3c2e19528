// Digital dates for members apart: propose one, answer one, or pick a suggested slot that
// falls outside everyone's quiet hours.

import { call, missing } from "../api.js";
import { button, dayAndTime, field, form, h, note, say, section, select, values, words } from "../ui.js";

export const title = "dates";

const KINDS = [["video", "Video call"], ["call", "Phone call"], ["watch_together", "Watch something together"],
  ["play", "Play a game"], ["other", "Something else"]];
const UNAVAILABLE = "Digital dates are not available on this server yet.";

function toLocalInput(iso, tz) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", {
    timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

function listOf(found) {
  return Array.isArray(found) ? found : found.dates || found.slots || found.entries || found.items || found.suggestions || [];
}

function dateCard(ctx, date) {
  const id = encodeURIComponent(date.id);
  const answered = (date.answers || {})[ctx.me.id] || (date.accepted_by || []).includes(ctx.me.id);
  const answer = (verb, text) => button(text, async () => {
    await call("POST", `${ctx.base}/dates/${id}/${verb}`);
    say(verb === "accept" ? "Date accepted." : "Date declined.");
    ctx.refresh();
  }, { dataset: { action: verb } });
  return h("li", { class: "card", dataset: { dateId: date.id, status: date.status } },
    h("p", {}, h("strong", {}, dayAndTime(date.starts_at, ctx.tz)), `, ${date.duration_minutes} minutes`),
    h("p", {}, words(date.kind), date.plan ? `: ${date.plan}` : ""),
    h("p", { class: "status-line" }, `Status: ${words(date.status || "proposed")}`),
    date.status === "proposed" && !answered && date.author_id !== ctx.me.id
      ? h("div", { class: "actions" }, answer("accept", "Accept"), answer("decline", "Decline")) : null);
}

export async function render(ctx) {
  let dates;
  try {
    dates = listOf(await call("GET", `${ctx.base}/dates`));
  } catch (error) {
    if (!missing(error)) throw error;
    return h("div", { class: "screen" }, h("h1", {}, "Digital dates"), note(UNAVAILABLE, "callout"));
  }
  const propose = form("date", [
    field(`When (your local time, ${ctx.tz.replaceAll("_", " ")})`, h("input", { name: "starts_at", type: "datetime-local", required: true })),
    field("Minutes", h("input", { name: "duration_minutes", type: "number", min: 5, max: 1440, value: 60 })),
    field("What kind of date", select("kind", KINDS)),
    field("The plan", h("textarea", { name: "plan", rows: 2 }), "Optional."),
  ], async (el) => {
    const raw = values(el);
    const body = {
      starts_at: raw.starts_at.length === 16 ? `${raw.starts_at}:00` : raw.starts_at,
      timezone: ctx.tz, duration_minutes: Number(raw.duration_minutes), kind: raw.kind,
    };
    if (raw.plan?.trim()) body.plan = raw.plan.trim();
    await call("POST", `${ctx.base}/dates`, { body });
    say("Date proposed.");
    ctx.refresh();
  }, "Propose the date");

  const suggestions = h("div", { id: "suggestions" });
  const suggest = button("Suggest times that suit everyone", async () => {
    try {
      const found = listOf(await call("GET", `${ctx.base}/dates/suggestions?duration=60`));
      suggestions.replaceChildren(found.length ? h("ul", { class: "plain" }, found.slice(0, 6).map((slot) =>
        h("li", {}, button(dayAndTime(slot.starts_at, ctx.tz), () => {
          propose.querySelector("[name=starts_at]").value = toLocalInput(slot.starts_at, ctx.tz);
          propose.querySelector("[name=starts_at]").focus();
        }))))
        : note("No free slot found in the coming days."));
    } catch (error) {
      if (!missing(error)) throw error;
      suggestions.replaceChildren(note("Suggestions are not available on this server yet."));
    }
  });

  return h("div", { class: "screen" },
    h("h1", {}, "Digital dates"),
    note("Time together when you are apart. Each of you sees the time in your own time zone."),
    section("Planned", dates.length ? h("ul", { class: "cards", id: "dates" }, dates.map((d) => dateCard(ctx, d)))
      : note("No dates planned yet.")),
    section("Plan a date", suggest, suggestions, propose));
}
