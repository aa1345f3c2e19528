// Bids for connection: make one, answer the ones made to you.

import { call } from "../api.js";
import { button, field, form, h, note, say, section, select, values, words } from "../ui.js";

export const title = "bids";

const KINDS = ["attention", "affection", "humor", "help", "conversation", "play", "support", "adventure"];
const CHANNELS = [["in_person", "In person"], ["message", "By message"], ["call", "On a call"]];
const ANSWERS = [
  ["toward", "Turned toward", "I responded and engaged"],
  ["away", "Turned away", "I missed it or ignored it"],
  ["against", "Turned against", "I answered with irritation"],
];

export async function render(ctx) {
  const found = await call("GET", `${ctx.base}/bids`);
  const toMe = found.entries.filter((b) => b.to_member_id === ctx.me.id);
  const mine = found.entries.filter((b) => b.author_id === ctx.me.id);

  const make = form("bid", [
    field("To", select("to_member_id", ctx.others.map((m) => [m.id, m.display_name]))),
    field("Kind of bid", select("kind", KINDS.map((k) => [k, words(k)]))),
    field("How", select("channel", CHANNELS)),
  ], async (el) => {
    await call("POST", `${ctx.base}/bids`, { body: values(el) });
    say("Bid recorded.");
    ctx.refresh();
  }, "Record the bid");

  const answerList = h("ul", { class: "cards", id: "bids-to-me" }, toMe.map((bid) =>
    h("li", { class: "card", dataset: { bidId: bid.id } },
      h("p", {}, `${ctx.nameOf(bid.author_id)} reached out: ${words(bid.kind).toLowerCase()}, ${words(bid.channel).toLowerCase()}.`),
      h("div", { class: "actions", role: "group", "aria-label": "How did you respond?" },
        ANSWERS.map(([response, text, hint]) => button(text, async () => {
          await call("POST", `${ctx.base}/bids/${encodeURIComponent(bid.id)}/answer`, { body: { response } });
          say("Thank you: your answer is recorded.");
          ctx.refresh();
        }, { title: hint, dataset: { answer: response } }))))));

  ctx.onLive((event) => {
    // A bid made or answered elsewhere: show the new state, unless a form is being filled in.
    if (event.type.startsWith("bid.") && !document.activeElement?.closest("form")) ctx.refresh();
  });
  const count = toMe.length;
  return h("div", { class: "screen" },
    h("h1", {}, "Bids for connection"),
    note("A bid is any small reach for attention, affection or help. Noticing them is most of the work."),
    ctx.others.length
      ? section("Make a bid", make)
      : note("Invite someone to your relationship to start making bids."),
    section("Waiting for you",
      h("p", { id: "bid-count" }, count === 0 ? "Nothing waiting: you're all caught up."
        : count === 1 ? "One bid is waiting for you." : `${count} bids are waiting for you.`),
      answerList),
    section("Yours, not answered yet",
      mine.length ? h("ul", { class: "plain" }, mine.map((b) =>
        h("li", {}, `${words(b.kind)} to ${ctx.nameOf(b.to_member_id)}`))) : note("None.")));
}
