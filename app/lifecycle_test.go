package app

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/seatlens/seatlens/app/connect"
	"github.com/seatlens/seatlens/app/connect/connecttest"
	"github.com/seatlens/seatlens/store"
)

func TestInstallThenUse(t *testing.T) {
	for _, base := range []string{"https://seatlens.example.com", "https://apps.example.com/seatlens", "http://127.0.0.1:8080"} {
		t.Run(base, func(t *testing.T) {
			h := newHarness(t, base)
			expectStatus(t, h.install("client-a", "secret-a"), http.StatusNoContent)
			ten, err := h.st.Tenant(context.Background(), "client-a")
			if err != nil || !ten.Installed || ten.SharedSecret != "secret-a" || ten.InstallationID == "" {
				t.Fatalf("stored tenant %+v, %v", ten, err)
			}
			expectStatus(t, h.page("client-a", "secret-a", "/admin?xdm_e=https%3A%2F%2Fclient-a.atlassian.net&cp=&lic=none"), http.StatusOK)
			rec := h.do("GET", "/api/tenant", "", jwtHeader(h.contextToken("client-a", "secret-a")))
			expectStatus(t, rec, http.StatusOK)
			if !strings.Contains(rec.Body.String(), `"clientKey":"client-a"`) {
				t.Fatalf("api/tenant: %s", rec.Body.String())
			}
		})
	}
}

func TestForgedInstallsAreRefused(t *testing.T) {
	h := newHarness(t, "https://seatlens.example.com")
	body := newInstallBody("client-a", "secret-a", "installed").json()
	other := func(c *connect.Claims) jwt.Claims { return c }
	sign := func(key int, kid string, mutate func(*connect.Claims)) string {
		c := connecttest.InstallClaims("client-a", h.base, "POST", "/lifecycle/installed", "", h.clock())
		if mutate != nil {
			mutate(c)
		}
		return connecttest.Sign(t, jwt.SigningMethodRS256, connecttest.Key(key), other(c), map[string]any{"kid": kid})
	}
	cases := map[string]http.Header{
		"no Authorization":  nil,
		"other RSA key":     jwtHeader(sign(1, "kid-1", nil)),
		"wrong aud":         jwtHeader(sign(0, "kid-1", func(c *connect.Claims) { c.Audience = jwt.ClaimStrings{"https://evil.example.com"} })),
		"wrong qsh":         jwtHeader(sign(0, "kid-1", func(c *connect.Claims) { c.QSH = strings.Repeat("0", 64) })),
		"expired":           jwtHeader(sign(0, "kid-1", func(c *connect.Claims) { c.ExpiresAt = jwt.NewNumericDate(h.clock().Add(-time.Hour)) })),
		"iss is another":    jwtHeader(sign(0, "kid-1", func(c *connect.Claims) { c.Issuer = "client-b" })),
		"kid is a URL":      jwtHeader(sign(0, "http://evil/kid-1", nil)),
		"HS256 with secret": jwtHeader(connecttest.Sign(t, jwt.SigningMethodHS256, []byte("secret-a"), connecttest.InstallClaims("client-a", h.base, "POST", "/lifecycle/installed", "", h.clock()), map[string]any{"kid": "kid-1"})),
	}
	for name, hdr := range cases {
		t.Run(name, func(t *testing.T) {
			expectStatus(t, h.do("POST", "/lifecycle/installed", body, hdr), http.StatusUnauthorized)
			if _, err := h.st.Tenant(context.Background(), "client-a"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("a refused install stored something: %v", err)
			}
		})
	}
}

