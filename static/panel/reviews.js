// Reviews: the list, and one review with what its state allows the
// current admin to do: submit, approve or reject (never one's own), run,
// undo, and download the evidence. The server enforces every rule; the
// page only explains them.
import { api, ApiError } from "./api.js";
import { el, lozenge, dateTime, number, skeleton, emptyState, flag, spinner } from "./ui.js";
import { resize } from "./panel.js";

const STATES = {
  draft: ["Draft", "default"], submitted: ["Waiting for approval", "inprogress"], approved: ["Approved", "success"],
  rejected: ["Rejected", "removed"], executing: ["Running", "inprogress"], undoing: ["Undoing", "inprogress"],
  done: ["Done", "success"], partial: ["Partly done", "moved"],
};
const OUTCOMES = {
  pending: ["Pending", "default"], removed: ["Removed", "success"], skipped: ["Skipped", "moved"], failed: ["Failed", "removed"],
  compensated: ["Put back", "moved"], undoing: ["Undoing", "inprogress"], undone: ["Undone", "new"], "undo-failed": ["Undo failed", "removed"],
};

function stateLozenge(s) {
  const [label, look] = STATES[s] || [s, "default"];
  return lozenge(label, look);
}

function me() {
  return new Promise((resolve) => {
    if (!window.AP || !AP.user || !AP.user.getCurrentUser) {
      resolve("");
      return;
    }
    AP.user.getCurrentUser((u) => resolve((u && u.atlassianAccountId) || ""));
  });
}

export async function reviewsView(root) {
  root.replaceChildren(skeleton(5));
  const { reviews } = await api("reviews");
  if (reviews.length === 0) {
    root.replaceChildren(emptyState("No reviews yet",
      "Select removable seats on the Seats page and choose “Create review”, or review every seat a filter shows.",
      el("a", { class: "button button-primary", href: "#/seats?verdict=removable" }, "Show removable seats")));
    return;
  }
  const rows = reviews.map((r) => el("tr", {},
    el("th", { scope: "row" }, el("a", { href: "#/reviews/" + encodeURIComponent(r.id) }, r.title)),
    el("td", {}, stateLozenge(r.state)),
    el("td", {}, dateTime(r.createdAt)),
    el("td", { class: "subtle" }, r.approvedBy ? "approved" : r.submittedBy ? "submitted" : "draft")));
  root.replaceChildren(el("table", { class: "table" },
    el("caption", { class: "visually-hidden" }, "Reviews"),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Review"), el("th", { scope: "col" }, "State"),
      el("th", { scope: "col" }, "Created"), el("th", { scope: "col" }, "Stage"))),
    el("tbody", {}, rows)));
}

let poll = null;
let names = null;

async function productNames() {
  if (!names) {
    names = {};
    try {
      const latest = await api("scans/latest");
      for (const p of (latest.summary && latest.summary.products) || []) names[p.key] = p.name;
    } catch (e) {
      // keys stand in for names
    }
  }
}

const name = (key) => (names && names[key]) || key;

