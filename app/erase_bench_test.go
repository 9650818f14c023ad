package app

import (
	"context"
	"fmt"
	"testing"

	"github.com/seatlens/seatlens/app/config"
	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/app/sitesim"
)

// BenchmarkErase100k: accounts Atlassian reported closed are erased from
// a scanned 100k-user site (two kept scans), everywhere Seatlens keeps
// them, one at a time and fifty at once: what a run of the personal data
// cycle costs the server per closed account.
//
//	go test ./app -run '^$' -bench Erase100k -benchtime 3x -timeout 30m
func BenchmarkErase100k(b *testing.B) {
	p := newScanPairWith(b, sitesim.Generate(100_000, 1), sitesim.Options{}, false, 100*config.DefaultPointsPerHour)
	ctx := context.Background()
	ck := p.inst.ClientKey
	waitQueued(b, p.app.Scans(), ck, "1")
	scanAgain(b, p.app.Scans(), ck)
	_, f, err := p.app.Scans().Findings(ctx, ck, scan.Latest)
	if err != nil {
		b.Fatal(err)
	}
	next := 0
	for _, n := range []int{1, 50} {
		b.Run(fmt.Sprintf("accounts=%d", n), func(b *testing.B) {
			for b.Loop() {
				ids := make([]string, n)
				for i := range ids {
					ids[i] = f.Users[(next*97)%len(f.Users)].AccountID
					next++
				}
				if err := (eraser{p.app}).Erase(ctx, ck, ids); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*n), "ms/account")
		})
	}
}
