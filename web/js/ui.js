// Building the page: elements from data (text is always text, never parsed as HTML),
// form fields with their labels and error slots, and plain-sentence errors.

let counter = 0;

/** An element with attributes, properties, listeners (onclick...) and children. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      el.className = value;
    } else if (name === "for") {
      el.htmlFor = value;
    } else if (name === "checked" || name === "selected") {
      // The default too, so a form reset returns to it (private stays the default).
      el[name] = true;
      el[name === "checked" ? "defaultChecked" : "defaultSelected"] = true;
    } else if (name === "value" && tag !== "output") {
      el.setAttribute("value", String(value));
      el.value = String(value);
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else if (name in el && typeof value !== "string") {
      el[name] = value;
    } else {
      el.setAttribute(name, value === true ? "" : value);
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** A labelled control with a hint and a slot for its error, announced by screen readers. */
export function field(label, control, hint) {
  const id = control.id || uid("f");
  control.id = id;
  const errorId = `${id}-error`;
  const described = [errorId];
  const parts = [h("label", { for: id }, label)];
  if (hint) {
    parts.push(h("p", { class: "hint", id: `${id}-hint` }, hint));
    described.unshift(`${id}-hint`);
  }
  control.setAttribute("aria-describedby", described.join(" "));
  parts.push(control, h("p", { class: "error", id: errorId, dataset: { errorFor: control.name } }));
  return h("div", { class: "field" }, parts);
}

/** A group of radios or checkboxes under one legend, with one error slot. */
export function choices(legend, name, options, { type = "radio", checked = [], hint } = {}) {
  const base = uid(name);
  const items = options.map(([value, text], i) =>
    h("label", { class: "choice" },
      h("input", { type, name, value, id: `${base}-${i}`, checked: checked.includes(value),
        dataset: type === "checkbox" ? { many: "" } : undefined }),
      h("span", {}, text)),
  );
  return h("fieldset", { class: "choices", dataset: { group: name } },
    h("legend", {}, legend),
    hint ? h("p", { class: "hint" }, hint) : null,
    h("div", { class: "options" }, items),
    h("p", { class: "error", dataset: { errorFor: name } }));
}

export function select(name, options, value) {
  return h("select", { name },
    options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
}

/** A button whose action's refusal is told as a sentence, and which can't be pressed twice at once. */
export function button(text, onclick, extra = {}) {
  const el = h("button", { type: "button", ...extra }, text);
  // Busy rather than disabled: disabling would throw a keyboard user's focus away.
  el.addEventListener("click", async (event) => {
    if (el.getAttribute("aria-busy") === "true") return;
    el.setAttribute("aria-busy", "true");
    try {
      await onclick(event);
    } catch (error) {
      if (error?.name === "Offline") say("You seem to be offline. Try again when you are connected.");
      else if (error?.problem) say(sentence(error.problem.detail || error.message));
      else throw error;
    } finally {
      el.removeAttribute("aria-busy");
    }
  });
  return el;
}

/** A form whose submit runs `onsubmit(form)`, showing problems next to their fields. */
export function form(name, children, onsubmit, submitText) {
  const el = h("form", { novalidate: true, dataset: { form: name } },
    h("p", { class: "error form-error", role: "alert", dataset: { errorFor: "" } }),
    children,
    h("button", { type: "submit", class: "primary" }, submitText));
  // A form being filled in is never wiped by a live refresh (see main.js).
  el.addEventListener("input", () => { el.dataset.dirty = "true"; });
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(el);
    // One submission at a time (busy, not disabled, so the focus stays where it was).
    if (el.getAttribute("aria-busy") === "true") return;
    el.setAttribute("aria-busy", "true");
    try {
      await onsubmit(el);
      delete el.dataset.dirty;
    } catch (error) {
      showError(el, error);
    } finally {
      el.removeAttribute("aria-busy");
    }
  });
  return el;
}

export function clearErrors(el) {
  for (const slot of el.querySelectorAll("[data-error-for]")) slot.textContent = "";
  for (const bad of el.querySelectorAll("[aria-invalid]")) bad.removeAttribute("aria-invalid");
}

// Refusals that name no field but plainly concern one.
const FIELD_OF_CODE = { email_taken: "email", invalid_credentials: "password", invite_not_found: "code" };

/** Every error as a sentence beside the field it names, or at the top of the form. */
export function showError(el, error) {
  if (!error || !error.problem) {
    if (error && error.name === "Offline") {
      slotFor(el, "").textContent = "You seem to be offline. Try again when you are connected.";
      return;
    }
    throw error;
  }
  const problem = error.problem;
  const listed = problem.errors && problem.errors.length
    ? problem.errors
    : [{ field: problem.field || FIELD_OF_CODE[problem.code] || "", message: problem.detail }];
  for (const item of listed) {
    const slot = slotFor(el, item.field || "");
    const text = sentence(item.message || problem.detail || problem.title);
    slot.textContent = slot.textContent ? `${slot.textContent} ${text}` : text;
    const control = item.field ? el.querySelector(`[name="${CSS.escape(topField(el, item.field))}"]`) : null;
    if (control) control.setAttribute("aria-invalid", "true");
  }
}

function topField(el, name) {
  // "pillars.emotional" has its own control; "window.start" may too; otherwise its parent.
  let current = name;
  while (current && !el.querySelector(`[data-error-for="${CSS.escape(current)}"]`)) {
    current = current.includes(".") ? current.slice(0, current.lastIndexOf(".")) : "";
  }
  return current;
}

function slotFor(el, name) {
  return el.querySelector(`[data-error-for="${CSS.escape(topField(el, name))}"]`);
}

/** "input should be greater than 0" -> "Input should be greater than 0." */
export function sentence(text) {
  const clean = String(text || "Something went wrong.")
    .replace(/^Value error, /, "")
    .replace(/^String should have at least 1 character$/, "This cannot be empty")
    .replace(/^Field required$/, "This is needed")
    .replace(/^Extra inputs are not permitted$/, "This is not something the server accepts");
  const first = clean.charAt(0).toUpperCase() + clean.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

export function say(text) {
  const status = document.getElementById("status");
  status.textContent = "";
  clearTimeout(say.timer);
  // A fresh text node is announced again even when the words repeat.
  setTimeout(() => { status.textContent = text; }, 30);
  say.timer = setTimeout(() => { status.textContent = ""; }, 8000);
}

export function section(title, ...children) {
  const id = uid("s");
  return h("section", { "aria-labelledby": id }, h("h2", { id }, title), children);
}

export function note(text, cls = "quiet") {
  return h("p", { class: cls }, text);
}

/** A day in the member's time zone: "Tue 3 Dec". Never a partner's time of activity. */
export function day(iso, timeZone) {
  return new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", timeZone })
    .format(new Date(iso));
}

export function dayAndTime(iso, timeZone) {
  return new Intl.DateTimeFormat(undefined, {
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", timeZone,
  }).format(new Date(iso));
}

export function words(code) {
  const text = String(code).replaceAll("_", " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The values of a form as an object; dotted names nest ("pillars.emotional"). */
export function values(el) {
  const out = {};
  for (const control of el.elements) {
    if (!control.name || control.disabled) continue;
    if ((control.type === "radio" || control.type === "checkbox") && !control.checked) continue;
    const parts = control.name.split(".");
    let target = out;
    for (const part of parts.slice(0, -1)) target = target[part] ??= {};
    const key = parts.at(-1);
    if (control.type === "checkbox" && control.dataset.many !== undefined) {
      (target[key] ??= []).push(control.value);
    } else {
      target[key] = control.value;
    }
  }
  return out;
}
