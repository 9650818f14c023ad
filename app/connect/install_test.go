package connect_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/seatlens/seatlens/app/apperr"
	"github.com/seatlens/seatlens/app/connect"
	"github.com/seatlens/seatlens/app/connect/connecttest"
)

const appBase = "https://seatlens.example.com"

func newInstallVerifier(t *testing.T, ks *connecttest.KeyServer, base string, now time.Time) *connect.InstallVerifier {
	t.Helper()
	keys, err := connect.NewInstallKeys(connect.InstallKeysConfig{BaseURL: ks.URL + "/keys", Timeout: 2 * time.Second, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	v, err := connect.NewInstallVerifier(connect.InstallVerifierConfig{Keys: keys, BaseURL: base, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func installRequest(token, target string) *http.Request {
	r := httptest.NewRequest("POST", appBase+target, strings.NewReader(`{}`))
	if token != "" {
		r.Header.Set("Authorization", "JWT "+token)
	}
	return r
}

func TestInstallVerifier(t *testing.T) {
	ks := connecttest.NewKeyServer(t)
	ks.Serve("keys/kid-1", connecttest.PublicPEM(&connecttest.Key(0).PublicKey))
	ks.Serve("keys/nested/kid-2", connecttest.PublicPEM(&connecttest.Key(0).PublicKey))
	ks.Serve("keys/small", connecttest.PublicPEM(&smallKey(t).PublicKey))
	ks.Serve("keys/not-pem", []byte("hello"))
	v := newInstallVerifier(t, ks, appBase, t0)

	target := "/lifecycle/installed"
	good := func() *connect.Claims {
		return connecttest.InstallClaims("client-a", appBase, "POST", target, "", t0)
	}
	rs := func(key int, kid string, c jwt.Claims) string {
		h := map[string]any{}
		if kid != "-" {
			h["kid"] = kid
		}
		return connecttest.Sign(t, jwt.SigningMethodRS256, connecttest.Key(key), c, h)
	}
	with := func(f func(*connect.Claims)) *connect.Claims { c := good(); f(c); return c }

	cases := []struct {
		name, token, target, want string
	}{
		{"valid", rs(0, "kid-1", good()), target, ""},
		{"valid nested kid", rs(0, "nested/kid-2", good()), target, ""},
		{"aud as string with trailing slash", rs(0, "kid-1", with(func(c *connect.Claims) { c.Audience = jwt.ClaimStrings{appBase + "/"} })), target, ""},
		{"aud among others", rs(0, "kid-1", with(func(c *connect.Claims) { c.Audience = jwt.ClaimStrings{"https://other.example", appBase} })), target, ""},
		{"no Authorization", "", target, "missing JWT"},
		{"other RSA key, real kid", rs(1, "kid-1", good()), target, "signature"},
		{"no kid", rs(0, "-", good()), target, "no kid"},
		{"unknown kid", rs(0, "kid-404", good()), target, "could not be obtained"},
		{"kid with dot-dot", rs(0, "../kid-1", good()), target, "invalid kid"},
		{"kid as URL", rs(0, "http://evil.example/kid-1", good()), target, "invalid kid"},
		{"kid with double slash", rs(0, "keys//kid-1", good()), target, "invalid kid"},
		{"kid with dot", rs(0, "kid.1", good()), target, "invalid kid"},
		{"kid too long", rs(0, strings.Repeat("k", 300), good()), target, "invalid kid"},
		{"key under 2048 bits", rs(0, "small", good()), target, "could not be obtained"},
		{"key not PEM", rs(0, "not-pem", good()), target, "could not be obtained"},
		{"wrong aud", rs(0, "kid-1", with(func(c *connect.Claims) { c.Audience = jwt.ClaimStrings{"https://evil.example.com"} })), target, "aud"},
		{"no aud", rs(0, "kid-1", with(func(c *connect.Claims) { c.Audience = nil })), target, "aud"},
		{"aud prefix lookalike", rs(0, "kid-1", with(func(c *connect.Claims) { c.Audience = jwt.ClaimStrings{appBase + ".evil.com"} })), target, "aud"},
		{"wrong qsh", rs(0, "kid-1", good()), "/lifecycle/uninstalled", "qsh"},
		{"context qsh", rs(0, "kid-1", with(func(c *connect.Claims) { c.QSH = "context-qsh" })), target, "qsh"},
		{"no qsh", rs(0, "kid-1", with(func(c *connect.Claims) { c.QSH = "" })), target, "qsh"},
		{"expired", rs(0, "kid-1", with(func(c *connect.Claims) { c.ExpiresAt = jwt.NewNumericDate(t0.Add(-time.Minute)) })), target, "expired"},
		{"no exp", rs(0, "kid-1", with(func(c *connect.Claims) { c.ExpiresAt = nil })), target, "required claim"},
		{"no iss", rs(0, "kid-1", with(func(c *connect.Claims) { c.Issuer = "" })), target, "no iss"},
		{"HS256 signed with a secret", connecttest.Sign(t, jwt.SigningMethodHS256, []byte("secret-a"), good(), map[string]any{"kid": "kid-1"}), target, "algorithm"},
		{"HS256 signed with the public key PEM", connecttest.Sign(t, jwt.SigningMethodHS256, connecttest.PublicPEM(&connecttest.Key(0).PublicKey), good(), map[string]any{"kid": "kid-1"}), target, "algorithm"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := v.Verify(context.Background(), installRequest(c.token, c.target), "client-a")
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if p.ClientKey != "client-a" || p.Kind != connect.KindInstall {
					t.Fatalf("principal %+v", p)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if apperr.StatusFor(err) != http.StatusUnauthorized {
				t.Fatalf("status %d", apperr.StatusFor(err))
			}
			if msg := apperr.SafeMessage(err); !strings.Contains(msg, c.want) {
				t.Fatalf("reason %q does not mention %q", msg, c.want)
			}
		})
	}
}

func smallKey(t *testing.T) *rsaKey {
	t.Helper()
	return mustSmallKey()
}

func TestInstallKeysCacheAndBounds(t *testing.T) {
	ks := connecttest.NewKeyServer(t)
	pemBytes := connecttest.PublicPEM(&connecttest.Key(0).PublicKey)
	for _, kid := range []string{"a", "b", "c"} {
		ks.Serve(kid, pemBytes)
	}
	now := t0
	keys, err := connect.NewInstallKeys(connect.InstallKeysConfig{BaseURL: ks.URL, MaxEntries: 2, FetchesPerSecond: 1000, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := keys.Key(ctx, "a"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ks.Fetches() != 1 {
		t.Fatalf("8 concurrent callers caused %d fetches, want 1", ks.Fetches())
	}
	before := ks.Fetches()
	for range 5 {
		if _, err := keys.Key(ctx, "a"); err != nil {
			t.Fatal(err)
		}
	}
	if ks.Fetches() != before {
		t.Fatal("a cached key was fetched again")
	}
	// Bounded: a, b, c with room for two evicts a.
	keys.Key(ctx, "b")
	keys.Key(ctx, "c")
	n := ks.Fetches()
	keys.Key(ctx, "a")
	if ks.Fetches() != n+1 {
		t.Fatal("cache is not bounded to MaxEntries")
	}

	// Failures: non-2xx is an error, remembered briefly, then retried.
	ks.FailWith(http.StatusServiceUnavailable)
	now = now.Add(time.Second) // refill the fetch budget
	if _, err := keys.Key(ctx, "d"); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("want a 503 error, got %v", err)
	}
	n = ks.Fetches()
	if _, err := keys.Key(ctx, "d"); err == nil || ks.Fetches() != n {
		t.Fatal("a failing kid was retried at once")
	}
	ks.FailWith(0)
	ks.Serve("d", pemBytes)
	now = now.Add(time.Minute)
	if _, err := keys.Key(ctx, "d"); err != nil {
		t.Fatalf("after the back-off the key should load: %v", err)
	}
}

// TestInstallKeysResistAbuse: the kid comes from an unverified token, so
// unknown kids are rate limited and a caller that hangs up cannot make a
// real key fail for the next caller.
func TestInstallKeysResistAbuse(t *testing.T) {
	ks := connecttest.NewKeyServer(t)
	ks.Serve("real", connecttest.PublicPEM(&connecttest.Key(0).PublicKey))
	now := t0
	keys, _ := connect.NewInstallKeys(connect.InstallKeysConfig{BaseURL: ks.URL, Now: func() time.Time { return now }})
	ctx := context.Background()
	for i := range 50 {
		keys.Key(ctx, fmt.Sprintf("made-up-%d", i))
	}
	if n := ks.Fetches(); n > 4 {
		t.Fatalf("50 made-up kids caused %d fetches; want at most the burst of 4", n)
	}
	// A caller that cancels at once does not poison the kid.
	now = now.Add(10 * time.Second)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := keys.Key(cctx, "real"); err == nil {
		t.Fatal("a cancelled caller got a key")
	}
	if _, err := keys.Key(ctx, "real"); err != nil {
		t.Fatalf("the real key failed after another caller hung up: %v", err)
	}
}

// TestInstallPrecheckFetchesNothing: a token that cannot pass (wrong aud,
// other tenant, expired, wrong qsh) never makes the app fetch a key.
func TestInstallPrecheckFetchesNothing(t *testing.T) {
	ks := connecttest.NewKeyServer(t)
	v := newInstallVerifier(t, ks, appBase, t0)
	target := "/lifecycle/installed"
	for name, mutate := range map[string]func(*connect.Claims){
		"wrong aud":   func(c *connect.Claims) { c.Audience = jwt.ClaimStrings{"https://evil.example"} },
		"other iss":   func(c *connect.Claims) { c.Issuer = "client-b" },
		"expired":     func(c *connect.Claims) { c.ExpiresAt = jwt.NewNumericDate(t0.Add(-time.Hour)) },
		"wrong qsh":   func(c *connect.Claims) { c.QSH = strings.Repeat("a", 64) },
		"missing exp": func(c *connect.Claims) { c.ExpiresAt = nil },
	} {
		c := connecttest.InstallClaims("client-a", appBase, "POST", target, "", t0)
		mutate(c)
		tok := connecttest.Sign(t, jwt.SigningMethodRS256, connecttest.Key(0), c, map[string]any{"kid": "kid-" + strings.ReplaceAll(name, " ", "-")})
		if _, err := v.Verify(context.Background(), installRequest(tok, target), "client-a"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if ks.Fetches() != 0 {
		t.Fatalf("%d key fetches for tokens that could not pass", ks.Fetches())
	}
}

func TestInstallKeysRefusesOversizeAndSlowBodies(t *testing.T) {
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("A", 20<<10)))
	}))
	defer big.Close()
	keys, _ := connect.NewInstallKeys(connect.InstallKeysConfig{BaseURL: big.URL})
	if _, err := keys.Key(context.Background(), "k"); err == nil || !strings.Contains(err.Error(), "larger") {
		t.Fatalf("oversize key accepted or wrong error: %v", err)
	}
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	keys, _ = connect.NewInstallKeys(connect.InstallKeysConfig{BaseURL: slow.URL, Timeout: 100 * time.Millisecond})
	start := time.Now()
	if _, err := keys.Key(context.Background(), "k"); err == nil {
		t.Fatal("a hanging key server must time out")
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("timeout not applied")
	}
}

func TestKidURL(t *testing.T) {
	keys, _ := connect.NewInstallKeys(connect.InstallKeysConfig{BaseURL: "https://keys.example.com/base/"})
	got, err := keys.URLFor("jira/abc-1")
	if err != nil || got != "https://keys.example.com/base/jira/abc-1" {
		t.Fatalf("URLFor = %q, %v", got, err)
	}
	for _, bad := range []string{"", "/abs", "a/", "..", "a/../b", "a%2F..", "a?b", "a#b", "http://x", "a b", "ä"} {
		if connect.ValidKid(bad) {
			t.Errorf("ValidKid(%q) = true", bad)
		}
	}
}

// golden is the part of testdata/atlassian-jwt/golden.json these tests use:
// tokens minted by Atlassian's own atlassian-jwt@2.0.3.
type golden struct {
	Secret     string `json:"secret"`
	ClientKey  string `json:"clientKey"`
	AppBaseURL string `json:"appBaseUrl"`
	HS256      []struct {
		Name, Method, URL, BaseURL string
		Token                      string `json:"token"`
		Claims                     struct {
			QSH string `json:"qsh"`
			Iat int64  `json:"iat"`
		} `json:"claims"`
	} `json:"hs256"`
	RS256 struct {
		Kid          string `json:"kid"`
		PublicKeyPem string `json:"publicKeyPem"`
		Cases        []struct {
			Name, Method, URL string
			BaseURL           string          `json:"baseUrl"`
			Body              json.RawMessage `json:"body"`
			Token             string          `json:"token"`
		} `json:"cases"`
	} `json:"rs256"`
}

func loadGolden(t *testing.T) golden {
	t.Helper()
	raw, err := os.ReadFile("testdata/atlassian-jwt/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

// TestAcceptsAtlassianJWTTokens: every token Atlassian's own library signs
// passes our verifiers, at the time it was signed for.
func TestAcceptsAtlassianJWTTokens(t *testing.T) {
	g := loadGolden(t)
	if len(g.HS256) < 8 || len(g.RS256.Cases) < 3 {
		t.Fatalf("golden file too small: %d/%d", len(g.HS256), len(g.RS256.Cases))
	}
	at := time.Unix(1700000060, 0)
	tm := tenantMap{g.ClientKey: {ClientKey: g.ClientKey, SharedSecret: g.Secret, Installed: true}}
	v, err := connect.NewVerifier(connect.VerifierConfig{Tenants: tm, Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range g.HS256 {
		t.Run("hs256/"+c.Name, func(t *testing.T) {
			r := httptest.NewRequest(c.Method, g.AppBaseURL+c.URL, nil)
			p, err := v.Verify(context.Background(), r, c.Token, true)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if p.ClientKey != g.ClientKey {
				t.Fatalf("principal %+v", p)
			}
			// The same token must fail once the query is tampered with.
			if c.Claims.QSH != "context-qsh" {
				r := httptest.NewRequest(c.Method, g.AppBaseURL+c.URL+map[bool]string{true: "&", false: "?"}[strings.Contains(c.URL, "?")]+"tampered=1", nil)
				if _, err := v.Verify(context.Background(), r, c.Token, true); err == nil {
					t.Fatal("tampered request accepted")
				}
			}
		})
	}
	ks := connecttest.NewKeyServer(t)
	ks.Serve(g.RS256.Kid, []byte(g.RS256.PublicKeyPem))
	for _, c := range g.RS256.Cases {
		t.Run("rs256/"+c.Name, func(t *testing.T) {
			iv := newInstallVerifierAt(t, ks.URL, c.BaseURL, at)
			r := httptest.NewRequest(c.Method, c.BaseURL+strings.TrimPrefix(c.URL, basePathOf(c.BaseURL)), strings.NewReader(string(c.Body)))
			r.Header.Set("Authorization", "JWT "+c.Token)
			p, err := iv.Verify(context.Background(), r, g.ClientKey)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if p.ClientKey != g.ClientKey {
				t.Fatalf("principal %+v", p)
			}
		})
	}
}

func newInstallVerifierAt(t *testing.T, keysURL, base string, now time.Time) *connect.InstallVerifier {
	t.Helper()
	keys, err := connect.NewInstallKeys(connect.InstallKeysConfig{BaseURL: keysURL, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	v, err := connect.NewInstallVerifier(connect.InstallVerifierConfig{Keys: keys, BaseURL: base, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func basePathOf(base string) string {
	p, _ := connect.BasePath(base)
	return p
}
