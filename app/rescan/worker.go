package rescan

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/store"
)

// Defaults of DESIGN.md §8.
const (
	DefaultDebounce  = 2 * time.Second
	DefaultThreshold = 200 // pending accounts of one tenant that escalate to a full scan
	DefaultBatch     = 50  // accounts read again together
	defaultTick      = 250 * time.Millisecond
	failureBackoff   = 30 * time.Second // after one failed turn, doubling after each next one
	maxBackoff       = 30 * time.Minute
	keepLog          = 1000 // targeted rescans listed per tenant
	keepSeen         = 48 * time.Hour
)

// CauseEscalated is the cause of the full scan queued when a targeted
// rescan cannot do.
const CauseEscalated = "rescans"

// Scans is what the worker needs of the scan queue.
type Scans interface {
	Refresh(ctx context.Context, clientKey string, ids []string, also func(tx store.Tx, r *scan.Refreshed) error) (*scan.Refreshed, error)
	Enqueue(ctx context.Context, clientKey, cause string) (scan.Record, error)
}

// Rescan states.
const (
	StateDone      = "done"
	StateEscalated = "escalated" // a full scan covers it
	StateFailed    = "failed"    // kept pending, tried again later
)

// Rescan is one account's targeted rescan, as GET /api/v1/rescans lists it.
type Rescan struct {
	ID        string    `json:"id"`
	AccountID string    `json:"accountId"`
	Causes    []string  `json:"causes"`
	Events    []string  `json:"events"`
	State     string    `json:"state"`
	QueuedAt  time.Time `json:"queuedAt"`
	DoneAt    time.Time `json:"doneAt"`
	// Calls and Points are what its batch cost; Batch how many accounts
	// the batch read.
	Calls   int    `json:"calls"`
	Points  int    `json:"points"`
	Batch   int    `json:"batch"`
	Scan    string `json:"scan,omitempty"`
	Message string `json:"message,omitempty"`
	// SeatsAdded and SeatsRemoved are the billable seats it found new or
	// gone, by product.
	SeatsAdded   []string `json:"seatsAdded,omitempty"`
	SeatsRemoved []string `json:"seatsRemoved,omitempty"`
}

// Metrics hears what the worker does.
type Metrics interface {
	Rescanned(outcome string, accounts, calls, points int)
	PendingAccounts(clientKey string, n int)
}

// Worker rescans the pending accounts of every tenant.
type Worker struct {
	Inbox     *Inbox
	Scans     Scans
	Debounce  time.Duration
	Threshold int
	Batch     int
	Tick      time.Duration
	Logger    zerolog.Logger
	Metrics   Metrics

	mu      sync.Mutex
	active  map[string]bool      // tenants that may have pending accounts
	backoff map[string]time.Time // tenants whose last try failed: not before
	fails   map[string]int       // failed turns in a row
	pruned  map[string]time.Time // when each tenant's old deliveries were last forgotten
	gen     map[string]uint64    // counts Notify per tenant
	wake    chan struct{}
	pending counter
}

func (w *Worker) init() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.active != nil {
		return
	}
	w.active, w.backoff, w.fails, w.pruned, w.gen = map[string]bool{}, map[string]time.Time{}, map[string]int{}, map[string]time.Time{}, map[string]uint64{}
	w.wake = make(chan struct{}, 1)
	if w.Debounce <= 0 {
		w.Debounce = DefaultDebounce
	}
	if w.Threshold <= 0 {
		w.Threshold = DefaultThreshold
	}
	if w.Batch <= 0 {
		w.Batch = DefaultBatch
	}
	if w.Tick <= 0 {
		w.Tick = defaultTick
	}
}

