package app

import (
	"context"
	"encoding/json"
	"github.com/seatlens/seatlens/app/rescan"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/seatlens/seatlens/descriptor"
)

// TestDescriptorRoutesAreServed reads the root atlassian-connect.json (the
// file Atlassian will be given) and proves every URL it declares is a
// route of the real router, authenticated, and that the router serves no
// other POST route than those and the manifest's Forge endpoints.
func TestDescriptorRoutesAreServed(t *testing.T) {
	raw, err := os.ReadFile("../atlassian-connect.json")
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := descriptor.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{"https://seatlens.example.com", "https://apps.example.com/seatlens"} {
		h := newHarness(t, base)
		registered := map[string]bool{}
		for _, r := range h.app.Echo().Routes() {
			registered[r.Method+" "+r.Path] = true
		}
		d := tpl.Descriptor()
		routes := d.Routes()
		if len(routes) == 0 {
			t.Fatal("descriptor declares no routes")
		}
		declared := map[string]bool{}
		for _, r := range routes {
			key := r.Method + " " + h.path + r.Path
			declared[key] = true
			if !registered[key] {
				t.Errorf("%s: descriptor %s %q (%s) is not a registered route", base, r.Kind, key, r.Name)
			}
			// Each declared URL refuses an unauthenticated call whose body
			// is otherwise valid (for a lifecycle route: a good payload of a
			// live tenant, so that only the missing signature can fail it).
			body := `{}`
			if r.Kind == "lifecycle" {
				expectStatus(t, h.install("client-live", "secret-live"), http.StatusNoContent)
				body = newInstallBody("client-live", "secret-x", r.Name).json()
			}
			if rec := h.do(r.Method, r.Path, body, nil); rec.Code != http.StatusUnauthorized {
				t.Errorf("%s %s unauthenticated: %d, want 401", r.Method, r.Path, rec.Code)
			}
		}
		// The manifest's Forge Remote endpoints are served and refuse
		// requests without a Forge Invocation Token.
		for _, ep := range descriptor.ForgeEndpoints() {
			key := "POST " + h.path + ep.Path
			declared[key] = true
			if !registered[key] {
				t.Errorf("%s: Forge endpoint %q is not a registered route", base, key)
			}
			if rec := h.do("POST", ep.Path, `{}`, nil); rec.Code != http.StatusUnauthorized {
				t.Errorf("%s unauthenticated: %d, want 401", ep.Path, rec.Code)
			}
		}
		for key := range registered {
			// The JSON API is called by the panel and by automations, not by
			// Atlassian: it is in neither file, and refuses anyone unsigned.
			if path, ok := strings.CutPrefix(key, "POST "+h.path+"/api/"); ok {
				if rec := h.do("POST", "/api/"+path, `{}`, nil); rec.Code != http.StatusUnauthorized {
					t.Errorf("%s unauthenticated: %d, want 401", key, rec.Code)
				}
				continue
			}
			// The org audit-log webhook is registered by an org admin in
			// Atlassian Administration, not by either file; it refuses a
			// URL token and header it did not make.
			if strings.HasPrefix(key, "POST "+h.path+"/hooks/audit/") {
				if rec := h.do("POST", "/hooks/audit/bm9ib2R5.00", `[]`, nil); rec.Code != http.StatusUnauthorized {
					t.Errorf("%s with an unknown token: %d, want 401", key, rec.Code)
				}
				continue
			}
			if strings.HasPrefix(key, "POST ") && !declared[key] {
				t.Errorf("%s: POST route %q is neither in the descriptor nor in the manifest", base, key)
			}
		}
	}
}

func TestServedDescriptor(t *testing.T) {
	for _, base := range []string{"https://seatlens.example.com", "http://localhost:8080", "http://127.0.0.1:39001", "http://[::1]:8443"} {
		h := newHarness(t, base)
		rec := h.do("GET", "/atlassian-connect.json", "", nil)
		expectStatus(t, rec, http.StatusOK)
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("content type %q", ct)
		}
		tpl, err := descriptor.Parse(rec.Body.Bytes())
		if err != nil {
			t.Fatalf("%s: served descriptor invalid: %v", base, err)
		}
		if d := tpl.Descriptor(); d.BaseURL != base || d.Authentication.Type != "jwt" {
			t.Fatalf("%s: %+v", base, d)
		}
	}
}

