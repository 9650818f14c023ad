// Minimal atlassian-connect-express (ACE) app used as a performance baseline
// for the Seatlens Go server. It serves ONE page, GET /admin, behind ACE's
// standard page authentication (addon.authenticate(): HS256 JWT checked
// against the tenant's sharedSecret, exp checked, qsh enforced), and answers
// with a small static HTML string, like the Go handler that returns its
// embedded ~700-byte panel page.
//
// Benchmark-only choices (see README.md):
// - NODE_ENV defaults to "production" (ACE: no descriptor watch/validation,
//   no auto-registration, plain logger; Express: production mode).
// - The store is an in-memory adapter registered with ace.store.register(),
//   holding values as JSON strings like ACE's Redis adapter does, so each
//   authenticated request pays one async get + JSON.parse of the clientInfo.
// - The store is pre-seeded with one tenant, so no /installed call is needed.
// - No request logger (ACE's template adds morgan; we do not).
"use strict";

if (!process.env.NODE_ENV) {
  process.env.NODE_ENV = "production";
}
// ACE reads atlassian-connect.json (and an optional config.json) from the cwd.
process.chdir(__dirname);

const http = require("http");
const express = require("express");
const ace = require("atlassian-connect-express");
const bench = require("./bench");

const PORT = Number(process.env.PORT || bench.DEFAULT_PORT);
const HOST = process.env.HOST || "127.0.0.1";
const LOCAL_BASE_URL = `http://${HOST}:${PORT}`;

// Same markup as the Go server's embedded static/panel/index.html (~650 bytes).
const PAGE = `<!doctype html>
<html lang="en" data-color-mode="light">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Seatlens</title>
<link rel="stylesheet" href="static/panel.css">
<script src="https://connect-cdn.atl-paas.net/all.js" data-options="sizeToParent:true;hideFooter:true"></script>
<script src="static/panel.js" defer></script>
</head>
<body>
<main class="ac-content">
  <h1>Seatlens</h1>
  <p class="lede">Why is each seat still billable, and what would free it safely?</p>
  <section aria-live="polite" id="status"><p>Connecting to your site…</p></section>
</main>
</body>
</html>
`;

// ---------------------------------------------------------------------------
// In-memory store adapter (no native modules). Interface mirrors ACE's own
// adapters (lib/store/redis.js): get/set/del/getAllClientInfos plus the
// installation/Forge helpers ACE may call.
// ---------------------------------------------------------------------------
class MemoryAdapter {
  constructor() {
    this.kv = new Map(); // "<clientKey>:<key>" -> JSON string
  }

  static k(key, clientKey) {
    return clientKey ? `${clientKey}:${key}` : key;
  }

  async get(key, clientKey) {
    const raw = this.kv.get(MemoryAdapter.k(key, clientKey));
    return raw === undefined ? null : JSON.parse(raw);
  }

  async set(key, val, clientKey) {
    this.kv.set(
      MemoryAdapter.k(key, clientKey),
      typeof val === "string" ? val : JSON.stringify(val)
    );
    return this.get(key, clientKey);
  }

  async del(key, clientKey) {
    if (clientKey === undefined) {
      // del(clientKey): drop everything of that tenant
      const prefix = `${key}:`;
      for (const k of [...this.kv.keys()]) {
        if (k.startsWith(prefix)) this.kv.delete(k);
      }
      return;
    }
    this.kv.delete(MemoryAdapter.k(key, clientKey));
  }

  async getAllClientInfos() {
    const out = [];
    for (const [k, v] of this.kv) {
      if (k.endsWith(":clientInfo")) out.push(JSON.parse(v));
    }
    return out;
  }

  async saveInstallation(val, clientKey) {
    const saved = await this.set("clientInfo", val, clientKey);
    if (saved && saved.installationId) {
      await this.associateInstallations(saved.installationId, clientKey);
    }
    return saved;
  }

  isMemoryStore() {
    return true;
  }

  async associateInstallations(installationId, clientKey) {
    this.kv.set(`installation:${installationId}`, JSON.stringify(clientKey));
  }

  async deleteAssociation(installationId) {
    this.kv.delete(`installation:${installationId}`);
  }

  async getClientSettingsForForgeInstallation(installationId) {
    const clientKey = await this.get(`installation:${installationId}`);
    return clientKey ? this.get("clientInfo", clientKey) : null;
  }

  forForgeInstallation(installationId) {
    const fk = key => `forge:${installationId}:${key}`;
    return {
      get: async key => this.get(fk(key)),
      set: async (key, val) => this.set(fk(key), val),
      del: async key => this.del(fk(key), null)
    };
  }
}

ace.store.register("bench-memory", () => new MemoryAdapter());

// ---------------------------------------------------------------------------
// Express + ACE, as in ACE's app template, minus views, static files,
// compression, morgan and the dev-only registration.
// ---------------------------------------------------------------------------
const app = express();
app.set("port", PORT);

const config = {
  port: PORT,
  localBaseUrl: LOCAL_BASE_URL,
  store: { adapter: "bench-memory" },
  product: "jira",
  // ACE only consults the host whitelist in the /installed route (and in
  // production it defaults to "*.atlassian.net", which the seeded tenant
  // matches anyway). The page-auth path never reads it, so nothing needs
  // to be disabled for this benchmark; we only keep the default explicit.
  whitelist: "*.atlassian.net",
  watch: false,
  validateDescriptor: false
};

const addon = ace(app, {
  config: { development: config, production: config }
});

// ACE's extractJwtFromRequest reads req.body, so the body parsers from the
// ACE template are required even for GET.
app.use(express.json());
app.use(express.urlencoded({ extended: false }));
app.use(addon.middleware());

app.get("/admin", addon.authenticate(), (req, res) => {
  res.set("Cache-Control", "no-store");
  res.type("html").send(PAGE);
});

// Control route for diagnosis only (not used by run.sh): the same page and
// middleware stack, without addon.authenticate().
app.get("/plain", (req, res) => {
  res.set("Cache-Control", "no-store");
  res.type("html").send(PAGE);
});

async function seed() {
  const clientInfo = {
    key: addon.key,
    clientKey: bench.CLIENT_KEY,
    sharedSecret: bench.SHARED_SECRET,
    serverVersion: "100000",
    pluginsVersion: "1001.0.0",
    baseUrl: bench.HOST_BASE_URL,
    displayUrl: bench.HOST_BASE_URL,
    productType: "jira",
    description: "Atlassian JIRA at https://bench.atlassian.net",
    eventType: "installed"
  };
  if (addon.key !== bench.APP_KEY) {
    throw new Error(
      `descriptor key ${addon.key} != bench.APP_KEY ${bench.APP_KEY}`
    );
  }
  await addon.settings.saveInstallation(clientInfo, bench.CLIENT_KEY);
}

seed()
  .then(() => {
    const server = http.createServer(app);
    server.listen(PORT, HOST, () => {
      console.log(
        `ACE ${require("atlassian-connect-express/package.json").version} ` +
          `(${app.get("env")}) listening on ${LOCAL_BASE_URL}`
      );
    });
    const stop = () => server.close(() => process.exit(0));
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  })
  .catch(err => {
    console.error("startup failed:", err);
    process.exit(1);
  });
