package scan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/store"
)

// basisKey holds a finished scan's Basis in its findings bucket.
const basisKey = "basis"

func saveBasis(tx store.Tx, clientKey, id string, b *Basis) error {
	if b == nil {
		return nil
	}
	v, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("scan: encode the scan's basis: %w", err)
	}
	return tx.Put(clientKey, findingsPrefix+id, []byte(basisKey), v)
}

// Refreshed is what a targeted rescan did.
type Refreshed struct {
	Scan string // the scan whose findings were updated
	// Before and After are the accounts' findings before and after (nil:
	// no seat), by account ID.
	Before, After map[string]*billing.UserFindings
	Calls, Points int
	At            time.Time
	// DefaultFor maps each default group of the scan to its products.
	DefaultFor map[string][]string
}

// ErrBusy says the tenant's full scan or another refresh is under way;
// the accounts are refreshed after it.
var ErrBusy = errors.New("scan: the tenant is being scanned")

// Refresh reads the accounts ids of a tenant again and updates the latest
// scan's findings in place: the accounts, the sums and the seat index, in
// one transaction with also (the caller's own bookkeeping, e.g. clearing
// what it had pending). ErrNoScan before the first scan, ErrNeedsFullScan
// when a targeted rescan cannot stand in for one, ErrBusy while the
// tenant's full scan runs.
func (q *Queue) Refresh(ctx context.Context, clientKey string, ids []string, also func(tx store.Tx, r *Refreshed) error) (*Refreshed, error) {
	if !q.claim(clientKey) {
		return nil, ErrBusy
	}
	defer q.release(clientKey)
	var (
		rec   Record
		f     *billing.Findings
		basis Basis
	)
	err := q.cfg.Store.View(ctx, func(tx store.Tx) error {
		last, ok, err := newest(tx, clientKey, nil)
		if err != nil {
			return err
		}
		if ok && (last.State == StateQueued || last.State == StateRunning) {
			return ErrBusy
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if rec, f, err = q.Findings(ctx, clientKey, Latest); err != nil {
		return nil, err
	}
	err = q.cfg.Store.View(ctx, func(tx store.Tx) error {
		v, err := tx.Get(clientKey, findingsPrefix+rec.ID, []byte(basisKey))
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: scan %s kept no basis", ErrNeedsFullScan, rec.ID)
		}
		if err != nil {
			return err
		}
		return json.Unmarshal(v, &basis)
	})
	if err != nil {
		return nil, err
	}
	job, _, err := q.cfg.Prepare.Prepare(ctx, clientKey)
	if err != nil {
		return nil, err
	}
	at := q.cfg.Now().UTC().Truncate(time.Second)
	fresh, err := Reread(ctx, job, &basis, ids)
	calls, points := job.calls(), job.points()
	if err != nil {
		return &Refreshed{Scan: rec.ID, Calls: calls, Points: points, At: at}, err
	}
	nf, err := billing.Refresh(&basis.Snapshot, f, ids, fresh, at)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNeedsFullScan, err)
	}
	r := &Refreshed{Scan: rec.ID, Before: map[string]*billing.UserFindings{}, After: map[string]*billing.UserFindings{},
		Calls: calls, Points: points, At: at}
	for _, id := range ids {
		r.Before[id], r.After[id] = findUser(f, id), findUser(nf, id)
	}
	r.DefaultFor = map[string][]string{}
	for _, g := range nf.Groups {
		if len(g.DefaultFor) > 0 {
			r.DefaultFor[g.ID] = g.DefaultFor
		}
	}
	err = q.cfg.Store.Update(ctx, func(tx store.Tx) error {
		cur, err := findRecord(tx, clientKey, rec.ID)
		if err != nil {
			return err // pruned meanwhile
		}
		for _, id := range ids {
			if u := r.After[id]; u != nil {
				if err := putUser(tx, clientKey, rec.ID, u); err != nil {
					return err
				}
			} else if err := tx.Delete(clientKey, findingsPrefix+rec.ID, []byte(userPrefix+id)); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		if err := putHead(tx, clientKey, rec.ID, nf); err != nil {
			return err
		}
		totals := nf.Totals
		cur.Totals = &totals
		cur.Refreshed++
		cur.RefreshedAt = &at
		if err := putRecord(tx, clientKey, cur); err != nil {
			return err
		}
		if q.cfg.Recorder != nil {
			data := map[string]any{"scan": rec.ID, "accounts": len(ids), "calls": calls,
				"billableSeats": totals.BillableSeats, "removable": totals.Removable}
			if err := q.cfg.Recorder.RecordTx(tx, clientKey, "scan.refreshed", "", "", data); err != nil {
				return err
			}
		}
		if also != nil {
			return also(tx, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan: record the refresh of %s: %w", clientKey, err)
	}
	q.index.put([2]string{clientKey, rec.ID}, indexOf(rec.ID, nf))
	return r, nil
}

func findUser(f *billing.Findings, id string) *billing.UserFindings {
	i, ok := slices.BinarySearchFunc(f.Users, id, func(u billing.UserFindings, id string) int {
		switch {
		case u.AccountID < id:
			return -1
		case u.AccountID > id:
			return 1
		}
		return 0
	})
	if !ok {
		return nil
	}
	u := f.Users[i]
	return &u
}

// claim marks a tenant busy for a refresh; false while its scan or
// another refresh runs. A scan waits for the refresh (next skips busy
// tenants).
func (q *Queue) claim(clientKey string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.running[clientKey] != nil {
		return false
	}
	q.running[clientKey] = &live{refresh: true}
	return true
}

func (q *Queue) release(clientKey string) {
	q.mu.Lock()
	delete(q.running, clientKey)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}
