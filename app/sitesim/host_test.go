package sitesim

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/seatlens/seatlens/app/connect/qsh"
)

// TestKeyEndpoints: the install key is a PEM public key at its kid, any
// other kid is 404, and the JWKS carries the Forge key.
func TestKeyEndpoints(t *testing.T) {
	ts := defaultSite(t)
	resp, body := get(t, InstallKeysURL(ts.ts.URL)+"/"+InstallKid)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("install key: %d", resp.StatusCode)
	}
	if _, err := jwt.ParseRSAPublicKeyFromPEM(body); err != nil || !strings.Contains(string(body), "BEGIN PUBLIC KEY") {
		t.Fatalf("install key is not a PUBLIC KEY PEM: %v\n%s", err, body)
	}
	for _, kid := range []string{"sim-install-2", "", "../x"} {
		if resp, _ := get(t, InstallKeysURL(ts.ts.URL)+"/"+kid); resp.StatusCode != http.StatusNotFound {
			t.Errorf("kid %q: %d, want 404", kid, resp.StatusCode)
		}
	}
	if key := jwksKey(t, JWKSURL(ts.ts.URL), ForgeKid); key.N.BitLen() != 2048 {
		t.Fatalf("forge key has %d bits", key.N.BitLen())
	}
	req, _ := http.NewRequest(http.MethodPost, JWKSURL(ts.ts.URL), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST to the JWKS: %d", resp.StatusCode)
	}
}

// fakeApp is a Connect-on-Forge app that checks the site's install and
// invocation exactly as the protocol requires, independently of app/.
type fakeApp struct {
	t        *testing.T
	ts       *httptest.Server
	base     string
	site     string // the site's root URL, for its keys
	forgeApp string

	mu        sync.Mutex
	secret    string
	installID string
	token     string
	events    []string
	failed    []string
}

func newFakeApp(t *testing.T, site, forgeApp string) *fakeApp {
	a := &fakeApp{t: t, site: site, forgeApp: forgeApp}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /app/atlassian-connect.json", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"key": "io.test.app", "baseUrl": a.base,
			"lifecycle": map[string]string{"installed": "/lifecycle/installed", "uninstalled": "/lifecycle/uninstalled"},
			"scopes":    []string{"READ", "ADMIN"}})
	})
	mux.HandleFunc("POST /app/lifecycle/{event}", a.lifecycle)
	mux.HandleFunc("POST /app/forge/scheduled", a.scheduled)
	a.ts = httptest.NewServer(mux)
	t.Cleanup(a.ts.Close)
	a.base = a.ts.URL + "/app" // a base URL with a path: qsh must be relative to it
	return a
}

func (a *fakeApp) fail(w http.ResponseWriter, msg string) {
	a.mu.Lock()
	a.failed = append(a.failed, msg)
	a.mu.Unlock()
	http.Error(w, msg, http.StatusUnauthorized)
}

