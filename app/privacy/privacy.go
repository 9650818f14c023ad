// Package privacy keeps Atlassian's personal data duty for apps
// (https://developer.atlassian.com/cloud/jira/platform/user-privacy-developer-guide/,
// gaps-2026-11.md §1): every account Seatlens stores is reported, 90 a
// request, once a cycle; an account reported closed is erased everywhere
// Seatlens keeps it, one reported updated is read again.
package privacy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/seatlens/seatlens/app/atlassian"
	"github.com/seatlens/seatlens/store"
)

// accountsBucket holds, per tenant, each stored account's reporting state.
const accountsBucket = "pd-accounts"

// closedBucket remembers, as hashes, the accounts Atlassian reported
// closed. A later scan may store such an account again (Jira may still
// list a closed account): it is erased without being reported, since the
// guide warns against "repeatedly checking the status of a closed account
// beyond a reasonable time frame"
// (https://developer.atlassian.com/platform/forge/user-privacy-guidelines/).
const closedBucket = "pd-closed"

// erasingBucket holds, by account ID, the accounts reported closed whose
// erasure has not finished: an erasure that fails or is cut short is
// tried again at every run until it has, whether or not anything still
// lists the account as held.
const erasingBucket = "pd-erasing"

func closedKey(accountID string) []byte {
	h := sha256.Sum256([]byte(accountID))
	return []byte(hex.EncodeToString(h[:]))
}

// Account is where one stored account stands in the cycle.
type Account struct {
	// UpdatedAt is when the oldest copy Seatlens keeps was read from
	// Atlassian: what the report says.
	UpdatedAt  time.Time `json:"updatedAt"`
	DueAt      time.Time `json:"dueAt"`
	ReportedAt time.Time `json:"reportedAt,omitempty"`
}

// Held lists what a tenant stores: account ID → when its oldest kept copy
// was read (scan.Queue.Accounts).
type Held interface {
	Accounts(ctx context.Context, clientKey string) (map[string]time.Time, error)
}

// Clients gives the client that reports for a tenant.
type Clients interface {
	ReportClient(ctx context.Context, clientKey string) (*atlassian.Client, error)
}

// Eraser erases accounts everywhere Seatlens keeps them for a tenant.
type Eraser interface {
	Erase(ctx context.Context, clientKey string, accountIDs []string) error
}

// Refresher has an account read again (an updated one).
type Refresher interface {
	Refresh(ctx context.Context, clientKey string, accountIDs []string) error
}

// ReportInterval is how often each tenant's due accounts are reported by
// default: an account is due once a cycle (7 days by default) whatever
// the interval, and the guide asks that reports not be sent at round
// times or more often than the cycle.
const ReportInterval = time.Hour

// stateBucket holds a tenant's State under stateKey.
const (
	stateBucket = "pd-state"
	stateKey    = "state"
)

// State is where a tenant's reporting stands, for its admins.
type State struct {
	// CheckedAt is the last run; Tracked the accounts in the cycle then.
	CheckedAt time.Time `json:"checkedAt"`
	Tracked   int       `json:"tracked"`
	// ReportedAt and Reported are the last run that reported accounts.
	ReportedAt *time.Time `json:"reportedAt,omitempty"`
	Reported   int        `json:"reported"`
	// CycleSeconds is the cycle Atlassian last named (7 days without one).
	CycleSeconds int64 `json:"cycleSeconds"`
	// NextDueAt is when the next account falls due (nil: none tracked).
	NextDueAt *time.Time `json:"nextDueAt,omitempty"`
	// Erased counts the closed accounts erased since the app was
	// installed; Refreshed the updated ones queued to be read again.
	Erased    int `json:"erased"`
	Refreshed int `json:"refreshed"`
	// Error is why the last run failed ("" when it did not).
	Error string `json:"error,omitempty"`
}

// maxPerRun bounds the accounts one tenant reports a run: the rest is due
// at the next run, an hour later.
const maxPerRun = 20 * atlassian.ReportBatch

// Reporter runs the cycle for every tenant.
type Reporter struct {
	Store     *store.Store
	Held      Held
	Clients   Clients
	Eraser    Eraser
	Refresher Refresher
	Now       func() time.Time
	Logger    zerolog.Logger

	wakeOnce sync.Once
	wake     chan string // tenants whose scans ended (Notify)
}

