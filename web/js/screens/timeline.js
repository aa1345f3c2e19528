// The timeline: every entry the member may see, newest first, updated live from the stream.

import { call } from "../api.js";
import { button, h, note } from "../ui.js";
import { entryCard } from "./entries.js";

export const title = "timeline";

export async function render(ctx) {
  const list = h("ul", { class: "cards", id: "timeline", "aria-live": "polite", "aria-relevant": "additions" });
  let cursor = null;
  const more = button("Show older", () => load(false), { hidden: true });

  async function load(fresh) {
    const query = new URLSearchParams({ limit: "30" });
    if (!fresh && cursor) query.set("cursor", cursor);
    const page = await call("GET", `${ctx.base}/timeline?${query}`);
    const cards = page.entries.map((e) => entryCard(ctx, e));
    if (fresh) list.replaceChildren(...cards);
    else list.append(...cards);
    if (!list.children.length) list.replaceChildren(h("li", { class: "quiet" }, "Nothing here yet."));
    cursor = page.next_cursor;
    more.hidden = !cursor;
  }

  await load(true);
  let timer = null;
  ctx.onLive(() => {
    // Events arrive in bursts; read the timeline once the burst settles.
    clearTimeout(timer);
    timer = setTimeout(() => load(true).catch(() => {}), 300);
  });
  return h("div", { class: "screen" },
    h("h1", {}, "Timeline"),
    note("Your own entries and what others chose to share. Updates as it happens."),
    list, more);
}
