// The panel's first page: proves the context-token round trip (AP → /api).
// Every value from the server is inserted as text, never as HTML.
(function () {
  "use strict";
  var status = document.getElementById("status");

  function show(rows) {
    var dl = document.createElement("dl");
    rows.forEach(function (r) {
      var dt = document.createElement("dt");
      dt.textContent = r[0];
      var dd = document.createElement("dd");
      dd.textContent = r[1];
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
    status.replaceChildren(dl);
    if (window.AP && AP.resize) { AP.resize(); }
  }

  function fail(msg) {
    var p = document.createElement("p");
    p.className = "error";
    p.textContent = msg;
    status.replaceChildren(p);
  }

  // Outside Jira (the simulated site of `seatlens demo`) the CDN's all.js
  // cannot talk to the host; the host's own stand-in is loaded instead, and
  // only from a loopback host, never from an arbitrary xdm_e.
  function standIn() {
    var host = new URLSearchParams(location.search).get("xdm_e") || "";
    var u;
    try { u = new URL(host); } catch (e) { return ""; }
    var loopback = u.protocol === "http:" && /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(u.hostname);
    return loopback ? u.origin + "/atlassian-connect/all.js" : "";
  }

  function start() {
    if (!window.AP || !AP.context) {
      fail("Open this page from Jira's administration menu: it needs the Atlassian host to sign requests.");
      return;
    }
    load();
  }

  if (!window.AP || !AP.context) {
    var src = standIn();
    if (src) {
      var s = document.createElement("script");
      s.src = src;
      s.onload = start;
      s.onerror = start;
      document.head.appendChild(s);
      return;
    }
  }
  start();

  function load() {
  AP.context.getToken(function (token) {
    fetch("api/tenant", { headers: { "Authorization": "JWT " + token, "Accept": "application/json" } })
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) { throw new Error(body.message || ("HTTP " + r.status)); }
          return body;
        });
      })
      .then(function (t) {
        show([["Site", t.baseUrl], ["Product", t.productType], ["Installed", t.installedAt], ["You", t.accountId || "—"]]);
      })
      .catch(function (e) { fail("Seatlens could not load: " + e.message); });
  });
  }
})();
