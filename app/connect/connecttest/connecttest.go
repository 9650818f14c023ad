// Package connecttest plays Atlassian's side of the Connect protocol in
// tests: an install-keys server, RS256 install tokens and HS256 request and
// context tokens with real query string hashes.
package connecttest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/seatlens/seatlens/app/connect"
	"github.com/seatlens/seatlens/app/connect/qsh"
)

var (
	keyOnce sync.Once
	keys    [2]*rsa.PrivateKey
)

// Key returns one of two RSA keys generated once per test binary: 0 is
// "Atlassian's" key, 1 is an attacker's.
func Key(i int) *rsa.PrivateKey {
	keyOnce.Do(func() {
		for j := range keys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			keys[j] = k
		}
	})
	return keys[i]
}

// PublicPEM encodes a public key as Atlassian's key service serves it.
func PublicPEM(k *rsa.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// KeyServer is a stand-in for connect-install-keys.atlassian.com.
type KeyServer struct {
	*httptest.Server
	mu      sync.Mutex
	pems    map[string][]byte
	fetches atomic.Int64
	status  atomic.Int64 // when non-zero, answer every request with it
}

// NewKeyServer starts a key server; it is closed when the test ends.
func NewKeyServer(t testing.TB) *KeyServer {
	ks := &KeyServer{pems: map[string][]byte{}}
	ks.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ks.fetches.Add(1)
		if s := ks.status.Load(); s != 0 {
			w.WriteHeader(int(s))
			return
		}
		ks.mu.Lock()
		body, ok := ks.pems[strings.TrimPrefix(r.URL.Path, "/")]
		ks.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write(body)
	}))
	t.Cleanup(ks.Close)
	return ks
}

// Serve makes the server answer /<kid> with body.
func (ks *KeyServer) Serve(kid string, body []byte) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.pems[kid] = body
}

// Fetches counts requests served.
func (ks *KeyServer) Fetches() int { return int(ks.fetches.Load()) }

// FailWith makes every answer the given status (0 restores normal service).
func (ks *KeyServer) FailWith(status int) { ks.status.Store(int64(status)) }

// Sign signs claims with method and key, adding header fields.
func Sign(t testing.TB, method jwt.SigningMethod, key any, claims jwt.Claims, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

// RequestClaims are the claims Jira puts in a token for a request to the
// app: target is "/path?query" as it will be sent (without jwt), basePath
// the path of the app's base URL.
func RequestClaims(clientKey, method, target, basePath string, now time.Time) *connect.Claims {
	path, query := qsh.SplitRequestURI(target)
	return &connect.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    clientKey,
			Subject:   "557058:f1e2d3c4-aaaa-bbbb-cccc-123456789012",
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(3 * time.Minute)),
		},
		QSH: qsh.Of(method, path, query, basePath),
	}
}

// ContextClaims are the claims of an AP.context.getToken() token.
func ContextClaims(clientKey string, now time.Time) *connect.Claims {
	c := RequestClaims(clientKey, "GET", "/", "", now)
	c.QSH = qsh.ContextQSH
	return c
}

// InstallClaims are the claims of a signed install to target on the app
// at baseURL.
func InstallClaims(clientKey, baseURL, method, target, basePath string, now time.Time) *connect.Claims {
	c := RequestClaims(clientKey, method, target, basePath, now)
	c.Subject = ""
	c.Audience = jwt.ClaimStrings{baseURL}
	return c
}
