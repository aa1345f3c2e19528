// Monthly reviews and the trust-rebuilding program, as the member may see them.
// Both are newer parts of the API: a server without them gets a quiet note.

import { call, missing } from "../api.js";
import { button, day, h, note, say, section, words } from "../ui.js";

export const title = "reviews";

function listOf(found, key) {
  return Array.isArray(found) ? found : found?.[key] || found?.entries || found?.items || [];
}

/** A review's figures, whatever their shape: labelled values, nested one level. */
function figures(review) {
  const skip = new Set(["id", "relationship_id", "title", "period", "month", "starts_at", "ends_at"]);
  return h("dl", { class: "health" }, Object.entries(review).filter(([k]) => !skip.has(k)).map(([key, value]) => [
    h("dt", {}, words(key)),
    h("dd", {}, Array.isArray(value) ? value.map((v) => (typeof v === "object" ? v.title || v.text || words(v.code || "") : v)).join(", ") || "none"
      : value && typeof value === "object" ? Object.entries(value).map(([k, v]) => `${words(k)}: ${v ?? "-"}`).join("; ")
        : String(value ?? "-")),
  ]));
}

async function reviews(ctx) {
  try {
    const found = listOf(await call("GET", `${ctx.base}/reviews`), "reviews");
    if (!found.length) return note("Your first monthly review appears after your first month together here.");
    return h("ul", { class: "cards" }, found.map((review) => {
      const body = h("div", {});
      return h("li", { class: "card" },
        h("h3", {}, review.title || review.month || review.period || "A month together"),
        button("Open", async () => {
          body.replaceChildren(figures(await call("GET", `${ctx.base}/reviews/${encodeURIComponent(review.id)}`)));
        }), body);
    }));
  } catch (error) {
    if (!missing(error)) throw error;
    return note("Monthly reviews are not available on this server yet.");
  }
}

async function program(ctx) {
  const act = (path, text, message) => button(text, async () => {
    try {
      await call("POST", `${ctx.base}/${path}`);
      say(message);
      ctx.refresh();
    } catch (error) {
      if (!missing(error)) throw error;
      say("The program is not available on this server yet.");
    }
  }, { class: "primary" });
  let found;
  try {
    found = await call("GET", `${ctx.base}/program`);
  } catch (error) {
    if (!missing(error)) throw error;
    // No program yet, or no program endpoint on this server: proposing tells which.
    found = null;
  }
  const intro = note("A staged path over six months for rebuilding trust after a breach: naming what happened, "
    + "finding help and new agreements, small daily wins, and gradual restoration.");
  if (!found || found.status === "none" || found.status === "ended") {
    const ended = found && found.status === "ended"
      ? h("p", {}, "The last program has ended.") : null;
    return h("div", {}, intro, ended,
      act("program", "Propose the program", "Program proposed; it starts once everyone accepts."));
  }
  const accepted = found.accepted_by || [];
  const waitingForMe = found.status === "proposed" && !accepted.includes(ctx.me.id);
  const prompts = found.prompts || [];
  return h("div", {}, intro,
    h("p", {}, `Status: ${words(found.status)}`),
    found.status === "proposed"
      ? note(waitingForMe ? "It starts once you and everyone else accept." : "You accepted; it starts once everyone has.")
      : null,
    waitingForMe ? act("program/accept", "Accept the program", "You accepted the program.") : null,
    found.ends_at ? h("p", {}, `Runs until ${day(found.ends_at, ctx.tz)}`) : null,
    found.stage_title ? h("h3", {}, found.stage_title) : null,
    prompts.length ? h("ul", { class: "plain" }, prompts.map((p) => h("li", {}, p.text))) : null);
}

export async function render(ctx) {
  const [reviewList, programBox] = await Promise.all([reviews(ctx), program(ctx)]);
  return h("div", { class: "screen" },
    h("h1", {}, "Reviews and program"),
    section("Monthly reviews", reviewList),
    section("Trust-rebuilding program", programBox));
}
