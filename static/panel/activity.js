// Activity: the tenant's proof chain, newest first, filterable by kind,
// with a check of the hashes in the browser (the same rule as
// `seatlens verify`: SHA-256 over the previous hash and the event in RFC
// 8785 canonical JSON).
import { api } from "./api.js";
import { el, lozenge, skeleton, emptyState, number, flag, dateTime } from "./ui.js";
import { resize } from "./panel.js";

// canonical is RFC 8785 for the values events hold: JavaScript's own sort
// orders keys by UTF-16 code units, and JSON.stringify writes strings and
// integers as the scheme asks.
function canonical(v) {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return "[" + v.map(canonical).join(",") + "]";
  return "{" + Object.keys(v).sort().map((k) => JSON.stringify(k) + ":" + canonical(v[k])).join(",") + "}";
}

function hexToBytes(h) {
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.substr(i * 2, 2), 16);
  return out;
}

async function hashOf(e) {
  const body = new TextEncoder().encode(canonical({ seq: e.seq, time: e.time, kind: e.kind, actor: e.actor, data: e.data, prev: e.prev }));
  const prev = hexToBytes(e.prev);
  const buf = new Uint8Array(prev.length + body.length);
  buf.set(prev);
  buf.set(body, prev.length);
  const sum = new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
  return [...sum].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// check verifies the loaded events: each hash, and each link to the next
// older one. It returns "" or what is wrong.
async function check(events) {
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    if ((await hashOf(e)) !== e.hash) return "event " + e.seq + " does not match its hash";
    const older = events[i + 1];
    if (older && (older.seq !== e.seq - 1 || older.hash !== e.prev)) return "event " + e.seq + " does not link to event " + older.seq;
  }
  return "";
}

export async function activityView(root, params) {
  root.replaceChildren(skeleton(6));
  const kind = params.get("kind") || "";
  let events = [];
  let next = "";
  let key = "";
  const load = async () => {
    const page = await api("activity" + (next ? "?cursor=" + encodeURIComponent(next) : ""));
    events = events.concat(page.events);
    next = page.next || "";
    key = page.keyFingerprint;
  };
  await load();
  if (events.length === 0) {
    root.replaceChildren(emptyState("Nothing recorded yet", "Scans, settings changes and reviews appear here as they happen."));
    return;
  }
  const kinds = [...new Set(events.map((e) => e.kind.split(".")[0]))].sort();
  const body = el("tbody", {});
  const result = el("span", { class: "subtle", id: "verify-result", role: "status" });
  const draw = () => {
    body.replaceChildren(...events.filter((e) => !kind || e.kind.startsWith(kind + ".")).map((e) => el("tr", {},
      el("td", { class: "num" }, String(e.seq)),
      el("td", {}, e.time),
      el("td", {}, lozenge(e.kind, e.kind.startsWith("item.removed") || e.kind.endsWith("approved") ? "success" : e.kind.includes("fail") ? "removed" : "default")),
      el("td", { class: "mono small" }, e.actor),
      el("td", { class: "small" }, Object.entries(e.data || {}).filter(([k, v]) => k !== "account" && v !== "" && v !== null && !(Array.isArray(v) && v.length === 0)).map(([k, v]) => k + ": " + (Array.isArray(v) ? v.join(", ") : v)).join(" · ")),
      el("td", { class: "mono small" }, e.hash.slice(0, 12) + "…"))));
  };
  draw();
  const filter = el("select", { id: "f-kind", "aria-label": "Kind of event" },
    el("option", { value: "" }, "All events"), kinds.map((k) => el("option", { value: k, selected: k === kind ? true : null }, k)));
  filter.addEventListener("change", () => {
    location.hash = "#/activity" + (filter.value ? "?kind=" + encodeURIComponent(filter.value) : "");
  });
  const verify = el("button", { class: "button", type: "button", id: "verify-chain", onclick: async () => {
    result.textContent = "Checking…";
    const bad = await check(events);
    result.textContent = bad ? "Not verified: " + bad + "." : "Verified: " + number(events.length) + " events, each hash and link. Signing key " + key + ".";
    result.className = bad ? "error" : "success-text";
  } }, "Verify");
  const more = next ? el("button", { class: "button", type: "button", onclick: async () => {
    await load();
    draw();
    if (!next) more.remove();
  } }, "Load older events") : null;
  root.replaceChildren(
    el("div", { class: "filters" }, el("div", { class: "field" }, el("label", { for: "f-kind" }, "Show"), filter), verify, result),
    el("table", { class: "table" }, el("caption", { class: "visually-hidden" }, "Activity, newest first"),
      el("thead", {}, el("tr", {}, ["#", "Time", "Event", "By", "Details", "Hash"].map((h) => el("th", { scope: "col" }, h)))), body),
    ...(more ? [more] : []), await signingKey(root, params));
}

// signingKey shows the key that signs this site's evidence, the retired
// ones, and rotates it (where approvers are named, only they may).
async function signingKey(root, params) {
  const k = await api("signing-key");
  const rotate = el("button", { class: "button", type: "button", id: "rotate-key", onclick: async () => {
    if (!confirm("Rotate the signing key? Evidence exported before keeps verifying with the old key; evidence exported from now on is signed with the new one, and the rotation is recorded here.")) return;
    try {
      const next = await api("signing-key/rotate", { method: "POST" });
      flag("Signing key rotated", "New key " + next.keyFingerprint + ". Give it to whoever checks evidence with seatlens verify --key.", "success");
      activityView(root, params).then(resize);
    } catch (err) {
      flag("Not rotated", err.message, "error");
    }
  } }, "Rotate the signing key");
  return el("section", { class: "card", "aria-labelledby": "key-h", id: "signing-key" },
    el("h2", { id: "key-h" }, "Signing key"),
    el("p", {}, "Evidence of this site is signed with the key ", el("span", { class: "mono", id: "key-fingerprint" }, k.keyFingerprint),
      ". An auditor checks a file against it with ", el("span", { class: "mono" }, "seatlens verify FILE --key " + k.keyFingerprint), "."),
    k.retired.length ? el("p", { class: "subtle", id: "key-retired" }, "Retired keys, whose evidence still verifies: " +
      k.retired.map((o) => o.keyFingerprint + " (until " + dateTime(o.retiredAt) + ")").join(", ") + ".") : null,
    rotate);
}
