package sitesim

import (
	"math"
	"slices"
	"testing"
	"time"
)

// TestGeneratedProportions: for two seeds and two sizes every case of
// DESIGN.md §6 is present in its documented share.
func TestGeneratedProportions(t *testing.T) {
	p := proportions
	for _, n := range []int{2000, 20000} {
		for _, seed := range []uint64{1, 42} {
			sc := Generate(n, seed)
			if _, err := NewSite(sc); err != nil {
				t.Fatalf("n=%d seed=%d: %v", n, seed, err)
			}
			if len(sc.Users) != n {
				t.Fatalf("n=%d: %d users", n, len(sc.Users))
			}
			members := map[string]map[string]bool{}
			for g, ids := range sc.Members {
				members[g] = map[string]bool{}
				for _, id := range ids {
					members[g][id] = true
				}
			}
			count := func(f func(u User) bool) float64 {
				c := 0
				for _, u := range sc.Users {
					if f(u) {
						c++
					}
				}
				return float64(c) / float64(n)
			}
			in := func(g string) func(User) bool { return func(u User) bool { return members[g][u.AccountID] } }
			atl := func(f func(User) bool) func(User) bool {
				return func(u User) bool { return u.AccountType == AccountAtlassian && f(u) }
			}
			nonCustomer := 1 - p.Customers - p.AppAccounts - p.ServiceAccounts
			checks := []struct {
				name string
				got  float64
				want float64
			}{
				{"app accounts", count(func(u User) bool { return u.AccountType == AccountApp && u.AppType == "" }), p.AppAccounts},
				{"service accounts", count(func(u User) bool { return u.AppType == "service" }), p.ServiceAccounts},
				{"customers", count(func(u User) bool { return u.AccountType == AccountCustomer }), p.Customers},
				{"suspended", count(func(u User) bool { return u.Status == "suspended" }), p.Suspended},
				{"deactivated", count(func(u User) bool { return u.Status == "deactivated" }), p.Deactivated},
				{"unmanaged", count(func(u User) bool { return u.ClaimStatus == "unmanaged" }), p.Unmanaged},
				{"synced only", count(atl(func(u User) bool { return in(GroupEngineering)(u) && !in(GroupSoftwareUsers)(u) })), p.SoftwareSyncedOnly * (1 - p.Customers - p.AppAccounts - p.ServiceAccounts)},
				{"synced and default", count(atl(func(u User) bool { return in(GroupEngineering)(u) && in(GroupSoftwareUsers)(u) })), p.SoftwareSyncedAndDefault * nonCustomer},
				{"agents", count(in(GroupAgents)), p.Agents * (1 - p.Customers)},
				{"JPD creators", count(in(GroupDiscovery)), p.JPDCreators * (1 - p.Customers)},
				{"JPD contributors", count(in(GroupJPDContributors)), p.JPDContributors * (1 - p.Customers)},
				{"Confluence guests", count(func(u User) bool { return slices.Contains(u.DirectRoles, Grant{Confluence, RoleGuest}) }), p.ConfluenceGuests * (1 - p.Customers)},
				{"default group granting two products", count(in(GroupWorkMgmt)), p.WorkMgmt * (1 - p.Customers)},
				{"direct roles", count(func(u User) bool { return slices.Contains(u.DirectRoles, Grant{JiraSoftware, RoleUser}) }), p.Direct * (1 - p.Customers)},
				{"never accessed", count(func(u User) bool {
					return u.LastActive == nil && u.AddedToOrg != nil && generateEpoch.Sub(*u.AddedToOrg) > 90*24*time.Hour
				}), p.NeverAccessed},
				{"new invites", count(func(u User) bool {
					return u.LastActive == nil && u.AddedToOrg != nil && generateEpoch.Sub(*u.AddedToOrg) < 90*24*time.Hour
				}), p.NewInvites},
				{"inactive", count(func(u User) bool {
					return u.LastActive != nil && generateEpoch.Sub(u.LastActive[JiraSoftware]) > 90*24*time.Hour
				}), p.Inactive},
			}
			for _, c := range checks {
				// Binomial spread: allow 4 standard deviations, at least 25 %.
				sd := math.Sqrt(c.want * (1 - c.want) / float64(n))
				tol := math.Max(4*sd, 0.25*c.want)
				if math.Abs(c.got-c.want) > tol {
					t.Errorf("n=%d seed=%d %s: %.4f, want %.4f ± %.4f", n, seed, c.name, c.got, c.want, tol)
				}
			}
			for _, must := range []func(User) bool{
				func(u User) bool { return slices.Contains(u.PlatformRoles, "org-admin") },
				func(u User) bool { return len(u.InferredRoles) > 0 },
				func(u User) bool { return len(u.DisplayName) > 200 },
				func(u User) bool {
					return slices.ContainsFunc([]rune(u.DisplayName), func(r rune) bool { return r == '<' })
				},
				func(u User) bool { return u.AddedToOrg == nil && u.LastActive == nil },
				in(GroupPlatformSynced), in(GroupJiraAdmins), in(GroupContractors),
			} {
				if count(must) == 0 {
					t.Errorf("n=%d seed=%d: a required case is missing", n, seed)
				}
			}
		}
	}
	a, b := Generate(3000, 9), Generate(3000, 9)
	if !slices.EqualFunc(a.Users, b.Users, func(x, y User) bool { return x.AccountID == y.AccountID && x.DisplayName == y.DisplayName }) {
		t.Fatal("same seed, different site")
	}
}

func BenchmarkGenerate100k(b *testing.B) {
	for b.Loop() {
		sc := Generate(100_000, 1)
		if _, err := NewSite(sc); err != nil {
			b.Fatal(err)
		}
	}
}
