package sitesim

import (
	"math"
	"net/http"
	"slices"
	"testing"
	"time"
)

// statuses makes n sequential Basic reads and returns their statuses.
func statuses(t *testing.T, f Faults, n int) ([]int, *testSite) {
	t.Helper()
	ts := newTestSite(t, DefaultScenario(), Options{Faults: f})
	out := make([]int, n)
	for i := range out {
		res := ts.do(basicCred(), http.MethodGet, "/rest/api/3/myself", "", "")
		out[i] = res.status
		if res.status >= 500 {
			var e struct {
				ErrorMessages []string
				Errors        map[string]string
			}
			res.json(t, &e)
			if len(e.ErrorMessages) != 1 || e.Errors == nil {
				t.Fatalf("injected %d body %s: want Jira's ErrorCollection envelope", res.status, res.body)
			}
			if (res.header.Get("Retry-After") == "1") != (res.status == http.StatusServiceUnavailable) {
				t.Fatalf("injected %d: Retry-After %q (only 503s carry it)", res.status, res.header.Get("Retry-After"))
			}
		}
	}
	return out, ts
}

// TestErrorRateSeeded: the 5xx rate is honoured within tolerance, both 500
// and 503 occur, the same seed fails the same requests, and the counters
// see every injected fault.
func TestErrorRateSeeded(t *testing.T) {
	const n, rate = 1000, 0.2
	f := Faults{ErrorRate: rate, Seed: 42}
	first, ts := statuses(t, f, n)
	count := map[int]int{}
	for _, s := range first {
		count[s]++
	}
	failed := count[500] + count[503]
	if got := float64(failed) / n; math.Abs(got-rate) > 0.04 {
		t.Errorf("failure rate %.3f, want %.2f ± 0.04 (%v)", got, rate, count)
	}
	if count[500] == 0 || count[503] == 0 || count[200]+failed != n {
		t.Errorf("statuses %v: want 200, 500 and 503 only", count)
	}
	if got := ts.srv.Usage().Total.Faults; got != failed {
		t.Errorf("counted %d faults, saw %d", got, failed)
	}
	again, _ := statuses(t, f, n)
	if !slices.Equal(first, again) {
		t.Error("the same seed failed different requests")
	}
	other, _ := statuses(t, Faults{ErrorRate: rate, Seed: 43}, n)
	if slices.Equal(first, other) {
		t.Error("another seed failed the same requests")
	}
}

func TestNoFaultsByDefault(t *testing.T) {
	got, _ := statuses(t, Faults{Seed: 42}, 200)
	for i, s := range got {
		if s != http.StatusOK {
			t.Fatalf("request %d: %d with ErrorRate 0", i, s)
		}
	}
}

// TestLatency: every answer waits at least the configured latency.
func TestLatency(t *testing.T) {
	ts := newTestSite(t, DefaultScenario(), Options{Faults: Faults{Latency: 5 * time.Millisecond}})
	for range 3 {
		start := time.Now()
		ts.get("/rest/api/3/myself", "", http.StatusOK, nil)
		if d := time.Since(start); d < 5*time.Millisecond {
			t.Fatalf("answered in %s, latency is 5ms", d)
		}
	}
}
