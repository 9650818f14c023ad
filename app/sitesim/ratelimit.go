package sitesim

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Rate limits as billing-model.md §9 describes Jira Cloud's (source [JRL],
// developer.atlassian.com/cloud/jira/platform/rate-limiting):
//
//   - Points: every request costs a base of 1 point; an identity read
//     (GET of users, groups, project roles, permissions) adds 2 points per
//     object it returns; writes cost the base only. §5.5's worked example,
//     a group page of 8 users, is 1 + 8×2 = 17 points.
//   - Connect and Forge (app) traffic draws points from an hourly pool
//     (tier 1: 65,000 points/hour) that resets at the top of each UTC hour;
//     when it is empty every app request is refused until the reset
//     ("All requests are denied until the next hourly reset").
//   - Every caller, API-token (Basic) traffic included, is held to a
//     per-second token bucket per endpoint and method: GET 100, POST 100,
//     PUT 50, DELETE 50 requests/s, with custom rates for some endpoints.
//     API-token traffic draws no points ("governed by existing burst rate
//     limits").
//   - A refusal is 429 with Retry-After (seconds), X-RateLimit-Limit,
//     X-RateLimit-Remaining, X-RateLimit-Reset (ISO 8601) and
//     RateLimit-Reason (jira-quota-global-based, jira-burst-based).
//
// ===== CHOICES where §9 is vague (also listed in unconfirmed.go) =====
//
//  1. One pool per site. Atlassian's tier-1 pool belongs to one app and is
//     shared by all the tenants that app is installed on; the simulator is
//     one site whose Connect apps and Forge tokens stand in for Seatlens's
//     installs, so every app caller on the site draws from one pool. That
//     makes "another tenant spent the pool" reproducible with two apps.
//  2. Which operations are identity reads: every GET on users, groups,
//     group members and the current user (isIdentityRead). The licence
//     and application-role reads cost the base only: §9 names no
//     per-object cost for them. POST permissions/check is a read sent as a
//     POST; the table keys identity costs on GET, so it costs the base.
//  3. Objects are counted in the 2xx response body: the length of a JSON
//     array, of a page's "values", or 1 for a single object. Error answers
//     cost the base only.
//  4. Admission needs one point left (the base); the per-object part is
//     charged after the answer, so one call may overdraw the pool; the
//     overdraft counts against the same hour and Remaining never goes
//     below 0. Atlassian cannot know the object count before answering
//     either.
//  5. Requests refused by authentication or authorisation (401, and the
//     403 for a Connect scope the app lacks) are neither charged nor
//     rate-limited: the site checks credentials first, and an unknown
//     caller has no app to charge.
//  6. Burst buckets are per site, operation and method, shared by every
//     caller kind (per tenant, as §9 says); a bucket holds one second of
//     its rate and refills continuously. The quota is checked first, so a
//     request refused for quota spends no burst token. The custom rates
//     that map to served operations: GET /api/{version}/user 150 and
//     GET /api/search/user 200 (user/search).
//  7. Retry-After is whole seconds, rounded up, at least 1; on a burst
//     refusal X-RateLimit-Reset is now + Retry-After (a token is due by
//     then), so the two headers never disagree. A quota refusal
//     reports the pool as X-RateLimit-Limit; a burst refusal the bucket's
//     rate. Successful app calls carry X-RateLimit-NearLimit: true once
//     less than 20% of the pool is left; other success headers are not
//     sent (§9 documents their values on 429 only).
//  8. Rate limits are off unless RateLimits.Enabled, so existing callers
//     and benchmarks of the site are not throttled by surprise.
//
// =====================================================================

// DefaultPointsPerHour is Atlassian's tier-1 global pool (billing-model.md §9).
const DefaultPointsPerHour = 65_000

// Point costs (billing-model.md §9, §5.5).
const (
	pointsBase           = 1 // every request
	pointsIdentityObject = 2 // per user or group an identity read returns
)

// RateLimit-Reason values (billing-model.md §9).
const (
	ReasonQuotaGlobal = "jira-quota-global-based"
	ReasonBurst       = "jira-burst-based"
)

// RateLimits configure the simulated rate limits; the zero value is off.
type RateLimits struct {
	Enabled bool
	// PointsPerHour is the hourly pool app traffic draws from; 0 means
	// DefaultPointsPerHour.
	PointsPerHour int
}

// isIdentityRead reports whether an operation is charged per returned
// object (choice 2 above).
func isIdentityRead(opID string) bool {
	switch opID {
	case "getUsersFromGroup", "getAllUsers", "getAllUsersDefault", "findUsers",
		"getUser", "getCurrentUser", "bulkGetUsers", "getUserGroups",
		"bulkGetGroups", "getGroup", "findGroups":
		return true
	}
	return false
}

// burstRate is the per-second rate of an operation's bucket.
func burstRate(op operation) float64 {
	switch {
	case op.Method == http.MethodGet && op.Path == "/rest/api/3/user":
		return 150
	case op.Method == http.MethodGet && op.Path == "/rest/api/3/user/search":
		return 200
	case op.Method == http.MethodPut || op.Method == http.MethodDelete:
		return 50
	}
	return 100
}

