package app

import (
	"context"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/config"
	"github.com/seatlens/seatlens/app/rescan"
	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/app/sitesim"
	"github.com/seatlens/seatlens/app/tenancy"
)

// BenchmarkTargetedRescan: one account of a scanned 10k-user site, named
// by a webhook, is read again and its seats, the sums and the seat index
// of the latest scan updated in place, with each credential mix; every
// answer of the site takes 20 ms. It reports the calls and the points one
// targeted rescan costs and its time, against a full scan's.
//
//	go test ./app -run '^$' -bench TargetedRescan -benchtime 20x
func BenchmarkTargetedRescan(b *testing.B) {
	const users, latency = 10_000, 20 * time.Millisecond
	sc := sitesim.Generate(users, 1)
	for _, mix := range credentialMixes {
		b.Run(mix.name, func(b *testing.B) {
			benchTargetedRescan(b, sc, sitesim.Options{Faults: sitesim.Faults{Latency: latency},
				Limits: sitesim.RateLimits{Enabled: true, PointsPerHour: config.DefaultPointsPerHour}}, mix.forge, mix.org, config.DefaultPointsPerHour)
		})
	}
}

// BenchmarkTargetedRescan100k is the same on a 100k-user site answering
// at once and without rate limits: what a rescan costs the server itself
// at that size.
//
//	go test ./app -run '^$' -bench TargetedRescan100k -benchtime 10x -timeout 30m
func BenchmarkTargetedRescan100k(b *testing.B) {
	sc := sitesim.Generate(100_000, 1)
	for _, mix := range []struct {
		name       string
		forge, org bool
	}{{"connect", false, false}, {"connect+org-key", false, true}} {
		b.Run(mix.name, func(b *testing.B) {
			benchTargetedRescan(b, sc, sitesim.Options{}, mix.forge, mix.org, 100*config.DefaultPointsPerHour)
		})
	}
}

func benchTargetedRescan(b *testing.B, sc sitesim.Scenario, o sitesim.Options, forge, org bool, pool int) {
	p := newScanPairWith(b, sc, o, forge, pool)
	ctx := context.Background()
	if org {
		cred := tenancy.OrgCredential{OrgID: sitesim.DefaultOrgID, Key: sitesim.DefaultOrgKey, CheckedAt: time.Now(), OK: true}
		if err := p.app.Tenancy().PutOrgCredential(ctx, p.inst.ClientKey, cred); err != nil {
			b.Fatal(err)
		}
	}
	waitQueued(b, p.app.Scans(), p.inst.ClientKey, "1")
	full, _ := scanAgain(b, p.app.Scans(), p.inst.ClientKey)
	_, f, err := p.app.Scans().Findings(ctx, p.inst.ClientKey, scan.Latest)
	if err != nil {
		b.Fatal(err)
	}
	w := p.app.worker
	w.Debounce = time.Nanosecond
	calls, points, i := 0, 0, 0
	for b.Loop() {
		id := f.Users[(i*97)%len(f.Users)].AccountID
		i++
		mark := rescan.Mark{AccountID: id, Key: "bench/" + id + "/" + time.Now().String(),
			Hint: rescan.Hint{Cause: rescan.CauseWebhook, Event: "user_updated", At: time.Now()}}
		if _, err := p.app.inbox.Mark(ctx, p.inst.ClientKey, rescan.CauseWebhook, []rescan.Mark{mark}); err != nil {
			b.Fatal(err)
		}
		if _, err := w.Turn(ctx, p.inst.ClientKey); err != nil {
			b.Fatal(err)
		}
		_, log, err := p.app.inbox.Rescans(ctx, p.inst.ClientKey, 1)
		if err != nil || len(log) != 1 || log[0].AccountID != id || log[0].State != rescan.StateDone {
			b.Fatalf("rescan of %s: %+v %v", id, log, err)
		}
		calls += log[0].Calls
		points += log[0].Points
	}
	n := float64(b.N)
	b.ReportMetric(float64(calls)/n, "calls/rescan")
	b.ReportMetric(float64(points)/n, "points/rescan")
	b.ReportMetric(float64(full.Calls), "full-scan-calls")
	b.ReportMetric(float64(full.Points), "full-scan-points")
}
