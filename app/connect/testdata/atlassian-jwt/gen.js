#!/usr/bin/env node
// Generates golden interop vectors for the Go Connect JWT code using
// Atlassian's own npm package atlassian-jwt (pinned to 2.0.3).
//
//   npm ci && node gen.js > golden.json
//
// Every output value is produced by atlassian-jwt, except the inputs
// (secret, clientKey, URLs, claims skeletons, bodies, RSA key pair).
// The output is deterministic: fixed timestamps, fixed key (testkey.json),
// HS256 and RS256 (PKCS#1 v1.5) signatures are deterministic.
'use strict';

const fs = require('fs');
const path = require('path');
const jwt = require('atlassian-jwt');

const EXPECTED_VERSION = '2.0.3';
const installedVersion = require('atlassian-jwt/package.json').version;
if (installedVersion !== EXPECTED_VERSION || jwt.version !== EXPECTED_VERSION) {
  throw new Error(`expected atlassian-jwt@${EXPECTED_VERSION}, got ${installedVersion} (exports.version=${jwt.version})`);
}

// ---- fixed inputs ----------------------------------------------------------
const secret = 'seatlens-interop-shared-secret-0123456789';
const clientKey = 'a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607';
const appKey = 'io.seatlens.app';
const appBaseUrl = 'https://seatlens.example.com';
const IAT = 1700000000;
const EXP = 1700000180;
const SUB = '557058:f1e2d3c4-aaaa-bbbb-cccc-123456789012';

// RSA key pair generated once (see README.md); never regenerated here.
const testkey = JSON.parse(fs.readFileSync(path.join(__dirname, 'testkey.json'), 'utf8'));

// checkBodyForParams is always false (what atlassian-connect-express does);
// with true, a POST/PUT with an empty query would hash the body instead.
const CHECK_BODY = false;

function canonical(method, url, baseUrl) {
  return jwt.createCanonicalRequest(jwt.fromMethodAndUrl(method, url), CHECK_BODY, baseUrl);
}

function qsh(method, url, baseUrl) {
  return jwt.createQueryStringHash(jwt.fromMethodAndUrl(method, url), CHECK_BODY, baseUrl);
}

