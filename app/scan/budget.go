package scan

import (
	"context"
	"sync"
	"time"
)

// DefaultPointsPerHour is Atlassian's tier 1 pool: 65,000 points an hour
// shared by every tenant of an app
// (https://developer.atlassian.com/cloud/jira/platform/rate-limiting/).
const DefaultPointsPerHour = 65_000

// activeFor is how long a tenant that asked for points counts as active,
// and so is owed a share of what is left of the window: long enough to
// cover the gaps of a scan between Jira calls, short enough that a tenant
// done with Jira does not hold points back from the others.
const activeFor = 10 * time.Second

// PointsBudget is the one points budget of the app (atlassian.Budget):
// every call an app credential makes reserves points from the hourly pool
// before it is sent. While several tenants are active each is owed an
// equal share of the window: a tenant may go past its share only by what
// the others, owed theirs, leave over. A window that runs dry holds every
// call until the next one starts, so a large scan carries on across
// hourly windows instead of failing; a quota 429 holds every call until
// the reset Atlassian names.
type PointsBudget struct {
	perHour int
	window  time.Duration
	now     func() time.Time

	mu      sync.Mutex
	start   time.Time // of the current window
	used    int
	byKey   map[string]int
	active  map[string]time.Time
	blocked time.Time // no points before this (a quota 429)
	changed chan struct{}
}

// BudgetConfig configures a PointsBudget.
type BudgetConfig struct {
	PerHour int              // points a window; 0: DefaultPointsPerHour
	Window  time.Duration    // 0: an hour, starting at the top of each UTC hour
	Now     func() time.Time // nil: time.Now
}

// NewPointsBudget builds the budget.
func NewPointsBudget(c BudgetConfig) *PointsBudget {
	if c.PerHour <= 0 {
		c.PerHour = DefaultPointsPerHour
	}
	if c.Window <= 0 {
		c.Window = time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &PointsBudget{perHour: c.PerHour, window: c.Window, now: c.Now,
		byKey: map[string]int{}, active: map[string]time.Time{}, changed: make(chan struct{})}
}

// roll starts a new window when the current one has ended.
func (b *PointsBudget) roll(now time.Time) {
	start := now.Truncate(b.window)
	if start.After(b.start) {
		b.start, b.used = start, 0
		clear(b.byKey)
	}
}

func (b *PointsBudget) notify() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// Reserve implements atlassian.Budget.
func (b *PointsBudget) Reserve(ctx context.Context, key string, points int) error {
	points = min(max(points, 0), b.perHour)
	for {
		b.mu.Lock()
		now := b.now()
		b.roll(now)
		b.active[key] = now
		var wait time.Duration
		if now.Before(b.blocked) {
			wait = b.blocked.Sub(now)
		} else if b.grant(now, key, points) {
			b.mu.Unlock()
			return nil
		} else {
			// Until the window ends, or until a tenant owed a share may
			// have gone quiet.
			wait = min(b.start.Add(b.window).Sub(now), activeFor/4)
		}
		changed := b.changed
		b.mu.Unlock()
		t := time.NewTimer(max(wait, time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-changed:
			t.Stop()
		case <-t.C:
		}
	}
}

// grant spends points for key if the window has them to spare after what
// the other active tenants are still owed of their shares.
func (b *PointsBudget) grant(now time.Time, key string, points int) bool {
	for k, at := range b.active {
		if now.Sub(at) > activeFor {
			delete(b.active, k)
		}
	}
	share := b.perHour / max(len(b.active), 1)
	owed := 0
	for k := range b.active {
		if k != key {
			owed += max(share-b.byKey[k], 0)
		}
	}
	if b.used+points > b.perHour-owed && !(b.byKey[key] == 0 && b.used+points <= b.perHour) {
		return false
	}
	b.used += points
	b.byKey[key] += points
	return true
}

// Settle implements atlassian.Budget.
func (b *PointsBudget) Settle(key string, delta int) {
	if delta == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used = max(b.used+delta, 0)
	b.byKey[key] = max(b.byKey[key]+delta, 0)
	if delta < 0 {
		b.notify()
	}
}

// Exhausted implements atlassian.Budget.
func (b *PointsBudget) Exhausted(until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if until.After(b.blocked) {
		b.blocked = until
	}
}

// Spent is what key has spent in the current window, and the window's
// total; for tests and metrics.
func (b *PointsBudget) Spent(key string) (mine, all int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll(b.now())
	return b.byKey[key], b.used
}
