// How one entry reads, for whoever may see it. Times shown are the day a fact happened,
// never when someone opened or used the app.

import { day, h, words } from "../ui.js";

const TYPE = {
  checkin: "Check-in", bid: "Bid for connection", touch: "Touch", time_log: "Time together",
  boundary: "Boundary", breach: "Boundary breach", conflict: "Conflict", repair: "Repair",
  assessment: "Check-up", ritual: "Ritual", ritual_outcome: "Ritual",
};
const BANDS = {
  strong: "Strong foundations",
  room_to_grow: "Room to grow",
  needs_conversation: "Time for an open conversation",
};

export function band(code) {
  return BANDS[code] || words(code);
}

function summary(entry) {
  switch (entry.entry_type) {
    case "checkin": return [
      `Mood ${entry.mood} of 5, connection ${entry.connection} of 10`,
      entry.needs?.length ? `. Needs: ${entry.needs.join(", ")}` : "",
    ].join("");
    case "bid": return `${words(entry.kind)}, ${words(entry.channel).toLowerCase()}${entry.response ? `: turned ${entry.response}` : ""}`;
    case "touch": return `${words(entry.kind)}${entry.minutes ? `, ${entry.minutes} minutes` : ""}`;
    case "time_log": return `${entry.face_to_face_minutes} minutes face to face, ${entry.screen_minutes} on screens`;
    case "boundary": return entry.rule || words(entry.kind);
    case "breach": return "A boundary was crossed";
    case "conflict": return `${entry.topic || "A conflict"}, intensity ${entry.intensity} of 5`;
    case "repair": return `Afterwards: ${entry.felt}`;
    case "assessment": return band(entry.band);
    case "ritual": return entry.title || "A ritual";
    case "ritual_outcome": return words(entry.outcome);
    default: return "";
  }
}

export function entryCard(ctx, entry, ...actions) {
  const text = entry.note || entry.gratitude;
  return h("li", { class: "card", dataset: { entryId: entry.id, entryType: entry.entry_type } },
    h("p", { class: "meta" },
      h("strong", {}, ctx.nameOf(entry.author_id)), " · ", TYPE[entry.entry_type] || words(entry.entry_type),
      " · ", day(entry.occurred_at, ctx.tz), " ",
      entry.visibility === "private"
        ? h("span", { class: "badge private" }, "Private: only you")
        : h("span", { class: "badge" }, "Shared")),
    h("p", {}, summary(entry)),
    text ? h("p", { class: "note" }, text) : null,
    actions);
}
