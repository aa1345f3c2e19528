// The ten-point check-up and its band: a map for growth, never a verdict.

import { call } from "../api.js";
import { choices, form, h, note, say, section } from "../ui.js";
import { band } from "./entries.js";

export const title = "check-up";

const STATEMENTS = [
  "We speak openly about how we feel, the good and the hard.",
  "We notice when the other reaches out, and we reach back.",
  "We are affectionate in ways that have nothing to do with sex.",
  "After an argument we find our way back to each other, instead of going quiet and resentful.",
  "We tell each other our hopes and our fears.",
  "Each of us has room for our own interests and friends.",
  "Our devices don't crowd out our time together.",
  "We can be vulnerable with each other, even when it gets messy.",
  "Old hurts are acknowledged between us, not brushed aside.",
  "We look forward to what is ahead, together and each on our own.",
];
const MEANING = {
  strong: "You have strong foundations. Keep doing what works, and keep noticing it.",
  room_to_grow: "There is room to grow, like in most relationships. Pick one statement to work on together.",
  needs_conversation: "It may be time for an open conversation, and perhaps some outside support. Asking for help is a sign of care.",
};

export async function render(ctx) {
  const result = h("div", { id: "assessment-result", "aria-live": "polite" });
  const el = form("assessment", STATEMENTS.map((text, i) =>
    choices(`${i + 1}. ${text}`, `a${i}`, [["yes", "Yes"], ["no", "No"]])), async (f) => {
    const answers = STATEMENTS.map((_, i) => f.querySelector(`input[name=a${i}]:checked`)?.value);
    const missingAt = answers.findIndex((a) => !a);
    if (missingAt >= 0) {
      f.querySelector(`[data-error-for="a${missingAt}"]`).textContent = "Answer this one too, yes or no.";
      f.querySelector(`input[name=a${missingAt}]`).focus();
      return;
    }
    const entry = await call("POST", `${ctx.base}/assessments`, { body: { answers: answers.map((a) => a === "yes") } });
    result.replaceChildren(h("h2", {}, band(entry.band)), h("p", {}, MEANING[entry.band] || ""),
      note(`${entry.score} of 10 statements hold for you today. Only you see this unless you share it.`));
    say(`Your check-up: ${band(entry.band)}.`);
    result.scrollIntoView({ block: "start" });
  }, "See my band");
  return h("div", { class: "screen" },
    h("h1", {}, "Relationship check-up"),
    note("Ten statements, yes or no. There are no wrong answers; the result is private to you."),
    result,
    section("The statements", el));
}
