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

  if (!window.AP || !AP.context) {
    fail("Open this page from Jira's administration menu: it needs the Atlassian host to sign requests.");
    return;
  }
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
})();
