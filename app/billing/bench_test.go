package billing_test

import (
	"runtime"
	"testing"

	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/sitesim"
)

// BenchmarkExplain100k is DESIGN.md §10's engine target: 100k users × the
// generator's products explained in ≤ 300 ms and ≤ 500 MB. B/op is every
// byte allocated by one Explain, an upper bound on what it holds at once;
// heap-MB is the live heap after it, snapshot and findings included.
//
//	go test ./app/billing -run '^$' -bench Explain100k -benchtime 5x
func BenchmarkExplain100k(b *testing.B) {
	for _, tc := range []struct {
		name string
		snap func(sitesim.Scenario) *billing.Snapshot
	}{
		{"org", func(sc sitesim.Scenario) *billing.Snapshot { return snapshotWithOrg(sc, fixtureScannedAt) }},
		{"keyless", func(sc sitesim.Scenario) *billing.Snapshot { return snapshotKeyless(sc, fixtureScannedAt) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			snap := tc.snap(sitesim.Generate(100_000, 1))
			var f *billing.Findings
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				var err error
				if f, err = billing.Explain(snap, propertySettings); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
			b.ReportMetric(float64(f.Totals.Seats), "seats")
			b.ReportMetric(float64(len(snap.Products)), "products")
			runtime.KeepAlive(snap)
		})
	}
}
