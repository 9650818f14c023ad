package rescan

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/store"
	"github.com/seatlens/seatlens/store/storetest"
)

func TestRetryAfter(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 6: 16 * time.Minute, 7: 30 * time.Minute, 1000: 30 * time.Minute} {
		if got := retryAfter(n); got != want {
			t.Errorf("retryAfter(%d) = %s, want %s", n, got, want)
		}
	}
}

// downSite is a Scans whose site is down until up is set.
type downSite struct {
	st    *store.Store
	mu    sync.Mutex
	up    bool
	tries int
}

func (d *downSite) Refresh(ctx context.Context, clientKey string, ids []string, also func(tx store.Tx, r *scan.Refreshed) error) (*scan.Refreshed, error) {
	d.mu.Lock()
	d.tries++
	up := d.up
	d.mu.Unlock()
	if !up {
		return nil, errors.New("jira: 503 Service Unavailable")
	}
	r := &scan.Refreshed{Scan: "1", At: time.Now()}
	return r, d.st.Update(ctx, func(tx store.Tx) error { return also(tx, r) })
}

func (d *downSite) Enqueue(context.Context, string, string) (scan.Record, error) {
	return scan.Record{}, errors.New("no full scans here")
}

func (d *downSite) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.tries
}

// TestFailedRescansBackOff: while the site is down, a tenant's pending
// accounts are tried again after 30 s, then 1 min, 2 min, … never more
// often; once the site answers they are rescanned and the wait starts
// over at the next failure.
func TestFailedRescansBackOff(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	const ck = "tenant-a"
	err := st.PutTenant(ctx, store.Tenant{ClientKey: ck, AppKey: "seatlens", BaseURL: "https://a.atlassian.net",
		SharedSecret: "secret-a", Installed: true, Enabled: true, InstalledAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC()
	now := t0
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	at := func(d time.Duration) { mu.Lock(); now = t0.Add(d); mu.Unlock() }
	site := &downSite{st: st}
	w := &Worker{Inbox: &Inbox{Store: st, Now: clock}, Scans: site, Debounce: time.Second}
	w.Inbox.Notify = w.Notify
	if _, err := w.Inbox.Mark(ctx, ck, CauseWebhook, []Mark{{AccountID: "557058:a", Hint: Hint{Cause: CauseWebhook, At: t0}}}); err != nil {
		t.Fatal(err)
	}
	// Tries fall at 1 s (after the debounce), then 30 s, 1 min, 2 min and
	// 4 min after each failure.
	tries := []time.Duration{time.Second, 31 * time.Second, 91 * time.Second, 211 * time.Second, 451 * time.Second}
	for s := time.Duration(0); s <= 460*time.Second; s += time.Second {
		at(s)
		before := site.count()
		w.round(ctx)
		tried := site.count() > before
		want := false
		for _, at := range tries {
			want = want || s == at
		}
		if tried != want {
			t.Fatalf("at %s: tried %v, want %v (%d tries so far)", s, tried, want, site.count())
		}
	}
	pend, done, err := w.Inbox.Rescans(ctx, ck, 100)
	if err != nil || len(pend) != 1 || len(done) != len(tries) || done[0].State != StateFailed {
		t.Fatalf("after %d failures: pending %d, listed %d (%+v) %v", len(tries), len(pend), len(done), done, err)
	}

	// The site is back: the next try rescans, and the count starts over.
	site.mu.Lock()
	site.up = true
	site.mu.Unlock()
	at(452*time.Second + 8*time.Minute)
	w.round(ctx)
	if pend, done, err = w.Inbox.Rescans(ctx, ck, 100); err != nil || len(pend) != 0 || done[0].State != StateDone {
		t.Fatalf("back up: pending %d, newest %+v %v", len(pend), done[0], err)
	}
	w.mu.Lock()
	fails := w.fails[ck]
	w.mu.Unlock()
	if fails != 0 {
		t.Fatalf("%d failures remembered after a success", fails)
	}
}

// TestBusyTurnKeepsBackoff: a turn that tries nothing (the tenant's scan
// holds it) neither counts as a failure nor starts the count over.
func TestBusyTurnKeepsBackoff(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	const ck = "tenant-a"
	if err := st.PutTenant(ctx, store.Tenant{ClientKey: ck, AppKey: "seatlens", BaseURL: "https://a.atlassian.net",
		SharedSecret: "secret-a", Installed: true, Enabled: true, InstalledAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC()
	now := t0
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	site := &busyThenDown{}
	w := &Worker{Inbox: &Inbox{Store: st, Now: clock}, Scans: site, Debounce: time.Second}
	if _, err := w.Inbox.Mark(ctx, ck, CauseWebhook, []Mark{{AccountID: "557058:a", Hint: Hint{Cause: CauseWebhook, At: t0}}}); err != nil {
		t.Fatal(err)
	}
	w.Notify(ck)
	for _, step := range []struct {
		at    time.Duration
		busy  bool
		fails int
	}{{time.Second, false, 1}, {31 * time.Second, false, 2}, {91 * time.Second, true, 2}, {92 * time.Second, false, 3}} {
		mu.Lock()
		now = t0.Add(step.at)
		mu.Unlock()
		site.busy = step.busy
		w.round(ctx)
		w.mu.Lock()
		fails := w.fails[ck]
		w.mu.Unlock()
		if fails != step.fails {
			t.Fatalf("at %s (busy %v): %d failures counted, want %d", step.at, step.busy, fails, step.fails)
		}
	}
}

// busyThenDown refuses with ErrBusy while busy, else fails as a down site.
type busyThenDown struct{ busy bool }

func (b *busyThenDown) Refresh(context.Context, string, []string, func(store.Tx, *scan.Refreshed) error) (*scan.Refreshed, error) {
	if b.busy {
		return nil, scan.ErrBusy
	}
	return nil, errors.New("jira: 503 Service Unavailable")
}

func (b *busyThenDown) Enqueue(context.Context, string, string) (scan.Record, error) {
	return scan.Record{}, errors.New("no full scans here")
}
