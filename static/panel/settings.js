// Settings: the cleanup rules, the org key (write-only), the admin CSV,
// and the manual holds. Every change is validated by the server, whose
// message is shown next to the field it names, and recorded in the
// activity.
import { api, ApiError } from "./api.js";
import { el, dateTime, flag, number, skeleton } from "./ui.js";
import { resize } from "./panel.js";

// fieldOf finds which field an error message names.
function fieldOf(message, fields) {
  return fields.find((f) => message.includes(f)) || "";
}

function field(id, label, input, help) {
  return el("div", { class: "field settings-field" }, el("label", { for: id }, label), input,
    help ? el("div", { class: "subtle small" }, help) : null, el("div", { class: "field-error", id: id + "-error", role: "alert" }));
}

function showError(root, id, message) {
  for (const e of root.querySelectorAll(".field-error")) e.textContent = "";
  const box = root.querySelector("#" + id + "-error");
  if (box) box.textContent = message;
  else flag("Not saved", message, "error");
}

export async function settingsView(root) {
  root.replaceChildren(skeleton(6));
  const [set, status] = await Promise.all([api("settings"), api("status")]);
  let products = [];
  try {
    const latest = await api("scans/latest");
    products = (latest.summary && latest.summary.products) || [];
  } catch (e) {
    // no scan yet: prices can be set once products are known
  }

  // Rules.
  const days = el("input", { type: "number", id: "s-inactiveDays", min: 1, max: 3650, value: set.inactiveDays });
  const schedule = el("select", { id: "s-schedule" }, ["daily", "weekly", "off"].map((v) => el("option", { value: v, selected: v === set.schedule ? true : null }, v)));
  // Approvers are picked by name through Jira's user search; the chips
  // name them from the latest scan where it holds them.
  const chosen = [...(set.approvers || [])];
  const chips = el("div", { class: "chips", id: "approver-chips" });
  const drawChips = async () => {
    const named = await Promise.all(chosen.map(async (id) => {
      try {
        const u = await api("users/" + encodeURIComponent(id));
        return [id, u.displayName || id];
      } catch (e) {
        return [id, id];
      }
    }));
    chips.replaceChildren(...named.map(([id, name]) => el("span", { class: "chip" }, name, " ",
      el("button", { class: "button button-subtle", type: "button", "aria-label": "Remove " + name + " from the approvers", onclick: () => {
        chosen.splice(chosen.indexOf(id), 1);
        drawChips();
      } }, "×"))));
  };
  drawChips();
  const results = el("ul", { class: "people", id: "approver-results", role: "listbox", "aria-label": "People found" });
  const approvers = el("input", { type: "search", id: "s-approvers", placeholder: "Find an admin by name", autocomplete: "off" });
  let searching = null;
  approvers.addEventListener("input", () => {
    clearTimeout(searching);
    const q = approvers.value.trim();
    if (q.length < 2) {
      results.replaceChildren();
      return;
    }
    searching = setTimeout(async () => {
      try {
        const { people } = await api("people?q=" + encodeURIComponent(q));
        results.replaceChildren(...people.map((p) => el("li", { role: "option" }, el("button", { class: "button button-subtle", type: "button", onclick: () => {
          if (!chosen.includes(p.accountId)) chosen.push(p.accountId);
          approvers.value = "";
          results.replaceChildren();
          drawChips();
        } }, p.displayName))));
      } catch (e) {
        results.replaceChildren(el("li", { class: "subtle" }, e.message));
      }
    }, 250);
  });
  const prices = products.map((p) => field("s-price-" + p.key, p.name + " (a seat a month)",
    el("input", { type: "number", id: "s-price-" + p.key, min: 0, step: "0.01", value: set.seatPrices && set.seatPrices[p.key] !== undefined ? set.seatPrices[p.key] : "", "data-key": p.key })));
  const rules = el("form", { class: "card settings", "aria-labelledby": "rules-h", novalidate: true },
    el("h2", { id: "rules-h" }, "Cleanup rules"),
    field("s-inactiveDays", "Inactive after (days)", days, "A seat unused this long is removable, unless something holds it."),
    field("s-schedule", "Rescan", schedule),
    field("s-approvers", "Approvers", el("div", {}, chips, approvers, results), "Only these admins approve and run reviews; none: any other admin."),
    prices,
    el("button", { class: "button button-primary", type: "submit" }, "Save rules"));
  rules.addEventListener("submit", async (e) => {
    e.preventDefault();
    const seatPrices = {};
    for (const input of rules.querySelectorAll("input[data-key]")) {
      if (input.value !== "") seatPrices[input.dataset.key] = Number(input.value);
    }
    const next = Object.assign({}, set, {
      inactiveDays: Number(days.value), schedule: schedule.value, seatPrices,
      approvers: chosen,
    });
    try {
      await api("settings", { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(next) });
      flag("Rules saved", "The next scan uses them.", "success");
      settingsView(root).then(resize);
    } catch (err) {
      const f = fieldOf(err.message, ["inactiveDays", "schedule", "approvers", "seatPrices", "manualHolds"]);
      showError(rules, f ? "s-" + (f === "seatPrices" ? "inactiveDays" : f) : "", err.message);
    }
  });

  // The org key.
  const k = status.orgKey || {};
  const orgId = el("input", { type: "text", id: "s-orgId", value: k.orgId || "", autocomplete: "off" });
  const key = el("input", { type: "password", id: "s-key", autocomplete: "off", placeholder: k.present ? "A key is stored; enter a new one to replace it" : "" });
  const expires = el("input", { type: "date", id: "s-expiresAt" });
  const expiry = k.expiresAt
    ? el("p", { class: k.expiresSoon ? "error" : "subtle", id: "org-expiry" }, (k.expiresSoon ? "The key expires soon: " : "The key expires ") +
      (k.expiryStated ? "on " : "by ") + dateTime(k.expiresAt) + (k.expiryStated ? "." : " at the latest (keys last at most a year).") +
      (k.expiresSoon ? " Create a new one in admin.atlassian.com and save it here." : ""))
    : null;
  const orgForm = el("form", { class: "card settings", "aria-labelledby": "org-h" },
    el("h2", { id: "org-h" }, "Organizations API key"),
    el("p", { class: "subtle", id: "org-status" }, k.present ? "Connected to organisation " + k.orgId + ", checked " + dateTime(k.checkedAt) + "." : "No key: Confluence, last-active dates, synced groups and direct roles stay unknown, and nothing is removable."),
    field("s-orgId", "Organisation ID", orgId, "admin.atlassian.com › Settings › API keys shows it with the key."),
    expiry,
    field("s-key", "API key", key, "Checked with one call before it is stored, sealed; never shown again."),
    field("s-expiresAt", "Expires on (optional)", expires, "As admin.atlassian.com shows it; Seatlens warns a month before."),
    el("div", { class: "review-actions" },
      el("button", { class: "button button-primary", type: "submit" }, "Check and save the key"),
      k.present ? el("button", { class: "button", type: "button", onclick: async () => {
        await api("org-key", { method: "DELETE" });
        flag("Key forgotten", "Scans now run without it.", "success");
        settingsView(root).then(resize);
      } }, "Forget the key") : null));
  orgForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await api("org-key", { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ orgId: orgId.value.trim(), key: key.value, expiresAt: expires.value }) });
      flag("Key saved", "The next scan reads the Organizations API.", "success");
      settingsView(root).then(resize);
    } catch (err) {
      showError(orgForm, err.message.startsWith("orgId") ? "s-orgId" : err.message.startsWith("expiresAt") ? "s-expiresAt" : "s-key", err.message);
    }
  });

  // The admin CSV.
  const date = el("input", { type: "date", id: "s-csvDate" });
  const file = el("input", { type: "file", id: "s-csvFile", accept: ".csv,text/csv" });
  const csvForm = el("form", { class: "card settings", "aria-labelledby": "csv-h" },
    el("h2", { id: "csv-h" }, "Activity without an org key"),
    el("p", { class: "subtle" }, "Atlassian Administration › Directory › Users › Export users gives a CSV with each person's last activity per product."),
    field("s-csvFile", "Export users CSV", file), field("s-csvDate", "Exported on", date),
    el("button", { class: "button", type: "submit" }, "Upload"));
  csvForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!file.files[0]) return showError(csvForm, "s-csvFile", "Choose the exported file.");
    try {
      const up = await api("activity-csv?date=" + encodeURIComponent(date.value), { method: "POST", headers: { "Content-Type": "text/csv" }, body: file.files[0] });
      flag("CSV uploaded", up.accounts + " accounts; the next scan uses it.", "success");
    } catch (err) {
      showError(csvForm, err.message.startsWith("date") ? "s-csvDate" : "s-csvFile", err.message);
    }
  });

  // Manual holds.
  const holds = el("section", { class: "card", "aria-labelledby": "holds-h" }, el("h2", { id: "holds-h" }, "Manual holds"),
    (set.manualHolds || []).length === 0 ? el("p", { class: "subtle" }, "None. Excluding a seat from a review with “hold” adds one.")
      : el("table", { class: "table" }, el("tbody", {}, set.manualHolds.map((h, i) => el("tr", {},
        el("td", { class: "mono small" }, h.accountId), el("td", {}, (h.products || []).join(", ") || "all products"), el("td", {}, h.reason),
        el("td", {}, h.expires ? "until " + dateTime(h.expires) : "no end"),
        el("td", {}, el("button", { class: "button button-subtle", type: "button", onclick: async () => {
          const next = Object.assign({}, set, { manualHolds: set.manualHolds.filter((_, j) => j !== i) });
          await api("settings", { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(next) });
          settingsView(root).then(resize);
        } }, "Remove")))))));

  root.replaceChildren(rules, orgForm, await freshness(root, status), csvForm, holds, personalData(status));
}

