// Insights as the member may see them: flags with suggestions, health per pillar,
// strengths, and recommendations to dismiss or mark done.

import { call, missing } from "../api.js";
import { button, h, note, say, section, words } from "../ui.js";

export const title = "insights";

const PILLARS = [["emotional", "Emotional"], ["intellectual", "Intellectual"], ["physical", "Physical"], ["overall", "Overall"]];

// Health is 0 to 100 over the last 7 days of shared check-ins; the trend is the change on the week before.
function score(value, change) {
  if (value === null || value === undefined) return "not enough data yet";
  const trend = change ? `, ${change > 0 ? "up" : "down"} ${Math.abs(Math.round(change))} on last week` : "";
  return `${Math.round(value)} of 100${trend}`;
}

// Whose reports a flag rests on, said in words rather than as its code.
const BASIS = {
  one_member: "This rests on what one of you reported.",
  both_members: "This rests on what both of you reported.",
};

function checkIns(n) {
  return n === 1 ? "1 check-in" : `${n} check-ins`;
}

function flagCard(ctx, flag) {
  const reply = h("div", { class: "actions", role: "group", "aria-label": "Does this match what you see?" },
    [["agree", "This matches what I see"], ["see_it_differently", "I see it differently"]].map(([answer, text]) =>
      button(text, async () => {
        try {
          await call("POST", `${ctx.base}/insights/flags/${encodeURIComponent(flag.code)}/response`, { body: { answer } });
          reply.replaceChildren(note("Thank you for answering."));
        } catch (error) {
          if (!missing(error)) throw error;
          reply.replaceChildren(note("Answering a flag is not available on this server yet."));
        }
      })));
  return h("li", { class: `card flag ${flag.severity}`, dataset: { flag: flag.code } },
    h("h3", {}, flag.title || words(flag.code)),
    flag.summary ? h("p", {}, flag.summary) : null,
    BASIS[flag.basis] ? h("p", { class: "quiet" }, BASIS[flag.basis]) : null,
    h("p", {}, h("strong", {}, "Something to try: "), flag.suggestion),
    flag.can_respond ? reply : null);
}

function recommendation(ctx, item) {
  const done = (verb, text, message) => button(text, async (event) => {
    const card = event.target.closest("li");
    try {
      await call("POST", `${ctx.base}/insights/recommendations/${encodeURIComponent(item.id)}/${verb}`);
      card.remove();
      say(message);
    } catch (error) {
      if (!missing(error)) throw error;
      say("This is not available on this server yet.");
    }
  });
  return h("li", { class: "card" }, h("p", {}, item.text),
    item.id ? h("div", { class: "actions" }, done("done", "We did this", "Well done."),
      done("dismiss", "Not for us", "We won't suggest it again.")) : null);
}

export async function render(ctx) {
  const found = await call("GET", `${ctx.base}/insights`);
  const health = found.health || {};
  const samples = health.sample_size ?? health.sample_sizes;
  return h("div", { class: "screen", id: "insights" },
    h("h1", {}, "Insights"),
    note("Drawn only from what you logged and what others shared. Private entries never count toward what others see."),
    section("Worth a look", found.flags.length
      ? h("ul", { class: "cards" }, found.flags.map((f) => flagCard(ctx, f)))
      : note("Nothing worrying stands out right now.")),
    section("Health by pillar", h("dl", { class: "health" }, PILLARS.map(([key, label]) => [
      h("dt", {}, label),
      h("dd", {}, score(health[key], health.trend?.[key]),
        samples !== undefined && samples !== null
          ? ` (from ${checkIns(typeof samples === "object" ? samples[key] ?? 0 : samples)})` : ""),
    ]))),
    section("Strengths", found.strengths.length
      ? h("ul", { class: "plain" }, found.strengths.map((s) => h("li", {}, s.title || s.text || words(s.code || s.kind || ""))))
      : note("Strengths appear as you keep your practice going.")),
    section("Ideas for you", found.recommendations.length
      ? h("ul", { class: "cards" }, found.recommendations.map((r) => recommendation(ctx, r)))
      : note("No suggestions right now.")));
}
