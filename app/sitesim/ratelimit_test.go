package sitesim

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// testClock is an injectable clock the tests move by hand, so buckets and
// hourly pools are tested without sleeping.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Now()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// limitedSite serves a sized scenario with rate limits on, the given pool
// and clock, and the test Connect app installed with ADMIN scope.
func limitedSite(t *testing.T, perHour int, clk *testClock) *testSite {
	t.Helper()
	ts := newTestSite(t, SizedScenario(300, 3), Options{Now: clk.Now, Limits: RateLimits{Enabled: true, PointsPerHour: perHour}})
	ts.installConnectApp("ADMIN")
	return ts
}

// clockConnect signs Connect JWTs valid at the site's clock (the site
// checks exp against Options.Now).
func clockConnect(clk *testClock, key, secret string) cred {
	return connectCred(key, func(j *connectJWT) {
		j.key, j.secret = key, secret
		j.iat, j.exp = clk.Now(), clk.Now().Add(3*time.Minute)
	})
}

// TestPointsPerCall checks billing-model.md §9's formula, base 1 plus 2 per
// identity object returned, per credential kind: app calls are charged
// (group of 8 users = 17 points, §5.5), API-token calls never are.
func TestPointsPerCall(t *testing.T) {
	clk := newTestClock()
	ts := limitedSite(t, DefaultPointsPerHour, clk)
	connect := clockConnect(clk, testAppKey, testSecret)
	forge := forgeCred("forge", true, forgeScopes, time.Hour)
	members8 := q("groupId", GroupSoftwareUsers, "includeInactiveUsers", "true", "maxResults", "8")
	cases := []struct {
		c           cred
		path, query string
		want        int
	}{
		{connect, "/rest/api/3/group/member", members8, 17},
		{forge, "/rest/api/3/group/member", members8, 17},
		{connect, "/rest/api/3/user", q("accountId", bob), 3},
		{connect, "/rest/api/3/myself", "", 3},
		{forge, "/rest/api/3/users/search", q("maxResults", "5"), 11},
		{connect, "/rest/api/3/instance/license", "", 1},                    // not an identity read: base only
		{forge, "/rest/api/3/applicationrole", "", 1},                       // idem
		{connect, "/rest/api/3/user", q("accountId", "no-such-account"), 1}, // error answer: base only
		{basicCred(), "/rest/api/3/group/member", members8, 0},
		{basicCred(), "/rest/api/3/users/search", q("maxResults", "5"), 0},
	}
	for _, tc := range cases {
		before, pool := ts.srv.Usage().Total.Points, ts.srv.PoolRemaining()
		res := ts.do(tc.c, http.MethodGet, tc.path, tc.query, "")
		if res.status >= 500 || res.status == http.StatusTooManyRequests || res.status == http.StatusUnauthorized {
			t.Fatalf("%s GET %s: %d %s", tc.c.name, tc.path, res.status, res.body)
		}
		got := ts.srv.Usage().Total.Points - before
		if got != tc.want {
			t.Errorf("%s GET %s?%s (%d): %d points, want %d", tc.c.name, tc.path, tc.query, res.status, got, tc.want)
		}
		if drawn := pool - ts.srv.PoolRemaining(); drawn != tc.want {
			t.Errorf("%s GET %s: the pool lost %d points, the counters say %d", tc.c.name, tc.path, drawn, tc.want)
		}
	}
	// A write is charged the base only.
	// (Any group bob is not yet in will do.)
	for _, g := range []string{GroupContractors, GroupDiscovery, GroupAgents, GroupAllStaff} {
		before := ts.srv.Usage().Total.Points
		res := ts.do(forge, http.MethodPost, "/rest/api/3/group/user", q("groupId", g), `{"accountId":"`+bob+`"}`)
		if res.status != http.StatusCreated {
			continue
		}
		if got := ts.srv.Usage().Total.Points - before; got != 1 {
			t.Errorf("POST group/user: %d points, want 1", got)
		}
		return
	}
	t.Fatal("no group to add bob to")
}