// personalData: Atlassian's personal data duty for apps, as it stands for
// this site: what is reported, when, and what closed accounts were erased.
function personalData(status) {
  const pd = status.personalData;
  const days = pd && pd.cycleSeconds ? Math.round(pd.cycleSeconds / 86400) : 7;
  let state;
  if (!pd || (!pd.error && !pd.tracked && !pd.reportedAt && !pd.erased)) {
    state = el("p", { class: "subtle", id: "personal-data-state" }, "Nothing reported yet: the accounts of a scan are reported within the hour after it.");
  } else if (pd.error) {
    state = el("p", { class: "error", id: "personal-data-state" }, "The last report, " + dateTime(pd.checkedAt) + ", failed: " + pd.error + ". It is tried again at the next run.");
  } else {
    state = el("p", { id: "personal-data-state" },
      number(pd.tracked) + (pd.tracked === 1 ? " account kept. " : " accounts kept. ") +
      (pd.reportedAt ? "Last reported " + dateTime(pd.reportedAt) + " (" + number(pd.reported) + " accounts). " : "Not reported yet. ") +
      (pd.nextDueAt ? "Next report due " + dateTime(pd.nextDueAt) + ". " : "") +
      "Closed accounts erased so far: " + number(pd.erased) + ".");
  }
  return el("section", { class: "card settings", "aria-labelledby": "personal-data-h" },
    el("h2", { id: "personal-data-h" }, "Personal data"),
    el("p", { class: "subtle" }, "Seatlens keeps the names, e-mail addresses and account IDs of this site's people while a kept scan holds them, and tells Atlassian which accounts it keeps once every " +
      days + " days, as Atlassian asks of apps that store personal data. An account Atlassian reports closed is erased from every scan, review and setting; the evidence of past reviews still verifies. An updated one is read again."),
    state);
}

