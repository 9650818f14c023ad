package atlassian

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// burstRate is Atlassian's documented burst limit of a Jira endpoint, in
// requests a second per tenant, endpoint and method: GET and POST 100,
// PUT and DELETE 50, GET /api/{version}/user 150, GET user/search 200
// (https://developer.atlassian.com/cloud/jira/platform/rate-limiting/).
func burstRate(method, path string) float64 {
	switch {
	case method == http.MethodGet && path == "/rest/api/3/user":
		return 150
	case method == http.MethodGet && path == "/rest/api/3/user/search":
		return 200
	case method == http.MethodPut || method == http.MethodDelete:
		return 50
	}
	return 100
}

// paceShare is the share of a burst limit the client keeps to: the site
// measures arrivals, which latency bunches, so running at the limit
// itself would still meet refusals (and their whole-second Retry-After).
const paceShare = 0.9

// Pacer spaces a tenant's calls of each endpoint to stay under the burst
// limits, so a scan slows itself a little instead of being refused and
// waiting a second or more each time. One bucket per method and path, as
// the site keeps them; each holds a second of its rate. Every client of
// one tenant should share one Pacer (Options.Pacer): the site counts the
// tenant's calls, whichever client sends them. The zero value is ready.
type Pacer struct {
	mu      sync.Mutex
	buckets map[string]*paceBucket
}

type paceBucket struct {
	tokens float64
	last   time.Time
}

// delay takes a token of the endpoint's bucket and says how long to wait
// before sending (0: at once). A token is taken even when the call must
// wait, so callers queue in order.
func (p *Pacer) delay(now time.Time, method, path string) time.Duration {
	if strings.HasPrefix(path, "/admin/") {
		return 0 // the Organizations API publishes no burst numbers
	}
	rate := burstRate(method, path) * paceShare
	key := method + " " + path
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.buckets == nil {
		p.buckets = map[string]*paceBucket{}
	}
	b := p.buckets[key]
	if b == nil {
		b = &paceBucket{tokens: rate, last: now}
		p.buckets[key] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(rate, b.tokens+el*rate)
		b.last = now
	}
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / rate * float64(time.Second))
}