// TestBasicTrafficDrawsNoPoints: API-token traffic is held to burst limits
// only, so it works with the app pool empty.
func TestBasicTrafficDrawsNoPoints(t *testing.T) {
	clk := newTestClock()
	ts := limitedSite(t, 1, clk)
	for range 20 {
		ts.get("/rest/api/3/users/search", q("maxResults", "10"), http.StatusOK, nil)
		clk.Advance(100 * time.Millisecond)
	}
	if ts.srv.PoolRemaining() != 1 || ts.srv.Usage().Credential(CredAPI).Points != 0 {
		t.Fatalf("Basic calls drew points: pool %d, counted %d", ts.srv.PoolRemaining(), ts.srv.Usage().Credential(CredAPI).Points)
	}
	ts.do(clockConnect(clk, testAppKey, testSecret), http.MethodGet, "/rest/api/3/myself", "", "") // 3 points from a pool of 1
	res := ts.do(forgeCred("forge", true, forgeScopes, time.Hour), http.MethodGet, "/rest/api/3/myself", "", "")
	if res.status != http.StatusTooManyRequests {
		t.Fatalf("Forge call with the pool empty: %d", res.status)
	}
	ts.get("/rest/api/3/users/search", q("maxResults", "10"), http.StatusOK, nil)
}

// checkRefusal asserts a 429 carries every header billing-model.md §9
// documents, with consistent values.
func checkRefusal(t *testing.T, res response, reason string, limit int, now time.Time) time.Time {
	t.Helper()
	if res.status != http.StatusTooManyRequests {
		t.Fatalf("%s %s: %d %s, want 429", res.req.Method, res.req.URL.Path, res.status, res.body)
	}
	h := res.header
	if got := h.Get("RateLimit-Reason"); got != reason {
		t.Errorf("RateLimit-Reason %q, want %q", got, reason)
	}
	if got := h.Get("X-RateLimit-Limit"); got != strconv.Itoa(limit) {
		t.Errorf("X-RateLimit-Limit %q, want %d", got, limit)
	}
	if got := h.Get("X-RateLimit-Remaining"); got != "0" {
		t.Errorf("X-RateLimit-Remaining %q, want 0", got)
	}
	secs, err := strconv.Atoi(h.Get("Retry-After"))
	if err != nil || secs < 1 {
		t.Errorf("Retry-After %q: want whole seconds ≥ 1", h.Get("Retry-After"))
	}
	reset, err := time.Parse(time.RFC3339, h.Get("X-RateLimit-Reset"))
	if err != nil {
		t.Fatalf("X-RateLimit-Reset %q: want ISO 8601: %v", h.Get("X-RateLimit-Reset"), err)
	}
	if d := reset.Sub(now); d < time.Duration(secs-1)*time.Second || d > time.Duration(secs)*time.Second {
		t.Errorf("X-RateLimit-Reset %s is %s from now, Retry-After says %ds", reset, d, secs)
	}
	var e struct{ ErrorMessages []string }
	res.json(t, &e)
	if len(e.ErrorMessages) != 1 {
		t.Errorf("429 body %s: want Jira's error envelope", res.body)
	}
	return reset
}

// TestSharedPool: two Connect apps and a Forge token all drain one hourly
// pool; once it is empty every app call is refused until the top of the
// next UTC hour, and then the pool is full again.
func TestSharedPool(t *testing.T) {
	clk := newTestClock()
	ts := limitedSite(t, 40, clk)
	const otherKey, otherSecret = "com.seatlens.other-tenant", "another-shared-secret-0123456789abcdef"
	ts.srv.RegisterConnectApp(ConnectApp{Key: otherKey, ClientKey: "client-key-other", SharedSecret: otherSecret,
		Scopes: []string{"ADMIN"}, AccountID: "557058:0a1b2c3d-0000-4000-8000-00000000c0df"})
	a, b := clockConnect(clk, testAppKey, testSecret), clockConnect(clk, otherKey, otherSecret)
	forge := forgeCred("forge", true, forgeScopes, time.Hour)
	members8 := q("groupId", GroupSoftwareUsers, "includeInactiveUsers", "true", "maxResults", "8")
	for _, c := range []cred{a, b} {
		if res := ts.do(c, http.MethodGet, "/rest/api/3/group/member", members8, ""); res.status != http.StatusOK {
			t.Fatalf("%s: %d %s", c.name, res.status, res.body)
		}
	}
	if got := ts.srv.PoolRemaining(); got != 40-34 {
		t.Fatalf("after two apps spent 17 each the pool has %d, want 6", got)
	}
	// 11 more: overdrawn; admitted with 5 of 40 left, so near the limit.
	if res := ts.do(forge, http.MethodGet, "/rest/api/3/users/search", q("maxResults", "5"), ""); res.status != http.StatusOK || res.header.Get("X-RateLimit-NearLimit") != "true" {
		t.Fatalf("forge with 6 points left: %d, X-RateLimit-NearLimit %q", res.status, res.header.Get("X-RateLimit-NearLimit"))
	}
	if got := ts.srv.PoolRemaining(); got != 0 {
		t.Fatalf("overdrawn pool reports %d remaining, want 0", got)
	}
	for _, c := range []cred{a, b, forge} {
		checkRefusal(t, ts.do(c, http.MethodGet, "/rest/api/3/myself", "", ""), ReasonQuotaGlobal, 40, clk.Now())
	}
	next := clk.Now().UTC().Truncate(time.Hour).Add(time.Hour)
	res := ts.do(a, http.MethodGet, "/rest/api/3/myself", "", "")
	if reset := checkRefusal(t, res, ReasonQuotaGlobal, 40, clk.Now()); !reset.Equal(next) {
		t.Errorf("quota reset %s, want the top of the hour %s", reset, next)
	}
	clk.Advance(next.Sub(clk.Now()))
	for _, c := range []cred{a, b, forge} {
		if res := ts.do(c, http.MethodGet, "/rest/api/3/myself", "", ""); res.status != http.StatusOK {
			t.Fatalf("%s after the hourly reset: %d %s", c.name, res.status, res.body)
		}
	}
	if got := ts.srv.PoolRemaining(); got != 40-9 {
		t.Errorf("new hour after three /myself calls: pool %d, want 31", got)
	}
}

