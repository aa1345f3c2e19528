// Settings: time zone, quiet hours, reminder time, export, log out, delete the account.

import { call } from "../api.js";
import { session } from "../session.js";
import { button, field, form, h, note, say, section, values } from "../ui.js";
import { zoneSelect } from "./auth.js";

export const title = "settings";

export async function render(ctx) {
  const me = ctx.me;
  const profile = form("settings", [
    field("Your name", h("input", { name: "display_name", value: me.display_name, autocomplete: "nickname" })),
    field("Time zone", zoneSelect("timezone", me.timezone)),
    h("fieldset", { class: "choices", dataset: { group: "quiet_hours" } }, h("legend", {}, "Quiet hours"),
      h("p", { class: "hint" }, "No reminders or nudges reach you in this window."),
      field("From", h("input", { name: "quiet_hours.start", type: "time", value: me.quiet_hours?.start || "" })),
      field("Until", h("input", { name: "quiet_hours.end", type: "time", value: me.quiet_hours?.end || "" })),
      h("p", { class: "error", dataset: { errorFor: "quiet_hours" } })),
    field("Daily check-in reminder", h("input", { name: "checkin_reminder_time", type: "time", value: me.checkin_reminder_time || "" })),
  ], async (el) => {
    const raw = values(el);
    const body = { display_name: raw.display_name, timezone: raw.timezone };
    if (raw.quiet_hours.start || raw.quiet_hours.end) body.quiet_hours = raw.quiet_hours;
    if (raw.checkin_reminder_time) body.checkin_reminder_time = raw.checkin_reminder_time;
    await call("PATCH", "/v1/me", { body });
    say("Settings saved.");
    await ctx.reload();
  }, "Save settings");

  const exportButton = button("Download everything about me", async () => {
    const data = await call("GET", "/v1/me/export");
    const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
    const link = h("a", { href: url, download: "attune-export.json" });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    say("Your export is downloading.");
  }, { id: "export" });

  const understood = h("input", { type: "checkbox", id: "delete-understood" });
  const erase = button("Delete my account", async () => {
    if (!understood.checked) {
      say("Tick the box first to confirm you understand.");
      understood.focus();
      return;
    }
    await call("DELETE", "/v1/me");
    session.end(true);
    ctx.signedOut("Your account is being erased everywhere. Goodbye, and take care.");
  }, { class: "danger", id: "delete-account" });

  return h("div", { class: "screen" },
    h("h1", {}, "Settings"),
    section("You", profile),
    section("Your data",
      note("A copy of every record about you, as a JSON file."), exportButton),
    section("Log out", button("Log out of this device", async () => {
      await call("POST", "/v1/auth/logout").catch(() => {});
      session.end(true);
      ctx.signedOut("You are logged out.");
    }, { id: "logout" })),
    section("Delete my account",
      h("div", { class: "warning" },
        h("p", {}, h("strong", {}, "This cannot be undone. "),
          "Your account, every entry you wrote, your check-ins, notes and keys are erased from every part of Attune. ",
          "You leave every relationship; the others keep only their own entries. Download your data first if you want a copy."),
        h("label", { class: "choice", for: "delete-understood" }, understood,
          h("span", {}, "I understand my account and everything I wrote will be erased for good.")),
        erase)));
}