// ---- qsh -------------------------------------------------------------------
const WIKI = 'https://site.atlassian.net/wiki';
const qshInputs = [
  // [name, method, url, baseUrl]
  ['simple', 'GET', '/rest/api/latest/issue?expand=names&fields=summary', appBaseUrl],
  ['space-as-plus', 'GET', '/search?q=hello+world', appBaseUrl],
  ['space-as-pct20', 'GET', '/search?q=hello%20world', appBaseUrl],
  ['plus-literal-pct2B', 'GET', '/search?q=a%2Bb', appBaseUrl],
  ['star-raw', 'GET', '/search?q=a*b', appBaseUrl],
  ['star-pct2A', 'GET', '/search?q=a%2Ab', appBaseUrl],
  ['tilde-raw', 'GET', '/search?q=~user', appBaseUrl],
  ['tilde-pct7E', 'GET', '/search?q=%7Euser', appBaseUrl],
  ['unicode-cjk', 'GET', '/search?q=%E5%AE%AE', appBaseUrl],
  ['unicode-emoji', 'GET', '/search?q=%F0%9F%98%80', appBaseUrl],
  ['unicode-umlaut-key-and-value', 'GET', '/search?%C3%BC=%C3%A4', appBaseUrl],
  ['repeated-keys-numeric-sort', 'GET', '/items?ids=10&ids=2&ids=1', appBaseUrl],
  ['repeated-keys-encoded-sort', 'GET', '/items?ids=.1&ids=%3A1&ids=.2', appBaseUrl],
  ['repeated-keys-mixed-with-other', 'GET', '/items?z=1&ids=b&a=2&ids=a', appBaseUrl],
  ['key-ordering-a10-a1-a', 'GET', '/p?a10=1&a1=2&a=3', appBaseUrl],
  ['key-ordering-case', 'GET', '/p?b=1&B=2&a=3&A=4', appBaseUrl],
  ['key-ordering-encoded-keys', 'GET', '/p?%3Ab=1&.a=2', appBaseUrl],
  ['valueless-params', 'GET', '/p?a&b=foo&c', appBaseUrl],
  ['empty-value', 'GET', '/p?a=&b=2', appBaseUrl],
  ['repeated-key-with-empty-value', 'GET', '/p?a&a=1&a=', appBaseUrl],
  ['reserved-chars-in-value', 'GET', '/p?r=%21%24%26%27%28%29%2A%2B%2C%3B%3D%3A%2F%3F%23%5B%5D%40', appBaseUrl],
  ['reserved-chars-in-key', 'GET', '/p?%21%27%28%29=1', appBaseUrl],
  ['raw-semicolon-in-query', 'GET', '/p?a=1;b=2&c=3', appBaseUrl],
  ['raw-unreserved-safe-chars', 'GET', "/p?v=-._~!'()", appBaseUrl],
  ['jwt-param-ignored', 'GET', '/p?a=1&jwt=eyJhbGciOiJIUzI1NiJ9.e30.sig&b=2', appBaseUrl],
  ['jwt-param-only', 'GET', '/p?jwt=abc', appBaseUrl],
  ['path-ampersand-encoded', 'GET', '/p/a%26b?x=1', appBaseUrl],
  ['path-ampersand-literal', 'GET', '/p/a&b?x=1', appBaseUrl],
  ['path-trailing-slash', 'GET', '/rest/api/issue/?x=1', appBaseUrl],
  ['path-percent-encoded-kept-as-is', 'GET', '/p/%7e/%2F/caf%C3%A9', appBaseUrl],
  ['root-path', 'GET', '/', appBaseUrl],
  ['root-path-with-query', 'GET', '/?a=1', appBaseUrl],
  ['empty-path', 'GET', '', appBaseUrl],
  ['empty-path-with-query', 'GET', '?a=1', appBaseUrl],
  ['app-base-url-with-path', 'POST', '/connect/installed', 'https://seatlens.example.com/connect'],
  ['app-base-url-with-path-root', 'GET', '/connect', 'https://seatlens.example.com/connect'],
  ['app-base-url-with-path-not-segment-boundary', 'GET', '/connectors/x', 'https://seatlens.example.com/connect'],
  ['app-base-url-with-path-not-prefixed', 'GET', '/other/x', 'https://seatlens.example.com/connect'],
  ['confluence-context-path', 'GET', '/wiki/rest/api/user/current?expand=operations', WIKI],
  ['confluence-context-path-base-trailing-slash', 'GET', '/wiki/rest/api/user/current', WIKI + '/'],
  ['confluence-absolute-url', 'GET', 'https://site.atlassian.net/wiki/rest/api/content?spaceKey=DEV&limit=25', WIKI],
  ['lowercase-method', 'post', '/p?a=1', appBaseUrl],
  ['post-empty-query', 'POST', '/lifecycle/installed', appBaseUrl],
  ['put-with-query', 'PUT', '/rest/api/3/issue/ABC-1?notifyUsers=false', appBaseUrl],
  ['delete-no-query', 'DELETE', '/rest/api/3/issue/ABC-1', appBaseUrl],
  ['empty-query-marker', 'GET', '/p?', appBaseUrl],
  ['fragment-dropped', 'GET', '/p?a=1#frag', appBaseUrl],
  ['malformed-percent-in-value', 'GET', '/p?a=%zz', appBaseUrl],
  ['duplicate-key-via-encoding', 'GET', '/p?a=2&%61=1', appBaseUrl],
  ['proto-key-dropped', 'GET', '/p?__proto__=1&a=2', appBaseUrl],
  ['utf16-order-values', 'GET', '/p?q=%EF%BC%81&q=%F0%9F%98%80', appBaseUrl],
  ['utf16-order-keys', 'GET', '/p?%EF%BC%81=1&%F0%9F%98%80=2', appBaseUrl],
  ['invalid-utf8-escape', 'GET', '/p?q=%FF&r=a%C3', appBaseUrl],
];

const qshCases = qshInputs.map(([name, method, url, baseUrl]) => ({
  name,
  method,
  url,
  baseUrl,
  canonical: canonical(method, url, baseUrl),
  qsh: qsh(method, url, baseUrl),
}));

// ---- hs256: product -> app --------------------------------------------------
const hs256Inputs = [
  ['admin-page-load', 'GET',
    '/admin?xdm_e=https%3A%2F%2Fsite.atlassian.net&xdm_c=channel-io.seatlens.app__seatlens-admin&cp=&xdm_deprecated_addon_key_do_not_use=io.seatlens.app&lic=active&cv=1001.0.0-SNAPSHOT&tz=Europe%2FBerlin&loc=en-US'],
  ['webhook-user-updated', 'POST', '/webhooks/user-updated'],
  ['webhook-with-query', 'POST', '/webhooks/user-updated?user_id=557058%3Af1e2d3c4&event=user_updated'],
  ['lifecycle-enabled', 'POST', '/lifecycle/enabled'],
  ['spaces', 'GET', '/api/search?q=hello+big%20world'],
  ['plus-star-tilde', 'GET', '/api/search?plus=a%2Bb&star=a*b&star2=%2A&tilde=~x&tilde2=%7Ey'],
  ['unicode', 'GET', '/api/search?q=%E5%AE%AE%F0%9F%98%80&name=J%C3%BCrgen'],
  ['repeated-keys', 'GET', '/api/items?ids=10&ids=2&ids=1&ids=.1&ids=%3A1'],
  ['reserved-chars', 'GET', '/api/search?r=%21%24%26%27%28%29%2A%2B%2C%3B%3D%3A%2F%3F%23%5B%5D%40'],
];

