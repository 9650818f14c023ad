package forge_test

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/seatlens/seatlens/app/apperr"
	"github.com/seatlens/seatlens/app/connect"
	"github.com/seatlens/seatlens/app/connect/connecttest"
	"github.com/seatlens/seatlens/app/forge"
	"github.com/seatlens/seatlens/app/forge/forgetest"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

const (
	installA = "ari:cloud:ecosystem::installation/aaaaaaaa-0000-4000-8000-000000000001"
	apiBase  = "https://api.atlassian.com/ex/jira/c0ffee00-0000-4000-8000-000000000001"
)

type installMap map[string]string

func (m installMap) TenantForInstallation(_ context.Context, id string) (string, bool, error) {
	if id == "broken" {
		return "", false, errors.New("disk on fire")
	}
	ck, ok := m[id]
	return ck, ok, nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func setup(t *testing.T) (*forge.Verifier, *forgetest.JWKSServer, *clock) {
	t.Helper()
	js := forgetest.NewJWKSServer(t)
	js.Set(map[string]*rsa.PublicKey{"forge-1": &connecttest.Key(0).PublicKey})
	clk := &clock{t: t0}
	v, err := forge.NewVerifier(forge.VerifierConfig{
		AppID: forgetest.AppID, JWKSURL: js.URL + "/.well-known/jwks.json",
		Installations: installMap{installA: "client-a"}, ClockSkew: 5 * time.Second, Now: clk.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return v, js, clk
}

func fitRequest(token, systemToken string) *http.Request {
	r := httptest.NewRequest("POST", "https://seatlens.example.com/forge/scheduled", strings.NewReader(`{}`))
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	if systemToken != "" {
		r.Header.Set(forge.SystemTokenHeader, systemToken)
	}
	r.Header.Set("X-B3-Traceid", "abc")
	return r
}

func TestVerifyFIT(t *testing.T) {
	v, _, _ := setup(t)
	good := func() *forge.Claims { return forgetest.Claims(installA, apiBase, "557058:user", t0) }
	with := func(f func(*forge.Claims)) *forge.Claims { c := good(); f(c); return c }
	sign := func(key int, kid string, c jwt.Claims) string {
		return forgetest.Sign(t, connecttest.Key(key), kid, c)
	}
	hs := connecttest.Sign(t, jwt.SigningMethodHS256, connecttest.PublicPEM(&connecttest.Key(0).PublicKey), good(), map[string]any{"kid": "forge-1"})
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, good()).SignedString(jwt.UnsafeAllowNoneSignatureType)

	cases := []struct{ name, token, want string }{
		{"valid", sign(0, "forge-1", good()), ""},
		{"bare app uuid in aud is not the ARI", sign(0, "forge-1", with(func(c *forge.Claims) {
			c.Audience = jwt.ClaimStrings{strings.TrimPrefix(forgetest.AppID, forge.AppARIPrefix)}
		})), "audience"},
		{"no token", "", "missing"},
		{"other key, real kid", sign(1, "forge-1", good()), "signature"},
		{"unknown kid", sign(0, "forge-9", good()), "not found"},
		{"no kid", forgetest.Sign(t, connecttest.Key(0), "", good()), "no kid"},
		{"wrong issuer", sign(0, "forge-1", with(func(c *forge.Claims) { c.Issuer = "forge/other" })), "issuer"},
		{"wrong audience", sign(0, "forge-1", with(func(c *forge.Claims) {
			c.Audience = jwt.ClaimStrings{"ari:cloud:ecosystem::app/00000000-0000-0000-0000-000000000000"}
		})), "audience"},
		{"expired", sign(0, "forge-1", with(func(c *forge.Claims) { c.ExpiresAt = jwt.NewNumericDate(t0.Add(-10 * time.Second)) })), "expired"},
		{"no exp", sign(0, "forge-1", with(func(c *forge.Claims) { c.ExpiresAt = nil })), "required claim"},
		{"not yet valid", sign(0, "forge-1", with(func(c *forge.Claims) { c.NotBefore = jwt.NewNumericDate(t0.Add(time.Minute)) })), "not valid yet"},
		{"issued in the future", sign(0, "forge-1", with(func(c *forge.Claims) { c.IssuedAt = jwt.NewNumericDate(t0.Add(time.Minute)) })), "future"},
		{"unknown installation", sign(0, "forge-1", with(func(c *forge.Claims) { c.App.InstallationID = "ari:cloud:ecosystem::installation/unknown" })), "not mapped"},
		{"no installation", sign(0, "forge-1", with(func(c *forge.Claims) { c.App.InstallationID = "" })), "installationId"},
		{"alg confusion HS256 with the public key", hs, "RS256"},
		{"alg none", none, "RS256"},
		{"apiBaseUrl over http", sign(0, "forge-1", with(func(c *forge.Claims) { c.App.APIBaseURL = "http://api.evil.example/ex/jira/x" })), "https"},
		{"apiBaseUrl missing everywhere", sign(0, "forge-1", with(func(c *forge.Claims) { c.App.APIBaseURL = "" })), "apiBaseUrl"},
		{"icLabel not allowed characters", sign(0, "forge-1", with(func(c *forge.Claims) { c.ICLabel = "../evil" })), "icLabel"},
		{"icLabel without IC configuration", sign(0, "forge-1", with(func(c *forge.Claims) { c.ICLabel = "gov-1" })), "Isolated Cloud"},
		{"malformed", "a.b.c", "malformed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inv, err := v.Verify(context.Background(), fitRequest(c.token, ""))
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if inv.Principal.ClientKey != "client-a" || inv.Principal.Kind != connect.KindForge || inv.Principal.AccountID != "557058:user" {
					t.Fatalf("principal %+v", inv.Principal)
				}
				if inv.APIBaseURL != apiBase || inv.CloudID == "" || inv.InstallationID != installA {
					t.Fatalf("invocation %+v", inv)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if apperr.StatusFor(err) != http.StatusUnauthorized {
				t.Fatalf("status %d for %v", apperr.StatusFor(err), err)
			}
			if msg := apperr.SafeMessage(err); !strings.Contains(msg, c.want) {
				t.Fatalf("reason %q does not mention %q", msg, c.want)
			}
		})
	}
}

func TestAPIBaseURLFallsBackToInstallationContexts(t *testing.T) {
	v, _, _ := setup(t)
	c := forgetest.Claims(installA, "", "", t0)
	c.App.Installation.Contexts = append(c.App.Installation.Contexts, struct {
		Name       string `json:"name"`
		APIBaseURL string `json:"apiBaseUrl"`
		CloudID    string `json:"cloudId,omitempty"`
	}{Name: "ari:cloud:jira::site/x", APIBaseURL: apiBase, CloudID: "x"})
	inv, err := v.Verify(context.Background(), fitRequest(forgetest.Sign(t, connecttest.Key(0), "forge-1", c), ""))
	if err != nil || inv.APIBaseURL != apiBase {
		t.Fatalf("%+v %v", inv, err)
	}
}

func TestJWKSRotationAndOutage(t *testing.T) {
	v, js, clk := setup(t)
	ctx := context.Background()
	fit := func(kid string, key int) error {
		_, err := v.Verify(ctx, fitRequest(forgetest.Sign(t, connecttest.Key(key), kid, forgetest.Claims(installA, apiBase, "", clk.now())), ""))
		return err
	}
	if err := fit("forge-1", 0); err != nil {
		t.Fatal(err)
	}
	first := js.Requests()
	for range 20 {
		if err := fit("forge-1", 0); err != nil {
			t.Fatal(err)
		}
	}
	if js.Requests() != first {
		t.Fatal("a known key was fetched again")
	}
	// Rotation: a new kid appears; the first token with it refreshes the set.
	js.Set(map[string]*rsa.PublicKey{"forge-1": &connecttest.Key(0).PublicKey, "forge-2": &connecttest.Key(1).PublicKey})
	clk.add(31 * time.Second)
	if err := fit("forge-2", 1); err != nil {
		t.Fatalf("rotated key refused: %v", err)
	}
	// Unknown kids cannot hammer the JWKS: one refresh per cooldown.
	n := js.Requests()
	for range 50 {
		fit("forge-404", 0)
	}
	if js.Requests() > n+1 {
		t.Fatalf("%d JWKS fetches for unknown kids", js.Requests()-n)
	}
	// Outage: the last good set keeps working past its max age.
	js.FailWith(http.StatusServiceUnavailable)
	clk.add(11 * time.Minute)
	if err := fit("forge-1", 0); err != nil {
		t.Fatalf("known key refused during a JWKS outage: %v", err)
	}
	// A key dropped from the set stops working once the set is refreshed.
	js.FailWith(0)
	js.Set(map[string]*rsa.PublicKey{"forge-2": &connecttest.Key(1).PublicKey})
	clk.add(11 * time.Minute)
	if err := fit("forge-1", 0); err == nil {
		t.Fatal("a key removed from the JWKS still verifies after the refresh")
	}
}

func TestIsolatedCloudJWKS(t *testing.T) {
	js := forgetest.NewJWKSServer(t)
	js.Set(map[string]*rsa.PublicKey{"ic-1": &connecttest.Key(1).PublicKey})
	var paths []string
	var mu sync.Mutex
	ic := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		js.Config.Handler.ServeHTTP(w, r)
	}))
	defer ic.Close()
	v, err := forge.NewVerifier(forge.VerifierConfig{
		AppID: forgetest.AppID, JWKSURL: js.URL, ICJWKSTemplate: ic.URL + "/ic/{icLabel}/jwks.json",
		Installations: installMap{installA: "client-a"}, Now: func() time.Time { return t0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	c := forgetest.Claims(installA, apiBase, "", t0)
	c.ICLabel = "gov_east-1"
	if _, err := v.Verify(context.Background(), fitRequest(forgetest.Sign(t, connecttest.Key(1), "ic-1", c), "")); err != nil {
		t.Fatalf("IC token refused: %v", err)
	}
	if len(paths) != 1 || paths[0] != "/ic/gov_east-1/jwks.json" {
		t.Fatalf("IC JWKS fetched from %v", paths)
	}
}

func TestNewVerifierRefusesBadConfig(t *testing.T) {
	for name, c := range map[string]forge.VerifierConfig{
		"no app id":  {JWKSURL: "https://x/jwks", Installations: installMap{}},
		"bad app id": {AppID: "ari:cloud:ecosystem::app/not-a-uuid", JWKSURL: "https://x/jwks", Installations: installMap{}},
		"no lookup":  {AppID: forgetest.AppID, JWKSURL: "https://x/jwks"},
		"bad jwks":   {AppID: forgetest.AppID, JWKSURL: "jwks", Installations: installMap{}},
		"bad ic":     {AppID: forgetest.AppID, JWKSURL: "https://x/jwks", ICJWKSTemplate: "https://x/jwks", Installations: installMap{}},
	} {
		if _, err := forge.NewVerifier(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := forge.NewVerifier(forge.VerifierConfig{AppID: strings.TrimPrefix(forgetest.AppID, forge.AppARIPrefix), JWKSURL: "https://x/jwks", Installations: installMap{}}); err != nil {
		t.Errorf("bare uuid app id refused: %v", err)
	}
}

func TestParseJWKS(t *testing.T) {
	if _, err := forge.ParseJWKS([]byte(`{"keys":[{"kty":"EC","kid":"x"}]}`)); err == nil {
		t.Fatal("a set without RSA keys accepted")
	}
	if _, err := forge.ParseJWKS([]byte(`nope`)); err == nil {
		t.Fatal("garbage accepted")
	}
	doc := map[string]any{"keys": []map[string]string{{"kty": "RSA", "kid": "k", "n": "AQAB", "e": "AQAB"}}}
	raw, _ := json.Marshal(doc)
	if _, err := forge.ParseJWKS(raw); err == nil {
		t.Fatal("a tiny RSA modulus accepted")
	}
}

func TestParseUserEvent(t *testing.T) {
	cases := map[string]struct {
		body    string
		account string
		retry   int
		ok      bool
	}{
		"atlassianId top level": {`{"eventType":"avi:jira:updated:user","atlassianId":"557058:a"}`, "557058:a", 0, true},
		"under payload":         {`{"payload":{"eventType":"avi:jira:created:user","accountId":"557058:b","retryContext":{"retryCount":2}}}`, "557058:b", 2, true},
		"user object":           {`{"eventType":"avi:jira:deleted:user","user":{"accountId":"557058:c"}}`, "557058:c", 0, true},
		"no account":            {`{"eventType":"avi:jira:deleted:user"}`, "", 0, false},
		"no event type":         {`{"atlassianId":"557058:a"}`, "", 0, false},
		"not json":              {`{`, "", 0, false},
	}
	for name, c := range cases {
		ev, err := forge.ParseUserEvent([]byte(c.body))
		if (err == nil) != c.ok || ev.AccountID != c.account || ev.RetryCount != c.retry {
			t.Errorf("%s: %+v %v", name, ev, err)
		}
	}
}
