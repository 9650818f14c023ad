package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/billing/billingtest"
	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/app/sitesim"
)

// BenchmarkScan10k is DESIGN.md §10's scan target: a full `seatlens scan`
// of a generated 10k-user site whose every answer takes 20 ms, with and
// without an org key. It reports the calls the scan made against the
// plan's minimum (planMinimum below, derived from the scenario, not from
// the collector) and the wall time against calls × latency ÷ concurrency
// (target ≤ 1.25).
//
//	go test ./cmd/seatlens -run '^$' -bench Scan10k -benchtime 1x
func BenchmarkScan10k(b *testing.B) {
	const users, latency = 10_000, 20 * time.Millisecond
	sc := sitesim.Generate(users, 1)
	for _, keyed := range []bool{true, false} {
		name := map[bool]string{true: "org-key", false: "api-token-only"}[keyed]
		b.Run(name, func(b *testing.B) {
			site, err := sitesim.NewSite(sc)
			if err != nil {
				b.Fatal(err)
			}
			srv, err := sitesim.New(site, sitesim.Options{AdminEmail: sitesim.DefaultAdminEmail, AdminToken: sitesim.DefaultAdminToken,
				Faults: sitesim.Faults{Latency: latency}})
			if err != nil {
				b.Fatal(err)
			}
			inFlight := &gauge{}
			ts := httptest.NewServer(inFlight.wrap(srv))
			defer ts.Close()
			args := []string{"scan", "--site", ts.URL, "--email", sitesim.DefaultAdminEmail, "--token", sitesim.DefaultAdminToken,
				"--concurrency", fmt.Sprint(scan.DefaultConcurrency), "--progress", "never"}
			if keyed {
				args = append(args, "--org-url", ts.URL, "--org-id", sitesim.DefaultOrgID, "--org-key", sitesim.DefaultOrgKey)
			}
			minimum := billingtest.PlanMinimum(sc, billingtest.Reach{OrgKey: keyed, JiraAdmin: true, CheckJira: true})
			var calls, peak int
			var wall, collect time.Duration
			for b.Loop() {
				srv.ResetUsage()
				inFlight.reset()
				var stderr bytes.Buffer
				start := time.Now()
				if err := run(context.Background(), args, io.Discard, &stderr, os.Getenv); err != nil {
					b.Fatal(err)
				}
				wall = time.Since(start)
				calls, peak = srv.Usage().Total.Calls, inFlight.peak()
				m := regexp.MustCompile(`calls in (\S+), explained`).FindStringSubmatch(stderr.String())
				if m == nil {
					b.Fatalf("no summary: %s", stderr.String())
				}
				collect, _ = time.ParseDuration(m[1])
			}
			bound := time.Duration(calls) * latency / time.Duration(scan.DefaultConcurrency)
			b.ReportMetric(float64(calls), "calls")
			b.ReportMetric(float64(minimum), "plan-min-calls")
			b.ReportMetric(float64(calls)/float64(minimum), "calls/min")
			b.ReportMetric(float64(peak), "max-in-flight")
			b.ReportMetric(wall.Seconds(), "wall-s")
			b.ReportMetric(wall.Seconds()/bound.Seconds(), "wall/bound")
			// The calls alone (credential checks included, explaining and
			// writing the output excluded), against the same bound.
			b.ReportMetric(collect.Seconds()/bound.Seconds(), "calls-wall/bound")
		})
	}
}

// gauge measures the most requests the site had in hand at once: the
// scan's concurrency as the site saw it.
type gauge struct {
	mu        sync.Mutex
	now, high int
}

func (g *gauge) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.now++
		g.high = max(g.high, g.now)
		g.mu.Unlock()
		defer func() {
			g.mu.Lock()
			g.now--
			g.mu.Unlock()
		}()
		h.ServeHTTP(w, r)
	})
}

func (g *gauge) reset() {
	g.mu.Lock()
	g.high = 0
	g.mu.Unlock()
}

func (g *gauge) peak() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.high
}
