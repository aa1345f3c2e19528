// The app shell: who is signed in, which relationship, which screen; the live stream and
// the offline queue run underneath every screen.

import { ApiProblem, call, rel } from "./api.js";
import { follow } from "./live.js";
import { flush, pending } from "./outbox.js";
import { session } from "./session.js";
import { h, say } from "./ui.js";
import * as auth from "./screens/auth.js";
import * as us from "./screens/us.js";
import * as today from "./screens/today.js";
import * as timeline from "./screens/timeline.js";
import * as bids from "./screens/bids.js";
import * as together from "./screens/together.js";
import * as boundaries from "./screens/boundaries.js";
import * as conflicts from "./screens/conflicts.js";
import * as assessment from "./screens/assessment.js";
import * as rituals from "./screens/rituals.js";
import * as dates from "./screens/dates.js";
import * as insights from "./screens/insights.js";
import * as reviews from "./screens/reviews.js";
import * as settings from "./screens/settings.js";

const SCREENS = {
  today, timeline, bids, together, boundaries, conflicts, assessment, rituals, dates, insights, reviews, us,
  settings,
};
const NEEDS_RELATIONSHIP = new Set(Object.keys(SCREENS).filter((n) => !["us", "settings"].includes(n)));

const state = { me: null, relationships: [], stopLive: null, liveListeners: new Set(), rendering: 0 };

function route() {
  const [name, ...rest] = location.hash.replace(/^#\/?/, "").split("/");
  return { name: name || "today", args: rest.map(decodeURIComponent) };
}

export function go(name) {
  if (location.hash === `#/${name}`) render();
  else location.hash = `#/${name}`;
}

function current() {
  const rid = session.relationship();
  return state.relationships.find((r) => r.id === rid) || state.relationships[0] || null;
}

function context() {
  const relationship = current();
  return {
    me: state.me,
    tz: state.me?.timezone || Intl.DateTimeFormat().resolvedOptions().timeZone,
    relationship,
    rid: relationship?.id,
    base: relationship ? rel(relationship.id) : null,
    others: relationship ? relationship.members.filter((m) => m.id !== state.me.id) : [],
    nameOf(memberId) {
      if (memberId === state.me.id) return "You";
      return relationship?.members.find((m) => m.id === memberId)?.display_name || "A former member";
    },
    go,
    refresh: () => render(),
    reload: async () => { await load(); render(); },
    onLive(listener) { state.liveListeners.add(listener); },
    signedIn: async () => { await load(); go("today"); },
    signedOut,
  };
}

async function load() {
  state.me = await call("GET", "/v1/me");
  session.start(session.token(), state.me.id);
  state.relationships = await call("GET", "/v1/relationships");
  const chosen = current();
  session.choose(chosen?.id || null);
  startLive(chosen?.id || null);
}

function startLive(rid) {
  if (state.stopLive && state.liveRid === rid) return;
  if (state.stopLive) state.stopLive();
  state.stopLive = null;
  state.liveRid = rid;
  if (!rid) return;
  state.stopLive = follow(rid, (event) => {
    if (event.type.startsWith("relationship.") || event.type.startsWith("member.")) {
      // Someone joined or left: the member list changed. Redraw unless the member is writing.
      load().then(() => (document.querySelector("main form[data-dirty]") ? nav(route().name) : render()))
        .catch(() => {});
      return;
    }
    for (const listener of state.liveListeners) listener(event);
  });
}

function signedOut(message) {
  if (state.stopLive) state.stopLive();
  state.stopLive = null;
  state.me = null;
  state.relationships = [];
  render().then(() => { if (message) say(message); });
}

function nav(active) {
  const el = document.getElementById("nav");
  const relationship = current();
  el.hidden = !state.me;
  if (!state.me) return;
  const links = [
    ["today", "Today"], ["timeline", "Timeline"], ["bids", "Bids"], ["together", "Touch & time"],
    ["boundaries", "Boundaries"], ["conflicts", "Conflicts"], ["assessment", "Check-up"],
    ["rituals", "Rituals"], ["dates", "Dates"], ["insights", "Insights"], ["reviews", "Reviews"], ["us", "Us"], ["settings", "Settings"],
  ].filter(([name]) => relationship || !NEEDS_RELATIONSHIP.has(name));
  el.replaceChildren(h("ul", {}, links.map(([name, text]) =>
    h("li", {}, h("a", { href: `#/${name}`, "aria-current": name === active ? "page" : undefined }, text)))));
  const switcher = document.getElementById("switcher");
  switcher.replaceChildren();
  if (state.relationships.length > 1) {
    const choice = h("select", { id: "relationship-choice", onchange: (e) => {
      session.choose(e.target.value);
      startLive(e.target.value);
      render();
    } }, state.relationships.map((r) =>
      h("option", { value: r.id, selected: r.id === relationship?.id }, r.name || names(r))));
    switcher.append(h("label", { for: "relationship-choice", class: "visually-hidden" }, "Relationship"), choice);
  }
}

function names(relationship) {
  return relationship.members.map((m) => m.display_name).join(" & ");
}

async function render() {
  const ticket = ++state.rendering;
  state.liveListeners.clear();
  const main = document.getElementById("main");
  let { name, args } = route();
  if (name === "join" && args[0]) sessionStorage.setItem("attune.join", args[0]);
  if (!session.token()) {
    nav(null);
    main.replaceChildren(await auth.render(context(), args));
    main.dataset.screen = "welcome";
    document.title = "Attune: welcome";
    return;
  }
  try {
    if (!state.me) await load();
    const code = sessionStorage.getItem("attune.join");
    if (code) {
      sessionStorage.removeItem("attune.join");
      name = "us";
      args = ["join", code];
    }
    if (!SCREENS[name]) name = "today";
    if (NEEDS_RELATIONSHIP.has(name) && !current()) name = "us";
    const screen = SCREENS[name];
    const content = await screen.render(context(), args);
    if (ticket !== state.rendering) return;
    nav(name);
    main.replaceChildren(content);
    main.dataset.screen = name;
    document.title = `Attune: ${screen.title}`;
    const heading = main.querySelector("h1");
    // Focusable by script, so a screen change takes a keyboard or screen-reader user to its title.
    if (heading) heading.setAttribute("tabindex", "-1");
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 401) return;
    if (error?.name !== "Offline") throw error;
    main.replaceChildren(h("h1", {}, "Offline"),
      h("p", {}, "Attune can't be reached. Your unsent check-ins are safe on this device."));
  }
}

function showConnection(lost) {
  document.getElementById("connection").hidden = !lost;
}

async function sendKept() {
  const before = pending().length;
  if (!before) return;
  const sent = await flush((item, error) => say(`A kept check-in was refused: ${error.message}`));
  if (sent) say(sent === 1 ? "Your kept check-in was sent." : `${sent} kept check-ins were sent.`);
}

window.addEventListener("hashchange", () => {
  render().then(() => document.querySelector("main h1")?.focus());
});
window.addEventListener("attune:offline", () => showConnection(true));
window.addEventListener("attune:online", () => showConnection(false));
window.addEventListener("attune:signed-out", () => {
  session.end();
  signedOut("Please sign in again.");
});
window.addEventListener("online", () => sendKept().catch(() => {}));
document.getElementById("retry").addEventListener("click", async () => {
  say("Trying again…");
  await sendKept().catch(() => {});
  await render();
});
// A kept check-in also goes out on its own once the server answers again.
setInterval(() => { if (pending().length) sendKept().catch(() => {}); }, 15000);

render().then(() => sendKept()).catch(() => {});