func TestBadPayloadsAre400AndStoreNothing(t *testing.T) {
	h := newHarness(t, "https://seatlens.example.com")
	tok := jwtHeader(h.lifecycleToken("client-a", "installed", nil))
	mut := func(f func(installBody)) string {
		b := newInstallBody("client-a", "secret-a", "installed")
		f(b)
		return b.json()
	}
	cases := map[string]string{
		"not json":              "{",
		"array":                 "[]",
		"trailing data":         newInstallBody("client-a", "secret-a", "installed").json() + "{}",
		"wrong eventType":       mut(func(b installBody) { b["eventType"] = "uninstalled" }),
		"other app key":         mut(func(b installBody) { b["key"] = "com.other.app" }),
		"no clientKey":          mut(func(b installBody) { delete(b, "clientKey") }),
		"no sharedSecret":       mut(func(b installBody) { delete(b, "sharedSecret") }),
		"huge sharedSecret":     mut(func(b installBody) { b["sharedSecret"] = strings.Repeat("s", 600) }),
		"http baseUrl":          mut(func(b installBody) { b["baseUrl"] = "http://client-a.atlassian.net" }),
		"not an Atlassian host": mut(func(b installBody) { b["baseUrl"] = "https://evil.example.com" }),
		"lookalike host":        mut(func(b installBody) { b["baseUrl"] = "https://atlassian.net.evil.example" }),
		"bare suffix":           mut(func(b installBody) { b["baseUrl"] = "https://.atlassian.net" }),
		"relative baseUrl":      mut(func(b installBody) { b["baseUrl"] = "/jira" }),
		"baseUrl with query":    mut(func(b installBody) { b["baseUrl"] = "https://a.atlassian.net/?x=1" }),
		"no productType":        mut(func(b installBody) { delete(b, "productType") }),
		"clientKey not string":  mut(func(b installBody) { b["clientKey"] = 42 }),
		"control chars":         mut(func(b installBody) { b["clientKey"] = "client\n-a" }),
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			expectStatus(t, h.do("POST", "/lifecycle/installed", body, tok), http.StatusBadRequest)
		})
	}
	big := `{"key":"` + strings.Repeat("x", 70<<10) + `"}`
	expectStatus(t, h.do("POST", "/lifecycle/installed", big, tok), http.StatusRequestEntityTooLarge)
	if ts, err := h.st.Tenants(context.Background()); err != nil || len(ts) != 0 {
		t.Fatalf("bad payloads stored tenants: %v %v", ts, err)
	}
	tok = jwtHeader(h.lifecycleToken("client-a", "installed", nil))
	// A customer's own display domain is fine; the baseUrl is what matters.
	withDisplay := newInstallBody("client-a", "secret-a", "installed")
	withDisplay["displayUrl"] = "https://jira.customer.example"
	expectStatus(t, h.do("POST", "/lifecycle/installed", withDisplay.json(), tok), http.StatusNoContent)
	// A loopback http baseUrl is allowed (the simulated site).
	b := newInstallBody("client-a", "secret-a", "installed")
	b["baseUrl"] = "http://127.0.0.1:9999"
	expectStatus(t, h.do("POST", "/lifecycle/installed", b.json(), tok), http.StatusNoContent)
}

func TestReinstallRotatesSecretOnlyWhenSigned(t *testing.T) {
	h := newHarness(t, "https://seatlens.example.com")
	expectStatus(t, h.install("client-a", "secret-1"), http.StatusNoContent)
	first, _ := h.st.Tenant(context.Background(), "client-a")

	// Unsigned reinstall with a new secret: refused, old secret still works.
	expectStatus(t, h.do("POST", "/lifecycle/installed", newInstallBody("client-a", "attacker", "installed").json(), nil), http.StatusUnauthorized)
	// Signed by someone else's key: refused too.
	c := connecttest.InstallClaims("client-a", h.base, "POST", "/lifecycle/installed", "", h.clock())
	forged := connecttest.Sign(t, jwt.SigningMethodRS256, connecttest.Key(1), c, map[string]any{"kid": "kid-1"})
	expectStatus(t, h.do("POST", "/lifecycle/installed", newInstallBody("client-a", "attacker", "installed").json(), jwtHeader(forged)), http.StatusUnauthorized)
	expectStatus(t, h.page("client-a", "secret-1", "/admin"), http.StatusOK)
	expectStatus(t, h.page("client-a", "attacker", "/admin"), http.StatusUnauthorized)

	h.advance(time.Hour)
	expectStatus(t, h.install("client-a", "secret-2"), http.StatusNoContent)
	expectStatus(t, h.page("client-a", "secret-1", "/admin"), http.StatusUnauthorized)
	expectStatus(t, h.page("client-a", "secret-2", "/admin"), http.StatusOK)
	second, _ := h.st.Tenant(context.Background(), "client-a")
	if !second.InstalledAt.Equal(first.InstalledAt) {
		t.Fatalf("an upgrade must keep the install time: %v vs %v", second.InstalledAt, first.InstalledAt)
	}
	if !strings.Contains(h.logs.String(), `"secret_rotated":true`) {
		t.Fatal("rotation not logged")
	}
}

