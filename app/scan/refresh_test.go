package scan_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/app/sitesim"
)

// A targeted rescan of the accounts that changed gives, for them and for
// the sums, exactly what a whole new scan of the changed site gives, in at
// most MaxCallsPerAccount calls an account.
func TestRereadEqualsAFullScan(t *testing.T) {
	for _, keyed := range []bool{true, false} {
		name := map[bool]string{true: "org key", false: "keyless"}[keyed]
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := startSim(t, sitesim.Generate(300, 5), sitesim.Options{})
			src := s.source(t, keyed)
			job := scan.Job{Source: src}
			before, err := scan.Run(ctx, job)
			if err != nil {
				t.Fatal(err)
			}
			// Someone joins a default group, someone leaves every group
			// that grants a product.
			var def billing.Group
			for _, g := range before.Basis.Snapshot.Groups {
				if slices.Contains(g.DefaultFor, billing.JiraSoftware) {
					def = g
				}
			}
			if def.ID == "" {
				t.Fatal("the site has no default group of Jira")
			}
			var joiner, leaver billing.User
			for _, u := range before.Snapshot.Users {
				switch {
				case joiner.AccountID == "" && u.AccountType == billing.AccountAtlassian && u.Active && !slices.Contains(u.Groups, def.ID):
					joiner = u
				case leaver.AccountID == "" && u.AccountType == billing.AccountAtlassian && len(u.Groups) > 0 && len(u.Roles) == 0:
					leaver = u
				}
			}
			admin := src.Jira
			if err := admin.AddGroupMember(ctx, def.ID, joiner.AccountID); err != nil {
				t.Fatal(err)
			}
			for _, g := range leaver.Groups {
				if err := admin.RemoveGroupMember(ctx, g, leaver.AccountID); err != nil {
					t.Fatal(err)
				}
			}

			fresh := s.source(t, keyed)
			ids := []string{joiner.AccountID, leaver.AccountID, "gone-for-good"}
			users, err := scan.Reread(ctx, scan.Job{Source: fresh}, before.Basis, ids)
			if err != nil {
				t.Fatal(err)
			}
			calls := fresh.Jira.Stats().Total.Calls
			if fresh.Org != nil {
				calls += fresh.Org.Stats().Total.Calls
			}
			if calls > scan.MaxCallsPerAccount*len(ids) {
				t.Errorf("reading %d accounts took %d calls", len(ids), calls)
			}
			got, err := billing.Refresh(&before.Basis.Snapshot, before.Findings, ids, users, fixtureScannedAt)
			if err != nil {
				t.Fatal(err)
			}
			after, err := scan.Run(ctx, scan.Job{Source: s.source(t, keyed)})
			if err != nil {
				t.Fatal(err)
			}
			want := after.Findings
			if got.Totals != want.Totals {
				t.Fatalf("totals: refreshed %+v, full scan %+v", got.Totals, want.Totals)
			}
			for _, id := range ids[:2] {
				g, w := userOf(got, id), userOf(want, id)
				if g != nil {
					if g.RefreshedAt == nil {
						t.Errorf("%s is not marked refreshed", id)
					}
					g.RefreshedAt = nil
				}
				jg, _ := json.Marshal(g)
				jw, _ := json.Marshal(w)
				if string(jg) != string(jw) {
					t.Errorf("%s: refreshed\n%s\nfull scan\n%s", id, jg, jw)
				}
			}
			if userOf(got, joiner.AccountID) == nil {
				t.Fatal("the account added to the default group has no seat")
			}
			jp, _ := json.Marshal(got.Products)
			wp, _ := json.Marshal(want.Products)
			if string(jp) != string(wp) {
				t.Errorf("per-product sums differ:\n%s\n%s", jp, wp)
			}
		})
	}
}

func userOf(f *billing.Findings, id string) *billing.UserFindings {
	for i := range f.Users {
		if f.Users[i].AccountID == id {
			return &f.Users[i]
		}
	}
	return nil
}

// An account that holds a product through a group the scan never read
// (made since) cannot be explained by a targeted rescan.
func TestRereadAsksForAFullScanWhenAGroupIsNew(t *testing.T) {
	ctx := context.Background()
	s := startSim(t, sitesim.Generate(120, 8), sitesim.Options{})
	src := s.source(t, false)
	before, err := scan.Run(ctx, scan.Job{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	// Forget one product-granting group, as if it had been made after
	// the scan.
	basis := *before.Basis
	var dropped billing.Group
	var member string
	for i, g := range basis.Snapshot.Groups {
		if len(g.Grants) == 0 {
			continue
		}
		for _, u := range before.Snapshot.Users {
			if len(u.Groups) == 1 && u.Groups[0] == g.ID {
				dropped, member = g, u.AccountID
			}
		}
		if member != "" {
			basis.Snapshot.Groups = slices.Delete(slices.Clone(basis.Snapshot.Groups), i, i+1)
			break
		}
	}
	if member == "" {
		t.Fatal("no account holds a product through one group only")
	}
	_, err = scan.Reread(ctx, scan.Job{Source: s.source(t, false)}, &basis, []string{member})
	if !errors.Is(err, scan.ErrNeedsFullScan) {
		t.Fatalf("group %s unknown: got %v, want ErrNeedsFullScan", dropped.Name, err)
	}
	// Credentials that reach further than the scan's also need a full scan.
	_, err = scan.Reread(ctx, scan.Job{Source: s.source(t, true)}, before.Basis, []string{member})
	if !errors.Is(err, scan.ErrNeedsFullScan) {
		t.Fatalf("an org key the scan did not have: got %v, want ErrNeedsFullScan", err)
	}
}
