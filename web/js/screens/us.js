// The relationship: start one, join by code, invite someone with a copyable link.

import { call, missing, rel } from "../api.js";
import { session } from "../session.js";
import { button, dayAndTime, field, form, h, note, say, section, values } from "../ui.js";

export const title = "us";

function inviteLink(code) {
  return `${location.origin}${location.pathname}#/join/${encodeURIComponent(code)}`;
}

function showInvite(box, invite, tz) {
  const link = inviteLink(invite.code);
  const linkInput = h("input", { id: "invite-link", readonly: true, value: link });
  box.replaceChildren(
    h("p", {}, "Share this code or link with the person you invite. It works once, until ",
      dayAndTime(invite.expires_at, tz), "."),
    h("p", { class: "code" }, h("span", { class: "visually-hidden" }, "Invite code: "),
      h("strong", { id: "invite-code" }, invite.code)),
    field("Invite link", linkInput),
    button("Copy link", async () => {
      try {
        await navigator.clipboard.writeText(link);
        say("Link copied.");
      } catch {
        linkInput.select();
        say("Select the link and copy it.");
      }
    }));
}

async function pendingInvites(ctx, box) {
  try {
    const found = await call("GET", `${ctx.base}/invites`);
    const invites = Array.isArray(found) ? found : found.invites || found.entries || [];
    if (!invites.length) return box.replaceChildren(note("No invitations waiting."));
    box.replaceChildren(h("ul", { class: "cards" }, invites.map((inv) => h("li", {},
      h("p", {}, "An invitation, open until ", dayAndTime(inv.expires_at, ctx.tz)),
      button("Revoke", async () => {
        await call("DELETE", `${ctx.base}/invites/${encodeURIComponent(inv.id)}`);
        say("Invitation revoked.");
        pendingInvites(ctx, box);
      })))));
  } catch (error) {
    if (!missing(error)) throw error;
    box.replaceChildren(note("A list of open invitations is not available on this server yet."));
  }
}

function joinForm(ctx, code) {
  return form("join", [
    field("Invite code", h("input", { name: "code", value: code || "", autocomplete: "off", required: true })),
  ], async (el) => {
    const given = values(el).code.trim();
    const joined = await call("POST", `/v1/invites/${encodeURIComponent(given)}/accept`, { body: {} });
    session.choose(joined.id);
    say("You joined.");
    await ctx.reload();
    ctx.go("today");
  }, "Join");
}

export async function render(ctx, args) {
  const code = args[0] === "join" ? args[1] : null;
  const start = form("start", [
    field("A name for the two (or more) of you", h("input", { name: "name", autocomplete: "off" }), "Optional."),
  ], async (el) => {
    const body = values(el);
    const created = await call("POST", "/v1/relationships", { body: body.name ? body : {} });
    session.choose(created.id);
    await ctx.reload();
    ctx.go("us");
  }, "Start");

  if (!ctx.relationship || code) {
    return h("div", { class: "screen" },
      h("h1", {}, code ? "Join your partner" : "Start together"),
      section("Join with a code", joinForm(ctx, code)),
      ctx.relationship ? null : section("Start a new relationship", start));
  }
  const inviteBox = h("div", { id: "invite", "aria-live": "polite" });
  const pendingBox = h("div", {});
  const members = ctx.relationship.members;
  const view = h("div", { class: "screen" },
    h("h1", {}, ctx.relationship.name || "Us"),
    section("Members", h("ul", { class: "plain", id: "members" },
      members.map((m) => h("li", {}, m.id === ctx.me.id ? `${m.display_name} (you)` : m.display_name)))),
    section("Invite someone",
      note("Everyone in a relationship sees what is shared in it; private entries stay with their author."),
      button("Create an invite", async () => {
        const invite = await call("POST", `${rel(ctx.rid)}/invites`);
        showInvite(inviteBox, invite, ctx.tz);
        pendingInvites(ctx, pendingBox);
      }, { class: "primary", id: "create-invite" }),
      inviteBox,
      h("h3", {}, "Open invitations"), pendingBox),
    section("Join another relationship", joinForm(ctx, null)),
    section("Start another relationship", start));
  pendingInvites(ctx, pendingBox);
  return view;
}
