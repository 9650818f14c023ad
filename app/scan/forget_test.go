package scan_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/app/sitesim"
	"github.com/seatlens/seatlens/store/storetest"
)

// TestForgetAccounts: accounts forgotten at once leave every kept scan,
// whose sums no longer count their seats; while the tenant's full scan
// runs, Forget gives up with ErrBusy and changes nothing.
func TestForgetAccounts(t *testing.T) {
	s := startSim(t, sitesim.DefaultScenario(), sitesim.Options{})
	st := storetest.Open(t)
	const ck = "tenant-a"
	putTenant(t, st, ck)
	ctx := context.Background()
	jobs := &gatedJobs{inner: apiTokenJobs{t, s}}
	q, err := scan.NewQueue(scan.QueueConfig{Store: st, Prepare: jobs, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	qctx, stop := context.WithCancel(ctx)
	defer stop()
	if err := q.Start(qctx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		rec, err := q.Enqueue(ctx, ck, scan.CauseRequest)
		if err != nil {
			t.Fatal(err)
		}
		if done := waitState(t, q, ck, rec.ID, scan.StateDone, scan.StateFailed); done.State != scan.StateDone {
			t.Fatalf("scan %s: %+v", rec.ID, done)
		}
	}
	_, latest, err := q.Findings(ctx, ck, scan.Latest)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, u := range latest.Users {
		for _, seat := range u.Seats {
			if seat.Billable && len(ids) < 3 && !slices.Contains(ids, u.AccountID) {
				ids = append(ids, u.AccountID)
			}
		}
	}
	if len(ids) < 3 {
		t.Fatalf("the site has %d users with a billable seat", len(ids))
	}
	type want struct{ users, billable int }
	recs, err := q.Scans(ctx, ck)
	if err != nil || len(recs) != 2 {
		t.Fatalf("%d scans %v", len(recs), err)
	}
	wants := map[string]want{}
	for _, r := range recs {
		_, f, err := q.Findings(ctx, ck, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		w := want{f.Totals.Users, f.Totals.BillableSeats}
		for _, u := range f.Users {
			if slices.Contains(ids, u.AccountID) {
				w.users--
				for _, seat := range u.Seats {
					if seat.Billable {
						w.billable--
					}
				}
			}
		}
		wants[r.ID] = w
	}

	if err := q.Forget(ctx, ck, ids); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		rec, f, err := q.Findings(ctx, ck, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range f.Users {
			if slices.Contains(ids, u.AccountID) {
				t.Fatalf("scan %s still holds %s", r.ID, u.AccountID)
			}
		}
		got := want{f.Totals.Users, f.Totals.BillableSeats}
		if got != wants[r.ID] || rec.Totals == nil || *rec.Totals != f.Totals {
			t.Fatalf("scan %s: totals %+v (record %+v), want %+v", r.ID, got, rec.Totals, wants[r.ID])
		}
	}
	held, err := q.Accounts(ctx, ck)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if _, ok := held[id]; ok {
			t.Fatalf("%s is still listed as held", id)
		}
	}

	// A full scan runs (held at its start): Forget waits, then gives up,
	// touching nothing.
	defer scan.SetForgetWait(50 * time.Millisecond)()
	jobs.gate = make(chan struct{})
	defer close(jobs.gate)
	rec, err := q.Enqueue(ctx, ck, scan.CauseRequest)
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, q, ck, rec.ID, scan.StateRunning)
	other := latest.Users[len(latest.Users)-1].AccountID
	if err := q.Forget(ctx, ck, []string{other}); !errors.Is(err, scan.ErrBusy) {
		t.Fatalf("while a full scan runs: %v", err)
	}
	if held, err = q.Accounts(ctx, ck); err != nil || held[other].IsZero() {
		t.Fatalf("an account forgotten while busy: %v", err)
	}
}

// gatedJobs holds each scan's start while gate is open (not closed).
type gatedJobs struct {
	inner apiTokenJobs
	gate  chan struct{}
}

func (g *gatedJobs) Prepare(ctx context.Context, clientKey string) (scan.Job, string, error) {
	if g.gate != nil {
		select {
		case <-g.gate:
		case <-ctx.Done():
			return scan.Job{}, "", ctx.Err()
		}
	}
	return g.inner.Prepare(ctx, clientKey)
}