// freshness: how Seatlens hears of changes between full scans: Jira's
// user webhooks always; the org audit log, polled with the org key or
// pushed by the organisation's audit-log webhook where the plan has it.
async function freshness(root, status) {
  const hook = await api("audit-hook");
  const k = status.orgKey || {};
  const poll = hook.polling;
  const polling = !k.present
    ? el("p", { class: "subtle", id: "audit-polling" }, "Without an org key, group and product changes wait for the scheduled rescan; Jira's user webhooks still bring new and changed accounts at once.")
    : el("p", { class: poll && poll.error ? "error" : "subtle", id: "audit-polling" }, !poll ? "The organisation's audit log is read regularly with the org key; the first read is due."
      : poll.error ? "The last read of the audit log, " + dateTime(poll.polledAt) + ", failed: " + poll.error
        : "The audit log was last read " + dateTime(poll.polledAt) + ": " + poll.events + " events so far, naming " + poll.accounts + " accounts to rescan.");
  const shown = el("div", { id: "audit-hook-value" });
  const make = el("button", { class: "button", type: "button", onclick: async () => {
    if (hook.configured && !confirm("Make a new URL and header? The ones given before stop working.")) return;
    try {
      const made = await api("audit-hook", { method: "POST" });
      shown.replaceChildren(
        el("p", {}, "In Atlassian Administration, add an audit-log webhook with this URL and this header (Atlassian's guide: “Learn more about audit log webhooks”). The header's value is shown only now."),
        el("dl", { class: "hook" },
          el("dt", {}, "URL"), el("dd", { class: "mono small" }, made.url || made.path),
          el("dt", {}, "Header"), el("dd", { class: "mono small" }, made.header),
          el("dt", {}, "Value"), el("dd", { class: "mono small" }, made.value)));
      make.textContent = "Make a new URL";
      resize();
    } catch (err) {
      flag("No URL made", err.message, "error");
    }
  } }, hook.configured ? "Make a new URL" : "Make a webhook URL");
  return el("section", { class: "card settings", "aria-labelledby": "fresh-h" },
    el("h2", { id: "fresh-h" }, "Keeping the seats fresh"),
    polling,
    el("h3", {}, "Audit-log webhook"),
    el("p", { class: "subtle" }, "Organisations on an Enterprise plan or Atlassian Guard Premium can push their audit log to Seatlens, so a seat given through a group shows within seconds. It only ever tells Seatlens which accounts to read again."),
    hook.configured ? el("p", { id: "audit-hook-state" }, "A webhook URL was made " + dateTime(hook.createdAt) + (hook.url ? " (" + hook.url + ")" : "") + "; " +
      hook.received + " deliveries received" + (hook.lastAt ? ", the last " + dateTime(hook.lastAt) : "") + ".") : null,
    make, shown);
}

export { ApiError };
