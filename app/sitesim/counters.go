package sitesim

import (
	"context"
	"net/http"
	"sync"
)

// Counts are the calls a site answered and the points they cost.
// Calls includes every answer; Limited (429 from the rate limits) and
// Faults (injected 500/503) count subsets of Calls, so a client's retries
// can be told apart from its useful calls.
type Counts struct {
	Calls, Points, Limited, Faults int
}

func (c *Counts) add(o Counts) {
	c.Calls += o.Calls
	c.Points += o.Points
	c.Limited += o.Limited
	c.Faults += o.Faults
}

// UsageKey names one operation (the OpenAPI operationId; "" for a request
// no operation served, such as a 404) called with one credential kind
// (CredConnect, CredForge, CredAPI, CredNone).
type UsageKey struct {
	Operation, Credential string
}

// Usage is a snapshot of a site's counters, for tests and benchmarks
// measuring what a scan costs in calls and points.
type Usage struct {
	Total Counts
	By    map[UsageKey]Counts
}

// Operation sums the counts of one operation over every credential kind.
func (u Usage) Operation(id string) Counts {
	var c Counts
	for k, v := range u.By {
		if k.Operation == id {
			c.add(v)
		}
	}
	return c
}

// Credential sums the counts of one credential kind over every operation.
func (u Usage) Credential(kind string) Counts {
	var c Counts
	for k, v := range u.By {
		if k.Credential == kind {
			c.add(v)
		}
	}
	return c
}

// usage is one site's live counters.
type usage struct {
	mu    sync.Mutex
	total Counts
	by    map[UsageKey]Counts
}

func newUsage() *usage { return &usage{by: map[UsageKey]Counts{}} }

// Usage returns a snapshot of the counters since New (or ResetUsage).
func (s *Server) Usage() Usage {
	s.usage.mu.Lock()
	defer s.usage.mu.Unlock()
	by := make(map[UsageKey]Counts, len(s.usage.by))
	for k, v := range s.usage.by {
		by[k] = v
	}
	return Usage{Total: s.usage.total, By: by}
}

// ResetUsage zeroes the counters (a benchmark measures one phase). The
// rate-limit pool is not refilled: it follows the clock, not the counters.
func (s *Server) ResetUsage() {
	s.usage.mu.Lock()
	defer s.usage.mu.Unlock()
	s.usage.total, s.usage.by = Counts{}, map[UsageKey]Counts{}
}

// meter is what one request learns on its way through the site; ServeHTTP
// puts it in the request's context and counts it once answered.
type meter struct {
	op      string
	points  int
	limited bool
	fault   bool
}

type meterKey struct{}

// withMeter attaches a fresh meter to r.
func withMeter(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), meterKey{}, &meter{}))
}

// meterOf returns the request's meter, or a throwaway one when the
// handler is reached without ServeHTTP (so hooks never check for nil).
func meterOf(ctx context.Context) *meter {
	if m, ok := ctx.Value(meterKey{}).(*meter); ok {
		return m
	}
	return &meter{}
}

// count adds one answered request to the counters.
// count adds a request under the credential the mount recognised (cred;
// "" falls back to the product mounts' reading of the header).
func (u *usage) count(r *http.Request, cred string) {
	m := meterOf(r.Context())
	c := Counts{Calls: 1, Points: m.points}
	if m.limited {
		c.Limited = 1
	}
	if m.fault {
		c.Faults = 1
	}
	if cred == "" {
		cred = credentialOf(r)
	}
	k := UsageKey{Operation: m.op, Credential: cred}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.total.add(c)
	v := u.by[k]
	v.add(c)
	u.by[k] = v
}

// beforeOperation runs for every routed request before authentication:
// it names the operation for the counters and adds the latency fault.
func (s *Server) beforeOperation(r *http.Request, op operation) {
	meterOf(r.Context()).op = op.ID
	s.faults.delay(r.Context())
}

// serveMetered serves an authenticated call through the rate limits and
// the fault injection, then charges its points. A refusal or an injected
// fault is answered here (nil is returned); otherwise h's answer is.
// Points are counted whether or not the limits are enforced, so a
// benchmark can measure a scan's cost on an unthrottled site.
func (s *Server) serveMetered(w http.ResponseWriter, r *http.Request, op operation, c caller, h handlerFunc) *apiError {
	m := meterOf(r.Context())
	rf, drawn, near := s.limits.admit(op, c.Kind)
	if rf != nil {
		m.limited = true
		rf.write(w)
		return nil
	}
	if near {
		w.Header().Set("X-RateLimit-NearLimit", "true")
	}
	if e := s.faults.fail(); e != nil {
		m.fault = true
		s.limits.charge(-drawn) // a failed call costs nothing (faults.go)
		writeFault(w, e)
		return nil
	}
	// Only identity reads by apps need their body to be priced.
	tee := &bodyTee{ResponseWriter: w, keep: pointsDrawn(c.Kind) && op.Method == http.MethodGet && isIdentityRead(op.ID)}
	aerr := h(tee, r, c)
	status := tee.status
	if aerr != nil {
		status = aerr.Status
	}
	m.points = callPoints(op, c.Kind, status, tee.buf.Bytes())
	s.limits.charge(m.points - drawn)
	return aerr
}
