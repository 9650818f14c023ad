package atlassian

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recordingBudget grants everything and records what it was told.
type recordingBudget struct {
	mu        sync.Mutex
	reserved  []int
	settled   []int
	exhausted time.Time
}

func (b *recordingBudget) Reserve(_ context.Context, _ string, p int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reserved = append(b.reserved, p)
	return nil
}

func (b *recordingBudget) Settle(_ string, d int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.settled = append(b.settled, d)
}

func (b *recordingBudget) Exhausted(until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.exhausted = until
}

// TestBudgetMetersEachCall: a page of identity objects reserves its
// largest cost and settles at 1 + 2 per object returned; a quota 429
// costs nothing and tells the budget when the pool resets.
func TestBudgetMetersEachCall(t *testing.T) {
	var calls atomic.Int32
	reset := time.Now().Add(2 * time.Second).UTC().Truncate(time.Second)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("RateLimit-Reason", "jira-quota-global-based")
			w.Header().Set("X-RateLimit-Reset", reset.Format(time.RFC3339))
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Write([]byte(`{"isLast":true,"total":3,"values":[{"accountId":"a"},{"accountId":"b"},{"accountId":"c"}]}`))
	}))
	defer ts.Close()
	b := &recordingBudget{}
	c, err := New(nil, ts.URL, Bearer("t"), Options{Budget: b, BudgetKey: "tenant", Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GroupMembersPage(context.Background(), "g", 0); err != nil {
		t.Fatal(err)
	}
	if len(b.reserved) != 2 || b.reserved[0] != 101 || b.reserved[1] != 101 {
		t.Fatalf("reserved %v, want 101 (1 + 2×50) before each attempt", b.reserved)
	}
	if len(b.settled) != 2 || b.settled[0] != -101 || b.settled[1] != 7-101 {
		t.Fatalf("settled %v, want the 429 free and the page at 7 points", b.settled)
	}
	if d := b.exhausted.Sub(reset); d < -50*time.Millisecond || d > 50*time.Millisecond {
		t.Fatalf("exhausted until %v, want the reset %v", b.exhausted, reset)
	}
	if got := c.Stats().Total.Points; got != 7 {
		t.Fatalf("stats count %d points, want 7", got)
	}
	if pointsOf("getCurrentUser", []byte(`{"accountId":"x"}`)) != 3 || pointsOf("searchUsers", []byte(`[1,2]`)) != 1 {
		t.Fatal("points of one user, or of an operation outside identity reads")
	}
}
