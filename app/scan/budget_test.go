package scan_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/atlassian"
	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/app/sitesim"
	"github.com/seatlens/seatlens/store/storetest"
)

// TestBudgetSharesAndWindows: alone, a tenant may use the whole window;
// two tenants asking at once get equal shares; a dry window holds calls
// until the next; a quota refusal holds everyone until its reset.
func TestBudgetSharesAndWindows(t *testing.T) {
	const window = 400 * time.Millisecond
	// Start just after a window begins, so the test sees whole windows.
	time.Sleep(time.Until(time.Now().Truncate(window).Add(window + 5*time.Millisecond)))
	b := scan.NewPointsBudget(scan.BudgetConfig{PerHour: 1000, Window: window})
	ctx := context.Background()

	for range 100 {
		if err := b.Reserve(ctx, "alone", 10); err != nil {
			t.Fatal(err)
		}
	}
	if mine, all := b.Spent("alone"); mine != 1000 || all != 1000 {
		t.Fatalf("alone: %d of %d, want the whole window", mine, all)
	}
	began := time.Now()
	if err := b.Reserve(ctx, "alone", 10); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(began); waited < 50*time.Millisecond {
		t.Fatalf("a dry window granted points after %s", waited)
	}

	// Two tenants at once, in a fresh window, each wanting more than it
	// can get (a fresh budget: "alone" would still count as active).
	b = scan.NewPointsBudget(scan.BudgetConfig{PerHour: 1000, Window: window})
	time.Sleep(time.Until(time.Now().Truncate(window).Add(window + 5*time.Millisecond)))
	ctx2, cancel := context.WithTimeout(ctx, window*3/4)
	defer cancel()
	var wg sync.WaitGroup
	got := map[string]int{}
	var mu sync.Mutex
	// Both have asked before either runs: fairness is among the tenants
	// that ask.
	var ready sync.WaitGroup
	ready.Add(2)
	for _, k := range []string{"a", "b"} {
		wg.Go(func() {
			if b.Reserve(ctx2, k, 7) == nil {
				mu.Lock()
				got[k] += 7
				mu.Unlock()
			}
			ready.Done()
			ready.Wait()
			for b.Reserve(ctx2, k, 7) == nil {
				mu.Lock()
				got[k] += 7
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if got["a"] < 450 || got["b"] < 450 || got["a"]+got["b"] > 1000 {
		t.Fatalf("two tenants in one window got %v; want about 500 each, 1000 at most", got)
	}

	// A quota refusal holds every tenant until its reset.
	b.Exhausted(time.Now().Add(150 * time.Millisecond))
	began = time.Now()
	if err := b.Reserve(ctx, "c", 1); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(began); waited < 140*time.Millisecond {
		t.Fatalf("granted %s after a quota refusal that asked for 150ms", waited)
	}
}

// budgetedJobs prepares scans with the API token, metered as app traffic
// by one budget under each tenant's key.
type budgetedJobs struct {
	t      testing.TB
	s      *sim
	budget atlassian.Budget
}

func (p budgetedJobs) Prepare(ctx context.Context, clientKey string) (scan.Job, string, error) {
	o := atlassian.Options{Budget: p.budget, BudgetKey: clientKey, MaxWait: time.Minute}
	jira, err := atlassian.New(nil, p.s.ts.URL, atlassian.Basic(sitesim.DefaultAdminEmail, sitesim.DefaultAdminToken), o)
	if err != nil {
		return scan.Job{}, "", err
	}
	return scan.Job{Source: scan.Source{SiteURL: p.s.ts.URL, Jira: jira, JiraAdmin: jira, Concurrency: 4},
		Settings: billing.Settings{}.WithDefaults()}, p.s.ts.URL, nil
}

// TestTwoTenantsShareThePool: two tenants scanning at once through the
// queue spend about the same points in each window, and both scans finish
// though each needs more than one window.
func TestTwoTenantsShareThePool(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two scans across several windows")
	}
	s := startSim(t, sitesim.Generate(600, 3), sitesim.Options{})
	// What one keyless scan of this site costs.
	probe := scan.NewPointsBudget(scan.BudgetConfig{PerHour: 10_000_000})
	job, _, _ := budgetedJobs{t, s, probe}.Prepare(context.Background(), "probe")
	res, err := scan.Run(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	need := res.Points
	// Windows long enough for both scans to run the pool dry in each.
	const window = time.Second
	perWindow := need * 2 / 3 // each scan needs at least three of its half shares
	budget := scan.NewPointsBudget(scan.BudgetConfig{PerHour: perWindow, Window: window})

	st := storetest.Open(t)
	putTenant(t, st, "tenant-a")
	putTenant(t, st, "tenant-b")
	q, err := scan.NewQueue(scan.QueueConfig{Store: st, Prepare: budgetedJobs{t, s, budget}, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.Sleep(time.Until(time.Now().Truncate(window).Add(window + 5*time.Millisecond)))
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	a, _ := q.Enqueue(ctx, "tenant-a", scan.CauseRequest)
	b, _ := q.Enqueue(ctx, "tenant-b", scan.CauseRequest)
	// Sample the first window's split just before it ends.
	time.Sleep(time.Until(time.Now().Truncate(window).Add(window - 40*time.Millisecond)))
	ma, all := budget.Spent("tenant-a")
	mb, _ := budget.Spent("tenant-b")
	// Each is owed half; the split can differ by one page's reservation
	// (1 + 2×50 points), which one got in before the pool ran dry.
	const page = 101
	if ma < perWindow/2-page || mb < perWindow/2-page || all > perWindow || abs(ma-mb) > page {
		t.Errorf("first window: tenant-a %d, tenant-b %d of %d points (pool %d); want half each, within a page", ma, mb, all, perWindow)
	}
	ra := waitState(t, q, "tenant-a", a.ID, scan.StateDone, scan.StateFailed)
	rb := waitState(t, q, "tenant-b", b.ID, scan.StateDone, scan.StateFailed)
	if ra.State != scan.StateDone || rb.State != scan.StateDone {
		t.Fatalf("scans across windows: %+v / %+v", ra, rb)
	}
	if ra.Points < need*9/10 || ra.Points > need*11/10 {
		t.Errorf("tenant-a's scan cost %d points; one alone cost %d", ra.Points, need)
	}
	if took := ra.EndedAt.Sub(*ra.StartedAt); took < window {
		t.Errorf("a scan needing three half-windows took %s", took)
	}
}

func abs(n int) int { return max(n, -n) }
