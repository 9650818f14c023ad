// "Why billable": one account's seats, each with every path user → group
// → product drawn, its badges, last activity, the verdict and its reasons
// in words, and the plan that would free it with what else it takes away.
import { api } from "./api.js";
import { el, lozenge, verdictLozenge, date, skeleton, emptyState, CLASSES } from "./ui.js";

let productNames = null;

async function names() {
  if (!productNames) {
    productNames = {};
    try {
      const latest = await api("scans/latest");
      for (const p of (latest.summary && latest.summary.products) || []) productNames[p.key] = p.name;
    } catch (e) {
      // names fall back to keys
    }
  }
  return productNames;
}

export async function userView(root, accountId, params) {
  root.replaceChildren(skeleton(6));
  const back = params.get("back") || "#/seats";
  const backLink = el("a", { class: "back", href: back.startsWith("#/") ? back : "#/seats" }, "← Back to seats");
  const pn = await names();
  let u;
  try {
    u = await api("users/" + encodeURIComponent(accountId));
  } catch (e) {
    if (e.code === "not-found" || e.code === "no-scan") {
      root.replaceChildren(backLink, emptyState("No such account", "The latest scan has no account " + accountId + "."));
      return;
    }
    throw e;
  }
  const header = el("header", { class: "user-header" },
    el("h2", { class: "user-name" }, u.displayName || u.accountId),
    el("div", { class: "subtle" }, [u.email, CLASSES[u.class] || u.class, u.status, "account " + u.accountId].filter(Boolean).join(" · ")),
    u.platformRoles && u.platformRoles.length ? el("div", {}, u.platformRoles.map((r) => lozenge(r, "inprogress"))) : null);
  const seats = (u.seats || []).map((s) => seatCard(u, s, pn));
  root.replaceChildren(backLink, header, seats.length ? el("div", { class: "seat-cards" }, seats) : emptyState("No seats", "This account holds no product role."));
  const h = root.querySelector(".user-name");
  if (h) {
    h.tabIndex = -1;
    h.focus();
  }
}

function seatCard(u, s, pn) {
  const product = pn[s.product] || s.product;
  return el("section", { class: "card seat-card", "aria-label": product },
    el("div", { class: "seat-head" },
      el("h3", {}, product), verdictLozenge(s),
      el("span", { class: "subtle" }, (s.billable ? "Billable" : "Not billable") + " · " + s.role + " role · last active " + date(s.lastActive))),
    paths(u, s, product),
    s.reasons && s.reasons.length ? el("div", {}, el("h4", {}, "Why"), el("ul", { class: "reason-list" }, s.reasons.map((r) =>
      el("li", {}, lozenge(r.category, { removable: "success", review: "moved", hold: "inprogress", "not-billable": "default" }[r.category] || "default"), " ", r.message)))) : null,
    s.warnings && s.warnings.length ? el("div", {}, el("h4", {}, "Before you act"), el("ul", { class: "warning-list" }, s.warnings.map((w) => el("li", {}, w.message)))) : null,
    plan(s, pn));
}

// paths draws each way the user holds the product: user → group → product,
// or a direct or inferred role.
function paths(u, s, product) {
  const list = el("ol", { class: "paths", "aria-label": "How " + (u.displayName || u.accountId) + " holds " + product });
  for (const p of s.paths || []) {
    const badges = [];
    if (p.via === "group") {
      if (p.default) badges.push(lozenge("default", "moved"));
      if (p.role === "admin") badges.push(lozenge("admin", "inprogress"));
      if (p.synced === true) badges.push(lozenge("synced", "removed"));
      else if (p.synced === null || p.synced === undefined) badges.push(lozenge("sync unknown", "default"));
    } else {
      badges.push(lozenge(p.via, p.via === "direct" ? "new" : "default"));
      if (p.role === "admin") badges.push(lozenge("admin", "inprogress"));
    }
    const middle = p.via === "group"
      ? el("span", { class: "node node-group" }, el("span", { class: "visually-hidden" }, "group "), p.groupName || p.groupId)
      : el("span", { class: "node node-role" }, p.via === "direct" ? "direct role" : "inferred role");
    list.append(el("li", { class: "path" },
      el("span", { class: "node node-user" }, u.displayName || u.accountId),
      el("span", { class: "arrow", "aria-hidden": "true" }, "→"),
      middle, badges.length ? el("span", { class: "badges" }, badges) : null,
      el("span", { class: "arrow", "aria-hidden": "true" }, "→"),
      el("span", { class: "node node-product" }, product + " (" + p.role + ")")));
  }
  return el("div", {}, el("h4", {}, "Paths"), list);
}

function plan(s, pn) {
  if (!s.plan || s.plan.length === 0) {
    if (!s.billable) return null;
    return el("div", {}, el("h4", {}, "Plan"), el("p", { class: "subtle" }, "No plan Seatlens can carry out: the seat comes from a direct or inferred role, or a group synced from the identity provider."));
  }
  return el("div", {}, el("h4", {}, "Plan"),
    el("p", {}, "To free this seat, remove the account from:"),
    el("ul", {}, s.plan.map((g) => el("li", {}, el("strong", {}, g.groupName || g.groupId), g.default ? [" ", lozenge("default", "moved")] : null,
      g.alsoFrees && g.alsoFrees.length ? el("span", { class: "subtle" }, " · also takes away " + g.alsoFrees.map((k) => pn[k] || k).join(", ")) : null))),
    s.collateral && s.collateral.length ? el("p", { class: "collateral" }, "This also removes: " + s.collateral.map((k) => pn[k] || k).join(", ") + ".") : null);
}
