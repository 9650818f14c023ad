// AP stand-in of the simulated Jira site, for offline demos and tests. The
// real script is https://connect-cdn.atl-paas.net/all.js; this one speaks
// a private postMessage protocol to the simulated host page only.
(function () {
  "use strict";
  if (window.AP && window.AP.__seatlensSim) { return; }
  var params = new URLSearchParams(window.location.search);
  var hostOrigin = "";
  try { hostOrigin = new URL(params.get("xdm_e") || "").origin; } catch (e) { hostOrigin = ""; }
  var seq = 0;
  var pending = {};

  function call(method, args) {
    return new Promise(function (resolve, reject) {
      if (!hostOrigin || window.parent === window) {
        reject(new Error("AP: not framed by a host page (no xdm_e)"));
        return;
      }
      var id = "ap-" + (++seq) + "-" + Math.random().toString(36).slice(2);
      pending[id] = { resolve: resolve, reject: reject };
      window.parent.postMessage({ type: "ap-request", id: id, method: method, args: args || [] }, hostOrigin);
    });
  }

  window.addEventListener("message", function (e) {
    if (e.origin !== hostOrigin || e.source !== window.parent) { return; }
    var m = e.data;
    if (!m || m.type !== "ap-response" || !pending[m.id]) { return; }
    var p = pending[m.id];
    delete pending[m.id];
    if (m.error) { p.reject(new Error(m.error)); } else { p.resolve(m.result); }
  });

  function withCallback(promise, cb) {
    if (typeof cb === "function") {
      promise.then(function (v) { cb(v); }, function (err) { cb(null, err); });
    }
    return promise;
  }

  var AP = {
    __seatlensSim: true,
    context: {
      getToken: function (cb) { return withCallback(call("getToken"), cb); },
      getContext: function (cb) { return withCallback(Promise.resolve({}), cb); }
    },
    resize: function (width, height) {
      if (height == null) { height = document.documentElement.scrollHeight; }
      call("resize", [width == null ? "" : String(width), String(height)]).catch(function () {});
    },
    sizeToParent: function () { call("sizeToParent").catch(function () {}); },
    hideFooter: function () {},
    navigator: {
      go: function (target, context) { call("navigator.go", [target, context || {}]).catch(function () {}); },
      reload: function () { window.location.reload(); }
    },
    flag: {
      create: function (opts) {
        var idp = call("flag.create", [{ title: opts && opts.title, body: opts && opts.body, type: opts && opts.type, close: opts && opts.close }]);
        return {
          close: function () { idp.then(function (id) { return call("flag.close", [id]); }).catch(function () {}); }
        };
      }
    },
    user: {
      getCurrentUser: function (cb) { return withCallback(call("getCurrentUser"), cb); }
    },
    history: {
      getState: function (type, cb) {
        if (typeof type === "function") { cb = type; }
        return withCallback(call("history.getState"), cb);
      },
      pushState: function (state) { call("history.pushState", [String(state)]).catch(function () {}); }
    },
    theming: { initializeTheming: function () {} }
  };
  window.AP = AP;

  // data-options="sizeToParent:true;…" on the script tag, as with the
  // real all.js; otherwise follow the page's height.
  var script = document.currentScript;
  var options = (script && script.getAttribute("data-options")) || "";
  var sizeToParent = /(^|;)\s*sizeToParent\s*:\s*true/.test(options);
  function start() {
    if (sizeToParent) { AP.sizeToParent(); return; }
    var last = 0;
    var fit = function () {
      var h = document.documentElement.scrollHeight;
      if (h !== last) { last = h; AP.resize("100%", h); }
    };
    fit();
    if (window.ResizeObserver) { new ResizeObserver(fit).observe(document.body); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
