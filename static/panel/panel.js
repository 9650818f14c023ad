// The panel: loads the host's AP script, then routes the hash to a view.
// Views keep their state in the hash (#/seats?verdict=removable…), so a
// view can be bookmarked or sent to another admin.
import { flag } from "./ui.js";
import { overview } from "./overview.js";
import { seatsView } from "./seats.js";
import { userView } from "./user.js";
import { reviewsView, reviewView } from "./reviews.js";
import { activityView } from "./activity.js";
import { settingsView } from "./settings.js";

const CDN = "https://connect-cdn.atl-paas.net/all.js";

// The AP script: Atlassian's from its CDN inside Jira; the simulated
// site's stand-in when the host (xdm_e) is a loopback URL, as in
// `seatlens demo`, where the CDN's script cannot reach a host. Never a
// script from an arbitrary xdm_e.
function apScript() {
  const host = new URLSearchParams(location.search).get("xdm_e") || "";
  try {
    const u = new URL(host);
    if (u.protocol === "http:" && /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(u.hostname)) {
      return u.origin + "/atlassian-connect/all.js";
    }
  } catch (e) {
    // not a URL: Atlassian's script, which will say what is wrong
  }
  return CDN;
}

function loadAP() {
  return new Promise((resolve) => {
    if (window.AP) {
      resolve();
      return;
    }
    const s = document.createElement("script");
    s.src = apScript();
    s.setAttribute("data-options", "sizeToParent:true;hideFooter:true");
    s.onload = () => resolve();
    s.onerror = () => resolve();
    document.head.append(s);
  });
}

const view = () => document.getElementById("view");

export function resize() {
  if (window.AP && AP.resize) AP.resize();
}

// route renders the view the hash names.
async function route() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, qs] = hash.split("?");
  const params = new URLSearchParams(qs || "");
  const tab = path.startsWith("/settings") ? "settings" : path.startsWith("/activity") ? "activity" : path.startsWith("/reviews") ? "reviews" : path.startsWith("/seats") || path.startsWith("/users/") ? "seats" : "overview";
  for (const a of document.querySelectorAll(".tab")) {
    a.classList.toggle("tab-selected", a.dataset.tab === tab);
    if (a.dataset.tab === tab) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const root = view();
  try {
    if (path.startsWith("/settings")) {
      await settingsView(root);
    } else if (path.startsWith("/activity")) {
      await activityView(root, params);
    } else if (path.startsWith("/reviews/")) {
      await reviewView(root, decodeURIComponent(path.slice("/reviews/".length)));
    } else if (path.startsWith("/reviews")) {
      await reviewsView(root);
    } else if (path.startsWith("/users/")) {
      await userView(root, decodeURIComponent(path.slice("/users/".length)), params);
    } else if (path.startsWith("/seats")) {
      await seatsView(root, params);
    } else {
      await overview(root);
    }
  } catch (e) {
    flag("Seatlens could not load this view", e.message || String(e), "error");
  }
  resize();
}

// navigate changes the view's state; it is what links and filters call.
export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

// The view's state is kept in the host's URL too (AP.history), so the
// address an admin copies from the browser opens the same view for
// another admin.
function hostState() {
  return new Promise((resolve) => {
    if (!window.AP || !AP.history || !AP.history.getState) {
      resolve("");
      return;
    }
    let done = false;
    const give = (v) => {
      if (!done) {
        done = true;
        resolve(typeof v === "string" ? v : "");
      }
    };
    try {
      const r = AP.history.getState("hash", give);
      if (typeof r === "string") give(r);
      else if (r && typeof r.then === "function") r.then(give, () => give(""));
    } catch (e) {
      give("");
    }
    setTimeout(() => give(""), 1000);
  });
}

function pushHostState() {
  if (window.AP && AP.history && AP.history.pushState) AP.history.pushState(location.hash.replace(/^#/, ""));
}

loadAP().then(async () => {
  const state = await hostState();
  if (!location.hash && new URLSearchParams(location.search).get("view") === "settings") history.replaceState(null, "", "#/settings");
  if (!location.hash && /^\/(seats|users\/|reviews|activity|settings)/.test(state)) history.replaceState(null, "", "#" + state);
  window.addEventListener("hashchange", () => {
    pushHostState();
    route();
  });
  route();
});
