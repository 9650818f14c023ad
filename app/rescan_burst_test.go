package app

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/seatlens/seatlens/app/config"
	"github.com/seatlens/seatlens/app/rescan"
	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/app/sitesim"
)

// TestWebhookBurstIsRecordedAndCoalesced: 1,000 deliveries of user
// webhooks, 300 of them Jira's retries of earlier ones, sent eight at a
// time through the real router, are each recorded: 150 accounts pending,
// every delivery and every duplicate counted. Past 200 pending accounts
// the worker queues one full scan instead of 200 targeted ones.
func TestWebhookBurstIsRecordedAndCoalesced(t *testing.T) {
	h := newHarness(t, "https://seatlens.example.com")
	ctx := context.Background()
	expectStatus(t, h.install("client-a", "secret-a"), http.StatusNoContent)
	const (
		deliveries = 1000
		retries    = 300
		accounts   = 150
	)
	account := func(i int) string { return fmt.Sprintf("557058:%08d", i) }
	routes := []string{"/webhooks/user-created", "/webhooks/user-updated", "/webhooks/user-deleted"}
	events := []string{"user_created", "user_updated", "user_deleted"}
	delivery := func(i int) (route, body string, retry bool) {
		if i >= deliveries-retries {
			i, retry = i-(deliveries-retries), true // the same delivery again
		}
		k := i % len(routes)
		return routes[k], fmt.Sprintf(`{"timestamp":%d,"webhookEvent":"%s","user":{"accountId":"%s"}}`,
			1764158400000+int64(i), events[k], account(i%accounts)), retry
	}
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= deliveries {
					return
				}
				route, body, retry := delivery(i)
				hdr := jwtHeader(h.requestToken("client-a", "secret-a", "POST", route))
				if retry {
					hdr.Set("X-Atlassian-Webhook-Retry", "1")
				}
				if rec := h.do("POST", route, body, hdr); rec.Code != http.StatusNoContent {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d deliveries recorded in %s", deliveries, time.Since(start).Round(time.Millisecond))
	if failed.Load() != 0 {
		t.Fatalf("%d deliveries refused", failed.Load())
	}
	pending, err := h.app.inbox.PendingList(ctx, "client-a", 0)
	if err != nil {
		t.Fatal(err)
	}
	total, dups := 0, 0
	for _, p := range pending {
		total += p.Deliveries
		dups += p.Duplicates
	}
	if len(pending) != accounts || total != deliveries || dups != retries {
		t.Fatalf("%d accounts pending with %d deliveries, %d duplicates; want %d, %d, %d", len(pending), total, dups, accounts, deliveries, retries)
	}

	// The install's scan is still queued: the rescans wait for it.
	h.app.worker.Debounce = time.Millisecond
	h.advance(time.Second)
	if idle, err := h.app.worker.Turn(ctx, "client-a"); err != nil || idle {
		t.Fatalf("turn while a scan is queued: idle %v, %v", idle, err)
	}
	if n, _ := h.app.inbox.Pending(ctx, "client-a"); n != accounts {
		t.Fatalf("%d pending after a turn while a scan is queued", n)
	}

	// 60 more accounts: 210 pending, more than 200, so one full scan
	// covers them all.
	for i := accounts; i < accounts+60; i++ {
		route := "/webhooks/user-updated"
		body := fmt.Sprintf(`{"timestamp":1764159400000,"webhookEvent":"user_updated","user":{"accountId":"%s"}}`, account(i))
		expectStatus(t, h.do("POST", route, body, jwtHeader(h.requestToken("client-a", "secret-a", "POST", route))), http.StatusNoContent)
	}
	h.advance(time.Second)
	if _, err := h.app.worker.Turn(ctx, "client-a"); err != nil {
		t.Fatal(err)
	}
	if n, _ := h.app.inbox.Pending(ctx, "client-a"); n != 0 {
		t.Fatalf("%d pending after escalating", n)
	}
	scans, err := h.app.scans.Scans(ctx, "client-a")
	if err != nil || len(scans) != 1 || scans[0].State != scan.StateQueued {
		t.Fatalf("scans %+v %v: want the one queued scan", scans, err)
	}
	_, log, err := h.app.inbox.Rescans(ctx, "client-a", 1000)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range log {
		if r.State != rescan.StateEscalated || r.Scan != scans[0].ID || seen[r.AccountID] {
			t.Fatalf("rescan %+v", r)
		}
		seen[r.AccountID] = true
	}
	if len(seen) != accounts+60 {
		t.Fatalf("%d accounts escalated, want %d", len(seen), accounts+60)
	}
}

// TestRescansSurviveARestart: a server stopped with accounts still pending
// leaves them in the store; the next one rescans every one of them, and
// none twice.
func TestRescansSurviveARestart(t *testing.T) {
	p := newScanPairWith(t, sitesim.Generate(300, 3), sitesim.Options{}, false, config.DefaultPointsPerHour)
	rec := p.scanNow(t)
	f := p.findings(t, rec.ID)
	ctx := context.Background()
	var marks []rescan.Mark
	for _, u := range f.Users[:120] {
		marks = append(marks, rescan.Mark{AccountID: u.AccountID, Key: "test/" + u.AccountID,
			Hint: rescan.Hint{Cause: rescan.CauseWebhook, Event: "user_updated", At: time.Now()}})
	}
	if n, err := p.app.inbox.Mark(ctx, p.inst.ClientKey, rescan.CauseWebhook, marks); err != nil || n != 120 {
		t.Fatalf("marked %d: %v", n, err)
	}
	w := p.app.worker
	w.Batch, w.Debounce = 50, time.Millisecond
	time.Sleep(2 * time.Millisecond)
	if _, err := w.Turn(ctx, p.inst.ClientKey); err != nil {
		t.Fatal(err)
	}
	if n, _ := p.app.inbox.Pending(ctx, p.inst.ClientKey); n != 70 {
		t.Fatalf("%d pending after one batch, want 70", n)
	}

	// The next process, on the same store.
	next, err := New(p.app.cfg, Deps{Store: p.st, Logger: zerolog.New(p.logs)})
	if err != nil {
		t.Fatal(err)
	}
	next.worker.Batch, next.worker.Debounce, next.worker.Tick = 50, time.Millisecond, 10*time.Millisecond
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := next.scans.Start(rctx); err != nil {
		t.Fatal(err)
	}
	if err := next.worker.Start(rctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, err := next.inbox.Pending(ctx, p.inst.ClientKey)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d accounts still pending after the restart", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, log, err := next.inbox.Rescans(ctx, p.inst.ClientKey, 1000)
	if err != nil {
		t.Fatal(err)
	}
	done := map[string]int{}
	for _, r := range log {
		if r.State == rescan.StateDone {
			done[r.AccountID]++
		}
	}
	for _, m := range marks {
		if done[m.AccountID] != 1 {
			t.Errorf("%s rescanned %d times", m.AccountID, done[m.AccountID])
		}
	}
	if len(done) != len(marks) {
		t.Errorf("%d accounts rescanned, want %d", len(done), len(marks))
	}
	latest, err := next.scans.Scan(ctx, p.inst.ClientKey, scan.Latest)
	if err != nil || latest.ID != rec.ID || latest.Refreshed != 3 {
		t.Fatalf("latest %+v %v: want scan %s refreshed by 3 batches", latest, err, rec.ID)
	}
}

// TestScheduledScans: a tenant's full scan is queued a day (or a week)
// after its last one, never while one is queued, and never when off.
func TestScheduledScans(t *testing.T) {
	p := newScanPair(t, false)
	rec := p.scanNow(t)
	ctx := context.Background()
	at := time.Now()
	s := p.app.scheduler
	s.Now = func() time.Time { return at }
	due := func() bool {
		t.Helper()
		q, err := s.RunDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(q) == 1 && q[0] == p.inst.ClientKey
	}
	if due() {
		t.Fatal("a scan was queued right after one")
	}
	at = rec.QueuedAt.Add(25 * time.Hour)
	put := func(schedule string) {
		t.Helper()
		if code, body := p.call(t, "PUT", "/api/v1/settings", simAdmin, `{"schedule":"`+schedule+`"}`); code != http.StatusOK {
			t.Fatalf("settings: %d %s", code, body)
		}
	}
	put("weekly")
	if due() {
		t.Fatal("a weekly scan was queued after a day")
	}
	put("off")
	at = rec.QueuedAt.Add(8 * 24 * time.Hour)
	if due() {
		t.Fatal("a scan was queued with the schedule off")
	}
	put("daily")
	// The Forge scheduled trigger's turn for this tenant queues it.
	if queued, err := s.RunTenant(ctx, p.inst.ClientKey); err != nil || !queued {
		t.Fatalf("no scan queued a day after the last (%v)", err)
	}
	scans, _ := p.app.scans.Scans(ctx, p.inst.ClientKey)
	if scans[0].Cause != rescan.CauseSchedule || (scans[0].State != scan.StateQueued && scans[0].State != scan.StateRunning && scans[0].State != scan.StateDone) {
		t.Fatalf("newest scan %+v", scans[0])
	}
}