func (a *fakeApp) lifecycle(w http.ResponseWriter, r *http.Request) {
	var p lifecyclePayload
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		a.fail(w, "payload: "+err.Error())
		return
	}
	raw := strings.TrimPrefix(r.Header.Get("Authorization"), "JWT ")
	var claims struct {
		jwt.RegisteredClaims
		QSH string `json:"qsh"`
	}
	_, err := jwt.ParseWithClaims(raw, &claims, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		_, pemBody := get(a.t, InstallKeysURL(a.site)+"/"+kid)
		return jwt.ParseRSAPublicKeyFromPEM(pemBody)
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithAudience(a.base), jwt.WithIssuer(p.ClientKey),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	switch {
	case err != nil:
		a.fail(w, "install token: "+err.Error())
		return
	case claims.QSH != qsh.Of("POST", "/lifecycle/"+r.PathValue("event"), "", ""):
		a.fail(w, "qsh")
		return
	case p.EventType != r.PathValue("event") || p.Key != "io.test.app" || p.ProductType != "jira" ||
		!strings.HasPrefix(p.InstallationID, installARIPrefix) || p.BaseURL == "":
		a.fail(w, "payload fields")
		return
	case p.EventType == "installed" && len(p.SharedSecret) != sharedSecretLen:
		a.fail(w, "shared secret")
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if p.EventType == "installed" {
		a.secret, a.installID = p.SharedSecret, p.InstallationID
	}
	a.events = append(a.events, p.EventType)
	w.WriteHeader(http.StatusNoContent)
}

func (a *fakeApp) scheduled(w http.ResponseWriter, r *http.Request) {
	raw := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	var claims forgeClaims
	_, err := jwt.ParseWithClaims(raw, &claims, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		return jwksKey(a.t, JWKSURL(a.site), kid), nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithAudience(a.forgeApp), jwt.WithIssuer("forge/invocation-token"),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	if err != nil {
		a.fail(w, "FIT: "+err.Error())
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if claims.App.InstallationID != a.installID || claims.ID == "" || claims.App.Module["key"] != scheduledModuleKey ||
		len(claims.App.Installation.Contexts) != 1 || claims.App.APIBaseURL != a.site+"/ex/jira/"+claims.Context["cloudId"].(string) {
		a.failed = append(a.failed, "FIT claims")
		http.Error(w, "FIT claims", http.StatusUnauthorized)
		return
	}
	a.token = r.Header.Get("X-Forge-Oauth-System")
	a.events = append(a.events, "scheduled")
	w.WriteHeader(http.StatusOK)
}

// TestInstallSignedLifecycle: Install delivers a verifiable installed
// callback and a FIT with a working app token; the app's credentials work
// on the site until Uninstall.
func TestInstallSignedLifecycle(t *testing.T) {
	ts := newTestSite(t, DefaultScenario(), Options{ForgeScopes: []string{"read:jira-user", "read:user:jira", "read:application-role:jira", "read:avatar:jira", "read:group:jira"}})
	app := newFakeApp(t, ts.ts.URL, testForgeKey)
	ctx := context.Background()
	inst, err := ts.srv.Install(ctx, ts.ts.URL, app.base, testForgeKey)
	if err != nil {
		t.Fatalf("install: %v (app saw %v)", err, app.failed)
	}
	app.mu.Lock()
	if inst.SharedSecret != app.secret || inst.InstallationID != app.installID || inst.AppToken != app.token ||
		strings.Join(app.events, ",") != "installed,scheduled" || inst.AppKey != "io.test.app" {
		t.Fatalf("app saw secret %q id %q token %q events %v; install %+v", app.secret, app.installID, app.token, app.events, inst)
	}
	app.mu.Unlock()

	// The delivered app token calls product REST on the api mount.
	myself := func() int {
		req, _ := http.NewRequest(http.MethodGet, ts.ts.URL+ts.srv.APIBasePath()+"/rest/api/3/myself", nil)
		req.Header.Set("Authorization", "Bearer "+inst.AppToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := myself(); got != http.StatusOK {
		t.Fatalf("app token on /myself: %d", got)
	}
	if err := ts.srv.Uninstall(ctx, inst); err != nil {
		t.Fatalf("uninstall: %v (app saw %v)", err, app.failed)
	}
	if got := myself(); got != http.StatusUnauthorized {
		t.Fatalf("app token after uninstall: %d", got)
	}
	if len(app.failed) != 0 || app.events[len(app.events)-1] != "uninstalled" {
		t.Fatalf("app saw %v, failures %v", app.events, app.failed)
	}
}

// TestInstallFailures: a refused callback, a missing descriptor and a
// Forge install without scopes are errors, and nothing is registered.
func TestInstallFailures(t *testing.T) {
	ts := newTestSite(t, DefaultScenario(), Options{})
	app := newFakeApp(t, ts.ts.URL, testForgeKey)
	ctx := context.Background()
	if _, err := ts.srv.Install(ctx, ts.ts.URL, app.base, testForgeKey); err == nil || !strings.Contains(err.Error(), "ForgeScopes") {
		t.Fatalf("forge install without scopes: %v", err)
	}
	if _, err := ts.srv.Install(ctx, ts.ts.URL, app.ts.URL+"/nowhere", ""); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("missing descriptor: %v", err)
	}
	other := newTestSite(t, DefaultScenario(), Options{})
	// The app trusts the first site's keys: the other site's signature fails.
	if _, err := other.srv.Install(ctx, other.ts.URL, app.base, ""); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("install signed by another site's key: %v", err)
	}
	ts.srv.mu.RLock()
	defer ts.srv.mu.RUnlock()
	if len(ts.srv.apps) != 0 || len(other.srv.apps) != 0 {
		t.Fatalf("refused installs registered apps")
	}
}

func get(t *testing.T, u string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func jwksKey(t *testing.T, u, kid string) *rsa.PublicKey {
	t.Helper()
	_, body := get(t, u)
	var set struct {
		Keys []struct{ Kty, Kid, Use, Alg, N, E string }
	}
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if k.Kid == kid && k.Kty == "RSA" && k.Use == "sig" && k.Alg == "RS256" {
			n, _ := base64.RawURLEncoding.DecodeString(k.N)
			e, _ := base64.RawURLEncoding.DecodeString(k.E)
			return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		}
	}
	t.Fatalf("JWKS %s has no usable key %q: %s", u, kid, body)
	return nil
}
