// Package forge speaks Forge Remote: it verifies Forge Invocation Tokens
// (FIT) against Atlassian's JWKS, maps a Forge installation to the Connect
// tenant, and keeps the app system token that comes with an invocation,
// sealed, until it expires (gaps-2026-11.md §3, connect-protocol.md §7).
package forge

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"time"
)

// DefaultJWKSURL is the production JWKS of Forge Invocation Tokens.
const DefaultJWKSURL = "https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json"

const (
	maxJWKSBytes = 256 << 10
	// Atlassian publishes no TTL. These follow the jose library its own
	// samples use: a refetch on an unknown kid at most every 30 s, and a
	// known set refreshed after 10 minutes (keys rotate).
	jwksCooldown = 30 * time.Second
	jwksMaxAge   = 10 * time.Minute
)

// JWKS fetches and caches one JSON Web Key Set. A kid missing from the
// cached set triggers a refresh (rate limited); a failed refresh keeps the
// last good set, so an outage of the CDN does not stop verification with
// keys already known.
type JWKS struct {
	url    string
	client *http.Client
	now    func() time.Time

	mu          sync.Mutex
	keys        map[string]*rsa.PublicKey
	fetchedAt   time.Time
	lastAttempt time.Time
	fetches     int
}

// NewJWKS returns a cache for the set at url.
func NewJWKS(url string, client *http.Client, now func() time.Time) *JWKS {
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	if now == nil {
		now = time.Now
	}
	return &JWKS{url: url, client: client, now: now}
}

// Key returns the RSA key with kid.
func (j *JWKS) Key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.now()
	key, known := j.keys[kid]
	stale := now.Sub(j.fetchedAt) >= jwksMaxAge
	if known && !stale {
		return key, nil
	}
	if now.Sub(j.lastAttempt) >= jwksCooldown || j.keys == nil {
		j.lastAttempt = now
		j.fetches++
		// Holding the lock while fetching serialises refreshes: concurrent
		// requests for an unknown kid cause one fetch, not many.
		keys, err := j.fetch(ctx)
		if err == nil {
			j.keys, j.fetchedAt = keys, now
		} else if j.keys == nil || !known {
			return nil, err
		}
	}
	if key, ok := j.keys[kid]; ok {
		return key, nil
	}
	return nil, fmt.Errorf("forge: no key %q in the JWKS", kid)
}

func (j *JWKS) fetch(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.url, nil)
	if err != nil {
		return nil, fmt.Errorf("forge: jwks request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := j.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("forge: jwks fetch: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("forge: jwks read: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("forge: jwks server answered %d", resp.StatusCode)
	}
	if len(body) > maxJWKSBytes {
		return nil, errors.New("forge: jwks larger than 256 KiB")
	}
	return ParseJWKS(body)
}

// ParseJWKS reads the RSA signing keys of a JWKS document; keys of other
// types or uses are skipped, and a set without any usable key is an error.
func ParseJWKS(body []byte) (map[string]*rsa.PublicKey, error) {
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			Use string `json:"use"`
			Alg string `json:"alg"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("forge: jwks is not JSON: %w", err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Kid == "" || (k.Use != "" && k.Use != "sig") || (k.Alg != "" && k.Alg != "RS256") {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			continue
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < 2048 || pub.E < 3 {
			continue
		}
		keys[k.Kid] = pub
	}
	if len(keys) == 0 {
		return nil, errors.New("forge: jwks has no usable RS256 key")
	}
	return keys, nil
}

// Fetches counts fetch attempts (tests and metrics).
func (j *JWKS) Fetches() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.fetches
}
