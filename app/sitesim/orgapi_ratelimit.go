package sitesim

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// The Organizations API's rate limit. Atlassian documents that "every
// request is rate limited" and that over the limit the answer is 429 until
// a counter resets, with X-RateLimit-Limit, X-RateLimit-Remaining and
// X-RateLimit-Reset on the service-accounts page
// (https://developer.atlassian.com/cloud/admin/api-access/rest/intro/,
// orgapi-documented.md "Rate limits"); it publishes no numbers, no
// Retry-After and no format for the reset. The sim's choices, listed in
// unconfirmed.go: one token bucket per org key over the whole mount,
// holding one second of Options.OrgRateLimit and refilling continuously;
// a refusal comes after the key is checked (an unknown caller has no
// counter) and carries the three headers, the reset an RFC 3339 time (as
// Jira writes it) rounded up to the second when a token is due, and no
// Retry-After; its body is the operation family's 429 (a gateway
// ProxyError on v1 and workspaces, ADMIN-429-1 in the errors list on v2).

// orgBucket is the mount's token bucket (the zero value is full on first
// use).
type orgBucket struct {
	mu     sync.Mutex
	tokens float64
	last   time.Time
	primed bool
}

// orgTake takes a token, or reports when one is due.
func (s *Server) orgTake() (ok bool, due time.Time) {
	rate := float64(s.opts.OrgRateLimit)
	b := &s.orgLimit
	b.mu.Lock()
	defer b.mu.Unlock()
	now := s.now()
	if !b.primed {
		b.tokens, b.last, b.primed = rate, now, true
	}
	b.tokens = math.Min(rate, b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, time.Time{}
	}
	wait := time.Duration((1 - b.tokens) / rate * float64(time.Second))
	return false, now.Add(wait)
}

// orgRateLimited answers the rate limit's part of a request: nil when it
// may go on, else the 429 to send (its headers already set).
func (s *Server) orgRateLimited(w http.ResponseWriter, r *http.Request) *orgError {
	if s.opts.OrgRateLimit <= 0 {
		return nil
	}
	ok, due := s.orgTake()
	if ok {
		return nil
	}
	meterOf(r.Context()).limited = true
	reset := due.UTC().Truncate(time.Second)
	if reset.Before(due) {
		reset = reset.Add(time.Second)
	}
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.opts.OrgRateLimit))
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", reset.Format(time.RFC3339))
	return newOrgError(http.StatusTooManyRequests, orgCodeRateLimited, "Too Many Requests", "Rate limit exceeded; retry after "+reset.Format(time.RFC3339))
}