func TestUninstallGraceAndPurge(t *testing.T) {
	h := newHarness(t, "https://seatlens.example.com")
	ctx := context.Background()
	expectStatus(t, h.install("client-a", "secret-a"), http.StatusNoContent)
	expectStatus(t, h.install("client-b", "secret-b"), http.StatusNoContent)
	if err := h.st.TenantPut(ctx, "client-a", "settings", []byte("k"), []byte("kept")); err != nil {
		t.Fatal(err)
	}

	expectStatus(t, h.uninstall("client-a"), http.StatusNoContent)
	// Refused at once, on every route kind.
	expectStatus(t, h.page("client-a", "secret-a", "/admin"), http.StatusUnauthorized)
	expectStatus(t, h.do("GET", "/api/tenant", "", jwtHeader(h.contextToken("client-a", "secret-a"))), http.StatusUnauthorized)
	// JWT-less disabled after uninstall: 204, nothing changes.
	before, _ := h.st.Tenant(ctx, "client-a")
	expectStatus(t, h.do("POST", "/lifecycle/disabled", newInstallBody("client-a", "", "disabled").json(), nil), http.StatusNoContent)
	after, _ := h.st.Tenant(ctx, "client-a")
	if !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Fatal("JWT-less disabled changed the tenant")
	}
	// Uninstall of an unknown tenant and a repeated uninstall are no-ops.
	expectStatus(t, h.uninstall("never-installed"), http.StatusNoContent)
	h.advance(time.Hour)
	expectStatus(t, h.uninstall("client-a"), http.StatusNoContent)
	again, _ := h.st.Tenant(ctx, "client-a")
	if !again.UninstalledAt.Equal(before.UninstalledAt) {
		t.Fatal("a repeated uninstall moved the uninstall time")
	}

	// Within the grace period: kept; a reinstall restores the data.
	h.advance(29 * 24 * time.Hour)
	if purged, err := h.app.PurgeExpired(ctx); err != nil || len(purged) != 0 {
		t.Fatalf("purged within grace: %v %v", purged, err)
	}
	expectStatus(t, h.install("client-a", "secret-a2"), http.StatusNoContent)
	if v, err := h.st.TenantGet(ctx, "client-a", "settings", []byte("k")); err != nil || string(v) != "kept" {
		t.Fatalf("reinstall within grace lost data: %q %v", v, err)
	}
	expectStatus(t, h.page("client-a", "secret-a2", "/admin"), http.StatusOK)

	// After the grace period: purged, data gone; the other tenant untouched.
	expectStatus(t, h.uninstall("client-a"), http.StatusNoContent)
	h.advance(30*24*time.Hour + time.Second)
	purged, err := h.app.PurgeExpired(ctx)
	if err != nil || len(purged) != 1 || purged[0] != "client-a" {
		t.Fatalf("purge: %v %v", purged, err)
	}
	if _, err := h.st.Tenant(ctx, "client-a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("tenant record survived the purge")
	}
	expectStatus(t, h.page("client-b", "secret-b", "/admin"), http.StatusOK)
	// A later install starts afresh.
	expectStatus(t, h.install("client-a", "secret-a3"), http.StatusNoContent)
	if _, err := h.st.TenantGet(ctx, "client-a", "settings", []byte("k")); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("purged data came back")
	}
}

