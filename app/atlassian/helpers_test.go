package atlassian

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/sitesim"
)

// simSite is the simulated Atlassian site (app/sitesim) on loopback: Jira
// REST on its root, the Organizations API under /admin.
type simSite struct {
	srv *sitesim.Server
	ts  *httptest.Server
	sc  sitesim.Scenario
}

// startSim serves sc; wrap, when given, sits in front of the site (to
// count requests or inject what the site cannot produce).
func startSim(t *testing.T, sc sitesim.Scenario, o sitesim.Options, wrap func(http.Handler) http.Handler) *simSite {
	t.Helper()
	site, err := sitesim.NewSite(sc)
	if err != nil {
		t.Fatal(err)
	}
	if o.AdminEmail == "" {
		o.AdminEmail, o.AdminToken = sitesim.DefaultAdminEmail, sitesim.DefaultAdminToken
	}
	srv, err := sitesim.New(site, o)
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = srv
	if wrap != nil {
		h = wrap(srv)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return &simSite{srv: srv, ts: ts, sc: sc}
}

// jira is a client of the site's Jira REST as the API-token admin.
func (s *simSite) jira(t *testing.T, o Options) *Client {
	t.Helper()
	return mustClient(t, s.ts.URL, Basic(sitesim.DefaultAdminEmail, sitesim.DefaultAdminToken), o)
}

// org is a client of the site's Organizations API with its org key.
func (s *simSite) org(t *testing.T, o Options) *Client {
	t.Helper()
	return mustClient(t, s.ts.URL, Bearer(sitesim.DefaultOrgKey), o)
}

func mustClient(t *testing.T, base string, auth Authorizer, o Options) *Client {
	t.Helper()
	if o.Sleep == nil {
		// No test sleeps for real unless it asks to: waits are recorded.
		o.Sleep = (&sleepLog{}).Sleep
	}
	c, err := New(nil, base, auth, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sleepLog is an injected Sleep that returns at once and remembers what it
// was asked, optionally moving a fake clock forward by it.
type sleepLog struct {
	clock *fakeClock // nil: time does not move

	mu     sync.Mutex
	waits  []time.Duration
	before func(ctx context.Context, d time.Duration) // runs inside the sleep
}

func (s *sleepLog) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.waits = append(s.waits, d)
	before := s.before
	s.mu.Unlock()
	if before != nil {
		before(ctx, d)
	}
	if s.clock != nil {
		s.clock.Advance(d)
	}
	return ctx.Err()
}

func (s *sleepLog) Waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// fakeClock is a clock only the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// distinct returns the account IDs of a scenario group's members, once each.
func distinct(ids []string) map[string]bool {
	out := map[string]bool{}
	for _, id := range ids {
		out[id] = true
	}
	return out
}

// inFlight counts concurrent requests passing through a handler.
type inFlight struct {
	mu       sync.Mutex
	now, max int
}

func (f *inFlight) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.now++
		f.max = max(f.max, f.now)
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			f.now--
			f.mu.Unlock()
		}()
		next.ServeHTTP(w, r)
	})
}

func (f *inFlight) Max() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.max
}
