// Today: the daily check-in (under 15 seconds), private unless the member shares it.

import { call, newKey } from "../api.js";
import { pending, submitCheckin } from "../outbox.js";
import { choices, field, form, h, note, say, section, values } from "../ui.js";

export const title = "today";

const MOODS = [["1", "Very low"], ["2", "Low"], ["3", "Okay"], ["4", "Good"], ["5", "Great"]];
export const NEEDS = [
  "heard", "space", "affection", "reassurance", "appreciation", "support", "play", "rest",
  "honesty", "closeness", "understanding", "autonomy",
];
const PILLARS = [
  ["emotional", "Emotional closeness"], ["intellectual", "Sharing ideas"], ["physical", "Physical closeness"],
];

function pillarSelect(name) {
  return h("select", { name: `pillars.${name}` },
    h("option", { value: "" }, "Skip"),
    [1, 2, 3, 4, 5].map((n) => h("option", { value: String(n) }, `${n} of 5`)));
}

/** The check-in as the API wants it: numbers as numbers, empty optional parts left out. */
export function checkinBody(raw, now = new Date()) {
  const body = { mood: Number(raw.mood), connection: Number(raw.connection), visibility: raw.visibility };
  if (!raw.mood) delete body.mood;
  const pillars = Object.fromEntries(Object.entries(raw.pillars || {})
    .filter(([, v]) => v !== "").map(([k, v]) => [k, Number(v)]));
  if (Object.keys(pillars).length) body.pillars = pillars;
  if (raw.needs?.length) body.needs = raw.needs;
  if (raw.note?.trim()) body.note = raw.note.trim();
  // Written now, whenever it reaches the server.
  body.occurred_at = now.toISOString();
  return body;
}

function queueNote() {
  const waiting = pending().length;
  return waiting
    ? note(waiting === 1 ? "One check-in is kept on this device and will be sent when you are back online."
      : `${waiting} check-ins are kept on this device and will be sent when you are back online.`, "callout")
    : null;
}

export async function render(ctx) {
  const partnerNames = ctx.others.map((m) => m.display_name).join(" and ") || "your partner";
  const connection = h("input", { type: "range", id: "checkin-connection", name: "connection", min: 1, max: 10, value: 5, step: 1 });
  const shown = h("output", { for: connection.id }, "5");
  connection.addEventListener("input", () => { shown.textContent = connection.value; });
  const visibility = choices("Who sees this", "visibility", [
    ["private", "Only me (private)"], ["shared", `Shared with ${partnerNames}`],
  ], { checked: ["private"], hint: "Private is the default: nobody else ever sees a private check-in." });
  const submitLabel = () => (checkin.querySelector("input[name=visibility]:checked")?.value === "shared"
    ? `Share with ${partnerNames}` : "Save privately");
  const queueBox = h("div", { id: "kept" }, queueNote());

  const checkin = formFor(ctx, [
    choices("Mood", "mood", MOODS),
    h("div", { class: "field" },
      h("label", { for: "checkin-connection" }, "How connected do you feel? (1 to 10) "),
      connection, " ", shown,
      h("p", { class: "error", dataset: { errorFor: "connection" } })),
    h("details", {}, h("summary", {}, "Pillars (optional)"),
      PILLARS.map(([name, label]) => field(label, pillarSelect(name)))),
    choices("What do you need?", "needs", NEEDS.map((n) => [n, n.charAt(0).toUpperCase() + n.slice(1)]),
      { type: "checkbox" }),
    field("A note", h("textarea", { name: "note", rows: 3, maxlength: 2000 }), "Optional."),
    visibility,
  ], queueBox);
  const submit = checkin.querySelector("button[type=submit]");
  submit.textContent = submitLabel();
  checkin.addEventListener("change", () => { submit.textContent = submitLabel(); });

  const waiting = h("div", {});
  call("GET", `${ctx.base}/bids`).then((found) => {
    const mine = found.entries.filter((b) => b.to_member_id === ctx.me.id).length;
    if (mine) waiting.replaceChildren(h("p", { class: "callout" },
      mine === 1 ? "One bid is waiting for your answer. " : `${mine} bids are waiting for your answer. `,
      h("a", { href: "#/bids" }, "See bids")));
  }).catch(() => {});

  return h("div", { class: "screen" },
    h("h1", {}, `Hello, ${ctx.me.display_name}`),
    waiting,
    section("Check in", checkin, queueBox));
}

function formFor(ctx, children, queueBox) {
  const el = form("checkin", children, async (f) => {
    const body = checkinBody(values(f));
    if (!body.mood) {
      f.querySelector('[data-error-for="mood"]').textContent = "Choose how your mood is.";
      f.querySelector("input[name=mood]").focus();
      return;
    }
    // One key per check-in written: every retry of it, now or later, carries the same one.
    const outcome = await submitCheckin(ctx.rid, newKey(), body);
    f.reset();
    f.querySelector("output").textContent = "5";
    f.dispatchEvent(new Event("change"));
    queueBox.replaceChildren(queueNote() || "");
    say(outcome === "queued" ? "You're offline: your check-in is kept on this device and will be sent later."
      : body.visibility === "shared" ? "Check-in shared." : "Check-in saved privately.");
  }, "Save privately");
  return el;
}