func TestEnabledDisabled(t *testing.T) {
	h := newHarness(t, "https://seatlens.example.com")
	ctx := context.Background()
	expectStatus(t, h.install("client-a", "secret-a"), http.StatusNoContent)
	send := func(event, secret string) int {
		hdr := http.Header{}
		if secret != "" {
			hdr = jwtHeader(h.requestToken("client-a", secret, "POST", "/lifecycle/"+event))
		}
		return h.do("POST", "/lifecycle/"+event, newInstallBody("client-a", "", event).json(), hdr).Code
	}
	if code := send("disabled", "secret-a"); code != http.StatusNoContent {
		t.Fatalf("disabled: %d", code)
	}
	if ten, _ := h.st.Tenant(ctx, "client-a"); ten.Enabled {
		t.Fatal("still enabled")
	}
	if code := send("enabled", "wrong"); code != http.StatusUnauthorized {
		t.Fatalf("enabled with wrong secret: %d", code)
	}
	if code := send("disabled", ""); code != http.StatusUnauthorized {
		t.Fatalf("JWT-less disabled for a live tenant: %d", code)
	}
	if code := send("enabled", "secret-a"); code != http.StatusNoContent {
		t.Fatalf("enabled: %d", code)
	}
	if ten, _ := h.st.Tenant(ctx, "client-a"); !ten.Enabled {
		t.Fatal("not enabled")
	}
	// An RS256 install token is not accepted on enabled.
	hdr := jwtHeader(h.lifecycleToken("client-a", "enabled", nil))
	expectStatus(t, h.do("POST", "/lifecycle/enabled", newInstallBody("client-a", "", "enabled").json(), hdr), http.StatusUnauthorized)
	// A token of tenant B cannot toggle tenant A.
	expectStatus(t, h.install("client-b", "secret-b"), http.StatusNoContent)
	hdr = jwtHeader(h.requestToken("client-b", "secret-b", "POST", "/lifecycle/disabled"))
	expectStatus(t, h.do("POST", "/lifecycle/disabled", newInstallBody("client-a", "", "disabled").json(), hdr), http.StatusUnauthorized)
}

// TestInstallationIDCannotBeTakenOver: the body is not signed, and Forge
// invocations find their tenant by installationId, so one tenant's
// install must not capture another installed tenant's id.
func TestInstallationIDCannotBeTakenOver(t *testing.T) {
	h := newHarness(t, "https://seatlens.example.com")
	ctx := context.Background()
	expectStatus(t, h.install("client-a", "secret-a"), http.StatusNoContent)
	b := newInstallBody("client-b", "secret-b", "installed")
	b["installationId"] = installationOf("client-a")
	expectStatus(t, h.do("POST", "/lifecycle/installed", b.json(), jwtHeader(h.lifecycleToken("client-b", "installed", nil))), http.StatusConflict)
	if ten, err := h.st.TenantByInstallation(ctx, installationOf("client-a")); err != nil || ten.ClientKey != "client-a" {
		t.Fatalf("installation now maps to %+v %v", ten, err)
	}
	// Once A is uninstalled, the id may move (Atlassian reissues ids).
	expectStatus(t, h.uninstall("client-a"), http.StatusNoContent)
	expectStatus(t, h.do("POST", "/lifecycle/installed", b.json(), jwtHeader(h.lifecycleToken("client-b", "installed", nil))), http.StatusNoContent)
}

func TestContextTokensAreRefusedOnLifecycle(t *testing.T) {
	h := newHarness(t, "https://seatlens.example.com")
	expectStatus(t, h.install("client-a", "secret-a"), http.StatusNoContent)
	for _, ev := range []string{"enabled", "disabled"} {
		rec := h.do("POST", "/lifecycle/"+ev, newInstallBody("client-a", "", ev).json(), jwtHeader(h.contextToken("client-a", "secret-a")))
		expectStatus(t, rec, http.StatusUnauthorized)
	}
}
