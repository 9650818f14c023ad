// Prints the path+query of an authenticated admin page load, as Jira would
// put it in the iframe src:
//   /admin?xdm_e=...&cp=&lic=none&jwt=<HS256 token>
// The token is signed with the seeded tenant's sharedSecret, expires in
// 15 minutes, and carries qsh = createQueryStringHash(GET of the URL without
// the jwt parameter), which ACE's addon.authenticate() recomputes per request.
//
// Usage: node token.js [query-without-jwt]
//   default query: xdm_e=https%3A%2F%2Fbench.atlassian.net&cp=&lic=none
"use strict";

const jwt = require("atlassian-jwt");
const bench = require("./bench");

const query =
  process.argv[2] ||
  `xdm_e=${encodeURIComponent(bench.HOST_BASE_URL)}&cp=&lic=none`;
const pathAndQuery = `/admin?${query}`;

const now = Math.floor(Date.now() / 1000);
const claims = {
  iss: bench.CLIENT_KEY, // Jira signs page loads with iss = the tenant's clientKey
  sub: "557058:bench-user-account-id",
  iat: now,
  exp: now + 15 * 60,
  qsh: jwt.createQueryStringHash(jwt.fromMethodAndUrl("GET", pathAndQuery)),
  context: {}
};

const token = jwt.encodeSymmetric(
  claims,
  bench.SHARED_SECRET,
  jwt.SymmetricAlgorithm.HS256
);
process.stdout.write(`${pathAndQuery}&jwt=${token}\n`);
