// Sign up or log in.

import { call } from "../api.js";
import { session } from "../session.js";
import { field, form, h, note, values } from "../ui.js";

export const title = "welcome";

function zoneSelect(name, value) {
  const zones = Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : [value];
  if (!zones.includes(value)) zones.unshift(value);
  return h("select", { name, autocomplete: "off" },
    zones.map((z) => h("option", { value: z, selected: z === value }, z.replaceAll("_", " "))));
}

export { zoneSelect };

export async function render(ctx) {
  const here = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const joining = sessionStorage.getItem("attune.join");
  const signup = form("signup", [
    field("Your name", h("input", { name: "display_name", autocomplete: "nickname", required: true })),
    field("Email", h("input", { name: "email", type: "email", autocomplete: "email", required: true })),
    field("Password", h("input", { name: "password", type: "password", autocomplete: "new-password", required: true }),
      "At least 10 characters; a short phrase is easy to remember."),
    field("Your time zone", zoneSelect("timezone", here)),
  ], async (el) => {
    const result = await call("POST", "/v1/auth/signup", { body: values(el), token: null });
    session.start(result.access_token, result.member.id);
    await ctx.signedIn();
  }, "Create my account");

  const login = form("login", [
    field("Email", h("input", { name: "email", type: "email", autocomplete: "username", required: true })),
    field("Password", h("input", { name: "password", type: "password", autocomplete: "current-password", required: true })),
  ], async (el) => {
    const result = await call("POST", "/v1/auth/token", { body: values(el), token: null });
    session.start(result.access_token, null);
    await ctx.signedIn();
  }, "Log in");

  return h("div", { class: "screen" },
    h("h1", {}, "Welcome to Attune"),
    note("A small daily practice of closeness. What you log is private unless you choose to share it."),
    joining ? note("You have an invitation: sign up or log in, and we will take you to it.", "callout") : null,
    h("section", { "aria-labelledby": "signup-title" }, h("h2", { id: "signup-title" }, "New here"), signup),
    h("section", { "aria-labelledby": "login-title" }, h("h2", { id: "login-title" }, "I have an account"), login));
}