func (r *Reporter) wakeChan() chan string {
	r.wakeOnce.Do(func() { r.wake = make(chan string, 64) })
	return r.wake
}

// Notify says a tenant's scan ended: its accounts are taken into the cycle
// (and any due reported) by the running loop soon, not at the next tick.
// It never blocks; a full queue waits for the tick.
func (r *Reporter) Notify(clientKey string) {
	select {
	case r.wakeChan() <- clientKey:
	default:
	}
}

// Result is what one run did for a tenant.
type Result struct {
	Tracked, Reported, Requests int
	// Closed are the accounts erased this run: reported closed now, or
	// found stored again after an earlier closed report.
	Closed, Updated []string
	Cycle           time.Duration
}

func (r *Reporter) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

// Run reports a tenant's due accounts, acts on the answers and records
// where the tenant stands (State).
func (r *Reporter) Run(ctx context.Context, clientKey string) (Result, error) {
	res, err := r.run(ctx, clientKey)
	next, nerr := r.nextDue(ctx, clientKey)
	if nerr != nil && err == nil {
		err = nerr
	}
	if serr := r.record(ctx, clientKey, res, next, err); serr != nil && err == nil {
		err = serr
	}
	return res, err
}

// nextDue is when the tenant's next account falls due (zero: none).
func (r *Reporter) nextDue(ctx context.Context, clientKey string) (time.Time, error) {
	var next time.Time
	err := r.Store.View(ctx, func(tx store.Tx) error {
		return tx.Each(clientKey, accountsBucket, nil, func(_, v []byte) error {
			var a Account
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("privacy: decode account: %w", err)
			}
			if next.IsZero() || a.DueAt.Before(next) {
				next = a.DueAt
			}
			return nil
		})
	})
	if errors.Is(err, store.ErrNotFound) {
		return time.Time{}, nil
	}
	return next, err
}

// State is where a tenant's reporting stands; the zero State before the
// first run.
func (r *Reporter) State(ctx context.Context, clientKey string) (State, error) {
	var st State
	err := r.Store.View(ctx, func(tx store.Tx) error {
		v, err := tx.Get(clientKey, stateBucket, []byte(stateKey))
		if err != nil {
			return err
		}
		return json.Unmarshal(v, &st)
	})
	if errors.Is(err, store.ErrNotFound) {
		return State{}, nil
	}
	return st, err
}