const hs256Cases = hs256Inputs.map(([name, method, url]) => {
  const claims = {
    iss: clientKey,
    iat: IAT,
    exp: EXP,
    qsh: qsh(method, url, appBaseUrl),
    sub: SUB,
    context: {},
  };
  return { name, method, url, baseUrl: appBaseUrl, claims, token: jwt.encodeSymmetric(claims, secret, jwt.SymmetricAlgorithm.HS256) };
});

{
  const claims = { iss: clientKey, iat: IAT, exp: EXP, qsh: 'context-qsh', sub: SUB, context: {} };
  hs256Cases.push({
    name: 'context-token',
    method: 'GET',
    url: '/api/tenant',
    baseUrl: appBaseUrl,
    claims,
    token: jwt.encodeSymmetric(claims, secret, jwt.SymmetricAlgorithm.HS256),
  });
}

// ---- outbound: app -> product ----------------------------------------------
const JIRA = 'https://site.atlassian.net';
const outboundInputs = [
  ['jira-myself', 'GET', JIRA, JIRA + '/rest/api/3/myself'],
  ['jira-group-member', 'GET', JIRA, JIRA + '/rest/api/3/group/member?groupId=abc&includeInactiveUsers=true&startAt=50&maxResults=50'],
  ['confluence-user-current', 'GET', WIKI, WIKI + '/rest/api/user/current'],
  ['jira-permissions-check', 'POST', JIRA, JIRA + '/rest/api/3/permissions/check'],
  ['jira-user-search-unicode', 'GET', JIRA, JIRA + '/rest/api/3/user/search?query=J%C3%BCrgen+O%27Neil'],
  ['jira-myself-repeated-expand', 'GET', JIRA, JIRA + '/rest/api/3/myself?expand=groups&expand=applicationRoles'],
];

const outboundCases = outboundInputs.map(([name, method, productBaseUrl, url]) => {
  const claims = {
    iss: appKey,
    iat: IAT,
    exp: EXP,
    qsh: qsh(method, url, productBaseUrl),
    aud: [clientKey],
  };
  return { name, method, productBaseUrl, url, claims, token: jwt.encodeSymmetric(claims, secret, jwt.SymmetricAlgorithm.HS256) };
});

// ---- rs256: signed install lifecycle ---------------------------------------
const installedBody = {
  key: appKey,
  clientKey,
  sharedSecret: secret,
  serverVersion: '100',
  pluginsVersion: '1001.0.0-SNAPSHOT',
  baseUrl: 'https://example.atlassian.net',
  displayUrl: 'https://example.atlassian.net',
  productType: 'jira',
  description: 'Atlassian JIRA at https://example.atlassian.net',
  eventType: 'installed',
  installationId: 'ari:cloud:ecosystem::installation/6f0b1c1e-8c1a-4b1e-9b1e-1c1e8c1a4b1e',
};
const uninstalledBody = {
  key: appKey,
  clientKey,
  serverVersion: '100',
  pluginsVersion: '1001.0.0-SNAPSHOT',
  baseUrl: 'https://example.atlassian.net',
  displayUrl: 'https://example.atlassian.net',
  productType: 'jira',
  description: 'Atlassian JIRA at https://example.atlassian.net',
  eventType: 'uninstalled',
  installationId: 'ari:cloud:ecosystem::installation/6f0b1c1e-8c1a-4b1e-9b1e-1c1e8c1a4b1e',
};

const rs256Inputs = [
  // [name, url, baseUrl, aud, body]
  ['installed', '/installed', appBaseUrl, [appBaseUrl], installedBody],
  ['uninstalled', '/uninstalled', appBaseUrl, [appBaseUrl], uninstalledBody],
  ['installed-aud-string', '/installed', appBaseUrl, appBaseUrl, installedBody],
  ['installed-base-url-with-path', '/connect/installed', 'https://seatlens.example.com/connect', ['https://seatlens.example.com/connect'], installedBody],
];

const rs256Cases = rs256Inputs.map(([name, url, baseUrl, aud, body]) => {
  const method = 'POST';
  const claims = {
    iss: clientKey,
    aud,
    qsh: qsh(method, url, baseUrl),
    iat: IAT,
    exp: EXP,
    context: {},
  };
  const token = jwt.encodeAsymmetric(claims, testkey.privateKeyPem, jwt.AsymmetricAlgorithm.RS256, { kid: testkey.kid });
  return { name, method, url, baseUrl, body, claims, token };
});

// ---- output ----------------------------------------------------------------
const golden = {
  generator: `atlassian-jwt@${installedVersion}`,
  secret,
  clientKey,
  appKey,
  appBaseUrl,
  qsh: qshCases,
  hs256: hs256Cases,
  outbound: outboundCases,
  rs256: {
    kid: testkey.kid,
    publicKeyPem: testkey.publicKeyPem,
    privateKeyPem: testkey.privateKeyPem,
    cases: rs256Cases,
  },
};

process.stdout.write(JSON.stringify(golden, null, 2) + '\n');