func TestHealthz(t *testing.T) {
	h := newHarness(t, "https://seatlens.example.com")
	rec := h.do("GET", "/healthz", "", nil)
	expectStatus(t, rec, http.StatusOK)
	if !strings.Contains(rec.Body.String(), `"status":"ok"`) {
		t.Fatal(rec.Body.String())
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := newHarness(t, "https://seatlens.example.com")
	expectStatus(t, h.install("client-a", "secret-a"), http.StatusNoContent)
	rec := h.page("client-a", "secret-a", "/admin")
	expectStatus(t, rec, http.StatusOK)
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"frame-ancestors 'self' https://*.atlassian.net https://*.jira.com", "script-src 'self' https://connect-cdn.atl-paas.net", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "localhost") {
		t.Error("a production base URL must not allow loopback framing")
	}
	for k, want := range map[string]string{
		"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
		"Strict-Transport-Security": "max-age=31536000", "Cache-Control": "no-store",
	} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if rec.Header().Get("X-Frame-Options") != "" {
		t.Error("X-Frame-Options would stop Jira from framing the page")
	}
	if !strings.Contains(rec.Body.String(), "connect-cdn.atl-paas.net/all.js") {
		t.Error("admin page does not load the AP script")
	}
	local := newHarness(t, "http://127.0.0.1:8080")
	if csp := local.do("GET", "/healthz", "", nil).Header().Get("Content-Security-Policy"); !strings.Contains(csp, "http://127.0.0.1:*") {
		t.Errorf("loopback base should allow the local host page to frame: %q", csp)
	}
}

func TestPanicIs500JSON(t *testing.T) {
	h := newHarness(t, "https://seatlens.example.com")
	h.app.Echo().GET("/boom", func(echo.Context) error { panic("secret-value-in-panic") })
	rec := h.do("GET", "/boom", "", nil)
	expectStatus(t, rec, http.StatusInternalServerError)
	if strings.Contains(rec.Body.String(), "secret-value") {
		t.Fatal("panic value reached the client")
	}
	if !strings.Contains(h.logs.String(), "handler panicked") {
		t.Fatal("panic not logged")
	}
}

func TestUnknownRouteAndMethodAreJSON(t *testing.T) {
	h := newHarness(t, "https://seatlens.example.com")
	expectStatus(t, h.do("GET", "/nope", "", nil), http.StatusNotFound)
	expectStatus(t, h.do("PUT", "/healthz", "{}", nil), http.StatusMethodNotAllowed)
}

func TestBodyLimit(t *testing.T) {
	h := newHarness(t, "https://seatlens.example.com")
	expectStatus(t, h.install("client-a", "secret-a"), http.StatusNoContent)
	big := `{"webhookEvent":"user_updated","pad":"` + strings.Repeat("x", 300<<10) + `"}`
	tok := h.requestToken("client-a", "secret-a", "POST", "/webhooks/user-updated")
	expectStatus(t, h.do("POST", "/webhooks/user-updated", big, jwtHeader(tok)), http.StatusRequestEntityTooLarge)
	huge := strings.Repeat("x", 2<<20)
	expectStatus(t, h.do("POST", "/api/tenant", huge, nil), http.StatusRequestEntityTooLarge)
}

