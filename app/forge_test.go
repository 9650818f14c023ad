package app

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/seatlens/seatlens/app/rescan"
	"github.com/seatlens/seatlens/store"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/connect/connecttest"
	"github.com/seatlens/seatlens/app/forge"
	"github.com/seatlens/seatlens/app/forge/forgetest"
	"github.com/seatlens/seatlens/store/storetest"
)

const apiBase = "https://api.atlassian.com/ex/jira/c0ffee00-0000-4000-8000-000000000001"

func installationOf(clientKey string) string { return "ari:cloud:ecosystem::installation/" + clientKey }

// fitHeader is what Forge sends a remote: a FIT and, when the endpoint asks
// for it, the app system token.
func (h *harness) fitHeader(installationID, principal, systemToken string) http.Header {
	c := forgetest.Claims(installationID, apiBase, principal, h.clock())
	hdr := http.Header{"Authorization": {"Bearer " + forgetest.Sign(h.t, connecttest.Key(0), "forge-1", c)}}
	if systemToken != "" {
		hdr.Set(forge.SystemTokenHeader, systemToken)
	}
	return hdr
}

func TestForgeScheduledTriggerKeepsTheAppToken(t *testing.T) {
	h := newHarness(t, "https://seatlens.example.com")
	ctx := context.Background()
	expectStatus(t, h.install("client-a", "secret-a"), http.StatusNoContent)

	if _, err := h.app.tokens.Get(ctx, "client-a", 0); !errors.Is(err, forge.ErrNoToken) || !strings.Contains(err.Error(), "none received") {
		t.Fatalf("before any invocation: %v", err)
	}
	sys := forgetest.SystemToken(h.clock().Add(4 * time.Hour))
	rec := h.do("POST", "/forge/scheduled", `{"payload":{}}`, h.fitHeader(installationOf("client-a"), "", sys))
	expectStatus(t, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Forge wants JSON answers, got %q", ct)
	}
	tok, err := h.app.tokens.Get(ctx, "client-a", 2*time.Hour)
	if err != nil || tok.Token != sys || tok.APIBaseURL != apiBase || !tok.ExpiryKnown {
		t.Fatalf("kept token %+v, %v", tok, err)
	}
	if at, err := h.st.TenantGet(ctx, "client-a", forge.StateBucket, []byte("scheduled-at")); err != nil || len(at) == 0 {
		t.Fatalf("scheduled run not recorded: %v", err)
	}
	// Sealed at rest: the token is not in the database file.
	raw, _ := h.st.TenantGet(ctx, "client-a", store.SecretsBucket, []byte("forge-app-token"))
	if strings.Contains(string(raw), sys) {
		t.Fatal("app token stored in plaintext")
	}

	// A shorter-lived token does not replace a longer-lived one.
	short := forgetest.SystemToken(h.clock().Add(90 * time.Minute))
	expectStatus(t, h.do("POST", "/forge/scheduled", `{}`, h.fitHeader(installationOf("client-a"), "", short)), http.StatusOK)
	if tok, _ := h.app.tokens.Get(ctx, "client-a", 0); tok.Token != sys {
		t.Fatal("a shorter-lived token replaced a longer-lived one")
	}

	// Survives a restart.
	h.st = storetest.Reopen(t, h.st)
	h.rebuild()
	if tok, err := h.app.tokens.Get(ctx, "client-a", time.Hour); err != nil || tok.Token != sys {
		t.Fatalf("after restart: %+v %v", tok, err)
	}

	// Asking for more lifetime than is left, then expiry: "no valid token" with why.
	h.advance(3 * time.Hour)
	if _, err := h.app.tokens.Get(ctx, "client-a", 2*time.Hour); !errors.Is(err, forge.ErrNoToken) || !strings.Contains(err.Error(), "left") {
		t.Fatalf("min lifetime: %v", err)
	}
	h.advance(2 * time.Hour)
	if _, err := h.app.tokens.Get(ctx, "client-a", 0); !errors.Is(err, forge.ErrNoToken) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired: %v", err)
	}
	// An already expired token is not kept.
	expectStatus(t, h.do("POST", "/forge/scheduled", `{}`, h.fitHeader(installationOf("client-a"), "", forgetest.SystemToken(h.clock().Add(-time.Minute)))), http.StatusOK)
	if _, err := h.app.tokens.Get(ctx, "client-a", 0); !errors.Is(err, forge.ErrNoToken) {
		t.Fatal("an expired token was kept")
	}
	// A token whose exp cannot be read gets the least documented lifetime.
	expectStatus(t, h.do("POST", "/forge/scheduled", `{}`, h.fitHeader(installationOf("client-a"), "", "opaque-token")), http.StatusOK)
	tok, err = h.app.tokens.Get(ctx, "client-a", 50*time.Minute)
	if err != nil || tok.ExpiryKnown || tok.ExpiresAt.Sub(h.clock()) != 55*time.Minute {
		t.Fatalf("opaque token: %+v %v", tok, err)
	}
	for _, secret := range []string{sys, short, "opaque-token"} {
		if strings.Contains(h.logs.String(), secret) {
			t.Fatal("an app token reached the logs")
		}
	}
}

