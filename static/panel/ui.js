// DOM helpers. Every string that comes from the server, and so from
// Atlassian (names, e-mails, group names, messages), is set as text, never
// parsed as markup.

// el builds an element: el("a", {href: "#"}, "text", child, …). Attributes
// whose name starts with "on" take a function.
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") {
      node.addEventListener(k.slice(2), v);
    } else if (k === "class") {
      node.className = v;
    } else {
      node.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

const SVG = "http://www.w3.org/2000/svg";

// svg builds an SVG element the same way.
export function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined) node.setAttribute(k, String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// Verdicts in the order an admin acts on them, with their words and the
// Atlassian Design System lozenge appearance.
export const VERDICTS = [
  { key: "removable", label: "Removable", lozenge: "success" },
  { key: "likely-removable", label: "Likely removable", lozenge: "new" },
  { key: "review", label: "Review", lozenge: "moved" },
  { key: "hold", label: "Hold", lozenge: "inprogress" },
  { key: "not-billable", label: "Not billable", lozenge: "default" },
];

export function verdictOf(key) {
  return VERDICTS.find((v) => v.key === key) || { key, label: key, lozenge: "default" };
}

export function lozenge(text, appearance, bold) {
  return el("span", { class: "lozenge lozenge-" + (appearance || "default") + (bold ? " lozenge-bold" : "") }, text);
}

export function verdictLozenge(seat) {
  const v = verdictOf(seat.verdict === "review" && seat.likelyRemovable ? "likely-removable" : seat.verdict);
  return lozenge(v.label, v.lozenge);
}

export const CLASSES = {
  managed: "Managed account", unmanaged: "Unmanaged account", guest: "Guest", customer: "Customer",
  "integration-user": "Integration user", "service-account": "Service account", "app-account": "App account",
  unknown: "Person (claim unknown)",
};

const dateFmt = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });
const timeFmt = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });

export function date(iso) {
  if (!iso) return "Never";
  const d = new Date(iso);
  return isNaN(d) ? iso : dateFmt.format(d);
}

export function dateTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return isNaN(d) ? iso : timeFmt.format(d);
}

export function number(n) {
  return new Intl.NumberFormat().format(n || 0);
}

export function money(n) {
  return new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(n || 0);
}

export function spinner(label) {
  return el("span", { class: "spinner", role: "status" }, el("span", { class: "visually-hidden" }, label || "Loading"));
}

export function skeleton(lines) {
  const box = el("div", { class: "skeleton", "aria-hidden": "true" });
  for (let i = 0; i < (lines || 3); i++) box.append(el("div", { class: "skeleton-line" }));
  return box;
}

export function emptyState(title, body, action) {
  return el("div", { class: "empty-state" }, el("h2", {}, title), el("p", {}, body), action || null);
}

// flag shows a message the Atlassian way: AP.flag where the host has one,
// otherwise a flag in the page.
export function flag(title, body, type) {
  if (window.AP && AP.flag && AP.flag.create) {
    AP.flag.create({ title, body, type: type || "error", close: "manual" });
    return;
  }
  const box = document.getElementById("flags");
  const f = el("div", { class: "flag flag-" + (type || "error"), role: type === "error" ? "alert" : "status" },
    el("strong", {}, title), el("p", {}, body),
    el("button", { class: "button button-subtle", type: "button", onclick: () => f.remove() }, "Dismiss"));
  box.append(f);
}
