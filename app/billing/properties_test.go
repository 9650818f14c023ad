package billing_test

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/sitesim"
)

// Property tests over generated sites (every case of §6 in realistic
// proportions), with and without an org key.

func generatedSnapshots(t *testing.T) map[string]*billing.Snapshot {
	t.Helper()
	out := map[string]*billing.Snapshot{}
	for _, seed := range []uint64{1, 7, 42} {
		sc := sitesim.Generate(1500, seed)
		out["org/"+itoa(seed)] = snapshotWithOrg(sc, fixtureScannedAt)
		ks := snapshotKeyless(sc, fixtureScannedAt)
		out["keyless/"+itoa(seed)] = ks
	}
	return out
}

func itoa(n uint64) string { b, _ := json.Marshal(n); return string(b) }

var propertySettings = billing.Settings{SeatPrices: map[string]float64{
	billing.JiraSoftware: 8.6, billing.JiraServiceManagement: 21.05, billing.JiraProductDiscovery: 10, billing.Confluence: 6.05,
}}

func TestPropertyOnlyBillableSeatsCount(t *testing.T) {
	for name, snap := range generatedSnapshots(t) {
		f, err := billing.Explain(snap, propertySettings)
		if err != nil {
			t.Fatal(err)
		}
		var billable, removable int
		var saving float64
		for _, u := range f.Users {
			for _, s := range u.Seats {
				if (s.Verdict == billing.VerdictNotBillable) == s.Billable {
					t.Fatalf("%s %s %s: billable=%v but verdict %s", name, u.AccountID, s.Product, s.Billable, s.Verdict)
				}
				if !s.Billable {
					for _, r := range s.Reasons {
						if r.Category != billing.VerdictNotBillable {
							t.Fatalf("%s %s %s: not-billable seat with reason %s", name, u.AccountID, s.Product, r.Code)
						}
					}
					if len(s.Plan) > 0 || len(s.Warnings) > 0 || len(s.Collateral) > 0 {
						t.Fatalf("%s %s %s: not-billable seat with a plan, warnings or collateral", name, u.AccountID, s.Product)
					}
					continue
				}
				billable++
				if s.Verdict == billing.VerdictRemovable {
					removable++
					saving += propertySettings.SeatPrices[s.Product]
				}
			}
		}
		if f.Totals.BillableSeats != billable || f.Totals.Removable != removable || !near(f.Totals.MonthlySaving, saving) {
			t.Errorf("%s: totals %+v; recount billable=%d removable=%d saving=%.2f", name, f.Totals, billable, removable, saving)
		}
		if f.Totals.Removable+f.Totals.Review+f.Totals.Hold != f.Totals.BillableSeats || f.Totals.BillableSeats+f.Totals.NotBillable != f.Totals.Seats {
			t.Errorf("%s: verdict counts do not add up: %+v", name, f.Totals)
		}
	}
}

func near(a, b float64) bool { d := a - b; return d < 0.01 && d > -0.01 }

func TestPropertyRemovableSeatsHaveCleanPlans(t *testing.T) {
	for name, snap := range generatedSnapshots(t) {
		synced := map[string]bool{}
		for _, g := range snap.Groups {
			synced[g.ID] = g.Synced != nil && *g.Synced
		}
		f, err := billing.Explain(snap, propertySettings)
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for _, u := range f.Users {
			for _, s := range u.Seats {
				if s.Verdict != billing.VerdictRemovable {
					continue
				}
				seen++
				if len(s.Plan) == 0 {
					t.Fatalf("%s %s %s: removable without a plan", name, u.AccountID, s.Product)
				}
				for _, p := range s.Plan {
					if synced[p.GroupID] {
						t.Fatalf("%s %s %s: removable plan contains synced group %s", name, u.AccountID, s.Product, p.GroupName)
					}
				}
				for _, p := range s.Paths {
					if p.Via != billing.ViaGroup && billing.Billable(p.Role) {
						t.Fatalf("%s %s %s: removable with a %s path", name, u.AccountID, s.Product, p.Via)
					}
				}
			}
		}
		if seen == 0 && snap.Sources.OrgAPI {
			t.Errorf("%s: no removable seat at all; the property is vacuous", name)
		}
	}
}

// TestPropertyPlanFreesTheSeat removes a plan's groups from the user in
// the snapshot and explains again: the seat must be gone (or left with
// only a non-billable role) unless the engine reported a blocker, and the
// collateral it named must be gone too.
func TestPropertyPlanFreesTheSeat(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for name, snap := range generatedSnapshots(t) {
		f, err := billing.Explain(snap, propertySettings)
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]billing.User{}
		for _, u := range snap.Users {
			byID[u.AccountID] = u
		}
		checked := 0
		for _, uf := range f.Users {
			for _, s := range uf.Seats {
				if len(s.Plan) == 0 || rng.IntN(4) != 0 {
					continue
				}
				checked++
				u := byID[uf.AccountID]
				for _, p := range s.Plan {
					u.Groups = slices.DeleteFunc(slices.Clone(u.Groups), func(g string) bool { return g == p.GroupID })
				}
				one := *snap
				one.Users = []billing.User{u}
				after, err := billing.Explain(&one, propertySettings)
				if err != nil {
					t.Fatal(err)
				}
				gone := func(product string) bool {
					if len(after.Users) == 0 { // no seat left at all
						return true
					}
					for _, as := range after.Users[0].Seats {
						if as.Product == product {
							return !as.Billable || !billing.Billable(as.Role)
						}
					}
					return true
				}
				if !gone(s.Product) {
					t.Fatalf("%s %s %s: the seat survives its plan %v", name, uf.AccountID, s.Product, planNames(s))
				}
				for _, c := range s.Collateral {
					if !gone(c) {
						t.Fatalf("%s %s %s: collateral %s survives the plan", name, uf.AccountID, s.Product, c)
					}
				}
			}
		}
		if checked == 0 {
			t.Errorf("%s: no seat with a plan was checked", name)
		}
	}
}

// TestPropertyDeterministic: the same snapshot gives the same document,
// and a user's findings do not depend on the order of the users.
func TestPropertyDeterministic(t *testing.T) {
	snap := snapshotWithOrg(sitesim.Generate(800, 9), fixtureScannedAt)
	a, _ := billing.Explain(snap, propertySettings)
	b, _ := billing.Explain(snap, propertySettings)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Fatal("two runs over one snapshot differ")
	}
	shuffled := *snap
	shuffled.Users = slices.Clone(snap.Users)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled.Users), func(i, j int) {
		shuffled.Users[i], shuffled.Users[j] = shuffled.Users[j], shuffled.Users[i]
	})
	c, _ := billing.Explain(&shuffled, propertySettings)
	byID := map[string]string{}
	for _, u := range a.Users {
		j, _ := json.Marshal(u)
		byID[u.AccountID] = string(j)
	}
	for _, u := range c.Users {
		j, _ := json.Marshal(u)
		if byID[u.AccountID] != string(j) {
			t.Fatalf("%s explained differently when users are reordered", u.AccountID)
		}
	}
	if a.Totals != c.Totals {
		t.Errorf("totals depend on user order: %+v vs %+v", a.Totals, c.Totals)
	}
}