func TestForgeUserEventsMarkRescans(t *testing.T) {
	h := newHarness(t, "https://seatlens.example.com")
	ctx := context.Background()
	expectStatus(t, h.install("client-a", "secret-a"), http.StatusNoContent)
	body := `{"eventType":"avi:jira:updated:user","atlassianId":"557058:zz","payload":{"retryContext":{"retryCount":1}}}`
	expectStatus(t, h.do("POST", "/forge/events/user", body, h.fitHeader(installationOf("client-a"), "", "")), http.StatusOK)
	raw, err := h.st.TenantGet(ctx, "client-a", rescan.PendingBucket, []byte("557058:zz"))
	if err != nil {
		t.Fatal(err)
	}
	var p rescan.Pending
	if err := json.Unmarshal(raw, &p); err != nil || len(p.Hints) != 1 || p.Hints[0].Event != "avi:jira:updated:user" || p.Hints[0].Cause != rescan.CauseForge {
		t.Fatalf("pending %+v %v", p, err)
	}
	expectStatus(t, h.do("POST", "/forge/events/user", `{"eventType":"avi:jira:updated:issue","atlassianId":"557058:zz"}`, h.fitHeader(installationOf("client-a"), "", "")), http.StatusBadRequest)
	expectStatus(t, h.do("POST", "/forge/events/user", `{"eventType":"avi:jira:updated:user"}`, h.fitHeader(installationOf("client-a"), "", "")), http.StatusBadRequest)
	expectStatus(t, h.do("POST", "/forge/events/user", body, nil), http.StatusUnauthorized)
	// A Connect JWT is not a FIT.
	expectStatus(t, h.do("POST", "/forge/events/user", body, jwtHeader(h.requestToken("client-a", "secret-a", "POST", "/forge/events/user"))), http.StatusUnauthorized)
	expectStatus(t, h.do("POST", "/forge/events/app", `{"eventType":"avi:forge:installed:app"}`, h.fitHeader(installationOf("client-a"), "", "")), http.StatusOK)
}

func TestForgeInvocationsOnTheAPI(t *testing.T) {
	h := newHarness(t, "https://seatlens.example.com")
	expectStatus(t, h.install("client-a", "secret-a"), http.StatusNoContent)
	expectStatus(t, h.install("client-b", "secret-b"), http.StatusNoContent)
	rec := h.do("GET", "/api/tenant", "", h.fitHeader(installationOf("client-a"), "557058:admin", ""))
	expectStatus(t, rec, http.StatusOK)
	if body := rec.Body.String(); !strings.Contains(body, `"clientKey":"client-a"`) || !strings.Contains(body, `"auth":"forge"`) || !strings.Contains(body, `"accountId":"557058:admin"`) {
		t.Fatalf("api/tenant via FIT: %s", body)
	}
	// A FIT is not accepted on Connect routes.
	expectStatus(t, h.do("GET", "/admin", "", h.fitHeader(installationOf("client-a"), "", "")), http.StatusUnauthorized)
	// An unknown installation, and one whose tenant uninstalled.
	expectStatus(t, h.do("GET", "/api/tenant", "", h.fitHeader(installationOf("nobody"), "", "")), http.StatusUnauthorized)
	expectStatus(t, h.uninstall("client-b"), http.StatusNoContent)
	expectStatus(t, h.do("GET", "/api/tenant", "", h.fitHeader(installationOf("client-b"), "", "")), http.StatusUnauthorized)

	// Reinstall gives a new installationId: the old one stops mapping.
	b := newInstallBody("client-a", "secret-a2", "installed")
	b["installationId"] = "ari:cloud:ecosystem::installation/client-a-v2"
	expectStatus(t, h.do("POST", "/lifecycle/installed", b.json(), jwtHeader(h.lifecycleToken("client-a", "installed", nil))), http.StatusNoContent)
	expectStatus(t, h.do("GET", "/api/tenant", "", h.fitHeader(installationOf("client-a"), "", "")), http.StatusUnauthorized)
	expectStatus(t, h.do("GET", "/api/tenant", "", h.fitHeader("ari:cloud:ecosystem::installation/client-a-v2", "", "")), http.StatusOK)
	// A bare UUID form of the installation id maps too.
	expectStatus(t, h.do("GET", "/api/tenant", "", h.fitHeader("client-a-v2", "", "")), http.StatusOK)
}

func TestForgeNotConfigured(t *testing.T) {
	h := newHarness(t, "https://seatlens.example.com")
	h.cfg.ForgeAppID = ""
	h.rebuild()
	expectStatus(t, h.install("client-a", "secret-a"), http.StatusNoContent)
	rec := h.do("POST", "/forge/scheduled", `{}`, h.fitHeader(installationOf("client-a"), "", ""))
	expectStatus(t, rec, http.StatusUnauthorized)
	if !strings.Contains(rec.Body.String(), "--forge-app-id") {
		t.Fatalf("the refusal should say what is missing: %s", rec.Body.String())
	}
}