func TestWebhooksAreRecordedAndCoalesced(t *testing.T) {
	h := newHarness(t, "https://seatlens.example.com")
	ctx := context.Background()
	expectStatus(t, h.install("client-a", "secret-a"), http.StatusNoContent)
	send := func(route, event, account string, hdr http.Header) int {
		body := `{"timestamp":1764158400000,"webhookEvent":"` + event + `","user":{"accountId":"` + account + `","displayName":"Zoë"}}`
		if hdr == nil {
			hdr = jwtHeader(h.requestToken("client-a", "secret-a", "POST", route))
		}
		return h.do("POST", route, body, hdr).Code
	}
	if c := send("/webhooks/user-updated", "user_updated", "557058:aa", nil); c != http.StatusNoContent {
		t.Fatalf("webhook: %d", c)
	}
	retry := jwtHeader(h.requestToken("client-a", "secret-a", "POST", "/webhooks/user-deleted"))
	retry.Set("X-Atlassian-Webhook-Retry", "2")
	if c := send("/webhooks/user-deleted", "user_deleted", "557058:aa", retry); c != http.StatusNoContent {
		t.Fatalf("retried webhook: %d", c)
	}
	raw, err := h.st.TenantGet(ctx, "client-a", rescan.PendingBucket, []byte("557058:aa"))
	if err != nil {
		t.Fatal(err)
	}
	var p rescan.Pending
	if err := json.Unmarshal(raw, &p); err != nil || p.Deliveries != 2 || len(p.Hints) != 2 ||
		p.Hints[0].Event != "user_updated" || p.Hints[1].Event != "user_deleted" || p.Hints[1].Cause != rescan.CauseWebhook ||
		!p.Hints[1].At.Equal(time.UnixMilli(1764158400000)) {
		t.Fatalf("pending account %+v %v", p, err)
	}
	// Jira retrying the same delivery is a duplicate, counted once.
	if c := send("/webhooks/user-deleted", "user_deleted", "557058:aa", retry); c != http.StatusNoContent {
		t.Fatalf("retried webhook: %d", c)
	}
	raw, _ = h.st.TenantGet(ctx, "client-a", rescan.PendingBucket, []byte("557058:aa"))
	if err := json.Unmarshal(raw, &p); err != nil || p.Deliveries != 3 || p.Duplicates != 1 || len(p.Hints) != 2 {
		t.Fatalf("after a duplicate: %+v %v", p, err)
	}
	// Wrong event for the route, missing account, qsh of another route, context token.
	if c := send("/webhooks/user-created", "user_deleted", "557058:bb", nil); c != http.StatusBadRequest {
		t.Fatalf("mismatched event: %d", c)
	}
	if c := send("/webhooks/user-created", "user_created", "", nil); c != http.StatusBadRequest {
		t.Fatalf("missing account: %d", c)
	}
	other := jwtHeader(h.requestToken("client-a", "secret-a", "POST", "/webhooks/user-updated"))
	if c := send("/webhooks/user-created", "user_created", "557058:bb", other); c != http.StatusUnauthorized {
		t.Fatalf("qsh of another route: %d", c)
	}
	if c := send("/webhooks/user-created", "user_created", "557058:bb", jwtHeader(h.contextToken("client-a", "secret-a"))); c != http.StatusUnauthorized {
		t.Fatalf("context token on a webhook: %d", c)
	}
}

// TestTenantIsolation: tenant A's tokens never reach tenant B's records,
// whatever A puts in the request.
func TestTenantIsolation(t *testing.T) {
	h := newHarness(t, "https://seatlens.example.com")
	ctx := context.Background()
	expectStatus(t, h.install("client-a", "secret-a"), http.StatusNoContent)
	expectStatus(t, h.install("client-b", "secret-b"), http.StatusNoContent)

	for _, target := range []string{"/api/tenant", "/api/tenant?clientKey=client-b", "/api/tenant?iss=client-b"} {
		rec := h.do("GET", target, "", jwtHeader(h.requestToken("client-a", "secret-a", "GET", target)))
		expectStatus(t, rec, http.StatusOK)
		if !strings.Contains(rec.Body.String(), `"clientKey":"client-a"`) || strings.Contains(rec.Body.String(), "client-b") {
			t.Fatalf("%s answered %s", target, rec.Body.String())
		}
	}
	// A token claiming to be B but signed with A's secret.
	forged := h.requestToken("client-b", "secret-a", "GET", "/api/tenant")
	expectStatus(t, h.do("GET", "/api/tenant", "", jwtHeader(forged)), http.StatusUnauthorized)

	// A's webhook marks only A's records.
	tok := h.requestToken("client-a", "secret-a", "POST", "/webhooks/user-updated")
	body := `{"webhookEvent":"user_updated","user":{"accountId":"557058:shared"}}`
	expectStatus(t, h.do("POST", "/webhooks/user-updated", body, jwtHeader(tok)), http.StatusNoContent)
	if _, err := h.st.TenantGet(ctx, "client-b", rescan.PendingBucket, []byte("557058:shared")); err == nil {
		t.Fatal("tenant A's webhook wrote into tenant B")
	}
	if _, err := h.st.TenantGet(ctx, "client-a", rescan.PendingBucket, []byte("557058:shared")); err != nil {
		t.Fatal(err)
	}
}