// limiter holds the pool and the buckets of one site.
type limiter struct {
	enabled bool
	perHour int
	now     func() time.Time

	mu      sync.Mutex
	window  time.Time // start of the current UTC hour
	used    int       // points drawn in window
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(o RateLimits, now func() time.Time) *limiter {
	p := o.PointsPerHour
	if p <= 0 {
		p = DefaultPointsPerHour
	}
	return &limiter{enabled: o.Enabled, perHour: p, now: now, buckets: map[string]*bucket{}}
}

// refusal is a 429 the limiter gives, with its headers.
type refusal struct {
	reason     string
	limit      int
	reset      time.Time
	retryAfter time.Duration
}

func (rf *refusal) write(w http.ResponseWriter) {
	secs := int(math.Ceil(rf.retryAfter.Seconds()))
	if secs < 1 {
		secs = 1
	}
	h := w.Header()
	h.Set("Retry-After", strconv.Itoa(secs))
	h.Set("X-RateLimit-Limit", strconv.Itoa(rf.limit))
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", rf.reset.UTC().Format(time.RFC3339))
	h.Set("RateLimit-Reason", rf.reason)
	writeJSON(w, http.StatusTooManyRequests, jiraError(http.StatusTooManyRequests, "Rate limit exceeded ("+rf.reason+").").body())
}

// pointsDrawn reports whether a caller kind is charged points.
func pointsDrawn(kind string) bool { return kind == CredConnect || kind == CredForge }

// admit decides whether a request of kind for op may proceed now; on
// admission an app caller has drawn the base point (drawn). nearLimit
// reports that less than 20% of the pool is left.
func (l *limiter) admit(op operation, kind string) (rf *refusal, drawn int, nearLimit bool) {
	if !l.enabled {
		return nil, 0, false
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.roll(now)
	next := l.window.Add(time.Hour)
	if pointsDrawn(kind) && l.used+pointsBase > l.perHour {
		return &refusal{reason: ReasonQuotaGlobal, limit: l.perHour, reset: next, retryAfter: next.Sub(now)}, 0, true
	}
	rate := burstRate(op)
	key := op.Method + " " + op.Path
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: rate, last: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(rate, b.tokens+el*rate)
	}
	b.last = now
	if b.tokens < 1 {
		wait := time.Duration(math.Ceil((1-b.tokens)/rate)) * time.Second
		return &refusal{reason: ReasonBurst, limit: int(rate), reset: now.Add(wait), retryAfter: wait}, 0, false
	}
	b.tokens--
	if pointsDrawn(kind) {
		l.used += pointsBase
		return nil, pointsBase, (l.perHour-l.used)*5 < l.perHour
	}
	return nil, 0, false
}

// charge draws the rest of an admitted app call's points after it is
// answered (choice 4); a negative amount gives back what admit drew.
func (l *limiter) charge(points int) {
	if !l.enabled || points == 0 {
		return
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.roll(now)
	l.used = max(0, l.used+points) // a refund after the hour rolled must not go below empty
}

// roll starts a new pool at the top of each UTC hour.
func (l *limiter) roll(now time.Time) {
	if w := now.UTC().Truncate(time.Hour); !w.Equal(l.window) {
		l.window, l.used = w, 0
	}
}

// PoolRemaining is what is left of this hour's pool (tests, budgets).
func (s *Server) PoolRemaining() int {
	l := s.limits
	l.mu.Lock()
	defer l.mu.Unlock()
	l.roll(l.now())
	return max(0, l.perHour-l.used)
}

// callPoints is what a call of kind for op costs once answered with
// status and body: 0 for callers that draw no points.
func callPoints(op operation, kind string, status int, body []byte) int {
	if !pointsDrawn(kind) {
		return 0
	}
	if op.Method != http.MethodGet || !isIdentityRead(op.ID) || status < 200 || status > 299 {
		return pointsBase
	}
	return pointsBase + pointsIdentityObject*countObjects(body)
}

// countObjects counts the identity objects of an answer (choice 3).
func countObjects(body []byte) int {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return 0
	}
	switch body[0] {
	case '[':
		var a []json.RawMessage
		if json.Unmarshal(body, &a) != nil {
			return 0
		}
		return len(a)
	case '{':
		var page struct {
			Values *[]json.RawMessage `json:"values"`
		}
		if json.Unmarshal(body, &page) == nil && page.Values != nil {
			return len(*page.Values)
		}
		return 1
	}
	return 0
}

// bodyTee keeps a copy of what a handler writes, so the objects of an
// identity read can be counted after it answers.
type bodyTee struct {
	http.ResponseWriter
	keep   bool // copy the body (identity reads by apps only)
	status int
	buf    bytes.Buffer
}

func (t *bodyTee) WriteHeader(code int) {
	t.status = code
	t.ResponseWriter.WriteHeader(code)
}

func (t *bodyTee) Write(b []byte) (int, error) {
	if t.status == 0 {
		t.status = http.StatusOK
	}
	if t.keep {
		t.buf.Write(b)
	}
	return t.ResponseWriter.Write(b)
}