export async function reviewView(root, id) {
  if (poll) clearTimeout(poll);
  root.replaceChildren(skeleton(6));
  const [r, who] = await Promise.all([api("reviews/" + encodeURIComponent(id)), me(), productNames()]);
  const act = async (path, body, done) => {
    try {
      await api("reviews/" + encodeURIComponent(id) + "/" + path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}) });
      if (done) flag(done, "", "success");
    } catch (e) {
      flag("That did not work", e.message, "error");
    }
    reviewView(root, id).then(resize);
  };
  const actions = [];
  const why = (text) => el("span", { class: "subtle small" }, text);
  switch (r.state) {
    case "draft":
      actions.push(el("button", { class: "button button-primary", type: "button", onclick: () => act("submit", {}, "Submitted for approval") }, "Submit for approval"));
      break;
    case "submitted":
      if (who && who === r.submittedBy) {
        actions.push(el("button", { class: "button", type: "button", disabled: true, "aria-describedby": "why-approve" }, "Approve"),
          el("span", { id: "why-approve", class: "subtle small" }, "You submitted this review: another admin approves it."));
      } else {
        const reason = el("input", { type: "text", id: "reject-reason", "aria-label": "Reason for rejecting", placeholder: "Reason, to reject" });
        actions.push(el("button", { class: "button button-primary", type: "button", onclick: () => act("approve", {}, "Approved") }, "Approve"),
          reason, el("button", { class: "button", type: "button", onclick: () => act("reject", { reason: reason.value }, "Rejected") }, "Reject"));
      }
      break;
    case "approved":
      actions.push(el("button", { class: "button button-primary", type: "button", onclick: () => act("execute", {}, "Running") }, "Remove the memberships"),
        why("Seatlens checks each seat again, removes its plan's memberships, verifies, and can undo."));
      break;
    case "done":
    case "partial":
      actions.push(el("button", { class: "button", type: "button", onclick: () => act("undo", {}, "Undoing") }, "Undo all"));
      break;
  }
  const running = r.state === "executing" || r.state === "undoing";
  const items = r.items.map((it) => {
    const [label, look] = OUTCOMES[it.outcome] || [it.outcome, "default"];
    const undo = (r.state === "done" || r.state === "partial") && it.outcome === "removed"
      ? el("button", { class: "button button-subtle", type: "button", "aria-label": "Undo " + (it.displayName || it.accountId) + ", " + name(it.product),
        onclick: () => act("undo", { items: [{ accountId: it.accountId, product: it.product }] }, "Undoing") }, "Undo")
      : null;
    return el("tr", {},
      el("th", { scope: "row" }, el("a", { href: "#/users/" + encodeURIComponent(it.accountId) }, it.displayName || it.accountId)),
      el("td", {}, name(it.product)),
      el("td", {}, it.verdict),
      el("td", {}, lozenge(label, look)),
      el("td", { class: "small" }, it.reason || (it.plan || []).map((p) => p.groupName).join(", ")),
      el("td", {}, undo));
  });
  root.replaceChildren(...[
    el("a", { class: "back", href: "#/reviews" }, "← All reviews"),
    el("header", { class: "user-header" }, el("h2", { class: "user-name" }, r.title), el("div", {}, stateLozenge(r.state),
      el("span", { class: "subtle" }, " created " + dateTime(r.createdAt) + (r.submittedBy ? " · submitted" : "") + (r.approvedBy ? " · approved" : "") +
        (r.rejectReason ? " · rejected: " + r.rejectReason : "")))),
    running ? el("div", { class: "progress-label" }, spinner("Running"), " " + number(r.progress ? r.progress.done : 0) + " of " + number(r.items.length) + " seats done") : null,
    actions.length ? el("div", { class: "review-actions" }, actions) : null,
    el("table", { class: "table" },
      el("caption", { class: "visually-hidden" }, "Seats of the review"),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Account"), el("th", { scope: "col" }, "Product"), el("th", { scope: "col" }, "Verdict"),
        el("th", { scope: "col" }, "Outcome"), el("th", { scope: "col" }, "Plan or reason"), el("th", { scope: "col" }, ""))),
      el("tbody", {}, items)),
    el("div", { class: "downloads" }, el("span", { class: "subtle" }, "Evidence: "),
      ["json", "csv", "html"].map((f) => el("button", { class: "button button-subtle", type: "button", onclick: () => download(id, "evidence." + f) }, "evidence." + f)),
      el("button", { class: "button button-subtle", type: "button", onclick: () => download(id, "idp-tasks.csv") }, "IdP tasks (CSV)")),
  ].filter(Boolean));
  if (running) poll = setTimeout(() => reviewView(root, id).then(resize), 1000);
}

// download fetches a file of the review with the context token and saves it.
async function download(id, name) {
  try {
    const t = await new Promise((resolve, reject) => AP.context.getToken((tok, err) => (tok ? resolve(tok) : reject(err))));
    const r = await fetch("api/v1/reviews/" + encodeURIComponent(id) + "/" + name, { headers: { Authorization: "JWT " + t } });
    if (!r.ok) throw new ApiError(r.status, "download", "HTTP " + r.status);
    const url = URL.createObjectURL(await r.blob());
    const a = el("a", { href: url, download: "review-" + id + "-" + name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (e) {
    flag("The download failed", e.message, "error");
  }
}
