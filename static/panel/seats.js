// Seats: the table of every seat with its filters, search, sort and
// cursor paging. The filters are the hash's query, so a view can be sent
// to another admin; the page's cursors are kept in the hash too.
import { api, query } from "./api.js";
import { el, verdictLozenge, date, number, skeleton, emptyState, flag, VERDICTS, CLASSES } from "./ui.js";
import { navigate } from "./panel.js";

const FILTERS = ["product", "verdict", "account", "inactive", "billable", "reason", "warning", "group", "q", "sort"];

let products = null; // [{key, name}] of the latest scan

async function productList() {
  if (!products) {
    try {
      const latest = await api("scans/latest");
      products = (latest.summary && latest.summary.products) || [];
    } catch (e) {
      products = [];
    }
  }
  return products;
}

function productName(key) {
  const p = (products || []).find((x) => x.key === key);
  return p ? p.name : key;
}

// hashFor builds the hash of a seats view from its parameters.
function hashFor(params) {
  const q = new URLSearchParams();
  for (const [k, v] of params) if (v) q.set(k, v);
  const s = q.toString();
  return "#/seats" + (s ? "?" + s : "");
}

export async function seatsView(root, params) {
  const list = await productList();
  const form = filters(params, list);
  const table = el("div", { class: "table-wrap" }, skeleton(8));
  root.replaceChildren(form, table);
  const p = {};
  for (const k of FILTERS) p[k] = params.get(k) || "";
  p.cursor = params.get("cursor") || "";
  p.limit = 50;
  let page;
  try {
    page = await api("seats" + query(p));
  } catch (e) {
    if (e.code === "no-scan") {
      table.replaceChildren(emptyState("No findings yet", "The first scan has not finished. The overview shows its progress."));
      return;
    }
    if (e.code === "bad-request" && p.cursor) {
      // A cursor of an older scan: start again at the first page.
      params.delete("cursor");
      params.delete("prev");
      navigate(hashFor(params));
      return;
    }
    throw e;
  }
  table.replaceChildren(results(page, params));
}

function select(name, label, options, value) {
  const id = "f-" + name;
  return el("div", { class: "field" },
    el("label", { for: id }, label),
    el("select", { id, name }, options.map(([v, text]) => el("option", { value: v, selected: v === value ? true : null }, text))));
}

function filters(params, list) {
  const get = (k) => params.get(k) || "";
  const search = el("input", { id: "f-q", name: "q", type: "search", value: get("q"), placeholder: "Name, e-mail or account ID", autocomplete: "off" });
  const form = el("form", { class: "filters", role: "search", "aria-label": "Filter seats" },
    el("div", { class: "field field-wide" }, el("label", { for: "f-q" }, "Search"), search),
    select("product", "Product", [["", "All products"], ...list.map((p) => [p.key, p.name])], get("product")),
    select("verdict", "Verdict", [["", "All verdicts"], ...VERDICTS.map((v) => [v.key, v.label])], get("verdict")),
    select("account", "Account", [["", "All accounts"], ...Object.entries(CLASSES)], get("account")),
    select("inactive", "Inactive for", [["", "Any time"], ["30", "30+ days"], ["60", "60+ days"], ["90", "90+ days"], ["180", "180+ days"], ["365", "a year or more"]], get("inactive")),
    select("billable", "Billable", [["", "Billable or not"], ["true", "Billable"], ["false", "Not billable"]], get("billable")),
    select("sort", "Sort by", [["", "Name"], ["lastActive", "Last active, oldest first"], ["-lastActive", "Last active, newest first"], ["verdict", "Verdict"], ["product", "Product"]], get("sort")),
    el("button", { class: "button", type: "submit" }, "Apply"));
  const apply = () => {
    const next = new URLSearchParams();
    for (const k of ["reason", "warning", "group"]) if (params.get(k)) next.set(k, params.get(k));
    for (const f of form.elements) if (f.name && f.value) next.set(f.name, f.value.trim());
    navigate(hashFor(next));
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    apply();
  });
  for (const s of form.querySelectorAll("select")) s.addEventListener("change", apply);
  const chips = ["reason", "warning", "group"].filter((k) => params.get(k)).map((k) => {
    const rest = new URLSearchParams(params);
    rest.delete(k);
    rest.delete("cursor");
    rest.delete("prev");
    return el("span", { class: "chip" }, k + ": " + params.get(k), " ",
      el("a", { href: hashFor(rest), "aria-label": "Remove the " + k + " filter" }, "×"));
  });
  return el("div", {}, form, chips.length ? el("div", { class: "chips" }, chips) : null);
}

