// Overview: billable seats per product and by verdict, the saving, the
// site findings in words, a chart, the credentials and what a missing one
// hides, the last scan with "Rescan now", and what changed since the
// previous scan.
import { api, ApiError } from "./api.js";
import { el, svg, lozenge, number, money, dateTime, skeleton, emptyState, flag, spinner, VERDICTS } from "./ui.js";
import { resize } from "./panel.js";

let polling = null;

const CREDENTIALS = { "connect-jwt": "the Connect app", "forge-app-token": "the Forge app token", "org-key": "the org key", "api-token": "an API token" };

export async function overview(root) {
  root.replaceChildren(skeleton(6));
  const status = await api("status");
  let latest = null;
  try {
    latest = await api("scans/latest");
  } catch (e) {
    if (!(e instanceof ApiError && e.code === "no-scan")) throw e;
  }
  const parts = [];
  parts.push(scanBar(root, status));
  if (!latest || !latest.summary) {
    parts.push(emptyState("No findings yet",
      status.runningScan ? "The first scan is running; its findings appear here when it ends." : "Seatlens has not scanned this site yet. Start a scan to see why each seat is billable."));
  } else {
    const s = latest.summary;
    parts.push(totals(s));
    parts.push(await door(s, status));
    parts.push(el("div", { class: "columns" }, productsTable(s), chart(s)));
    parts.push(findings(s));
    parts.push(await changes(latest, s));
  }
  // First run, or a credential missing: what Seatlens sees, and how to
  // give it the rest, comes first.
  const onboarding = (status.missing || []).length > 0;
  if (onboarding) parts.splice(1, 0, start(status));
  else parts.push(credentials(status));
  root.replaceChildren(...parts);
  if (status.runningScan) follow(root, status.runningScan.id);
}

// scanBar: the last scan's time, "Rescan now" and the running scan's progress.
function scanBar(root, status) {
  const last = status.latestScan;
  const running = status.runningScan;
  const button = el("button", {
    class: "button button-primary", type: "button", disabled: running ? true : null,
    onclick: async () => {
      button.disabled = true;
      try {
        const rec = await api("scans", { method: "POST" });
        const box = root.querySelector("#progress");
        if (box) box.replaceChildren(progress(rec));
        follow(root, rec.id);
      } catch (e) {
        if (e instanceof ApiError && e.code === "scan-running") {
          overview(root);
          return;
        }
        button.disabled = false;
        flag("The scan could not start", e.message, "error");
      }
    },
  }, "Rescan now");
  return el("section", { class: "scan-bar", "aria-label": "Scans" },
    el("div", {},
      el("span", { class: "subtle" }, "Last scan: "),
      last ? el("time", { datetime: last.endedAt }, dateTime(last.endedAt)) : "none yet",
      last && last.credentials ? el("span", { class: "subtle" }, " · read with " + last.credentials.map((c) => CREDENTIALS[c] || c).join(", ")) : null),
    el("div", { class: "scan-actions" }, el("div", { id: "progress" }, running ? progress(running) : null), button));
}

function progress(rec) {
  const pct = rec.total > 0 ? Math.min(100, Math.round((100 * rec.done) / rec.total)) : null;
  const label = rec.state === "queued" ? "Scan queued" : "Scanning" + (rec.phase ? ": " + rec.phase : "");
  return el("div", { class: "progress" },
    el("div", { class: "progress-label" }, spinner("Scan in progress"), " ", label,
      el("span", { class: "subtle" }, " · " + number(rec.calls) + " calls")),
    el("div", {
      class: "progress-track", role: "progressbar", "aria-label": "Scan progress",
      "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": pct === null ? null : pct,
    }, el("div", { class: "progress-fill" + (pct === null ? " progress-indeterminate" : ""), style: pct === null ? null : "width:" + pct + "%" })));
}

