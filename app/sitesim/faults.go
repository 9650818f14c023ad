package sitesim

import (
	"context"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Faults make the site slow or failing, so clients' timeouts, retries and
// scan-time estimates (DESIGN.md §10: wall time ≤ 1.25 × calls × latency ÷
// concurrency) can be tested against it. The zero value is off.
//
// Choices (also in unconfirmed.go):
//   - Latency is a fixed delay before each routed request is handled, not
//     a distribution: the §10 bound is stated in terms of one latency, and
//     a fixed one keeps benchmarks comparable between runs. It applies to
//     the Organizations API mount too; injected failures do not (they are
//     Jira's ErrorCollection answers).
//   - Injected failures are decided after authentication and the rate
//     limits (a request refused there is not also failed), cost no points
//     (the site did no work), and alternate between 500 and 503 by the
//     same draw; a 503 carries Retry-After: 1, as billing-model.md §9 says
//     some 503s do, so clients that retry only with Retry-After are
//     exercised both ways. The body is Jira's ErrorCollection envelope.
//   - The draws come from one PCG stream seeded with Seed: a sequential
//     client sees the same failures on every run; concurrent clients see
//     the same number of failures per N requests, in a varying order.
type Faults struct {
	Latency   time.Duration // added before answering; 0: none
	ErrorRate float64       // fraction 0..1 of requests answered 500/503; 0: none
	Seed      uint64        // seeds the failure draws
	// FailMembershipCalls lists membership changes, by their number on
	// this server (1 is the first add or remove through product REST or
	// the Organizations API), that fail with a 500 and change nothing.
	FailMembershipCalls []int
}

// faulter is one site's fault state.
type faulter struct {
	latency time.Duration
	rate    float64

	mu  sync.Mutex
	rng *rand.Rand

	failMembership []int
	memberships    int // membership changes asked for so far
}

func newFaulter(f Faults) *faulter {
	return &faulter{latency: f.Latency, rate: min(max(f.ErrorRate, 0), 1),
		rng: rand.New(rand.NewPCG(f.Seed, f.Seed^0x5eed_1e75)), failMembership: slices.Clone(f.FailMembershipCalls)}
}

// delay waits for the configured latency, or until ctx ends (a client
// that gave up must not hold a goroutine for the rest of the delay).
func (f *faulter) delay(ctx context.Context) {
	if f.latency <= 0 {
		return
	}
	t := time.NewTimer(f.latency)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// fail draws whether this request fails, and how; nil means it does not.
func (f *faulter) fail() *apiError {
	if f.rate <= 0 {
		return nil
	}
	f.mu.Lock()
	u := f.rng.Float64()
	f.mu.Unlock()
	switch {
	case u >= f.rate:
		return nil
	case u < f.rate/2:
		return jiraError(http.StatusInternalServerError, "Internal server error (injected fault).")
	}
	return jiraError(http.StatusServiceUnavailable, "Service unavailable (injected fault).")
}

// writeFault answers an injected failure.
func writeFault(w http.ResponseWriter, e *apiError) {
	if e.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, e.Status, e.body())
}

// failMembership counts a membership change and says whether it is one
// of the calls to fail.
func (f *faulter) failMembershipCall() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.memberships++
	return slices.Contains(f.failMembership, f.memberships)
}