// Notify tells the worker a tenant has new pending accounts (Inbox.Notify).
func (w *Worker) Notify(clientKey string) {
	w.init()
	w.mu.Lock()
	w.active[clientKey] = true
	w.gen[clientKey]++
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Pending is the number of pending accounts per tenant, as last counted.
func (w *Worker) Pending() map[string]int { return w.pending.snapshot() }

// Start finds the tenants with pending accounts a previous process left,
// then works until ctx ends. It returns once recovery is done.
func (w *Worker) Start(ctx context.Context) error {
	w.init()
	tenants, err := w.Inbox.Store.Tenants(ctx)
	if err != nil {
		return fmt.Errorf("rescan: recover pending rescans: %w", err)
	}
	for _, t := range tenants {
		if !t.Installed {
			continue
		}
		n, err := w.Inbox.Pending(ctx, t.ClientKey)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if n > 0 {
			w.Notify(t.ClientKey)
		}
	}
	go every(ctx, w.Tick, w.wake, func() { w.round(ctx) })
	return nil
}

// round gives every active tenant one turn.
func (w *Worker) round(ctx context.Context) {
	w.mu.Lock()
	var tenants []string
	gens := map[string]uint64{}
	now := w.Inbox.now()
	for ck := range w.active {
		if until, ok := w.backoff[ck]; !ok || !now.Before(until) {
			tenants = append(tenants, ck)
			gens[ck] = w.gen[ck]
		}
	}
	w.mu.Unlock()
	slices.Sort(tenants)
	// Tenants take their turns side by side, so a large tenant's batch
	// does not hold the others'.
	sem := make(chan struct{}, tenantsAtOnce)
	var wg sync.WaitGroup
	for _, ck := range tenants {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			w.turn(ctx, ck, gens[ck], now)
		})
	}
	wg.Wait()
}