// follow polls a scan until it ends, then redraws the overview.
function follow(root, id) {
  if (polling) clearTimeout(polling);
  const tick = async () => {
    polling = null;
    let rec;
    try {
      rec = await api("scans/" + encodeURIComponent(id));
    } catch (e) {
      flag("Seatlens lost track of the scan", e.message, "error");
      return;
    }
    if (!document.body.contains(root) || !location.hash.match(/^(#\/?)?$/)) return;
    const box = root.querySelector("#progress");
    if (rec.state === "queued" || rec.state === "running") {
      if (box) box.replaceChildren(progress(rec));
      const button = root.querySelector(".scan-bar .button-primary");
      if (button) button.disabled = true;
      polling = setTimeout(tick, 1000);
      return;
    }
    if (rec.state === "failed") flag("The scan failed", rec.error ? rec.error.message : "No reason was given.", "error");
    else flag("Scan done", number(rec.totals ? rec.totals.billableSeats : 0) + " billable seats.", "success");
    overview(root).then(resize);
  };
  polling = setTimeout(tick, 300);
}

function totals(s) {
  const t = s.totals;
  const card = (label, value, extra, appearance) =>
    el("div", { class: "stat" }, el("div", { class: "stat-value" }, value),
      el("div", { class: "stat-label" }, appearance ? lozenge(label, appearance) : label), extra ? el("div", { class: "stat-extra subtle" }, extra) : null);
  const priced = (s.products || []).some((p) => p.seatPrice !== undefined && p.seatPrice !== null);
  return el("section", { class: "stats", "aria-label": "Totals" },
    card("Billable seats", number(t.billableSeats), number(t.users) + " accounts, " + number(t.seats) + " seats"),
    card("Removable", number(t.removable), priced ? money(t.monthlySaving) + " a month" : null, "success"),
    card("Likely removable", number(t.likelyRemovable), priced && t.likelyRemovable ? money(t.likelyMonthlySaving) + " a month" : s.sources && !s.sources.orgApi ? "an org key would confirm them" : null, "new"),
    card("Review", number(t.review), null, "moved"),
    card("Hold", number(t.hold), null, "inprogress"),
    card("Not billable", number(t.notBillable), null, "default"));
}

const HOW = {
  invited: "invited with the product",
  "default-group": "added to the default group",
  "added-to-group": "added to a group",
  "access-request": "an access request approved",
  "role-granted": "given a role directly",
  unknown: "seen at a rescan",
};

// door lists the billable seats that came in since the previous full
// scan, and how: Atlassian bills the month's highest count, so they are
// worth undoing before the period closes.
async function door(s, status) {
  const { seats, total } = await api("new-seats");
  const name = (key) => ((s.products || []).find((p) => p.key === key) || { name: key }).name;
  const pending = status.pendingRescans || 0;
  return el("section", { class: "card", "aria-labelledby": "door-h", id: "door" },
    el("h2", { id: "door-h" }, "New seats since the previous scan ", lozenge(number(total), total ? "new" : "default")),
    total === 0 ? el("p", { class: "subtle" }, "No billable seat has come in since the previous full scan.")
      : el("ul", { class: "findings" }, seats.slice(-8).reverse().map((x) => el("li", {},
        el("a", { href: "#/users/" + encodeURIComponent(x.accountId) }, x.displayName || x.accountId),
        " · " + name(x.product) + ", " + (HOW[x.how] || x.how) + (x.groupName ? " (" + x.groupName + ")" : "") + " · ",
        el("time", { datetime: x.at }, dateTime(x.at))))),
    total > 8 ? el("p", { class: "subtle" }, "and " + number(total - 8) + " more (GET /api/v1/new-seats lists them all).") : null,
    pending && status.rescanFailure ? el("p", { class: "error", id: "rescan-failure" }, number(pending) + (pending === 1 ? " account" : " accounts") +
      " changed but could not be read again (" + dateTime(status.rescanFailure.doneAt) + "): " + status.rescanFailure.message.replace(/^the targeted rescan failed and is tried again: /, "") +
      ". Seatlens tries again, waiting longer after each failure.")
      : pending ? el("p", { class: "subtle" }, spinner("Rescanning"), " " + number(pending) + (pending === 1 ? " account" : " accounts") + " changed and will be read again in a moment.") : null);
}

function productsTable(s) {
  const rows = (s.products || []).map((p) => el("tr", {},
    el("th", { scope: "row" }, el("a", { href: "#/seats?product=" + encodeURIComponent(p.key) }, p.name)),
    el("td", { class: "num" }, number(p.billable), p.limit !== undefined && p.limit !== null ? el("span", { class: "subtle" }, " / " + number(p.limit)) : null),
    el("td", { class: "num" }, el("a", { href: "#/seats?product=" + encodeURIComponent(p.key) + "&verdict=removable" }, number(p.removable))),
    el("td", { class: "num" }, number(p.review)),
    el("td", { class: "num" }, number(p.hold)),
    el("td", { class: "num" }, p.seatPrice !== undefined && p.seatPrice !== null ? money(p.monthlySaving) : el("span", { class: "subtle" }, "no price"))));
  return el("section", { class: "card", "aria-labelledby": "products-h" },
    el("h2", { id: "products-h" }, "Billable seats by product"),
    el("table", { class: "table" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Product"), el("th", { scope: "col", class: "num" }, "Billable / limit"),
        el("th", { scope: "col", class: "num" }, "Removable"), el("th", { scope: "col", class: "num" }, "Review"),
        el("th", { scope: "col", class: "num" }, "Hold"), el("th", { scope: "col", class: "num" }, "Saving a month"))),
      el("tbody", {}, rows)));
}

const COLOURS = { removable: "#22A06B", review: "#E2B203", hold: "#388BFF", "not-billable": "#B3B9C4" };

// chart draws seats by verdict per product as horizontal stacked bars.
function chart(s) {
  const products = s.products || [];
  const keys = ["removable", "review", "hold", "not-billable"];
  const value = (p, k) => (k === "not-billable" ? p.notBillable : p[k]) || 0;
  const max = Math.max(1, ...products.map((p) => keys.reduce((n, k) => n + value(p, k), 0)));
  const rowH = 28, labelW = 170, barW = 300, top = 8;
  const height = top + products.length * rowH + 36;
  const g = svg("svg", { viewBox: "0 0 " + (labelW + barW + 60) + " " + height, width: "100%", role: "img",
    "aria-labelledby": "chart-title chart-desc", class: "chart" });
  g.append(svg("title", { id: "chart-title" }, "Seats by verdict per product"));
  g.append(svg("desc", { id: "chart-desc" }, products.map((p) => p.name + ": " + keys.map((k) => value(p, k) + " " + k).join(", ")).join("; ")));
  products.forEach((p, i) => {
    const y = top + i * rowH;
    g.append(svg("text", { x: labelW - 8, y: y + 17, "text-anchor": "end", class: "chart-label" }, p.name));
    let x = labelW;
    for (const k of keys) {
      const w = (value(p, k) / max) * barW;
      if (w > 0) {
        const r = svg("rect", { x, y: y + 4, width: w, height: rowH - 10, fill: COLOURS[k] });
        r.append(svg("title", {}, p.name + ": " + value(p, k) + " " + k));
        g.append(r);
      }
      x += w;
    }
    g.append(svg("text", { x: x + 6, y: y + 17, class: "chart-value" }, number(keys.reduce((n, k) => n + value(p, k), 0))));
  });
  let lx = labelW;
  const ly = top + products.length * rowH + 14;
  for (const k of keys) {
    g.append(svg("rect", { x: lx, y: ly, width: 10, height: 10, fill: COLOURS[k] }));
    const label = VERDICTS.find((v) => v.key === k).label;
    g.append(svg("text", { x: lx + 14, y: ly + 9, class: "chart-legend" }, label));
    lx += 14 + label.length * 7 + 14;
  }
  return el("section", { class: "card", "aria-labelledby": "chart-h" }, el("h2", { id: "chart-h" }, "Seats by verdict"), g);
}

function findings(s) {
  const list = s.siteFindings || [];
  return el("section", { class: "card", "aria-labelledby": "findings-h" },
    el("h2", { id: "findings-h" }, "What the scan found"),
    list.length === 0 ? el("p", { class: "subtle" }, "Nothing stands out on this site.")
      : el("ul", { class: "findings" }, list.map((f) => el("li", {},
        f.groupId ? el("a", { href: "#/seats?group=" + encodeURIComponent(f.groupId) }, f.message) : f.message))));
}

// changes compares the latest scan with the one before it.
async function changes(latest, s) {
  const name = (key) => ((s.products || []).find((p) => p.key === key) || { name: key }).name;
  const verdict = (key) => (VERDICTS.find((v) => v.key === key) || { label: key }).label.toLowerCase();
  const section = el("section", { class: "card", "aria-labelledby": "changes-h" }, el("h2", { id: "changes-h" }, "Since the previous scan"));
  const { scans } = await api("scans");
  const previous = scans.find((s) => s.state === "done" && s.id !== latest.id && Number(s.id) < Number(latest.id));
  if (!previous) {
    section.append(el("p", { class: "subtle" }, "This is the first scan kept; changes show from the next one."));
    return section;
  }
  const d = await api("scans/" + encodeURIComponent(latest.id) + "/diff?from=" + encodeURIComponent(previous.id));
  const line = (label, items, describe) => el("div", { class: "change" },
    el("strong", {}, number(items.length) + " " + label),
    items.length ? el("ul", {}, items.slice(0, 5).map((x) => el("li", {}, el("a", { href: "#/users/" + encodeURIComponent(x.accountId) }, x.displayName || x.accountId), " · " + describe(x))),
      items.length > 5 ? el("li", { class: "subtle" }, "and " + number(items.length - 5) + " more") : null) : null);
  section.append(el("p", { class: "subtle" }, "Compared with the scan of " + dateTime(previous.endedAt) + "."),
    line("seats added", d.added, (x) => name(x.product) + ", " + verdict(x.verdict)),
    line("seats gone", d.removed, (x) => name(x.product)),
    line("verdicts changed", d.changed, (x) => name(x.product) + ": " + verdict(x.from) + " → " + verdict(x.to)));
  return section;
}

function credentials(status) {
  const item = (name, present, detail) => el("li", {},
    present ? lozenge("Connected", "success") : lozenge("Not connected", "removed"), " ", el("strong", {}, name), detail ? el("span", { class: "subtle" }, " · " + detail) : null);
  return el("section", { class: "card", "aria-labelledby": "creds-h" },
    el("h2", { id: "creds-h" }, "Credentials"),
    el("ul", { class: "creds" },
      item("Connect app (JWT)", status.connect, "group members, licence, permissions"),
      item("Forge app token", status.forgeAppToken && status.forgeAppToken.present,
        status.forgeAppToken && status.forgeAppToken.expiresAt ? "valid until " + dateTime(status.forgeAppToken.expiresAt) : null),
      item("Organizations API key", status.orgKey && status.orgKey.present, status.orgKey && status.orgKey.orgId
        ? "organisation " + status.orgKey.orgId + (status.orgKey.expiresAt ? ", expires " + (status.orgKey.expiryStated ? "" : "by ") + dateTime(status.orgKey.expiresAt) : "")
        : null),
      status.orgKey && status.orgKey.expiresSoon ? el("li", {}, lozenge("Expires soon", "moved"), " ",
        el("a", { href: "#/settings" }, "Give Seatlens a new org key"), " before this one stops working.") : null));
}

// start is the first-run view: what the credentials held let Seatlens
// see, and step by step how to give it the others.
function start(status) {
  const org = status.orgKey && status.orgKey.present;
  const app = status.forgeAppToken && status.forgeAppToken.present;
  const sees = ["the Jira groups that grant each product and their members (Connect app)"];
  if (app) sees.push("default groups, seat limits, and app and customer accounts (Forge app token)");
  if (org) sees.push("every product, Confluence included, last activity, synced groups, direct and inferred roles (org key)");
  const steps = [];
  if (!org) {
    steps.push(el("li", {}, el("strong", {}, "Connect an Organizations API key. "),
      "An organisation admin opens admin.atlassian.com › Settings › API keys, creates a key, and copies it with the organisation ID. ",
      "Then give both to Seatlens in ", el("a", { href: "#/settings" }, "Settings"), ". ",
      el("span", { class: "subtle" }, "It adds Confluence and the other products, last-active dates, synced groups and direct roles; it is also what removes memberships.")));
  }
  if (!app) {
    steps.push(el("li", {}, el("strong", {}, "Install Seatlens from its Forge registration. "),
      "The Forge app token then arrives with the app's hourly scheduled trigger; there is nothing to type. ",
      el("span", { class: "subtle" }, "It adds default groups, seat limits and the accounts outside the directory, and can remove memberships where there is no org key.")));
  }
  return el("section", { class: "card onboarding", "aria-labelledby": "start-h" },
    el("h2", { id: "start-h" }, "Get the full picture"),
    el("p", {}, "With what it holds now, Seatlens sees " + sees.join("; ") + "."),
    el("ol", { class: "steps" }, steps),
    credentials(status));
}
