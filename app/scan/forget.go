package scan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/store"
)

// Accounts lists the account IDs every kept scan of a tenant holds
// findings for, each once, with the time of the oldest scan that holds
// it: what the personal data duty reports.
func (q *Queue) Accounts(ctx context.Context, clientKey string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	err := q.cfg.Store.View(ctx, func(tx store.Tx) error {
		return tx.Each(clientKey, recordsBucket, nil, func(_, v []byte) error {
			var r Record
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("scan: decode scan record: %w", err)
			}
			if r.State != StateDone || r.StartedAt == nil {
				return nil
			}
			at := *r.StartedAt
			return tx.Each(clientKey, findingsPrefix+r.ID, []byte(userPrefix), func(k, _ []byte) error {
				id, ok := strings.CutPrefix(string(k), userPrefix)
				if !ok {
					return store.ErrStop
				}
				if prev, seen := out[id]; !seen || at.Before(prev) {
					out[id] = at
				}
				return nil
			})
		})
	})
	if errors.Is(err, store.ErrNotFound) {
		return map[string]time.Time{}, nil
	}
	return out, err
}

// forgetWait is how long Forget waits for a targeted rescan of the tenant
// to end; a full scan makes it give up with ErrBusy (try again later).
var forgetWait = 30 * time.Second

// Forget removes accounts from every kept scan of a tenant: their findings
// go, and the sums of each scan whose basis is kept are made again
// without them (billing.Refresh with no fresh reading), so a scan's totals
// never count someone it no longer names. Each scan is summed once
// whatever the number of accounts. It holds the tenant as a targeted
// rescan does, so no rescan writes back what it erased; ErrBusy while the
// tenant's full scan runs.
func (q *Queue) Forget(ctx context.Context, clientKey string, accountIDs []string) error {
	if len(accountIDs) == 0 {
		return nil
	}
	deadline := time.Now().Add(forgetWait)
	for !q.claim(clientKey) {
		if time.Now().After(deadline) || q.scanning(clientKey) {
			return ErrBusy
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	defer q.release(clientKey)
	recs, err := q.Scans(ctx, clientKey)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if r.State != StateDone {
			continue
		}
		if err := q.forgetIn(ctx, clientKey, r, accountIDs); err != nil {
			return fmt.Errorf("scan: forget %d accounts in scan %s: %w", len(accountIDs), r.ID, err)
		}
	}
	return nil
}

func (q *Queue) forgetIn(ctx context.Context, clientKey string, r Record, accountIDs []string) error {
	bucket := findingsPrefix + r.ID
	var (
		held  []string
		basis *Basis
		hd    *billing.Findings
	)
	err := q.cfg.Store.View(ctx, func(tx store.Tx) error {
		var err error
		if _, hd, err = head(tx, clientKey, r.ID); err != nil {
			return err
		}
		for _, id := range accountIDs {
			if _, err := tx.Get(clientKey, bucket, []byte(userPrefix+id)); err == nil {
				held = append(held, id)
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		v, err := tx.Get(clientKey, bucket, []byte(basisKey))
		if err == nil {
			basis = &Basis{}
			return json.Unmarshal(v, basis)
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	if errors.Is(err, ErrNoScan) {
		return nil
	}
	if err != nil {
		return err
	}
	named := false
	for _, id := range accountIDs {
		named = named || hd.Settings.Names(id)
	}
	if len(held) == 0 && !named {
		return nil
	}
	nf := hd
	if len(held) > 0 && basis != nil {
		_, f, err := q.Findings(ctx, clientKey, r.ID)
		if err != nil {
			return err
		}
		if nf, err = billing.Refresh(&basis.Snapshot, f, held, nil, f.ScannedAt); err != nil {
			return err
		}
	}
	// The settings a scan was explained with name the accounts too (a
	// hold, an integration user): they go, the verdicts they gave stay.
	for _, id := range accountIDs {
		nf.Settings = nf.Settings.Without(id)
	}
	err = q.cfg.Store.Update(ctx, func(tx store.Tx) error {
		for _, id := range held {
			if err := tx.Delete(clientKey, bucket, []byte(userPrefix+id)); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		if err := putHead(tx, clientKey, r.ID, nf); err != nil {
			return err
		}
		cur, err := findRecord(tx, clientKey, r.ID)
		if err != nil {
			return err
		}
		totals := nf.Totals
		cur.Totals = &totals
		return putRecord(tx, clientKey, cur)
	})
	q.index.drop([2]string{clientKey, r.ID})
	return err
}

// scanning reports whether the tenant's full scan (not a targeted rescan)
// holds it: that may take hours, not worth waiting for.
func (q *Queue) scanning(clientKey string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := q.running[clientKey]
	return l != nil && !l.refresh
}