// retryAfter is the wait after n failed turns in a row: 30 s, doubling,
// at most maxBackoff, so a site down for a day costs about fifty tries
// and fifty failed rows in the tenant's rescans, not thousands.
func retryAfter(n int) time.Duration {
	d := failureBackoff
	for i := 1; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// tenantsAtOnce bounds the tenants rescanned at the same time.
const tenantsAtOnce = 2

// turn runs one tenant's Turn and keeps the worker's books: a tenant
// leaves the active set only when idle and not named again since its turn
// began (gen).
func (w *Worker) turn(ctx context.Context, ck string, gen uint64, now time.Time) {
	idle, err := w.turnOnce(ctx, ck)
	prune := false
	w.mu.Lock()
	switch {
	case errors.Is(err, errWaiting):
		// Nothing was tried (debounce, or the tenant's scan holds it): a
		// failure count stands until a try succeeds or fails.
	case err != nil:
		w.fails[ck]++
		wait := retryAfter(w.fails[ck])
		w.backoff[ck] = w.Inbox.now().Add(wait)
		w.Logger.Warn().Err(err).Str("client_key", ck).Int("failures", w.fails[ck]).Dur("retry_in", wait).
			Msg("rescan: targeted rescan failed; retried later")
	case idle && w.gen[ck] == gen:
		delete(w.active, ck)
		delete(w.backoff, ck)
		delete(w.fails, ck)
		prune = now.Sub(w.pruned[ck]) > time.Hour
		if prune {
			w.pruned[ck] = now
		}
	default:
		delete(w.backoff, ck)
		delete(w.fails, ck)
	}
	w.mu.Unlock()
	if prune {
		if err := w.Inbox.PruneSeen(ctx, ck); err != nil && !errors.Is(err, store.ErrNotFound) {
			w.Logger.Warn().Err(err).Str("client_key", ck).Msg("rescan: forget old deliveries")
		}
	}
}

// errWaiting is a turn that tried nothing: no account is past its
// debounce, or the tenant's scan holds it.
var errWaiting = errors.New("rescan: nothing ready")

// Turn rescans what of one tenant is ready: idle is true when nothing is
// pending any more. Exported for tests that drive the worker by hand.
func (w *Worker) Turn(ctx context.Context, clientKey string) (idle bool, err error) {
	idle, err = w.turnOnce(ctx, clientKey)
	if errors.Is(err, errWaiting) {
		return false, nil
	}
	return idle, err
}

func (w *Worker) turnOnce(ctx context.Context, clientKey string) (idle bool, err error) {
	w.init()
	// An uninstalled tenant's accounts wait: a reinstall within the grace
	// period picks them up, a purge deletes them.
	if t, err := w.Inbox.Store.Tenant(ctx, clientKey); err != nil || !t.Installed {
		w.pending.set(clientKey, 0)
		if errors.Is(err, store.ErrNotFound) {
			err = nil
		}
		return err == nil, err
	}
	all, err := w.Inbox.PendingList(ctx, clientKey, w.Threshold+1)
	if errors.Is(err, store.ErrNotFound) {
		w.pending.set(clientKey, 0)
		return true, nil // uninstalled and purged
	}
	if err != nil {
		return false, err
	}
	n := len(all)
	if n > w.Threshold {
		n, err = w.Inbox.Pending(ctx, clientKey)
		if err != nil {
			return false, err
		}
	}
	w.pending.set(clientKey, n)
	if w.Metrics != nil {
		w.Metrics.PendingAccounts(clientKey, n)
	}
	if n == 0 {
		return true, nil
	}
	if n > w.Threshold {
		return false, w.escalate(ctx, clientKey, fmt.Sprintf("%d accounts were pending, more than %d: one full scan reads them all", n, w.Threshold))
	}
	now := w.Inbox.now()
	var ready []Pending
	for _, p := range all {
		if !p.LastAt.Add(w.Debounce).After(now) {
			ready = append(ready, p)
		}
		if len(ready) == w.Batch {
			break
		}
	}
	if len(ready) == 0 {
		return false, errWaiting
	}
	ids := make([]string, len(ready))
	for i, p := range ready {
		ids[i] = p.AccountID
	}
	r, err := w.Scans.Refresh(ctx, clientKey, ids, func(tx store.Tx, r *scan.Refreshed) error {
		return w.record(tx, clientKey, ready, r, StateDone, "")
	})
	switch {
	case errors.Is(err, scan.ErrBusy):
		return false, errWaiting // after the scan
	case errors.Is(err, scan.ErrNoScan), errors.Is(err, scan.ErrNeedsFullScan):
		msg := "no scan to update yet: a full scan reads them"
		if errors.Is(err, scan.ErrNeedsFullScan) {
			msg = "a targeted rescan cannot explain this account: " + err.Error()
		}
		return false, w.escalate(ctx, clientKey, msg)
	case err != nil:
		if w.Metrics != nil {
			calls, points := 0, 0
			if r != nil {
				calls, points = r.Calls, r.Points
			}
			w.Metrics.Rescanned(StateFailed, len(ids), calls, points)
		}
		w.logFailure(ctx, clientKey, ready, r, err)
		return false, err
	}
	if w.Metrics != nil {
		w.Metrics.Rescanned(StateDone, len(ids), r.Calls, r.Points)
	}
	w.Logger.Debug().Str("client_key", clientKey).Int("accounts", len(ids)).Int("calls", r.Calls).Msg("rescan: accounts refreshed")
	return false, nil
}

// escalate queues a full scan and lets it cover what is pending. A scan
// already running started before some of the changes, so then nothing
// is dropped: its accounts are rescanned after it.
func (w *Worker) escalate(ctx context.Context, clientKey, why string) error {
	rec, err := w.Scans.Enqueue(ctx, clientKey, CauseEscalated)
	if err != nil && !errors.Is(err, scan.ErrScanRunning) {
		return err
	}
	if rec.State == scan.StateRunning {
		return nil
	}
	cutoff := w.Inbox.now()
	var taken []Pending
	err = w.Inbox.Store.Update(ctx, func(tx store.Tx) error {
		taken = taken[:0]
		err := tx.Each(clientKey, PendingBucket, nil, func(k, v []byte) error {
			var p Pending
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("rescan: decode pending: %w", err)
			}
			if p.LastAt.After(cutoff) {
				return nil
			}
			taken = append(taken, p)
			return tx.Delete(clientKey, PendingBucket, k)
		})
		if err != nil {
			return err
		}
		return w.record(tx, clientKey, taken, &scan.Refreshed{Scan: rec.ID, At: cutoff}, StateEscalated, why)
	})
	if err != nil {
		return fmt.Errorf("rescan: escalate %s: %w", clientKey, err)
	}
	if w.Metrics != nil {
		w.Metrics.Rescanned(StateEscalated, len(taken), 0, 0)
	}
	w.Logger.Info().Str("client_key", clientKey).Str("scan", rec.ID).Int("accounts", len(taken)).Msg("rescan: escalated to a full scan")
	return nil
}

