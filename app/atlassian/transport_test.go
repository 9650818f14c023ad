package atlassian

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/seatlens/seatlens/app/connect/qsh"
)

type outboundGolden struct {
	Secret    string `json:"secret"`
	ClientKey string `json:"clientKey"`
	AppKey    string `json:"appKey"`
	Outbound  []struct {
		Name           string         `json:"name"`
		Method         string         `json:"method"`
		ProductBaseURL string         `json:"productBaseUrl"`
		URL            string         `json:"url"`
		Claims         map[string]any `json:"claims"`
		Token          string         `json:"token"`
	} `json:"outbound"`
}

// TestReproducesAtlassianJWT: for the same request and time our signer
// emits exactly the token Atlassian's atlassian-jwt@2.0.3 emits.
func TestReproducesAtlassianJWT(t *testing.T) {
	raw, err := os.ReadFile("../connect/testdata/atlassian-jwt/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g outboundGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Outbound) < 5 {
		t.Fatalf("only %d outbound vectors", len(g.Outbound))
	}
	for _, c := range g.Outbound {
		t.Run(c.Name, func(t *testing.T) {
			iat := int64(c.Claims["iat"].(float64))
			tr, err := NewSigningTransport(SigningConfig{
				AppKey: g.AppKey, ClientKey: g.ClientKey, SharedSecret: g.Secret, BaseURL: c.ProductBaseURL,
				Now: func() time.Time { return time.Unix(iat, 0) },
			})
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(c.URL)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tr.Token(c.Method, u)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.Token {
				t.Fatalf("token differs from atlassian-jwt's:\n got %s\nwant %s", got, c.Token)
			}
		})
	}
}

func newTransport(t *testing.T, base string, next http.RoundTripper) *SigningTransport {
	t.Helper()
	tr, err := NewSigningTransport(SigningConfig{
		AppKey: "io.seatlens.app", ClientKey: "client-1", SharedSecret: "s3cret", BaseURL: base, Next: next,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestSignsOnlyForTheTenantSite(t *testing.T) {
	var seen []*http.Request
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r)
		switch r.URL.Path {
		case "/wiki/redirect-away":
			http.Redirect(w, r, "http://127.0.0.2:1/steal", http.StatusFound)
		default:
			io.WriteString(w, "ok")
		}
	}))
	defer site.Close()
	client := &http.Client{Transport: newTransport(t, site.URL+"/wiki", http.DefaultTransport)}

	resp, err := client.Get(site.URL + "/wiki/rest/api/user/current?expand=operations")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(seen) != 1 {
		t.Fatalf("site saw %d requests", len(seen))
	}
	auth := seen[0].Header.Values("Authorization")
	if len(auth) != 1 || !strings.HasPrefix(auth[0], "JWT ") {
		t.Fatalf("want exactly one JWT Authorization header, got %q", auth)
	}
	var claims struct {
		jwt.RegisteredClaims
		QSH string `json:"qsh"`
	}
	if _, err := jwt.ParseWithClaims(strings.TrimPrefix(auth[0], "JWT "), &claims, func(*jwt.Token) (any, error) {
		return []byte("s3cret"), nil
	}, jwt.WithValidMethods([]string{"HS256"})); err != nil {
		t.Fatal(err)
	}
	if want := qsh.Hash("GET&/rest/api/user/current&expand=operations"); claims.QSH != want {
		t.Fatalf("qsh %s, want the hash with /wiki removed %s", claims.QSH, want)
	}
	if claims.Issuer != "io.seatlens.app" || len(claims.Audience) != 1 || claims.Audience[0] != "client-1" {
		t.Fatalf("claims %+v", claims)
	}
	if d := claims.ExpiresAt.Sub(claims.IssuedAt.Time); d != TokenLifetime {
		t.Fatalf("lifetime %s", d)
	}

	for name, target := range map[string]string{
		"other host":               "http://127.0.0.2:1/wiki/rest/api/x",
		"other scheme":             strings.Replace(site.URL, "http://", "https://", 1) + "/wiki/x",
		"outside the context path": site.URL + "/rest/api/3/myself",
		"path prefix lookalike":    site.URL + "/wikipedia/x",
		"credentials in URL":       strings.Replace(site.URL, "http://", "http://u:p@", 1) + "/wiki/x",
	} {
		before := len(seen)
		_, err := client.Get(target)
		if !errors.Is(err, ErrForeignHost) {
			t.Errorf("%s: err %v, want ErrForeignHost", name, err)
		}
		if len(seen) != before {
			t.Errorf("%s: request reached a server", name)
		}
	}

	// A redirect to another host must not carry the token there.
	_, err = client.Get(site.URL + "/wiki/redirect-away")
	if !errors.Is(err, ErrForeignHost) {
		t.Fatalf("redirect: err %v, want ErrForeignHost", err)
	}
}

func TestRefusesAHostOverride(t *testing.T) {
	tr := newTransport(t, "https://site.atlassian.net", roundTripFunc(func(r *http.Request) (*http.Response, error) {
		t.Fatal("a request with another Host header was sent")
		return nil, nil
	}))
	req, _ := http.NewRequest("GET", "https://site.atlassian.net/rest/api/3/myself", nil)
	req.Host = "other.atlassian.net"
	if _, err := tr.RoundTrip(req); !errors.Is(err, ErrForeignHost) {
		t.Fatalf("err %v", err)
	}
}

func TestReplacesACallerAuthorizationHeader(t *testing.T) {
	var got []string
	next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r.Header.Values("Authorization")
		return &http.Response{StatusCode: 204, Body: http.NoBody, Request: r}, nil
	})
	tr := newTransport(t, "https://site.atlassian.net", next)
	req, _ := http.NewRequest("GET", "https://site.atlassian.net/rest/api/3/myself", nil)
	req.Header.Set("Authorization", "Basic Zm9vOmJhcg==")
	if _, err := tr.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !strings.HasPrefix(got[0], "JWT ") {
		t.Fatalf("Authorization %q", got)
	}
	if req.Header.Get("Authorization") != "Basic Zm9vOmJhcg==" {
		t.Fatal("RoundTrip modified the caller's request")
	}
}

func TestConfigRefusals(t *testing.T) {
	for name, c := range map[string]SigningConfig{
		"empty secret":  {AppKey: "a", ClientKey: "c", BaseURL: "https://x.atlassian.net"},
		"no app key":    {ClientKey: "c", SharedSecret: "s", BaseURL: "https://x.atlassian.net"},
		"relative base": {AppKey: "a", ClientKey: "c", SharedSecret: "s", BaseURL: "/x"},
	} {
		if _, err := NewSigningTransport(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