func TestLogsNeverCarryTokensOrSecrets(t *testing.T) {
	h := newHarness(t, "https://seatlens.example.com")
	expectStatus(t, h.install("client-a", "the-shared-secret-value"), http.StatusNoContent)
	ok := h.requestToken("client-a", "the-shared-secret-value", "GET", "/admin")
	h.do("GET", "/admin?jwt="+ok, "", nil)
	bad := h.requestToken("client-a", "wrong", "GET", "/admin")
	expectStatus(t, h.do("GET", "/admin?jwt="+bad, "", nil), http.StatusUnauthorized)
	h.do("POST", "/lifecycle/installed", newInstallBody("client-a", "another-secret", "installed").json(), nil)
	logs := h.logs.String()
	for _, secret := range []string{"the-shared-secret-value", "another-secret", ok, bad, strings.Split(ok, ".")[2], "eyJ"} {
		if strings.Contains(logs, secret) {
			t.Fatalf("logs contain %q:\n%s", secret, logs)
		}
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		lines = append(lines, m)
	}
	refused := slices.IndexFunc(lines, func(m map[string]any) bool { return m["status"] == float64(401) })
	if refused < 0 || lines[refused]["reason"] == "" || lines[refused]["request_id"] == "" {
		t.Fatalf("401 not logged with a reason and request id: %v", lines)
	}
	served := slices.IndexFunc(lines, func(m map[string]any) bool { return m["status"] == float64(200) })
	if served < 0 || lines[served]["client_key"] != "client-a" || lines[served]["latency"] == nil {
		t.Fatalf("200 not logged with tenant and latency: %v", lines)
	}
}

func TestRequestIDsAndAddressesAreOurs(t *testing.T) {
	h := newHarness(t, "https://seatlens.example.com")
	rec := h.do("GET", "/healthz", "", http.Header{"X-Request-Id": {"client-chosen-id"}, "X-Forwarded-For": {"6.6.6.6"}})
	id := rec.Header().Get("X-Request-Id")
	if id == "" || id == "client-chosen-id" || len(id) != 24 {
		t.Fatalf("request id %q", id)
	}
	if logs := h.logs.String(); strings.Contains(logs, "client-chosen-id") || strings.Contains(logs, "6.6.6.6") || !strings.Contains(logs, id) {
		t.Fatalf("logs trust client headers:\n%s", logs)
	}
}

func TestAPScriptForLocalHostPagesOnly(t *testing.T) {
	for _, c := range []struct{ base, xdm, want string }{
		{"http://127.0.0.1:8080", "http://127.0.0.1:9000", "http://127.0.0.1:9000"},
		{"http://localhost:8080", "http://localhost:9000/jira", "http://localhost:9000"},
		{"https://seatlens.example.com", "http://127.0.0.1:9000", ""}, // a production app never swaps
		{"http://127.0.0.1:8080", "https://acme.atlassian.net", ""},
		{"http://127.0.0.1:8080", "http://evil.example:80", ""},
		{"http://127.0.0.1:8080", "http://user@127.0.0.1:9000", ""},
		{"http://127.0.0.1:8080", "javascript:alert(1)", ""},
	} {
		if got := localHost(c.base, c.xdm); got != c.want {
			t.Errorf("localHost(%q, %q) = %q, want %q", c.base, c.xdm, got, c.want)
		}
	}
}
