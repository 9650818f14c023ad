package app

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/rs/zerolog"

	"github.com/seatlens/seatlens/app/config"
	"github.com/seatlens/seatlens/app/connect"
	"github.com/seatlens/seatlens/app/connect/connecttest"
	"github.com/seatlens/seatlens/app/forge/forgetest"
	"github.com/seatlens/seatlens/store"
	"github.com/seatlens/seatlens/store/storetest"
)

const appKey = "io.seatlens.app"

// harness is the app behind its real echo router and a real bbolt store,
// with a stand-in for Atlassian that signs installs and requests.
type harness struct {
	t    testing.TB
	app  *App
	st   *store.Store
	keys *connecttest.KeyServer
	jwks *forgetest.JWKSServer
	cfg  config.Serve
	base string // our base URL
	path string // its path
	logs *syncBuffer

	mu  sync.Mutex
	now time.Time
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newHarness(t testing.TB, base string) *harness {
	t.Helper()
	h := &harness{t: t, base: base, now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), logs: &syncBuffer{}}
	h.path, _ = connect.BasePath(base)
	h.keys = connecttest.NewKeyServer(t)
	h.keys.Serve("kid-1", connecttest.PublicPEM(&connecttest.Key(0).PublicKey))
	h.jwks = forgetest.NewJWKSServer(t)
	h.jwks.Set(map[string]*rsa.PublicKey{"forge-1": &connecttest.Key(0).PublicKey})
	h.st = storetest.Open(t)
	h.cfg = config.Serve{
		Addr: "127.0.0.1:0", BaseURL: base, DataDir: t.TempDir(), InstallKeysURL: h.keys.URL,
		LogFormat: "json", LogLevel: "debug", ClockSkew: 30 * time.Second,
		UninstallGrace: 30 * 24 * time.Hour, BodyLimit: 1 << 20,
		ForgeAppID: forgetest.AppID, ForgeJWKSURL: h.jwks.URL,
	}
	h.rebuild()
	return h
}

// rebuild builds a new App on the harness store, as a restart would.
func (h *harness) rebuild() {
	h.t.Helper()
	a, err := New(h.cfg, Deps{Store: h.st, Logger: zerolog.New(h.logs), Now: h.clock})
	if err != nil {
		h.t.Fatal(err)
	}
	h.app = a
}

func (h *harness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *harness) advance(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = h.now.Add(d)
}

// do sends a request through the router. target is relative to our base URL.
func (h *harness) do(method, target string, body string, header http.Header) *httptest.ResponseRecorder {
	h.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, h.base+target, r)
	for k, vs := range header {
		req.Header[k] = vs
	}
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.app.Handler().ServeHTTP(rec, req)
	return rec
}

func jwtHeader(token string) http.Header { return http.Header{"Authorization": {"JWT " + token}} }

type installBody map[string]any

func newInstallBody(clientKey, secret, event string) installBody {
	b := installBody{
		"key": appKey, "clientKey": clientKey, "serverVersion": "100", "pluginsVersion": "1001.0.0",
		"baseUrl": "https://" + clientKey + ".atlassian.net", "displayUrl": "https://" + clientKey + ".atlassian.net",
		"productType": "jira", "description": "Atlassian JIRA", "eventType": event,
		"installationId": "ari:cloud:ecosystem::installation/" + clientKey,
	}
	if secret != "" {
		b["sharedSecret"] = secret
	}
	return b
}

func (b installBody) json() string {
	out, _ := json.Marshal(b)
	return string(out)
}

// lifecycleToken is what Atlassian sends with installed/uninstalled.
func (h *harness) lifecycleToken(clientKey, event string, mutate func(*connect.Claims)) string {
	c := connecttest.InstallClaims(clientKey, h.base, "POST", "/lifecycle/"+event, "", h.clock())
	if mutate != nil {
		mutate(c)
	}
	return connecttest.Sign(h.t, jwt.SigningMethodRS256, connecttest.Key(0), c, map[string]any{"kid": "kid-1"})
}

func (h *harness) install(clientKey, secret string) *httptest.ResponseRecorder {
	h.t.Helper()
	return h.do("POST", "/lifecycle/installed", newInstallBody(clientKey, secret, "installed").json(),
		jwtHeader(h.lifecycleToken(clientKey, "installed", nil)))
}

func (h *harness) uninstall(clientKey string) *httptest.ResponseRecorder {
	h.t.Helper()
	return h.do("POST", "/lifecycle/uninstalled", newInstallBody(clientKey, "", "uninstalled").json(),
		jwtHeader(h.lifecycleToken(clientKey, "uninstalled", nil)))
}

// requestToken is what Jira signs for a request to target (relative to
// our base URL, without jwt).
func (h *harness) requestToken(clientKey, secret, method, target string) string {
	return connecttest.Sign(h.t, jwt.SigningMethodHS256, []byte(secret),
		connecttest.RequestClaims(clientKey, method, target, "", h.clock()), nil)
}

func (h *harness) contextToken(clientKey, secret string) string {
	return connecttest.Sign(h.t, jwt.SigningMethodHS256, []byte(secret), connecttest.ContextClaims(clientKey, h.clock()), nil)
}

// page loads target with the token in the query, as Jira's iframe does.
func (h *harness) page(clientKey, secret, target string) *httptest.ResponseRecorder {
	tok := h.requestToken(clientKey, secret, "GET", target)
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	return h.do("GET", target+sep+"jwt="+tok, "", nil)
}

func expectStatus(t testing.TB, rec *httptest.ResponseRecorder, want int) {
	t.Helper()
	if rec.Code != want {
		t.Fatalf("status %d, want %d; body %s", rec.Code, want, rec.Body.String())
	}
	if want >= 400 {
		var body struct {
			Message string `json:"message"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Message == "" {
			t.Fatalf("error answer is not JSON with a message: %q", rec.Body.String())
		}
	}
}
