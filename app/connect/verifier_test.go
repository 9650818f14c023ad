package connect_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/seatlens/seatlens/app/apperr"
	"github.com/seatlens/seatlens/app/connect"
	"github.com/seatlens/seatlens/app/connect/connecttest"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

type tenantMap map[string]connect.Tenant

func (m tenantMap) LookupTenant(_ context.Context, k string) (connect.Tenant, bool, error) {
	if k == "broken" {
		return connect.Tenant{}, false, errors.New("disk on fire")
	}
	t, ok := m[k]
	return t, ok, nil
}

var tenants = tenantMap{
	"client-a":  {ClientKey: "client-a", SharedSecret: "secret-a", Installed: true},
	"client-b":  {ClientKey: "client-b", SharedSecret: "secret-b", Installed: true},
	"gone":      {ClientKey: "gone", SharedSecret: "secret-gone", Installed: false},
	"no-secret": {ClientKey: "no-secret", SharedSecret: "", Installed: true},
}

func newVerifier(t *testing.T, basePath string) *connect.Verifier {
	t.Helper()
	v, err := connect.NewVerifier(connect.VerifierConfig{
		Tenants: tenants, BasePath: basePath, ClockSkew: 30 * time.Second, Now: func() time.Time { return t0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func hs(t *testing.T, secret string, c jwt.Claims) string {
	return connecttest.Sign(t, jwt.SigningMethodHS256, []byte(secret), c, nil)
}

// TestVerifierRefusals names every way a token must fail (the list of
// atlassian-connect-spring-boot's JwtVerificationTest and more).
func TestVerifierRefusals(t *testing.T) {
	v := newVerifier(t, "")
	target := "/admin?xdm_e=https%3A%2F%2Fsite.atlassian.net&cp=&lic=none&q=a+b%2Bc*~"
	good := func() *connect.Claims { return connecttest.RequestClaims("client-a", "GET", target, "", t0) }
	rs := connecttest.Sign(t, jwt.SigningMethodRS256, connecttest.Key(0), good(), nil)
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, good()).SignedString(jwt.UnsafeAllowNoneSignatureType)
	hs384 := connecttest.Sign(t, jwt.SigningMethodHS384, []byte("secret-a"), good(), nil)

	cases := []struct {
		name, token, target string
		context             bool
		want                string
	}{
		{"valid", hs(t, "secret-a", good()), target, false, ""},
		{"malformed", "not.a.jwt", target, false, "malformed"},
		{"garbage", "%%%", target, false, "malformed"},
		{"wrong secret", hs(t, "secret-b", good()), target, false, "signature"},
		{"other tenant's secret with our iss", hs(t, "secret-b", connecttest.RequestClaims("client-a", "GET", target, "", t0)), target, false, "signature"},
		{"unknown tenant", hs(t, "x", connecttest.RequestClaims("stranger", "GET", target, "", t0)), target, false, "not an installed tenant"},
		{"uninstalled tenant", hs(t, "secret-gone", connecttest.RequestClaims("gone", "GET", target, "", t0)), target, false, "uninstalled"},
		{"empty secret", hs(t, "", connecttest.RequestClaims("no-secret", "GET", target, "", t0)), target, false, "no shared secret"},
		{"no iss", hs(t, "secret-a", func() *connect.Claims { c := good(); c.Issuer = ""; return c }()), target, false, "no iss"},
		{"expired", hs(t, "secret-a", func() *connect.Claims {
			c := good()
			c.ExpiresAt = jwt.NewNumericDate(t0.Add(-31 * time.Second))
			return c
		}()), target, false, "expired"},
		{"expired within skew", hs(t, "secret-a", func() *connect.Claims {
			c := good()
			c.ExpiresAt = jwt.NewNumericDate(t0.Add(-29 * time.Second))
			return c
		}()), target, false, ""},
		{"no exp", hs(t, "secret-a", func() *connect.Claims { c := good(); c.ExpiresAt = nil; return c }()), target, false, "required claim"},
		{"issued in the future", hs(t, "secret-a", func() *connect.Claims {
			c := good()
			c.IssuedAt = jwt.NewNumericDate(t0.Add(5 * time.Minute))
			return c
		}()), target, false, "future"},
		{"not yet valid", hs(t, "secret-a", func() *connect.Claims { c := good(); c.NotBefore = jwt.NewNumericDate(t0.Add(time.Minute)); return c }()), target, false, "not valid yet"},
		{"alg none", none, target, false, "algorithm"},
		{"alg RS256 on a tenant route", rs, target, false, "algorithm"},
		{"alg HS384", hs384, target, false, "algorithm"},
		{"no qsh", hs(t, "secret-a", func() *connect.Claims { c := good(); c.QSH = ""; return c }()), target, false, "no qsh"},
		{"wrong qsh", hs(t, "secret-a", good()), "/admin?q=tampered", false, "qsh"},
		{"query tampered after signing", hs(t, "secret-a", good()), target + "&extra=1", false, "qsh"},
		{"method differs", hs(t, "secret-a", connecttest.RequestClaims("client-a", "POST", target, "", t0)), target, false, "qsh"},
		{"context token on a page", hs(t, "secret-a", connecttest.ContextClaims("client-a", t0)), target, false, "only on /api"},
		{"context token on api", hs(t, "secret-a", connecttest.ContextClaims("client-a", t0)), "/api/tenant", true, ""},
		{"store down", hs(t, "x", connecttest.RequestClaims("broken", "GET", target, "", t0)), target, false, "store unavailable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "https://seatlens.example.com"+c.target, nil)
			p, err := v.Verify(context.Background(), r, c.token, c.context)
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if p.ClientKey != "client-a" || p.AccountID == "" {
					t.Fatalf("principal %+v", p)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted a forged or invalid token")
			}
			msg := apperr.SafeMessage(err)
			if !strings.Contains(msg, c.want) {
				t.Fatalf("reason %q does not mention %q", msg, c.want)
			}
			if c.name != "store down" && apperr.StatusFor(err) != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", apperr.StatusFor(err))
			}
			if strings.Contains(err.Error(), c.token) || strings.Contains(err.Error(), "secret-") {
				t.Fatalf("error text leaks the token or secret: %v", err)
			}
		})
	}
}

func TestVerifierStripsBasePath(t *testing.T) {
	v := newVerifier(t, "/connect")
	target := "/connect/admin?a=1"
	c := connecttest.RequestClaims("client-a", "GET", "/admin?a=1", "", t0) // signed as Jira does: relative to baseUrl
	r := httptest.NewRequest("GET", "https://apps.example.com"+target, nil)
	if _, err := v.Verify(context.Background(), r, hs(t, "secret-a", c), false); err != nil {
		t.Fatal(err)
	}
}

func TestVerifierFormBodyFallback(t *testing.T) {
	v := newVerifier(t, "")
	form := url.Values{"b": {"2"}, "a": {"1"}}
	c := connecttest.RequestClaims("client-a", "POST", "/submit?"+form.Encode(), "", t0)
	r := httptest.NewRequest("POST", "https://seatlens.example.com/submit", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if _, err := v.Verify(context.Background(), r, hs(t, "secret-a", c), false); err != nil {
		t.Fatalf("form-body qsh refused: %v", err)
	}
}

func TestExtractToken(t *testing.T) {
	mk := func(method, target, auth, ctype, body string) *http.Request {
		r := httptest.NewRequest(method, target, strings.NewReader(body))
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		return r
	}
	form := "application/x-www-form-urlencoded"
	cases := []struct {
		name string
		r    *http.Request
		want string
		err  bool
	}{
		{"query", mk("GET", "/x?jwt=q.q.q", "", "", ""), "q.q.q", false},
		{"header", mk("GET", "/x", "JWT h.h.h", "", ""), "h.h.h", false},
		{"header scheme case", mk("GET", "/x", "jwt h.h.h", "", ""), "h.h.h", false},
		{"form", mk("POST", "/x", "", form, "jwt=f.f.f&a=1"), "f.f.f", false},
		{"form ignored on GET", mk("GET", "/x", "", form, "jwt=f.f.f"), "", true},
		{"query and header", mk("GET", "/x?jwt=q.q.q", "JWT h.h.h", "", ""), "", true},
		{"query and form", mk("POST", "/x?jwt=q.q.q", "", form, "jwt=f.f.f"), "", true},
		{"twice in query", mk("GET", "/x?jwt=a.a.a&jwt=b.b.b", "", "", ""), "", true},
		{"bearer is not JWT", mk("GET", "/x", "Bearer h.h.h", "", ""), "", true},
		{"none", mk("GET", "/x", "", "", ""), "", true},
		{"empty", mk("GET", "/x?jwt=", "", "", ""), "", true},
		{"oversized", mk("GET", "/x?jwt="+strings.Repeat("a", 9000), "", "", ""), "", true},
	}
	for _, c := range cases {
		got, err := connect.ExtractToken(c.r)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("%s: got %q, %v", c.name, got, err)
		}
	}
}

// FuzzVerify feeds arbitrary tokens and targets to the verifier: it must
// never panic and never accept anything it did not sign.
func FuzzVerify(f *testing.F) {
	good := connecttest.Sign(f, jwt.SigningMethodHS256, []byte("secret-a"), connecttest.RequestClaims("client-a", "GET", "/admin", "", t0), nil)
	f.Add(good, "/admin")
	f.Add("eyJhbGciOiJub25lIn0.e30.", "/admin?a=1")
	f.Add("a.b.c", "/")
	v, err := connect.NewVerifier(connect.VerifierConfig{Tenants: tenants, Now: func() time.Time { return t0 }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, token, target string) {
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		r := &http.Request{Method: "GET", URL: u, RequestURI: target, Header: http.Header{}}
		p, err := v.Verify(context.Background(), r, token, true)
		if err == nil && token != good && p.Kind != connect.KindContext {
			// Only a token signed with a tenant secret can pass; the fuzzer
			// cannot produce an HMAC, so any other success is a bug.
			t.Fatalf("accepted token %q for %q", token, target)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	v, err := connect.NewVerifier(connect.VerifierConfig{Tenants: tenants, Now: func() time.Time { return t0 }})
	if err != nil {
		b.Fatal(err)
	}
	target := "/admin?xdm_e=https%3A%2F%2Fsite.atlassian.net&xdm_c=channel-io.seatlens.app__seatlens-admin&cp=&lic=active&cv=1001.0.0&tz=Europe%2FBerlin&loc=en-US"
	tok := connecttest.Sign(b, jwt.SigningMethodHS256, []byte("secret-a"), connecttest.RequestClaims("client-a", "GET", target, "", t0), nil)
	r := httptest.NewRequest("GET", "https://seatlens.example.com"+target, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(context.Background(), r, tok, false); err != nil {
			b.Fatal(err)
		}
	}
}
