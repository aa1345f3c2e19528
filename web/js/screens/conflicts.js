// Conflicts: log one, add your perspective to one another member logged, close it with a repair.

import { call, missing } from "../api.js";
import { choices, field, form, h, note, say, section, select, values } from "../ui.js";
import { entryCard } from "./entries.js";

export const title = "conflicts";

const SIGNS = [
  ["shut_down", "Someone shut down"],
  ["sarcasm_or_contempt", "There was sarcasm or contempt"],
  ["avoided_eye_contact", "Someone avoided eye contact"],
];
const FELT = [["connected", "Connected"], ["relieved", "Relieved, but not close"], ["unresolved", "Still unresolved"]];

function intensity() {
  return field("How intense (1 calm to 5 overwhelming)", select("intensity",
    [1, 2, 3, 4, 5].map((n) => [String(n), String(n)]), "3"));
}

function signs(values_) {
  const out = {};
  for (const [name] of SIGNS) out[name] = (values_.signs || []).includes(name);
  return out;
}

function repairForm(ctx, conflict) {
  return form(`repair-${conflict.id}`, [field("Afterwards we felt", select("felt", FELT))], async (el) => {
    await call("POST", `${ctx.base}/conflicts/${encodeURIComponent(conflict.id)}/repair`, { body: values(el) });
    say("Repair logged.");
    ctx.refresh();
  }, "Log the repair");
}

function perspectiveForm(ctx, conflict) {
  const box = h("div", {});
  const el = form(`perspective-${conflict.id}`, [
    intensity(), choices("What you noticed", "signs", SIGNS, { type: "checkbox" }),
  ], async (f) => {
    const raw = values(f);
    try {
      await call("POST", `${ctx.base}/conflicts/${encodeURIComponent(conflict.id)}/perspective`,
        { body: { intensity: Number(raw.intensity), ...signs(raw) } });
      say("Your perspective is added.");
    } catch (error) {
      if (!missing(error)) throw error;
      box.replaceChildren(note("Adding a perspective is not available on this server yet."));
    }
  }, "Add my perspective");
  box.append(el);
  return box;
}

export async function render(ctx) {
  const found = await call("GET", `${ctx.base}/timeline?kind=conflict&kind=repair&limit=50`);
  const repaired = new Set(found.entries.filter((e) => e.entry_type === "repair").map((e) => e.conflict_id));
  const open = found.entries.filter((e) => e.entry_type === "conflict");

  const log = form("conflict", [
    field("What it was about", h("input", { name: "topic", required: true, autocomplete: "off" })),
    intensity(),
    choices("Signs to notice", "signs", SIGNS, { type: "checkbox" }),
    choices("Who sees this", "visibility", [["private", "Only me (private)"], ["shared", "Shared"]], { checked: ["private"] }),
  ], async (el) => {
    const raw = values(el);
    await call("POST", `${ctx.base}/conflicts`, {
      body: { topic: raw.topic, intensity: Number(raw.intensity), visibility: raw.visibility, ...signs(raw) },
    });
    say(Number(raw.intensity) >= 4
      ? "Logged. If you feel flooded, a 20-minute break helps the body calm down before you talk again."
      : "Conflict logged.");
    ctx.refresh();
  }, "Log the conflict");

  return h("div", { class: "screen" },
    h("h1", {}, "Conflicts and repair"),
    note("Conflict is normal. What matters is coming back to each other afterwards."),
    section("Recent conflicts", open.length ? h("ul", { class: "cards" }, open.map((c) => entryCard(ctx, c,
      repaired.has(c.id) ? note("Repaired.") : h("details", {}, h("summary", {}, "Log the repair"), repairForm(ctx, c)),
      c.author_id !== ctx.me.id
        ? h("details", {}, h("summary", {}, "Add my perspective"), perspectiveForm(ctx, c)) : null)))
      : note("No conflicts logged.")),
    section("Log a conflict", log));
}
