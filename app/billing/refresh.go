package billing

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Refresh re-explains some accounts of an earlier scan in place, without
// reading the site again: base is that scan's snapshot without its users
// (products, groups, sources), f its findings, fresh the accounts as read
// again at the instant at. An account of ids that fresh does not hold is
// gone, and leaves the findings. The products, the groups' site findings
// and the totals are summed again over every account, so they stay exact.
//
// The settings are the scan's (f.Settings), so one document never mixes
// two; the org API's last-active dates of the fresh accounts are measured
// from at, as the scan measured its own from its start.
func Refresh(base *Snapshot, f *Findings, ids []string, fresh []User, at time.Time) (*Findings, error) {
	snap := *base
	snap.Users = fresh
	snap.ScannedAt = at.UTC()
	if a := base.Sources.Activity; a != nil && a.Kind == ActivityOrgAPI {
		b := *a
		b.AsOf = snap.ScannedAt
		snap.Sources.Activity = &b
	}
	if err := snap.Validate(); err != nil {
		return nil, err
	}
	for _, u := range fresh {
		if !slices.Contains(ids, u.AccountID) {
			return nil, fmt.Errorf("billing: refreshed account %s was not asked for", u.AccountID)
		}
	}
	e := newEngine(&snap, f.Settings)
	out := *f
	out.Users = make([]UserFindings, 0, len(f.Users)+len(fresh))
	drop := make(map[string]bool, len(ids))
	for _, id := range ids {
		drop[id] = true
	}
	for _, u := range f.Users {
		if !drop[u.AccountID] {
			out.Users = append(out.Users, u)
		}
	}
	var w userWork
	stamp := snap.ScannedAt
	for i := range fresh {
		uf := e.explainUser(&fresh[i], &w)
		if len(uf.Seats) == 0 {
			continue
		}
		uf.RefreshedAt = &stamp
		out.Users = append(out.Users, uf)
	}
	slices.SortFunc(out.Users, func(a, b UserFindings) int { return strings.Compare(a.AccountID, b.AccountID) })
	e.summarise(&out)
	return &out, nil
}
