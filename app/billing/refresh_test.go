package billing_test

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/sitesim"
)

// Refreshing the accounts that changed must give exactly the findings a
// whole new explanation of the changed site gives: seats, paths, verdicts,
// per-product sums, site findings and totals.
func TestRefreshEqualsExplainingAgain(t *testing.T) {
	for name, before := range generatedSnapshots(t) {
		t.Run(name, func(t *testing.T) {
			f1, err := billing.Explain(before, propertySettings)
			if err != nil {
				t.Fatal(err)
			}
			after := *before
			after.Users = slices.Clone(before.Users)
			rng := rand.New(rand.NewPCG(3, 4))
			var ids []string
			var defaults []string
			for _, g := range before.Groups {
				if len(g.DefaultFor) > 0 {
					defaults = append(defaults, g.ID)
				}
			}
			if len(defaults) == 0 {
				defaults = []string{before.Groups[0].ID}
			}
			for range 40 {
				i := rng.IntN(len(after.Users))
				u := &after.Users[i]
				if slices.Contains(ids, u.AccountID) {
					continue
				}
				ids = append(ids, u.AccountID)
				switch rng.IntN(3) {
				case 0: // added to a default group
					g := defaults[rng.IntN(len(defaults))]
					if !slices.Contains(u.Groups, g) {
						u.Groups = append(slices.Clone(u.Groups), g)
					}
				case 1: // left every group
					u.Groups = nil
				case 2: // deleted
					after.Users = slices.Delete(after.Users, i, i+1)
				}
			}
			// A new account, invited into a default group.
			newcomer := billing.User{AccountID: "zz-newcomer", DisplayName: "New Comer", AccountType: billing.AccountAtlassian,
				Active: true, Groups: []string{defaults[0]}, ActivityCovered: before.Sources.OrgAPI}
			if before.Sources.OrgAPI {
				newcomer.Status, newcomer.ClaimStatus, newcomer.RolesKnown = billing.StatusActive, "managed", true
			}
			after.Users = append(after.Users, newcomer)
			ids = append(ids, newcomer.AccountID)

			want, err := billing.Explain(&after, propertySettings)
			if err != nil {
				t.Fatal(err)
			}
			var fresh []billing.User
			for _, u := range after.Users {
				if slices.Contains(ids, u.AccountID) {
					fresh = append(fresh, u)
				}
			}
			base := *before
			base.Users = nil
			got, err := billing.Refresh(&base, f1, ids, fresh, before.ScannedAt)
			if err != nil {
				t.Fatal(err)
			}
			refreshed := 0
			for i := range got.Users {
				if got.Users[i].RefreshedAt != nil {
					refreshed++
					if !slices.Contains(ids, got.Users[i].AccountID) {
						t.Fatalf("%s marked refreshed but not asked for", got.Users[i].AccountID)
					}
					got.Users[i].RefreshedAt = nil
				}
			}
			if refreshed == 0 {
				t.Fatal("no account was marked refreshed")
			}
			jw, _ := json.Marshal(want)
			jg, _ := json.Marshal(got)
			if string(jw) != string(jg) {
				if want.Totals != got.Totals {
					t.Fatalf("totals differ: want %+v\n got %+v", want.Totals, got.Totals)
				}
				t.Fatal("refreshed findings differ from explaining the changed site again")
			}
		})
	}
}

func TestRefreshRefusesAccountsNotAskedFor(t *testing.T) {
	snap := snapshotWithOrg(sitesim.Generate(50, 1), fixtureScannedAt)
	f, err := billing.Explain(snap, propertySettings)
	if err != nil {
		t.Fatal(err)
	}
	base := *snap
	base.Users = nil
	if _, err := billing.Refresh(&base, f, []string{"someone-else"}, snap.Users[:1], snap.ScannedAt); err == nil {
		t.Fatal("an account that was not asked for was accepted")
	}
	u := snap.Users[0]
	u.Groups = []string{"no-such-group"}
	if _, err := billing.Refresh(&base, f, []string{u.AccountID}, []billing.User{u}, snap.ScannedAt); err == nil {
		t.Fatal("an account in a group the scan does not know was accepted")
	}
}