// record keeps the run's outcome in the tenant's State.
func (r *Reporter) record(ctx context.Context, clientKey string, res Result, next time.Time, runErr error) error {
	now := r.now()
	err := r.Store.Update(ctx, func(tx store.Tx) error {
		var st State
		if v, err := tx.Get(clientKey, stateBucket, []byte(stateKey)); err == nil {
			if err := json.Unmarshal(v, &st); err != nil {
				return fmt.Errorf("privacy: decode state: %w", err)
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		st.CheckedAt, st.Tracked, st.Error = now, res.Tracked, ""
		if res.Reported > 0 {
			st.ReportedAt, st.Reported = &now, res.Reported
		}
		if res.Cycle > 0 {
			st.CycleSeconds = int64(res.Cycle / time.Second)
		} else if st.CycleSeconds == 0 {
			st.CycleSeconds = int64(atlassian.DefaultCyclePeriod / time.Second)
		}
		st.NextDueAt = nil
		if !next.IsZero() {
			st.NextDueAt = &next
		}
		st.Erased += len(res.Closed)
		st.Refreshed += len(res.Updated)
		if runErr != nil {
			st.Error = runErr.Error()
		}
		v, err := json.Marshal(st)
		if err != nil {
			return err
		}
		return tx.Put(clientKey, stateBucket, []byte(stateKey), v)
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil // purged meanwhile
	}
	return err
}

func (r *Reporter) run(ctx context.Context, clientKey string) (Result, error) {
	var res Result
	held, err := r.Held.Accounts(ctx, clientKey)
	if err != nil {
		return res, err
	}
	now := r.now()
	due, known, tracked, err := r.sync(ctx, clientKey, held, now)
	if err != nil {
		return res, err
	}
	res.Tracked = tracked
	// Erasures left over from earlier runs, and closed accounts stored
	// again: erased now. A failure does not hold up the reports; it is
	// returned with whatever else the run meets.
	var eraseErr error
	pending, err := r.erasing(ctx, clientKey)
	if err != nil {
		return res, err
	}
	if again := union(pending, known); len(again) > 0 {
		if err := r.erase(ctx, clientKey, again); err != nil {
			eraseErr = fmt.Errorf("privacy: erase %d accounts of %s reported closed: %w", len(again), clientKey, err)
		} else {
			res.Closed = append(res.Closed, again...)
		}
	}
	if len(due) == 0 {
		return res, eraseErr
	}
	c, err := r.Clients.ReportClient(ctx, clientKey)
	if err != nil {
		return res, errors.Join(eraseErr, err)
	}
	for lo := 0; lo < len(due); lo += atlassian.ReportBatch {
		batch := due[lo:min(lo+atlassian.ReportBatch, len(due))]
		var accts []atlassian.ReportedAccount
		for _, id := range batch {
			accts = append(accts, atlassian.ReportedAccount{AccountID: id, UpdatedAt: held[id]})
		}
		statuses, cycle, err := c.ReportAccounts(ctx, accts)
		res.Requests++
		if err != nil {
			return res, errors.Join(eraseErr, fmt.Errorf("privacy: report %d accounts of %s: %w", len(batch), clientKey, err))
		}
		res.Reported += len(batch)
		res.Cycle = cycle
		asked := map[string]bool{}
		for _, id := range batch {
			asked[id] = true
		}
		closed := map[string]bool{}
		var closedIDs, updated []string
		for _, s := range statuses {
			if !asked[s.AccountID] {
				continue // not ours: never act on an account not asked about
			}
			switch s.Status {
			case atlassian.AccountClosed:
				if !closed[s.AccountID] {
					closedIDs = append(closedIDs, s.AccountID)
				}
				closed[s.AccountID] = true
			case atlassian.AccountUpdated:
				updated = append(updated, s.AccountID)
			}
		}
		// Atlassian's answer is recorded first (a closed account is then
		// never reported again, and is in erasingBucket until its erasure
		// has finished), the refreshes and erasures follow.
		if err := r.reported(ctx, clientKey, batch, closed, now, cycle); err != nil {
			return res, errors.Join(eraseErr, err)
		}
		if len(updated) > 0 && r.Refresher != nil {
			if err := r.Refresher.Refresh(ctx, clientKey, updated); err != nil {
				return res, errors.Join(eraseErr, err)
			}
			res.Updated = append(res.Updated, updated...)
		}
		if len(closedIDs) > 0 {
			if err := r.erase(ctx, clientKey, closedIDs); err != nil {
				return res, errors.Join(eraseErr, fmt.Errorf("privacy: erase %d closed accounts of %s: %w", len(closedIDs), clientKey, err))
			}
			res.Closed = append(res.Closed, closedIDs...)
		}
	}
	return res, eraseErr
}

// erase erases accounts and, once that has finished, drops them from
// erasingBucket.
func (r *Reporter) erase(ctx context.Context, clientKey string, ids []string) error {
	if err := r.Eraser.Erase(ctx, clientKey, ids); err != nil {
		return err
	}
	return r.Store.Update(ctx, func(tx store.Tx) error {
		for _, id := range ids {
			if err := tx.Delete(clientKey, erasingBucket, []byte(id)); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return nil
	})
}

// erasing lists the accounts whose erasure has not finished.
func (r *Reporter) erasing(ctx context.Context, clientKey string) ([]string, error) {
	var ids []string
	err := r.Store.View(ctx, func(tx store.Tx) error {
		return tx.Each(clientKey, erasingBucket, nil, func(k, _ []byte) error {
			ids = append(ids, string(k))
			return nil
		})
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return ids, err
}

// union is a and b without repeats, sorted.
func union(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// sync records the accounts stored and forgets those no longer stored;
// it returns the ones due, longest due first, at most maxPerRun, and the
// stored ones Atlassian reported closed before (to erase, not report).
func (r *Reporter) sync(ctx context.Context, clientKey string, held map[string]time.Time, now time.Time) (due, closed []string, tracked int, err error) {
	type dueAt struct {
		id string
		at time.Time
	}
	var cands []dueAt
	err = r.Store.Update(ctx, func(tx store.Tx) error {
		cands, closed, tracked = cands[:0], closed[:0], 0
		seen := map[string]bool{}
		err := tx.Each(clientKey, accountsBucket, nil, func(k, v []byte) error {
			id := string(k)
			if _, ok := held[id]; !ok {
				return tx.Delete(clientKey, accountsBucket, k)
			}
			seen[id] = true
			tracked++
			var a Account
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("privacy: decode account: %w", err)
			}
			if !a.DueAt.After(now) {
				cands = append(cands, dueAt{id, a.DueAt})
			}
			return nil
		})
		if err != nil {
			return err
		}
		for id, at := range held {
			if seen[id] || !atlassian.Reportable(id) {
				continue
			}
			if _, err := tx.Get(clientKey, closedBucket, closedKey(id)); err == nil {
				closed = append(closed, id)
				continue
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			// A new account is due within the hour, spread so that a
			// large scan's accounts do not all fall due at once.
			a := Account{UpdatedAt: at, DueAt: now.Add(spread(id, time.Hour))}
			v, err := json.Marshal(a)
			if err != nil {
				return err
			}
			if err := tx.Put(clientKey, accountsBucket, []byte(id), v); err != nil {
				return err
			}
			tracked++
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, 0, nil
	}
	if err != nil {
		return nil, nil, 0, err
	}
	sort.Slice(cands, func(i, j int) bool {
		if !cands[i].at.Equal(cands[j].at) {
			return cands[i].at.Before(cands[j].at)
		}
		return cands[i].id < cands[j].id
	})
	for _, c := range cands[:min(len(cands), maxPerRun)] {
		due = append(due, c.id)
	}
	sort.Strings(closed)
	return due, closed, tracked, nil
}

// spread is a stable offset in [0, d) for an account.
func spread(id string, d time.Duration) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(id))
	return time.Duration(h.Sum64() % uint64(d))
}

// reported records a batch's report: closed accounts leave the registry
// (erased) for the closed list, the others are due again a cycle on.
func (r *Reporter) reported(ctx context.Context, clientKey string, batch []string, closed map[string]bool, now time.Time, cycle time.Duration) error {
	return r.Store.Update(ctx, func(tx store.Tx) error {
		for _, id := range batch {
			if closed[id] {
				if err := tx.Delete(clientKey, accountsBucket, []byte(id)); err != nil {
					return err
				}
				if err := tx.Put(clientKey, closedBucket, closedKey(id), []byte(now.Format(time.RFC3339))); err != nil {
					return err
				}
				if err := tx.Put(clientKey, erasingBucket, []byte(id), []byte(now.Format(time.RFC3339))); err != nil {
					return err
				}
				continue
			}
			v, err := tx.Get(clientKey, accountsBucket, []byte(id))
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			var a Account
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("privacy: decode account: %w", err)
			}
			a.ReportedAt, a.DueAt = now, now.Add(cycle)
			if v, err = json.Marshal(a); err != nil {
				return err
			}
			if err := tx.Put(clientKey, accountsBucket, []byte(id), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// RunAll runs every installed tenant once.
func (r *Reporter) RunAll(ctx context.Context) {
	tenants, err := r.Store.Tenants(ctx)
	if err != nil {
		r.Logger.Error().Err(err).Msg("privacy: list tenants")
		return
	}
	for _, t := range tenants {
		if !t.Installed || ctx.Err() != nil {
			continue
		}
		r.runOne(ctx, t.ClientKey)
	}
}

// runOne runs a tenant and logs the outcome.
func (r *Reporter) runOne(ctx context.Context, clientKey string) {
	res, err := r.Run(ctx, clientKey)
	if err != nil {
		if ctx.Err() == nil {
			r.Logger.Warn().Err(err).Str("client_key", clientKey).Msg("privacy: personal data report")
		}
		return
	}
	if res.Reported > 0 || len(res.Closed) > 0 {
		r.Logger.Info().Str("client_key", clientKey).Int("reported", res.Reported).Int("requests", res.Requests).
			Int("closed", len(res.Closed)).Int("updated", len(res.Updated)).Msg("privacy: accounts reported")
	}
}

// Start runs at once (a restart resumes where the cycle stood), then every
// interval and for every tenant Notify names, until ctx ends.
func (r *Reporter) Start(ctx context.Context, interval time.Duration) {
	wake := r.wakeChan()
	go func() {
		r.RunAll(ctx)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				r.RunAll(ctx)
			case ck := <-wake:
				r.runOne(ctx, ck)
			}
		}
	}()
}
