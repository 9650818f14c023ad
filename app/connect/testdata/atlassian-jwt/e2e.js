#!/usr/bin/env node
// End-to-end check of the real Seatlens server binary, driven by Atlassian's
// own npm package atlassian-jwt (pinned to 2.0.3), "as a new user would":
// build the binary, start it against a local install-keys server, install a
// tenant with a signed (RS256) install, load the admin page, call the API,
// deliver a webhook, try a list of forgeries, rotate the secret, uninstall.
//
//   npm ci && node e2e.js        (or: npm run e2e)
//
// Needs Go (to build ./cmd/seatlens) and Node 20. CI does not run it.
// Exit status 0 only if every check passed.
'use strict';

const assert = require('assert');
const childProcess = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');
const jwt = require('atlassian-jwt');

const EXPECTED_VERSION = '2.0.3';
const installedVersion = require('atlassian-jwt/package.json').version;
if (installedVersion !== EXPECTED_VERSION || jwt.version !== EXPECTED_VERSION) {
  throw new Error(`expected atlassian-jwt@${EXPECTED_VERSION}, got ${installedVersion} (exports.version=${jwt.version})`);
}

const VERBOSE = process.env.E2E_VERBOSE === '1'; // also print each answer under its ok line
const REPO = path.resolve(__dirname, '..', '..', '..', '..');
const APP_KEY = 'io.seatlens.app';
const SITE = 'https://example.atlassian.net';
const SUB = '557058:abc';
const testkey = JSON.parse(fs.readFileSync(path.join(__dirname, 'testkey.json'), 'utf8'));

// A second RSA key pair, only in memory: the "other key" forgeries use it.
const other = crypto.generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const OTHER_KID = 'seatlens-e2e-other-key';

// Everything secret the script sends; none of it may appear in the log.
const sentTokens = new Set();
const sentSecrets = new Set();

// ---- small helpers ---------------------------------------------------------

const now = () => Math.floor(Date.now() / 1000);
const randomSecret = () => crypto.randomBytes(30).toString('base64url'); // 40 characters
const b64url = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');

function track(token) {
  sentTokens.add(token);
  return token;
}

function secret(s) {
  sentSecrets.add(s);
  return s;
}

function qshOf(method, url) {
  return jwt.createQueryStringHash(jwt.fromMethodAndUrl(method, url), false, state.baseUrl);
}

function hs256(claims, key) {
  return track(jwt.encodeSymmetric(claims, key, jwt.SymmetricAlgorithm.HS256));
}

function rs256(claims, privateKeyPem, kid) {
  return track(jwt.encodeAsymmetric(claims, privateKeyPem, jwt.AsymmetricAlgorithm.RS256, { kid }));
}

// Claims Atlassian puts in a tenant request token (iframe, webhook, enabled).
function requestClaims(method, url, extra = {}) {
  const t = now();
  return { iss: state.clientKey, iat: t, exp: t + 180, qsh: qshOf(method, url), sub: SUB, context: {}, ...extra };
}

// Claims of a signed install/uninstall token.
function installClaims(url, extra = {}) {
  const t = now();
  return { iss: state.clientKey, aud: [state.baseUrl], qsh: qshOf('POST', url), iat: t, exp: t + 180, ...extra };
}

function installBody(sharedSecret) {
  return {
    key: APP_KEY,
    clientKey: state.clientKey,
    sharedSecret,
    serverVersion: '100',
    pluginsVersion: '1001.0.0',
    baseUrl: SITE,
    displayUrl: SITE,
    productType: 'jira',
    description: 'Atlassian JIRA',
    eventType: 'installed',
    installationId: state.installationId,
  };
}

function lifecycleBody(eventType) {
  const b = installBody(undefined);
  delete b.sharedSecret;
  b.eventType = eventType;
  return b;
}

const noKeepAlive = new http.Agent({ keepAlive: false });

