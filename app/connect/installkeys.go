package connect

import (
	"container/list"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// DefaultInstallKeysURL is Atlassian's install-keys service
// (connect-protocol.md §2.3).
const DefaultInstallKeysURL = "https://connect-install-keys.atlassian.com"

// kidPattern is the key id charset GitLab's Jira Connect verifier allows
// (connect-protocol.md §2.3), split into "/"-separated segments so that a
// kid can never be empty, start or end with "/", contain "//", or contain
// "." or ":" — so it can never form "..", a scheme or a host.
var kidPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$`)

const (
	maxKidLen      = 256
	maxKeyBodySize = 16 << 10 // a PEM RSA public key is under 1 KiB
	minRSABits     = 2048
)

// ValidKid reports whether kid may be used to build a key URL.
func ValidKid(kid string) bool {
	return len(kid) <= maxKidLen && kidPattern.MatchString(kid)
}

// InstallKeys fetches and caches the RSA public keys that verify signed
// install tokens. Keys are immutable per kid, so positive answers are kept
// (bounded, least recently used out). Fetching is guarded because the kid
// comes from a token nobody has verified yet: one fetch per kid at a time,
// on a context of its own (a caller hanging up cannot fail it), failures
// remembered briefly, and fetches of keys not yet cached rate limited
// overall, so a flood of made-up kids cannot turn the app into a request
// amplifier or keep a real key out of the cache.
type InstallKeys struct {
	base        *url.URL
	client      *http.Client
	timeout     time.Duration
	now         func() time.Time
	maxEntries  int
	negativeTTL time.Duration
	limiter     *rate.Limiter

	mu       sync.Mutex
	lru      *list.List // of *keyEntry, front = most recent
	entries  map[string]*list.Element
	failures map[string]time.Time
	inflight map[string]*keyCall
	fetches  int
}

// keyCall is one fetch in flight that every caller for that kid waits on.
type keyCall struct {
	done chan struct{}
	key  *rsa.PublicKey
	err  error
}

type keyEntry struct {
	kid string
	key *rsa.PublicKey
}

// InstallKeysConfig configures InstallKeys.
type InstallKeysConfig struct {
	BaseURL    string        // e.g. DefaultInstallKeysURL; keys are at BaseURL/<kid>
	Timeout    time.Duration // per fetch, whatever the client's own timeout; default 5s
	Client     *http.Client  // default: http.DefaultClient (Timeout bounds each fetch)
	MaxEntries int           // cache bound; default 128
	// FetchesPerSecond bounds fetches of keys that are not cached yet
	// (burst 4); default 1. Atlassian rotates its install key rarely.
	FetchesPerSecond float64
	Now              func() time.Time
}

// NewInstallKeys validates the configuration.
func NewInstallKeys(c InstallKeysConfig) (*InstallKeys, error) {
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("connect: install keys URL %q must be an absolute http(s) URL without query", c.BaseURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	if c.Client == nil {
		c.Client = http.DefaultClient
	}
	if c.MaxEntries <= 0 {
		c.MaxEntries = 128
	}
	if c.FetchesPerSecond <= 0 {
		c.FetchesPerSecond = 1
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &InstallKeys{
		base: u, client: c.Client, timeout: c.Timeout, now: c.Now, maxEntries: c.MaxEntries, negativeTTL: 30 * time.Second,
		limiter: rate.NewLimiter(rate.Limit(c.FetchesPerSecond), 4),
		lru:     list.New(), entries: map[string]*list.Element{}, failures: map[string]time.Time{},
		inflight: map[string]*keyCall{},
	}, nil
}

// URLFor returns where the key for kid is fetched from.
func (k *InstallKeys) URLFor(kid string) (string, error) {
	if !ValidKid(kid) {
		return "", errors.New("kid has characters outside [A-Za-z0-9_-/] or is empty or too long")
	}
	u := *k.base
	u.Path = k.base.Path + "/" + kid
	return u.String(), nil
}

// Key returns the public key for kid, fetching it on first use.
func (k *InstallKeys) Key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	keyURL, err := k.URLFor(kid)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	if el, ok := k.entries[kid]; ok {
		k.lru.MoveToFront(el)
		key := el.Value.(*keyEntry).key
		k.mu.Unlock()
		return key, nil
	}
	if at, ok := k.failures[kid]; ok && k.now().Sub(at) < k.negativeTTL {
		k.mu.Unlock()
		return nil, errors.New("install key recently failed to load; not retrying yet")
	}
	call, ok := k.inflight[kid]
	if !ok {
		if !k.limiter.AllowN(k.now(), 1) {
			k.mu.Unlock()
			return nil, errors.New("too many install key fetches; try again shortly")
		}
		call = &keyCall{done: make(chan struct{})}
		k.inflight[kid] = call
		k.fetches++
		go k.run(kid, keyURL, call)
	}
	k.mu.Unlock()
	select {
	case <-call.done:
		return call.key, call.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run fetches one key on a context of its own and publishes the result.
func (k *InstallKeys) run(kid, keyURL string, call *keyCall) {
	ctx, cancel := context.WithTimeout(context.Background(), k.timeout)
	defer cancel()
	call.key, call.err = k.fetch(ctx, keyURL)
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.inflight, kid)
	defer close(call.done)
	if call.err != nil {
		if len(k.failures) >= k.maxEntries {
			clear(k.failures)
		}
		k.failures[kid] = k.now()
		return
	}
	delete(k.failures, kid)
	k.entries[kid] = k.lru.PushFront(&keyEntry{kid: kid, key: call.key})
	for k.lru.Len() > k.maxEntries {
		oldest := k.lru.Back()
		k.lru.Remove(oldest)
		delete(k.entries, oldest.Value.(*keyEntry).kid)
	}
}

// Fetches counts fetches started (tests and metrics).
func (k *InstallKeys) Fetches() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.fetches
}

func (k *InstallKeys) fetch(ctx context.Context, keyURL string) (*rsa.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, keyURL, nil)
	if err != nil {
		return nil, fmt.Errorf("install key request: %w", err)
	}
	req.Header.Set("Accept", "application/x-pem-file, text/plain")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("install key fetch: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxKeyBodySize+1))
	if err != nil {
		return nil, fmt.Errorf("install key read: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("install key server answered %d", resp.StatusCode)
	}
	if len(body) > maxKeyBodySize {
		return nil, fmt.Errorf("install key larger than %d bytes", maxKeyBodySize)
	}
	key, err := jwt.ParseRSAPublicKeyFromPEM(body)
	if err != nil {
		return nil, fmt.Errorf("install key is not an RSA public key PEM: %w", err)
	}
	if key.N.BitLen() < minRSABits {
		return nil, fmt.Errorf("install key has %d bits, fewer than %d", key.N.BitLen(), minRSABits)
	}
	return key, nil
}