// TestBurstBucketRefills: a GET endpoint takes 100 calls at one instant,
// refuses the 101st with jira-burst-based, and refills with the clock.
// API-token traffic is held to it too.
func TestBurstBucketRefills(t *testing.T) {
	clk := newTestClock()
	ts := limitedSite(t, DefaultPointsPerHour, clk)
	for i := range 100 {
		if res := ts.do(basicCred(), http.MethodGet, "/rest/api/3/applicationrole", "", ""); res.status != http.StatusOK {
			t.Fatalf("call %d within the burst: %d", i, res.status)
		}
	}
	checkRefusal(t, ts.do(basicCred(), http.MethodGet, "/rest/api/3/applicationrole", "", ""), ReasonBurst, 100, clk.Now())
	// Another endpoint has its own bucket.
	ts.get("/rest/api/3/myself", "", http.StatusOK, nil)
	clk.Advance(10 * time.Millisecond) // one token at 100/s
	ts.get("/rest/api/3/applicationrole", "", http.StatusOK, nil)
	checkRefusal(t, ts.do(basicCred(), http.MethodGet, "/rest/api/3/applicationrole", "", ""), ReasonBurst, 100, clk.Now())
	clk.Advance(time.Second) // full again, and never above capacity
	for range 100 {
		ts.get("/rest/api/3/applicationrole", "", http.StatusOK, nil)
	}
	checkRefusal(t, ts.do(basicCred(), http.MethodGet, "/rest/api/3/applicationrole", "", ""), ReasonBurst, 100, clk.Now())
	if got := ts.srv.Usage().Operation("getAllApplicationRoles").Limited; got != 3 {
		t.Errorf("counted %d burst refusals, want 3", got)
	}
}

// TestBurstRates: the documented per-endpoint rates (billing-model.md §9).
func TestBurstRates(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		want         float64
	}{
		{"GET", "/rest/api/3/user", 150}, {"GET", "/rest/api/3/user/search", 200},
		{"GET", "/rest/api/3/group/member", 100}, {"POST", "/rest/api/3/group/user", 100},
		{"DELETE", "/rest/api/3/group/user", 50}, {"PUT", "/rest/api/3/x", 50},
	} {
		if got := burstRate(operation{Method: tc.method, Path: tc.path}); got != tc.want {
			t.Errorf("%s %s: %v/s, want %v", tc.method, tc.path, got, tc.want)
		}
	}
}

func TestCountObjects(t *testing.T) {
	for body, want := range map[string]int{
		`[{"a":1},{"a":2}]`: 2, `{"values":[{},{},{}],"total":9}`: 3, `{"accountId":"x"}`: 1,
		`{"values":[]}`: 0, ``: 0, `[]`: 0, `not json`: 0,
	} {
		if got := countObjects([]byte(body)); got != want {
			t.Errorf("countObjects(%s) = %d, want %d", body, got, want)
		}
	}
}

// TestLimitsOffByDefault: the zero Options throttle nothing but still
// count points, so benchmarks can price a scan on a fast site.
func TestLimitsOffByDefault(t *testing.T) {
	ts := defaultSite(t)
	ts.installConnectApp("ADMIN")
	for range 150 {
		ts.get("/rest/api/3/applicationrole", "", http.StatusOK, nil)
	}
	ts.do(connectCred("connect", nil), http.MethodGet, "/rest/api/3/myself", "", "")
	if u := ts.srv.Usage(); u.Total.Limited != 0 || u.Total.Points != 3 {
		t.Fatalf("limits off: %+v", u.Total)
	}
}
