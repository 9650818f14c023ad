package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/seatlens/seatlens/store"
)

// Erased stands where an erased account's ID was: the review keeps what
// was done (the product, the groups, the outcome) and no longer says to
// whom or by whom.
const Erased = "erased"

// Redact removes an account from every review of a tenant: as a seat's
// holder (its ID and name), as a submitter, approver or executor, and
// from the exclusions.
func (s *Service) Redact(ctx context.Context, clientKey, accountID string) error {
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		var headers []*Review
		err := tx.Each(clientKey, bucket, nil, func(_, v []byte) error {
			var r Review
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("review: decode: %w", err)
			}
			headers = append(headers, &r)
			return nil
		})
		if err != nil {
			return err
		}
		for _, r := range headers {
			changed := false
			for _, f := range []*string{&r.CreatedBy, &r.SubmittedBy, &r.ApprovedBy, &r.RejectedBy, &r.ExecutedBy} {
				if *f == accountID {
					*f, changed = Erased, true
				}
			}
			for i := range r.Exclusions {
				e := &r.Exclusions[i]
				if e.AccountID == accountID {
					e.AccountID, changed = Erased, true
				}
				if e.By == accountID {
					e.By, changed = Erased, true
				}
			}
			if changed {
				k, _ := key(r.ID)
				h := *r
				h.Items = nil
				v, err := json.Marshal(h)
				if err != nil {
					return fmt.Errorf("review: encode: %w", err)
				}
				if err := tx.Put(clientKey, bucket, k, v); err != nil {
					return err
				}
			}
			var redo []int
			var items []Item
			i := 0
			err := tx.Each(clientKey, itemsPrefix+r.ID, nil, func(_, v []byte) error {
				var it Item
				if err := json.Unmarshal(v, &it); err != nil {
					return fmt.Errorf("review: decode item: %w", err)
				}
				if it.AccountID == accountID {
					it.AccountID, it.DisplayName = Erased, ""
					redo, items = append(redo, i), append(items, it)
				}
				i++
				return nil
			})
			if err != nil {
				return err
			}
			for j, at := range redo {
				if err := putItem(tx, clientKey, r.ID, at, &items[j]); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("review: redact an account of %s: %w", clientKey, err)
	}
	return nil
}

// Accounts lists the accounts the tenant's reviews name (seat holders,
// the admins who acted, exclusions), each with when its oldest review
// was created: what they hold of a person is read from the scan then.
func (s *Service) Accounts(ctx context.Context, clientKey string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	note := func(id string, at time.Time) {
		if id == "" || id == Erased {
			return
		}
		if prev, ok := out[id]; !ok || at.Before(prev) {
			out[id] = at
		}
	}
	err := s.Store.View(ctx, func(tx store.Tx) error {
		return tx.Each(clientKey, bucket, nil, func(_, v []byte) error {
			var r Review
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("review: decode: %w", err)
			}
			for _, id := range []string{r.CreatedBy, r.SubmittedBy, r.ApprovedBy, r.RejectedBy, r.ExecutedBy} {
				note(id, r.CreatedAt)
			}
			for _, e := range r.Exclusions {
				note(e.AccountID, r.CreatedAt)
				note(e.By, r.CreatedAt)
			}
			return tx.Each(clientKey, itemsPrefix+r.ID, nil, func(_, v []byte) error {
				var it Item
				if err := json.Unmarshal(v, &it); err != nil {
					return fmt.Errorf("review: decode item: %w", err)
				}
				note(it.AccountID, r.CreatedAt)
				return nil
			})
		})
	})
	if errors.Is(err, store.ErrNotFound) {
		return out, nil
	}
	return out, err
}
