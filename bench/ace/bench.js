// Constants shared by app.js (seeds the store) and token.js (signs the page URL).
"use strict";

module.exports = {
  CLIENT_KEY: "bench-client",
  SHARED_SECRET: "bench-secret-0123456789",
  HOST_BASE_URL: "https://bench.atlassian.net",
  // Must equal "key" in atlassian-connect.json.
  APP_KEY: "io.seatlens.bench-ace",
  DEFAULT_PORT: 3900
};
