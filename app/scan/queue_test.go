package scan_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/app/sitesim"
	"github.com/seatlens/seatlens/store"
	"github.com/seatlens/seatlens/store/storetest"
)

// apiTokenJobs prepares every tenant's scan with the API token of one
// simulated site, as the CLI would.
type apiTokenJobs struct {
	t testing.TB
	s *sim
}

func (p apiTokenJobs) Prepare(ctx context.Context, clientKey string) (scan.Job, string, error) {
	src := p.s.source(p.t, true)
	src.Now = nil
	return scan.Job{Source: src, Settings: billing.Settings{}.WithDefaults()}, p.s.ts.URL, nil
}

func putTenant(t *testing.T, st *store.Store, clientKey string) {
	t.Helper()
	err := st.PutTenant(context.Background(), store.Tenant{ClientKey: clientKey, AppKey: "seatlens", BaseURL: "https://" + clientKey + ".atlassian.net",
		SharedSecret: "secret-" + clientKey, Installed: true, Enabled: true, InstalledAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
}

func waitState(t *testing.T, q *scan.Queue, clientKey, id string, states ...string) scan.Record {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		rec, err := q.Scan(context.Background(), clientKey, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range states {
			if rec.State == s {
				return rec
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("scan %s of %s never reached %v", id, clientKey, states)
	return scan.Record{}
}

// TestQueueSurvivesRestarts: a process stopped during a scan leaves it
// running in the store; the next start runs it again and it ends done; a
// scan interrupted at every start ends failed with the reason, never stuck.
func TestQueueSurvivesRestarts(t *testing.T) {
	s := startSim(t, sitesim.DefaultScenario(), sitesim.Options{Faults: sitesim.Faults{Latency: 30 * time.Millisecond}})
	st := storetest.Open(t)
	putTenant(t, st, "tenant-a")
	start := func(st *store.Store) (*scan.Queue, context.CancelFunc) {
		q, err := scan.NewQueue(scan.QueueConfig{Store: st, Prepare: apiTokenJobs{t, s}, Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		return q, cancel
	}

	q, stop := start(st)
	rec, err := q.Enqueue(context.Background(), "tenant-a", scan.CauseRequest)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := q.Enqueue(context.Background(), "tenant-a", scan.CauseRequest); !errors.Is(err, scan.ErrScanRunning) || again.ID != rec.ID {
		t.Fatalf("a second scan while one is queued: %+v %v", again, err)
	}
	waitState(t, q, "tenant-a", rec.ID, scan.StateRunning)
	stop() // the process dies mid-scan
	time.Sleep(100 * time.Millisecond)
	st = storetest.Reopen(t, st)
	q, stop = start(st)
	done := waitState(t, q, "tenant-a", rec.ID, scan.StateDone, scan.StateFailed)
	if done.State != scan.StateDone || done.Attempts != 2 || done.Totals == nil || done.Totals.Users == 0 {
		t.Fatalf("after a restart: %+v", done)
	}
	if _, f, err := q.Findings(context.Background(), "tenant-a", scan.Latest); err != nil || len(f.Users) != done.Totals.Users {
		t.Fatalf("findings after a restart: %v", err)
	}

	// Killed at each of its starts: it ends failed, with the reason.
	rec, err = q.Enqueue(context.Background(), "tenant-a", scan.CauseRequest)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		waitState(t, q, "tenant-a", rec.ID, scan.StateRunning)
		stop()
		time.Sleep(100 * time.Millisecond)
		st = storetest.Reopen(t, st)
		q, stop = start(st)
	}
	failed := waitState(t, q, "tenant-a", rec.ID, scan.StateFailed, scan.StateDone)
	if failed.State != scan.StateFailed || failed.Error == nil || failed.Error.Code != string(scan.FailInterrupted) {
		t.Fatalf("a scan interrupted twice: %+v", failed)
	}
	stop()
}

// TestQueueKeepsAndForgets: only the newest Keep scans are kept with their
// findings, and one user is read without the others.
func TestQueueKeepsAndForgets(t *testing.T) {
	s := startSim(t, sitesim.DefaultScenario(), sitesim.Options{})
	st := storetest.Open(t)
	putTenant(t, st, "tenant-a")
	q, err := scan.NewQueue(scan.QueueConfig{Store: st, Prepare: apiTokenJobs{t, s}, Workers: 2, Keep: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 4 {
		rec, err := q.Enqueue(ctx, "tenant-a", scan.CauseRequest)
		if err != nil {
			t.Fatal(err)
		}
		waitState(t, q, "tenant-a", rec.ID, scan.StateDone)
		ids = append(ids, rec.ID)
	}
	list, err := q.Scans(ctx, "tenant-a")
	if err != nil || len(list) != 2 || list[0].ID != ids[3] || list[1].ID != ids[2] {
		t.Fatalf("kept %+v, %v; want scans %v newest first", list, err, ids[2:])
	}
	if _, _, err := q.Findings(ctx, "tenant-a", ids[0]); !errors.Is(err, scan.ErrNoScan) {
		t.Fatalf("findings of a forgotten scan: %v", err)
	}
	buckets := 0
	st.View(ctx, func(tx store.Tx) error {
		names, err := tx.Buckets("tenant-a", "scan-")
		buckets = len(names)
		return err
	})
	if buckets != 2 {
		t.Fatalf("%d findings buckets kept, want 2", buckets)
	}
	u, err := q.User(ctx, "tenant-a", scan.Latest, "5b10a2844c20165700ede202")
	if err != nil || u.DisplayName != "Bob Builder" || len(u.Seats) == 0 {
		t.Fatalf("one user: %+v %v", u, err)
	}
}

// TestQueueUninstalledTenantWritesNothing: a tenant uninstalled during
// its scan gets no findings.
func TestQueueUninstalledTenantWritesNothing(t *testing.T) {
	s := startSim(t, sitesim.DefaultScenario(), sitesim.Options{Faults: sitesim.Faults{Latency: 30 * time.Millisecond}})
	st := storetest.Open(t)
	putTenant(t, st, "tenant-a")
	q, err := scan.NewQueue(scan.QueueConfig{Store: st, Prepare: apiTokenJobs{t, s}, Interval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	rec, err := q.Enqueue(ctx, "tenant-a", scan.CauseRequest)
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, q, "tenant-a", rec.ID, scan.StateRunning)
	tn, _ := st.Tenant(ctx, "tenant-a")
	tn.Installed, tn.SharedSecret, tn.UninstalledAt = false, "", time.Now()
	if err := st.PutTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	end := waitState(t, q, "tenant-a", rec.ID, scan.StateFailed, scan.StateDone)
	if end.State != scan.StateFailed || end.Totals != nil {
		t.Fatalf("scan of an uninstalled tenant: %+v", end)
	}
	if _, _, err := q.Findings(ctx, "tenant-a", rec.ID); !errors.Is(err, scan.ErrNoScan) {
		t.Fatalf("findings written for an uninstalled tenant: %v", err)
	}
}