function results(page, params) {
  if (page.total === 0) {
    return emptyState("No seats match", "Change or clear the filters to see more seats.",
      el("a", { class: "button", href: "#/seats" }, "Clear filters"));
  }
  const back = encodeURIComponent(location.hash);
  const selected = new Map();
  const count = el("span", { class: "subtle", id: "selected-count" }, "No seat selected");
  const title = el("input", { type: "text", id: "review-title", "aria-label": "Title of the new review", value: "Cleanup " + new Date().toISOString().slice(0, 10) });
  // A review seat goes in only with a written justification (the
  // server refuses it otherwise); one text serves the seats selected.
  const justification = el("input", { type: "text", id: "review-justification", "aria-label": "Why the review seats selected can go",
    placeholder: "Why the review seats can go", hidden: true });
  const send = async (body, button) => {
    button.disabled = true;
    try {
      const r = await api("reviews", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      navigate("#/reviews/" + encodeURIComponent(r.id));
    } catch (e) {
      button.disabled = false;
      const list = e.body && e.body.seats ? e.body.seats.map((x) => x.accountId + " (" + x.product + "): " + x.reason).join("; ") : "";
      flag("The review was not created", e.message + (list ? " " + list : ""), "error");
    }
  };
  const create = el("button", { class: "button button-primary", type: "button", id: "create-review", disabled: true, onclick: () => {
    const items = [...selected.values()].map((x) => (x.review ? { accountId: x.accountId, product: x.product, justification: justification.value } : { accountId: x.accountId, product: x.product }));
    send({ title: title.value, items }, create);
  } }, "Create review");
  // Every seat the filter shows, in one review, when the filter shows only
  // removable seats.
  const verdicts = (params.get("verdict") || "").split(",").filter(Boolean);
  const all = verdicts.length === 1 && verdicts[0] === "removable"
    ? el("button", { class: "button", type: "button", id: "review-all", onclick: () => {
      const filter = {};
      for (const k of ["product", "verdict", "reason", "warning", "group", "account", "inactive", "billable", "q"]) if (params.get(k)) filter[k] = params.get(k);
      send({ title: title.value, filter }, all);
    } }, "Review all " + number(page.total) + " seats shown")
    : null;
  const pick = (s, box) => {
    const k = s.accountId + "|" + s.product;
    if (box.checked) selected.set(k, { accountId: s.accountId, product: s.product, review: s.verdict === "review" });
    else selected.delete(k);
    count.textContent = selected.size ? selected.size + " selected" : "No seat selected";
    const needsWhy = [...selected.values()].some((x) => x.review);
    justification.hidden = !needsWhy;
    create.disabled = selected.size === 0 || (needsWhy && justification.value.trim() === "");
  };
  justification.addEventListener("input", () => {
    create.disabled = selected.size === 0 || justification.value.trim() === "";
  });
  const rows = page.seats.map((s) => el("tr", {},
    el("td", { class: "pick" }, (s.verdict === "removable" || s.verdict === "review") && s.billable && s.planSteps > 0
      ? (() => {
        const box = el("input", { type: "checkbox", "aria-label": "Select " + (s.displayName || s.accountId) + ", " + productName(s.product) });
        box.addEventListener("change", () => pick(s, box));
        return box;
      })() : null),
    el("th", { scope: "row" },
      el("a", { href: "#/users/" + encodeURIComponent(s.accountId) + "?back=" + back }, s.displayName || s.accountId),
      s.email ? el("div", { class: "subtle small" }, s.email) : null),
    el("td", {}, productName(s.product), el("div", { class: "subtle small" }, s.role)),
    el("td", {}, verdictLozenge(s)),
    el("td", {}, s.lastActive ? el("time", { datetime: s.lastActive }, date(s.lastActive)) : el("span", { class: "subtle" }, "Never or unknown")),
    el("td", { class: "reasons" }, (s.reasons || []).map((r) => el("div", { class: "small" }, r.message)))));
  // Paging: the cursors of the pages before this one ride in the hash.
  const prev = (params.get("prev") || "").split(",").filter(Boolean);
  const here = params.get("cursor") || "";
  const to = (cursor, stack) => {
    const q = new URLSearchParams(params);
    if (cursor) q.set("cursor", cursor);
    else q.delete("cursor");
    if (stack.length) q.set("prev", stack.join(","));
    else q.delete("prev");
    return hashFor(q);
  };
  const first = prev.length === 0 && !here ? 1 : null;
  const nav = el("nav", { class: "pager", "aria-label": "Pages" },
    el("span", { class: "subtle" }, number(page.total) + " seats" + (first ? "" : "")),
    here ? el("a", { class: "button", href: to(prev[prev.length - 1] === "-" ? "" : prev[prev.length - 1] || "", prev.slice(0, -1)) }, "Previous") : null,
    page.next ? el("a", { class: "button", href: to(page.next, [...prev, here || "-"]) }, "Next") : null);
  return el("div", {},
    el("div", { class: "review-bar", role: "region", "aria-label": "New review" }, count, title, justification, create, all),
    el("table", { class: "table seats" },
      el("caption", { class: "visually-hidden" }, "Seats, " + number(page.total) + " matching"),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, el("span", { class: "visually-hidden" }, "Select")), el("th", { scope: "col" }, "Account"), el("th", { scope: "col" }, "Product"),
        el("th", { scope: "col" }, "Verdict"), el("th", { scope: "col" }, "Last active"), el("th", { scope: "col" }, "Why"))),
      el("tbody", {}, rows)),
    nav);
}
