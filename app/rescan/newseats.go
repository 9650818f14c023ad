package rescan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/store"
)

// newSeatsBucket holds the billable seats targeted rescans found new, by
// scan, account and product.
const newSeatsBucket = "new-seats"

// How a seat came in (DESIGN.md §9a, GET /api/v1/new-seats).
const (
	HowInvited       = "invited"        // a new account, invited with products
	HowDefaultGroup  = "default-group"  // added to the product's default group
	HowAddedToGroup  = "added-to-group" // added to another group that grants it
	HowAccessRequest = "access-request" // an access request approved
	HowRoleGranted   = "role-granted"   // a role given directly, not through a group
	HowUnknown       = "unknown"        // seen at a rescan, the event not known
)

// NewSeat is a billable seat that came in since the last full scan.
type NewSeat struct {
	AccountID   string    `json:"accountId"`
	DisplayName string    `json:"displayName"`
	Product     string    `json:"product"`
	How         string    `json:"how"`
	At          time.Time `json:"at"`
	// Group is the group it came through, when it came through one.
	GroupID   string `json:"groupId,omitempty"`
	GroupName string `json:"groupName,omitempty"`
	Cause     string `json:"cause,omitempty"` // what told Seatlens (webhook, audit-log, …)
	Scan      string `json:"scan"`
}

func newSeatKey(scanID, accountID, product string) []byte {
	return []byte(scanID + "\x00" + accountID + "\x00" + product)
}

// keepNewSeats records the billable seats the rescan found that the
// account did not have before it, and forgets those it no longer has.
func keepNewSeats(tx store.Tx, clientKey string, p Pending, r *scan.Refreshed) (added, removed []string, err error) {
	before, after := r.Before[p.AccountID], r.After[p.AccountID]
	had := map[string]bool{}
	if before != nil {
		for _, s := range before.Seats {
			had[s.Product] = s.Billable
		}
	}
	has := map[string]bool{}
	if after != nil {
		for _, s := range after.Seats {
			has[s.Product] = s.Billable
			if !s.Billable || had[s.Product] {
				continue
			}
			added = append(added, s.Product)
			ns := NewSeat{AccountID: p.AccountID, DisplayName: after.DisplayName, Product: s.Product, At: r.At, Scan: r.Scan, How: HowUnknown}
			var groups []string
			direct := false
			for _, path := range s.Paths {
				if path.GroupID != "" {
					groups = append(groups, path.GroupID)
				} else {
					direct = true
				}
			}
			ns.How, ns.GroupID, ns.Cause, ns.At = howCame(s.Product, groups, direct, before == nil, p.Hints, r.DefaultFor, r.At)
			for _, path := range s.Paths {
				if path.GroupID == ns.GroupID {
					ns.GroupName = path.GroupName
				}
			}
			v, err := json.Marshal(ns)
			if err != nil {
				return nil, nil, fmt.Errorf("rescan: encode new seat: %w", err)
			}
			if err := tx.Put(clientKey, newSeatsBucket, newSeatKey(r.Scan, p.AccountID, s.Product), v); err != nil {
				return nil, nil, err
			}
		}
	}
	for product, billable := range had {
		if billable && !has[product] {
			removed = append(removed, product)
		}
	}
	for product := range had {
		if !has[product] {
			if err := tx.Delete(clientKey, newSeatsBucket, newSeatKey(r.Scan, p.AccountID, product)); err != nil {
				return nil, nil, err
			}
		}
	}
	slices.Sort(added)
	slices.Sort(removed)
	return added, removed, nil
}

// howCame tells how a seat came in from the events that named the account
// and the seat's paths: the group an event names, else the seat's groups.
func howCame(product string, groups []string, direct, wasUnseen bool, hints []Hint, defaultFor map[string][]string, at time.Time) (how, group, cause string, when time.Time) {
	how, when = HowUnknown, at
	// An invitation or an approved access request is why the account's
	// groups changed, so it names how the seat came before they do.
	for _, h := range slices.Backward(hints) {
		switch {
		case isAccessRequest(h.Event):
			return HowAccessRequest, "", h.Cause, h.At
		case isInvite(h.Event) || (wasUnseen && isUserCreated(h.Event)):
			return HowInvited, firstOr(groups), h.Cause, h.At
		}
	}
	for _, h := range slices.Backward(hints) {
		switch {
		case h.GroupID != "" && slices.Contains(groups, h.GroupID):
			if slices.Contains(defaultFor[h.GroupID], product) {
				return HowDefaultGroup, h.GroupID, h.Cause, h.At
			}
			return HowAddedToGroup, h.GroupID, h.Cause, h.At
		}
		if cause == "" {
			cause, when = h.Cause, h.At
		}
	}
	for _, g := range groups {
		if slices.Contains(defaultFor[g], product) {
			return HowDefaultGroup, g, cause, when
		}
	}
	switch {
	case len(groups) > 0:
		return HowAddedToGroup, groups[0], cause, when
	case direct:
		return HowRoleGranted, "", cause, when
	}
	return how, "", cause, when
}

func firstOr(s []string) string {
	if len(s) > 0 {
		return s[0]
	}
	return ""
}

// NewSeats lists the billable seats targeted rescans found new since the
// latest full scan (scanID), at or after since (zero: all), oldest first.
func (i *Inbox) NewSeats(ctx context.Context, clientKey, scanID string, since time.Time) ([]NewSeat, error) {
	out := []NewSeat{}
	prefix := scanID + "\x00"
	err := i.Store.View(ctx, func(tx store.Tx) error {
		return tx.Each(clientKey, newSeatsBucket, []byte(prefix), func(k, v []byte) error {
			if !strings.HasPrefix(string(k), prefix) {
				return store.ErrStop
			}
			var s NewSeat
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("rescan: decode new seat: %w", err)
			}
			if !s.At.Before(since) {
				out = append(out, s)
			}
			return nil
		})
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("rescan: new seats of %s: %w", clientKey, err)
	}
	slices.SortStableFunc(out, func(a, b NewSeat) int { return a.At.Compare(b.At) })
	return out, nil
}

// ForgetNewSeats drops the new seats kept for scans other than keep: a
// full scan counts them in its own findings.
func (i *Inbox) ForgetNewSeats(ctx context.Context, clientKey, keep string) error {
	prefix := keep + "\x00"
	return i.Store.Update(ctx, func(tx store.Tx) error {
		return tx.Each(clientKey, newSeatsBucket, nil, func(k, _ []byte) error {
			if !strings.HasPrefix(string(k), prefix) {
				return tx.Delete(clientKey, newSeatsBucket, k)
			}
			return nil
		})
	})
}

// HowCame tells how a seat a full scan found new came in, from its paths
// alone: no event named it.
func HowCame(product string, groups []string, direct bool, defaultFor map[string][]string) (how, group string) {
	how, group, _, _ = howCame(product, groups, direct, false, nil, defaultFor, time.Time{})
	return how, group
}