// request sends the request target exactly as given (no URL re-encoding,
// unlike fetch), so the raw characters in the query reach the server as is.
function request(port, method, target, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const h = { ...headers };
    if (data) {
      h['Content-Type'] = h['Content-Type'] || 'application/json';
      h['Content-Length'] = String(data.length);
    }
    const req = http.request({ host: '127.0.0.1', port, method, path: target, headers: h, agent: noKeepAlive }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch (_) {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.setTimeout(15000, () => req.destroy(new Error(`${method} ${target}: timed out`)));
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

const app = (method, target, opts) => request(state.port, method, target, opts);
const auth = (token) => ({ Authorization: `JWT ${token}` });

// ---- checks ----------------------------------------------------------------

let passed = 0;
let failed = 0;

function clip(s, n = 300) {
  s = String(s).replace(/\s+/g, ' ').trim();
  return s.length > n ? s.slice(0, n) + '…' : s;
}

// The access log line(s) of a request, found by its X-Request-Id.
function logLinesFor(res) {
  const id = res && res.headers && res.headers['x-request-id'];
  if (!id || !state.logPath) return [];
  return fs.readFileSync(state.logPath, 'utf8').split('\n').filter((l) => l.includes(id));
}

async function check(name, fn) {
  let res;
  try {
    res = await fn();
    passed++;
    console.log(`ok   ${name}`);
    if (VERBOSE && res && res.status) console.log(`     ${res.status} ${clip(res.text, 200)}`);
  } catch (err) {
    failed++;
    res = err.res || res;
    if (err.res) {
      console.log(`FAIL ${name}: got ${err.res.status} ${clip(err.res.text) || '(empty body)'}${err.why ? ` [${err.why}]` : ''}`);
      await new Promise((r) => setTimeout(r, 50)); // the access log line is written after the answer
      for (const line of logLinesFor(err.res)) console.log(`     server log: ${clip(line, 600)}`);
    } else {
      // A failed expectation prints its message; a bug in the script its stack.
      const plain = err instanceof assert.AssertionError || (err && err.constructor === Error);
      console.log(`FAIL ${name}: ${clip(plain ? err.message : err && err.stack ? err.stack : err, 600)}`);
    }
  }
}

function fail(res, why) {
  const e = new Error(why);
  e.res = res;
  e.why = why;
  throw e;
}

function expectStatus(res, status) {
  if (res.status !== status) fail(res, `want ${status}`);
  return res;
}

// A refused request: 401 with a JSON body {"message": "<non-empty>"}.
function expectRefused(res) {
  if (res.status !== 401) fail(res, 'want 401');
  if (!res.json || typeof res.json.message !== 'string' || res.json.message.trim() === '') {
    fail(res, 'want a JSON body with a non-empty message');
  }
  return res;
}

// ---- processes ---------------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// The stand-in for https://connect-install-keys.atlassian.com: GET /<kid>
// answers the PEM public key, anything else 404.
function startKeyServer() {
  const keys = new Map([
    [testkey.kid, testkey.publicKeyPem],
    [OTHER_KID, other.publicKey],
  ]);
  const server = http.createServer((req, res) => {
    state.keyRequests.push(req.url);
    const kid = req.method === 'GET' && req.url.startsWith('/') ? req.url.slice(1) : null;
    if (kid !== null && keys.has(kid)) {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(keys.get(kid));
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found\n');
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function run(cmd, args, opts) {
  return new Promise((resolve, reject) => {
    const p = childProcess.spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
    p.on('error', reject);
    p.on('exit', (code, sig) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')}: exit ${code ?? sig}`))));
  });
}

async function startServer() {
  const bin = path.join(state.tmp, 'seatlens');
  process.stdout.write(`building ${bin} (go build ./cmd/seatlens in ${REPO}) …\n`);
  await run('go', ['build', '-o', bin, './cmd/seatlens'], { cwd: REPO });

  state.port = await freePort();
  state.baseUrl = `http://127.0.0.1:${state.port}`;
  state.logPath = path.join(state.tmp, 'server.log');
  const logFd = fs.openSync(state.logPath, 'a');
  const args = [
    'serve',
    '--addr', `127.0.0.1:${state.port}`,
    '--base-url', state.baseUrl,
    '--data', path.join(state.tmp, 'data'),
    '--install-keys-url', `http://127.0.0.1:${state.keyServer.address().port}`,
    '--log-format', 'json',
  ];
  // Only the SEATLENS_* flags above configure it, not the caller's environment.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SEATLENS_')));
  const proc = childProcess.spawn(bin, args, { cwd: state.tmp, env, stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  state.server = proc;
  state.serverExited = new Promise((resolve) => proc.on('exit', (code, sig) => resolve({ code, sig })));
  let exited = null;
  state.serverExited.then((e) => (exited = e));

  const deadline = Date.now() + 20000;
  for (;;) {
    if (exited) throw new Error(`server exited (${exited.code ?? exited.sig}) before /healthz answered; log:\n${fs.readFileSync(state.logPath, 'utf8')}`);
    try {
      const res = await app('GET', '/healthz');
      if (res.status === 200) return;
    } catch (_) {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`/healthz did not answer 200 within 20 s; log:\n${fs.readFileSync(state.logPath, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopServer() {
  if (!state.server || state.server.exitCode !== null || state.server.signalCode !== null) return;
  state.server.kill('SIGTERM');
  const timer = setTimeout(() => state.server.kill('SIGKILL'), 10000);
  await state.serverExited;
  clearTimeout(timer);
}

// ---- the scenario ------------------------------------------------------------

const state = {
  tmp: null,
  port: 0,
  baseUrl: '',
  logPath: null,
  server: null,
  serverExited: null,
  keyServer: null,
  keyRequests: [],
  clientKey: crypto.randomUUID(),
  installationId: `ari:cloud:ecosystem::installation/${crypto.randomUUID()}`,
};

// Typical parameters Jira appends to an admin page iframe URL.
const IFRAME_QUERY = [
  `xdm_e=${encodeURIComponent(SITE)}`,
  `xdm_c=channel-${APP_KEY}__seatlens-admin`,
  'cp=',
  `xdm_deprecated_addon_key_do_not_use=${APP_KEY}`,
  'lic=none',
  'cv=1001.0.0-SNAPSHOT',
  'tz=Europe%2FBerlin',
  'loc=en-US',
].join('&');
const ADMIN_URL = `/admin?${IFRAME_QUERY}`;

// GET url with a fresh request token signed with key, in ?jwt= (default) or
// in the Authorization header.
function getPage(url, key, { inHeader = false, claims = {} } = {}) {
  const token = hs256(requestClaims('GET', url, claims), key);
  if (inHeader) return app('GET', url, { headers: auth(token) });
  return app('GET', `${url}${url.includes('?') ? '&' : '?'}jwt=${token}`);
}

async function scenario() {
  const secret1 = secret(randomSecret());
  const secret2 = secret(randomSecret());
  const attackerSecret = secret(randomSecret());

  // -- descriptor
  await check('descriptor: GET /atlassian-connect.json', async () => {
    const res = expectStatus(await app('GET', '/atlassian-connect.json'), 200);
    const d = res.json;
    if (!d) fail(res, 'not JSON');
    const want = (cond, why) => cond || fail(res, why);
    want(d.key === APP_KEY, `key ${d.key}`);
    want(d.baseUrl === state.baseUrl, `baseUrl ${d.baseUrl}, want ${state.baseUrl}`);
    want(d.authentication && d.authentication.type === 'jwt', 'authentication.type is not jwt');
    const lc = d.lifecycle || {};
    for (const ev of ['installed', 'uninstalled', 'enabled', 'disabled']) {
      want(lc[ev] === `/lifecycle/${ev}`, `lifecycle.${ev} = ${lc[ev]}`);
    }
    const pages = (d.modules && d.modules.adminPages) || [];
    want(pages.some((p) => p.url === '/admin'), 'no adminPages entry with url /admin');
    const hooks = ((d.modules && d.modules.webhooks) || []).map((w) => `${w.event} ${w.url}`).sort();
    want(
      JSON.stringify(hooks) === JSON.stringify(['user_created /webhooks/user-created', 'user_deleted /webhooks/user-deleted', 'user_updated /webhooks/user-updated']),
      `webhooks ${JSON.stringify(hooks)}`,
    );
    const mig = d.apiMigrations || {};
    want(mig['signed-install'] === true && mig['context-qsh'] === true, 'apiMigrations lacks signed-install or context-qsh');
    want(Object.keys(mig).length > 0 && Object.values(mig).every((v) => v === true), `apiMigrations ${JSON.stringify(mig)} not all true`);
    return res;
  });

  // -- signed install
  const postInstalled = (token, body = installBody(secret1)) =>
    app('POST', '/lifecycle/installed', { headers: token === undefined ? {} : auth(token), body });

  await check('install: RS256 signed install (atlassian-jwt encodeAsymmetric) → 204', async () =>
    expectStatus(await postInstalled(rs256(installClaims('/lifecycle/installed'), testkey.privateKeyPem, testkey.kid)), 204));

  // -- valid tenant requests
  await check('admin page: iframe URL with ?jwt= → 200', async () => {
    const res = expectStatus(await getPage(ADMIN_URL, secret1), 200);
    if (!/html/i.test(res.headers['content-type'] || '')) fail(res, `content-type ${res.headers['content-type']}`);
    return res;
  });
  await check('admin page: iframe URL with Authorization: JWT → 200', async () =>
    expectStatus(await getPage(ADMIN_URL, secret1, { inHeader: true }), 200));

  const queryVariants = [
    ['spaces as + and %20', '/admin?q=hello+big%20world&r=a+b'],
    ['literal plus %2B', '/admin?plus=a%2Bb'],
    ['star raw and %2A', '/admin?star=a*b&star2=%2A'],
    ['tilde raw and %7E', '/admin?tilde=~x&tilde2=%7Ey'],
    ['unicode CJK and emoji', '/admin?q=%E5%AE%AE&e=%F0%9F%98%80&name=J%C3%BCrgen'],
    ['repeated keys a=2&a=1', '/admin?a=2&a=1'],
    ['reserved characters percent-encoded', '/admin?r=%21%24%26%27%28%29%2A%2B%2C%3B%3D%3A%2F%3F%23%5B%5D%40'],
    ["raw !'()* in the query", "/admin?raw=!'()*&x=a!b"],
    ['configure page /admin?view=settings', `/admin?view=settings&${IFRAME_QUERY}`],
  ];
  for (const [label, url] of queryVariants) {
    await check(`admin page: ${label} → 200`, async () => expectStatus(await getPage(url, secret1), 200));
  }

  await check('api: GET /api/tenant with a context token → 200, own clientKey', async () => {
    const t = now();
    const token = hs256({ iss: state.clientKey, iat: t, exp: t + 180, qsh: 'context-qsh', sub: SUB, context: {} }, secret1);
    const res = expectStatus(await app('GET', '/api/tenant', { headers: auth(token) }), 200);
    if (!res.json || res.json.clientKey !== state.clientKey) fail(res, `clientKey is not ${state.clientKey}`);
    return res;
  });
  await check('webhook: POST /webhooks/user-updated → 204', async () => {
    const token = hs256(requestClaims('POST', '/webhooks/user-updated'), secret1);
    const body = { timestamp: Date.now(), webhookEvent: 'user_updated', user: { accountId: SUB } };
    return expectStatus(await app('POST', '/webhooks/user-updated', { headers: auth(token), body }), 204);
  });
  await check('lifecycle: POST /lifecycle/enabled (HS256) → 204', async () => {
    const token = hs256(requestClaims('POST', '/lifecycle/enabled'), secret1);
    return expectStatus(await app('POST', '/lifecycle/enabled', { headers: auth(token), body: lifecycleBody('enabled') }), 204);
  });

  // -- forged installs (each must be 401 {message})
  await check('forged install: signed by another RSA key, real kid → 401', async () =>
    expectRefused(await postInstalled(rs256(installClaims('/lifecycle/installed'), other.privateKey, testkey.kid))));
  await check('forged install: real key, kid of another (served) key → 401', async () =>
    expectRefused(await postInstalled(rs256(installClaims('/lifecycle/installed'), testkey.privateKeyPem, OTHER_KID))));
  await check('forged install: wrong aud → 401', async () =>
    expectRefused(await postInstalled(rs256(installClaims('/lifecycle/installed', { aud: ['https://evil.example.com'] }), testkey.privateKeyPem, testkey.kid))));
  await check('forged install: no Authorization → 401', async () => expectRefused(await postInstalled(undefined)));
  await check('forged install: qsh of another path → 401', async () =>
    expectRefused(await postInstalled(rs256(installClaims('/lifecycle/installed', { qsh: qshOf('POST', '/lifecycle/uninstalled') }), testkey.privateKeyPem, testkey.kid))));
  await check('forged install: expired 10 min ago → 401', async () => {
    const t = now();
    return expectRefused(await postInstalled(rs256(installClaims('/lifecycle/installed', { iat: t - 780, exp: t - 600 }), testkey.privateKeyPem, testkey.kid)));
  });
  await check('forged install: HS256 with the shared secret → 401', async () =>
    expectRefused(await postInstalled(hs256(installClaims('/lifecycle/installed'), secret1))));
  await check('forged install: alg none → 401', async () => {
    const token = track(`${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(installClaims('/lifecycle/installed'))}.`);
    return expectRefused(await postInstalled(token));
  });
  await check('forged install: kid with ../ → 401', async () =>
    expectRefused(await postInstalled(rs256(installClaims('/lifecycle/installed'), testkey.privateKeyPem, `../${testkey.kid}`))));
  await check('forged install: kid with http:// → 401', async () => {
    const kid = `http://127.0.0.1:${state.keyServer.address().port}/${testkey.kid}`;
    return expectRefused(await postInstalled(rs256(installClaims('/lifecycle/installed'), testkey.privateKeyPem, kid)));
  });
  await check('install keys server: real kid fetched, never a kid with ../ or a URL', async () => {
    if (!state.keyRequests.includes(`/${testkey.kid}`)) throw new Error(`key server was never asked for /${testkey.kid}: ${JSON.stringify(state.keyRequests)}`);
    const bad = state.keyRequests.filter((u) => u.includes('..') || /https?:/i.test(decodeURIComponent(u)));
    if (bad.length) throw new Error(`key server received ${JSON.stringify(bad)}`);
  });

  // -- forged tenant requests
  await check('forged page: alg none → 401', async () => {
    const token = track(`${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(requestClaims('GET', ADMIN_URL))}.`);
    return expectRefused(await app('GET', `${ADMIN_URL}&jwt=${token}`));
  });
  await check('forged page: qsh of another URL → 401', async () =>
    expectRefused(await getPage(ADMIN_URL, secret1, { claims: { qsh: qshOf('GET', '/admin?view=other') } })));
  await check('forged page: expired HS256 (exp = now-600) → 401', async () => {
    const t = now();
    return expectRefused(await getPage(ADMIN_URL, secret1, { claims: { iat: t - 780, exp: t - 600 } }));
  });
  await check('forged page: wrong secret → 401', async () => expectRefused(await getPage(ADMIN_URL, secret(randomSecret()))));
  await check('forged page: unknown clientKey → 401', async () =>
    expectRefused(await getPage(ADMIN_URL, secret(randomSecret()), { claims: { iss: crypto.randomUUID() } })));
  await check('forged page: query tampered after signing (a=1 → a=2) → 401', async () => {
    const token = hs256(requestClaims('GET', '/admin?a=1'), secret1);
    return expectRefused(await app('GET', `/admin?a=2&jwt=${token}`));
  });
  await check('forged page: context token on /admin → 401', async () => {
    const t = now();
    const token = hs256({ iss: state.clientKey, iat: t, exp: t + 180, qsh: 'context-qsh', sub: SUB, context: {} }, secret1);
    return expectRefused(await app('GET', ADMIN_URL, { headers: auth(token) }));
  });
  await check('forged webhook: qsh of another webhook → 401', async () => {
    const token = hs256(requestClaims('POST', '/webhooks/user-deleted'), secret1);
    const body = { timestamp: Date.now(), webhookEvent: 'user_updated', user: { accountId: SUB } };
    return expectRefused(await app('POST', '/webhooks/user-updated', { headers: auth(token), body }));
  });

  // -- unsigned reinstall must not take over the tenant
  await check('forged reinstall: same install body, no JWT → 401', async () => expectRefused(await postInstalled(undefined)));
  await check('forged reinstall: install body with an attacker secret, no JWT → 401', async () =>
    expectRefused(await postInstalled(undefined, installBody(attackerSecret))));
  await check('after unsigned reinstalls the original secret still works → 200', async () =>
    expectStatus(await getPage(ADMIN_URL, secret1), 200));
  await check('after unsigned reinstalls the attacker secret is refused → 401', async () =>
    expectRefused(await getPage(ADMIN_URL, attackerSecret)));

  // -- signed reinstall rotates the secret
  await check('reinstall: RS256 signed with a new sharedSecret → 204', async () =>
    expectStatus(await postInstalled(rs256(installClaims('/lifecycle/installed'), testkey.privateKeyPem, testkey.kid), installBody(secret2)), 204));
  await check('reinstall: old secret refused → 401', async () => expectRefused(await getPage(ADMIN_URL, secret1)));
  await check('reinstall: new secret works → 200', async () => expectStatus(await getPage(ADMIN_URL, secret2), 200));

  // -- uninstall
  await check('uninstall: RS256 signed → 204', async () => {
    const token = rs256(installClaims('/lifecycle/uninstalled'), testkey.privateKeyPem, testkey.kid);
    return expectStatus(await app('POST', '/lifecycle/uninstalled', { headers: auth(token), body: lifecycleBody('uninstalled') }), 204);
  });
  await check('after uninstall: admin page with the new secret → 401', async () => expectRefused(await getPage(ADMIN_URL, secret2)));
  await check('after uninstall: context token on /api/tenant → 401', async () => {
    const t = now();
    const token = hs256({ iss: state.clientKey, iat: t, exp: t + 180, qsh: 'context-qsh', sub: SUB, context: {} }, secret2);
    return expectRefused(await app('GET', '/api/tenant', { headers: auth(token) }));
  });
  await check('after uninstall: webhook with the new secret → 401', async () => {
    const token = hs256(requestClaims('POST', '/webhooks/user-updated'), secret2);
    const body = { timestamp: Date.now(), webhookEvent: 'user_updated', user: { accountId: SUB } };
    return expectRefused(await app('POST', '/webhooks/user-updated', { headers: auth(token), body }));
  });
  await check('after uninstall: JWT-less POST /lifecycle/disabled → 204', async () => {
    const body = { key: APP_KEY, clientKey: state.clientKey, baseUrl: SITE, productType: 'jira', eventType: 'disabled' };
    return expectStatus(await app('POST', '/lifecycle/disabled', { body }), 204);
  });
}

async function main() {
  state.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'seatlens-e2e-'));
  state.keyServer = await startKeyServer();
  let fatal = null;
  try {
    await startServer();
    console.log(`server ${state.baseUrl}, install keys http://127.0.0.1:${state.keyServer.address().port}, log ${state.logPath}`);
    await scenario();
  } catch (err) {
    fatal = err;
  } finally {
    await stopServer();
    state.keyServer.close();
  }
  if (fatal) {
    failed++;
    console.log(`FAIL setup: ${fatal && fatal.stack ? fatal.stack : fatal}`);
  } else {
    await check('server log contains no token (eyJ…) and no shared secret', async () => {
      const log = fs.readFileSync(state.logPath, 'utf8');
      assert.ok(log.length > 0, 'server log is empty');
      const leaks = [];
      for (const t of sentTokens) if (log.includes(t)) leaks.push(`token ${t.slice(0, 16)}…`);
      for (const s of sentSecrets) if (log.includes(s)) leaks.push(`secret ${s.slice(0, 4)}…`);
      if (log.includes('eyJ')) leaks.push('"eyJ" (a base64url JSON token segment)');
      for (const t of sentTokens) {
        const sig = t.split('.')[2];
        if (sig && log.includes(sig)) leaks.push(`signature of ${t.slice(0, 16)}…`);
      }
      if (leaks.length) throw new Error(`server log leaks: ${leaks.join(', ')}`);
    });
  }
  console.log(`${passed} passed, ${failed} failed`);
  if (failed === 0) {
    fs.rmSync(state.tmp, { recursive: true, force: true });
  } else {
    console.log(`kept ${state.tmp} (server.log) for inspection`);
  }
  process.exitCode = failed === 0 ? 0 : 1;
}

process.on('SIGINT', () => {
  if (state.server) state.server.kill('SIGTERM');
  process.exit(130);
});

main().catch((err) => {
  if (state.server) state.server.kill('SIGKILL');
  console.error(err);
  process.exit(2);
});
