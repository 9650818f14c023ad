// Package forgetest plays Forge's side in tests: a JWKS server and Forge
// Invocation Tokens signed as connect-protocol.md §7.2 and
// gaps-2026-11.md §3.6 describe.
package forgetest

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/seatlens/seatlens/app/forge"
)

// AppID is the app ARI the tests use.
const AppID = "ari:cloud:ecosystem::app/6f0b1c1e-8c1a-4b1e-9b1e-1c1e8c1a4b1e"

// JWKSServer serves a JWKS document that tests can change (rotation).
type JWKSServer struct {
	*httptest.Server
	mu       sync.Mutex
	keys     map[string]*rsa.PublicKey
	requests atomic.Int64
	status   atomic.Int64
}

// NewJWKSServer starts a JWKS server closed at the end of the test.
func NewJWKSServer(t testing.TB) *JWKSServer {
	s := &JWKSServer{keys: map[string]*rsa.PublicKey{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if st := s.status.Load(); st != 0 {
			w.WriteHeader(int(st))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(s.document())
	}))
	t.Cleanup(s.Close)
	return s
}

// Set replaces the served keys.
func (s *JWKSServer) Set(keys map[string]*rsa.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = keys
}

// FailWith answers every request with status (0 restores).
func (s *JWKSServer) FailWith(status int) { s.status.Store(int64(status)) }

// Requests counts requests served.
func (s *JWKSServer) Requests() int { return int(s.requests.Load()) }

func (s *JWKSServer) document() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var doc struct {
		Keys []map[string]string `json:"keys"`
	}
	for kid, k := range s.keys {
		doc.Keys = append(doc.Keys, map[string]string{
			"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
			"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes()),
		})
	}
	out, _ := json.Marshal(doc)
	return out
}

// Claims returns FIT claims for installationID as Forge issues them: 25 s
// lifetime, app and installation context, optional principal.
func Claims(installationID, apiBaseURL, principal string, now time.Time) *forge.Claims {
	c := &forge.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    forge.Issuer,
			Audience:  jwt.ClaimStrings{AppID},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(25 * time.Second)),
			ID:        "fit-" + now.Format("150405.000000000"),
		},
		Principal: principal,
	}
	c.App.ID = AppID
	c.App.InstallationID = installationID
	c.App.APIBaseURL = apiBaseURL
	c.App.AppVersion = "1.0.0"
	c.App.Environment.Type = "PRODUCTION"
	c.App.Module.Type = "core:endpoint"
	c.App.Module.Key = "ep-scheduled"
	c.App.Installation.ID = installationID
	c.Context = json.RawMessage(`{"cloudId":"c0ffee00-0000-4000-8000-000000000001"}`)
	return c
}

// Sign signs FIT claims with key under kid.
func Sign(t testing.TB, key *rsa.PrivateKey, kid string, c jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// SystemToken is an opaque-looking app token whose exp Forge sets.
func SystemToken(exp time.Time) string {
	enc := base64.RawURLEncoding
	payload, _ := json.Marshal(map[string]any{"exp": exp.Unix(), "sub": "app-system"})
	return enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc.EncodeToString(payload) + ".c2lnbmF0dXJl"
}
