// Boundaries: propose one, accept one (active once everyone accepted), report a breach, retire.

import { call } from "../api.js";
import { button, choices, field, form, h, note, say, section, select, values, words } from "../ui.js";
import { entryCard } from "./entries.js";

export const title = "boundaries";

const KINDS = [["alone_time", "Alone time"], ["tech", "Devices"], ["emotional", "Emotional"], ["other", "Something else"]];
const DAYS = [["mo", "Mon"], ["tu", "Tue"], ["we", "Wed"], ["th", "Thu"], ["fr", "Fri"], ["sa", "Sat"], ["su", "Sun"]];

function breachForm(ctx, boundary) {
  return form(`breach-${boundary.id}`, [
    field("What happened (optional)", h("textarea", { name: "note", rows: 2 })),
  ], async (el) => {
    const body = values(el);
    await call("POST", `${ctx.base}/boundaries/${encodeURIComponent(boundary.id)}/breaches`,
      { body: body.note ? { note: body.note } : {} });
    say("Breach reported.");
    ctx.refresh();
  }, "Report a breach");
}

function actions(ctx, boundary) {
  const id = encodeURIComponent(boundary.id);
  const status = boundary.status || "proposed";
  const accepted = Array.isArray(boundary.awaiting)
    ? !boundary.awaiting.includes(ctx.me.id) : boundary.accepted_by?.includes(ctx.me.id);
  const parts = [];
  if (status === "proposed" && !accepted) {
    parts.push(button("Accept", async () => {
      await call("POST", `${ctx.base}/boundaries/${id}/accept`);
      say("Accepted.");
      ctx.refresh();
    }, { class: "primary", dataset: { action: "accept" } }));
  }
  if (status === "proposed" && accepted) parts.push(note("You accepted; waiting for everyone else."));
  if (status === "active") {
    parts.push(h("details", {}, h("summary", {}, "Report a breach"), breachForm(ctx, boundary)));
  }
  if (status !== "retired") {
    parts.push(button("Retire", async () => {
      await call("DELETE", `${ctx.base}/boundaries/${id}`);
      say("Boundary retired.");
      ctx.refresh();
    }, { dataset: { action: "retire" } }));
  }
  return h("div", { class: "actions" }, parts);
}

export async function render(ctx) {
  const found = await call("GET", `${ctx.base}/boundaries`);
  const propose = form("boundary", [
    field("Kind", select("kind", KINDS)),
    field("The boundary, in your words", h("textarea", { name: "rule", rows: 2, required: true }),
      "For example: no phones at dinner."),
    h("details", {}, h("summary", {}, "A time window (optional)"),
      field("From", h("input", { name: "window.start", type: "time" })),
      field("Until", h("input", { name: "window.end", type: "time" })),
      choices("On these days", "window.days", DAYS, { type: "checkbox", hint: "None chosen means every day." })),
  ], async (el) => {
    const raw = values(el);
    const body = { kind: raw.kind, rule: raw.rule };
    if (raw.window?.start || raw.window?.end) {
      body.window = { start: raw.window.start, end: raw.window.end, timezone: ctx.tz };
      if (raw.window.days?.length) body.window.days = raw.window.days;
    }
    await call("POST", `${ctx.base}/boundaries`, { body });
    say("Boundary proposed. It becomes active once everyone accepts it.");
    ctx.refresh();
  }, "Propose");

  const list = found.entries.filter((b) => b.status !== "retired");
  return h("div", { class: "screen" },
    h("h1", {}, "Boundaries"),
    note("A boundary is active only once every one of you has accepted it."),
    section("Your boundaries", list.length
      ? h("ul", { class: "cards", id: "boundaries" }, list.map((b) =>
        entryCard(ctx, b, h("p", { class: "status-line", dataset: { status: b.status || "proposed" } },
          `Status: ${words(b.status || "proposed")}`), actions(ctx, b))))
      : note("No boundaries yet.")),
    section("Propose a boundary", propose));
}
