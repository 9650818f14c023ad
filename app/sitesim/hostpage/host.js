// Host side of the simulated Jira page: answers the AP stand-in
// (all.js) running in the framed app page over postMessage.
(function () {
  "use strict";
  var frame = document.getElementById("app-frame");
  var appKey = frame.dataset.appKey;
  var moduleKey = frame.dataset.moduleKey;
  var appOrigin = frame.dataset.appOrigin;
  var user = frame.dataset.user;
  var tokenURL = frame.dataset.contextTokenUrl;
  var flags = document.getElementById("flags");
  var flagSeq = 0;
  var flagEls = {};

  document.getElementById("user-switcher").addEventListener("change", function (e) {
    var u = new URL(window.location.href);
    u.searchParams.set("user", e.target.value);
    window.location.assign(u.toString());
  });

  function reply(id, result, error) {
    frame.contentWindow.postMessage({ type: "ap-response", id: id, result: result, error: error }, appOrigin);
  }

  function showFlag(opts) {
    var id = "flag-" + (++flagSeq);
    var el = document.createElement("div");
    el.className = "flag " + (["success", "info", "warning", "error"].indexOf(opts.type) >= 0 ? opts.type : "info");
    var close = document.createElement("button");
    close.type = "button";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "\u00d7";
    close.addEventListener("click", function () { removeFlag(id); });
    var title = document.createElement("strong");
    title.textContent = String(opts.title || "");
    var body = document.createElement("div");
    body.textContent = String(opts.body || ""); // text only: the app cannot inject markup into the host
    el.appendChild(close);
    el.appendChild(title);
    el.appendChild(body);
    flags.appendChild(el);
    flagEls[id] = el;
    if (opts.close === "auto") { setTimeout(function () { removeFlag(id); }, 5000); }
    return id;
  }

  function removeFlag(id) {
    var el = flagEls[id];
    if (el) { el.remove(); delete flagEls[id]; }
  }

  function navigate(target, ctx) {
    ctx = ctx || {};
    if (String(target).toLowerCase() !== "addonmodule" || !ctx.moduleKey) {
      showFlag({ title: "Navigation not simulated", body: "AP.navigator.go(" + target + ") is not available on the simulated site.", type: "warning" });
      return false;
    }
    var u = new URL("/plugins/servlet/ac/" + encodeURIComponent(ctx.addonKey || appKey) + "/" + encodeURIComponent(ctx.moduleKey), window.location.href);
    u.searchParams.set("user", user);
    var custom = ctx.customData || {};
    Object.keys(custom).forEach(function (k) { u.searchParams.set("ac." + k, String(custom[k])); });
    window.location.assign(u.toString());
    return true;
  }

  window.addEventListener("message", function (e) {
    if (e.source !== frame.contentWindow || e.origin !== appOrigin) { return; }
    var m = e.data;
    if (!m || m.type !== "ap-request") { return; }
    var args = m.args || [];
    switch (m.method) {
      case "getToken":
        fetch(tokenURL + "?app=" + encodeURIComponent(appKey) + "&user=" + encodeURIComponent(user), { credentials: "same-origin" })
          .then(function (r) { return r.json().then(function (b) { if (!r.ok) { throw new Error(b.error || ("HTTP " + r.status)); } return b.token; }); })
          .then(function (t) { reply(m.id, t); }, function (err) { reply(m.id, null, String(err.message || err)); });
        return;
      case "resize":
        if (args[1] != null && args[1] !== "") { frame.style.height = /^\d+$/.test(String(args[1])) ? args[1] + "px" : String(args[1]); }
        if (args[0] != null && args[0] !== "") { frame.style.width = /^\d+$/.test(String(args[0])) ? args[0] + "px" : String(args[0]); }
        reply(m.id, true);
        return;
      case "sizeToParent":
        frame.style.height = Math.max(200, window.innerHeight - frame.getBoundingClientRect().top - 16) + "px";
        reply(m.id, true);
        return;
      case "flag.create":
        reply(m.id, showFlag(args[0] || {}));
        return;
      case "flag.close":
        removeFlag(args[0]);
        reply(m.id, true);
        return;
      case "navigator.go":
        reply(m.id, navigate(args[0], args[1]));
        return;
      case "getCurrentUser":
        reply(m.id, { atlassianAccountId: user });
        return;
      case "history.getState":
        // The app's state rides in the host page's hash after "#!", as
        // Jira keeps a Connect page's AP.history state.
        reply(m.id, decodeURIComponent(window.location.hash.replace(/^#!?/, "")));
        return;
      case "history.pushState":
        if (typeof args[0] === "string" && args[0].length < 2000) {
          window.history.pushState(null, "", "#!" + encodeURIComponent(args[0]));
        }
        reply(m.id, true);
        return;
      default:
        reply(m.id, null, "AP method " + m.method + " is not simulated");
    }
  });
})();
