package app

import (
	"context"
	"github.com/seatlens/seatlens/app/forge"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/rs/zerolog"

	seatlens "github.com/seatlens/seatlens"
	"github.com/seatlens/seatlens/app/config"
	"github.com/seatlens/seatlens/app/connect/connecttest"
	"github.com/seatlens/seatlens/app/sitesim"
	"github.com/seatlens/seatlens/descriptor"
	"github.com/seatlens/seatlens/store"
	"github.com/seatlens/seatlens/store/storetest"
)

const simForgeAppID = "ari:cloud:ecosystem::app/5e0d3c1a-0000-4000-8000-00000000a11e"

// simPair is the real app served on loopback, configured to trust one
// simulated site's install keys and Forge JWKS.
type simPair struct {
	app     *App
	st      *store.Store
	appBase string
	site    *sitesim.Server
	siteURL string
}

func newSimSite(t *testing.T, scopes []string) (*sitesim.Server, string) {
	t.Helper()
	site, err := sitesim.NewSite(sitesim.DefaultScenario())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sitesim.New(site, sitesim.Options{ForgeScopes: scopes, ForgeUserEventsPath: descriptor.ForgeUserEvents.Path})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return srv, ts.URL
}

func newSimPair(t *testing.T) *simPair {
	t.Helper()
	// The app's base URL goes into New (descriptor, aud check), so the
	// port must be known before the app is built.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &simPair{st: storetest.Open(t), appBase: "http://" + ln.Addr().String()}
	cfg := config.Serve{
		Addr: ln.Addr().String(), BaseURL: p.appBase, DataDir: t.TempDir(),
		LogFormat: "json", LogLevel: "debug", ClockSkew: 30 * time.Second,
		UninstallGrace: 30 * 24 * time.Hour, BodyLimit: 1 << 20, ForgeAppID: simForgeAppID,
	}
	p.site, p.siteURL = newSimSite(t, appForgeScopes(t))
	cfg.InstallKeysURL = sitesim.InstallKeysURL(p.siteURL)
	cfg.ForgeJWKSURL = sitesim.JWKSURL(p.siteURL)
	p.app, err = New(cfg, Deps{Store: p.st, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: p.app.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return p
}

// TestSimInstallsIntoApp: the sim installs itself through the real signed
// lifecycle; the app keeps the tenant and the Forge app token, serves a
// page signed with the installed secret, and records the uninstall.
func TestSimInstallsIntoApp(t *testing.T) {
	p := newSimPair(t)
	ctx := context.Background()
	inst, err := p.site.Install(ctx, p.siteURL, p.appBase, simForgeAppID)
	if err != nil {
		t.Fatal(err)
	}
	tenant, err := p.st.Tenant(ctx, inst.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	if !tenant.Installed || tenant.SharedSecret != inst.SharedSecret || tenant.InstallationID != inst.InstallationID || tenant.BaseURL != p.siteURL {
		t.Fatalf("stored tenant %+v, install %+v", tenant, inst)
	}
	tok, err := p.app.tokens.Get(ctx, inst.ClientKey, 0)
	if err != nil || tok.Token != inst.AppToken {
		t.Fatalf("kept app token %q, %v; want the delivered one", tok.Token, err)
	}
	if _, err := p.st.TenantGet(ctx, inst.ClientKey, forge.StateBucket, []byte("scheduled-at")); err != nil {
		t.Fatalf("scheduled run not recorded: %v", err)
	}

	// A page load signed with the installed secret, as Jira's iframe.
	signed := connecttest.Sign(t, jwt.SigningMethodHS256, []byte(inst.SharedSecret),
		connecttest.RequestClaims(inst.ClientKey, "GET", "/admin", "", time.Now()), nil)
	if code := getStatus(t, p.appBase+"/admin?jwt="+signed); code != http.StatusOK {
		t.Fatalf("page signed with the installed secret: %d", code)
	}

	if err := p.site.Uninstall(ctx, inst); err != nil {
		t.Fatal(err)
	}
	tenant, err = p.st.Tenant(ctx, inst.ClientKey)
	if err != nil || tenant.Installed || tenant.SharedSecret != "" {
		t.Fatalf("after uninstall: %+v, %v", tenant, err)
	}
}

// TestSimInstallFromAnotherSiteRefused: a site whose keys the app was not
// pointed at cannot install, though it presents the same kid.
func TestSimInstallFromAnotherSiteRefused(t *testing.T) {
	p := newSimPair(t)
	forger, forgerURL := newSimSite(t, appForgeScopes(t))
	_, err := forger.Install(context.Background(), forgerURL, p.appBase, simForgeAppID)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("install signed by another site: %v, want the app's 401", err)
	}
	if ts, err := p.st.Tenants(context.Background()); err == nil && len(ts) != 0 {
		t.Fatalf("forged install stored %d tenants", len(ts))
	}
}

// appForgeScopes are the scopes of the app's manifest, which Forge would
// grant its app token.
func appForgeScopes(t testing.TB) []string {
	t.Helper()
	tpl, err := descriptor.Parse(seatlens.DescriptorTemplate)
	if err != nil {
		t.Fatal(err)
	}
	d := tpl.Descriptor()
	return d.ForgeScopes()
}

func getStatus(t *testing.T, u string) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