// record ends the rescans of ps in tx: each leaves the pending list
// (unless named again meanwhile), is logged, and its new seats are kept.
func (w *Worker) record(tx store.Tx, clientKey string, ps []Pending, r *scan.Refreshed, state, msg string) error {
	for _, p := range ps {
		if state == StateDone {
			v, err := tx.Get(clientKey, PendingBucket, []byte(p.AccountID))
			switch {
			case errors.Is(err, store.ErrNotFound):
			case err != nil:
				return err
			default:
				var now Pending
				if err := json.Unmarshal(v, &now); err != nil {
					return fmt.Errorf("rescan: decode pending: %w", err)
				}
				if now.LastAt.Equal(p.LastAt) {
					if err := tx.Delete(clientKey, PendingBucket, []byte(p.AccountID)); err != nil {
						return err
					}
				}
			}
		}
		row := Rescan{AccountID: p.AccountID, State: state, QueuedAt: p.FirstAt, DoneAt: r.At,
			Calls: r.Calls, Points: r.Points, Batch: len(ps), Scan: r.Scan, Message: msg, Causes: []string{}, Events: []string{}}
		for _, h := range p.Hints {
			if !slices.Contains(row.Causes, h.Cause) {
				row.Causes = append(row.Causes, h.Cause)
			}
			if h.Event != "" && !slices.Contains(row.Events, h.Event) {
				row.Events = append(row.Events, h.Event)
			}
		}
		if state == StateDone {
			added, removed, err := keepNewSeats(tx, clientKey, p, r)
			if err != nil {
				return err
			}
			row.SeatsAdded, row.SeatsRemoved = added, removed
		}
		if err := appendLog(tx, clientKey, &row); err != nil {
			return err
		}
	}
	return pruneLog(tx, clientKey)
}

func appendLog(tx store.Tx, clientKey string, row *Rescan) error {
	seq, err := tx.NextSeq(clientKey, logBucket)
	if err != nil {
		return err
	}
	row.ID = strconv.FormatUint(seq, 10)
	v, err := json.Marshal(row)
	if err != nil {
		return fmt.Errorf("rescan: encode rescan: %w", err)
	}
	return tx.Put(clientKey, logBucket, binary.BigEndian.AppendUint64(nil, seq), v)
}

// pruneLog keeps the newest keepLog rescans.
func pruneLog(tx store.Tx, clientKey string) error {
	n := 0
	var drop [][]byte
	err := tx.EachReverse(clientKey, logBucket, nil, func(k, _ []byte) error {
		n++
		if n > keepLog {
			drop = append(drop, slices.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range drop {
		if err := tx.Delete(clientKey, logBucket, k); err != nil {
			return err
		}
	}
	return nil
}

// logFailure logs a failed batch; its accounts stay pending.
func (w *Worker) logFailure(ctx context.Context, clientKey string, ps []Pending, r *scan.Refreshed, cause error) {
	if r == nil {
		r = &scan.Refreshed{At: w.Inbox.now()}
	}
	msg := "the targeted rescan failed and is tried again: " + cause.Error()
	err := w.Inbox.Store.Update(ctx, func(tx store.Tx) error {
		return w.record(tx, clientKey, ps, r, StateFailed, msg)
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		w.Logger.Error().Err(err).Str("client_key", clientKey).Msg("rescan: could not log a failed rescan")
	}
}

// Rescans lists the tenant's pending accounts and recent rescans, newest
// first.
func (i *Inbox) Rescans(ctx context.Context, clientKey string, limit int) (pending []Pending, done []Rescan, err error) {
	if pending, err = i.PendingList(ctx, clientKey, limit); err != nil {
		return nil, nil, err
	}
	err = i.Store.View(ctx, func(tx store.Tx) error {
		return tx.EachReverse(clientKey, logBucket, nil, func(_, v []byte) error {
			var r Rescan
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("rescan: decode rescan: %w", err)
			}
			done = append(done, r)
			if len(done) >= limit {
				return store.ErrStop
			}
			return nil
		})
	})
	return pending, done, err
}

// PruneSeen forgets deliveries older than keepSeen: Atlassian retries a
// webhook within hours, not days.
func (i *Inbox) PruneSeen(ctx context.Context, clientKey string) error {
	now := i.now()
	return i.Store.Update(ctx, func(tx store.Tx) error {
		for bucket, keep := range map[string]time.Duration{seenBucket: keepSeen, erasedBucket: keepErased} {
			err := tx.Each(clientKey, bucket, nil, func(k, v []byte) error {
				t, err := time.Parse(time.RFC3339Nano, string(v))
				if err != nil || t.Before(now.Add(-keep)) {
					return tx.Delete(clientKey, bucket, k)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}
