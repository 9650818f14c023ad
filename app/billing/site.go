package billing

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// summarise fills the product, group and site findings and the totals
// from the explained users.
func (e *engine) summarise(f *Findings) {
	prods := make([]ProductFindings, len(e.products))
	for i, p := range e.products {
		pf := ProductFindings{Key: p.Key, Name: p.Name, Limit: p.Limit, Plan: p.Plan, DefaultGroups: []string{}, AccessGroups: []string{}}
		if price, ok := e.settings.SeatPrices[p.Key]; ok {
			pf.SeatPrice = &price
		}
		prods[i] = pf
	}
	// billableVia counts, per group and product, the billable seats that
	// have the group among their paths (for the site findings).
	type gp struct{ group, product int }
	billableVia := map[gp]int{}
	var t Totals
	t.Users = len(f.Users)
	for _, u := range f.Users {
		for _, s := range u.Seats {
			pi := e.pidx[s.Product]
			pf := &prods[pi]
			pf.Seats++
			t.Seats++
			if s.Billable {
				pf.Billable++
				t.BillableSeats++
				for _, p := range s.Paths {
					if p.Via == ViaGroup {
						billableVia[gp{e.gidx[p.GroupID], pi}]++
					}
				}
			}
			switch s.Verdict {
			case VerdictRemovable:
				pf.Removable++
				t.Removable++
				if pf.SeatPrice != nil {
					pf.MonthlySaving += *pf.SeatPrice
				}
			case VerdictReview:
				pf.Review++
				t.Review++
				if onlyNeedsOrgData(s.Reasons) {
					t.LikelyRemovable++
					if pf.SeatPrice != nil {
						t.LikelyMonthlySaving += *pf.SeatPrice
					}
				}
			case VerdictHold:
				pf.Hold++
				t.Hold++
			case VerdictNotBillable:
				pf.NotBillable++
				t.NotBillable++
			}
		}
	}
	groups := make([]GroupFindings, len(e.groups))
	for i, gi := range e.groups {
		g := gi.g
		gf := GroupFindings{ID: g.ID, Name: g.Name, DirectoryID: g.DirectoryID, Grants: nonNil(g.Grants),
			DefaultFor: nonNil(g.DefaultFor), AdminFor: []string{}, SiteAdmin: g.SiteAdmin, Synced: g.Synced, MemberCount: g.MemberCount}
		if g.Synced == nil && gi.synced == syncNo {
			gf.Synced = &no
		}
		for _, gr := range g.Grants {
			pf := &prods[e.pidx[gr.Product]]
			if gr.Role == RoleAdmin && !slices.Contains(gf.AdminFor, gr.Product) {
				gf.AdminFor = append(gf.AdminFor, gr.Product)
			}
			if Billable(gr.Role) && !slices.Contains(pf.AccessGroups, g.ID) {
				pf.AccessGroups = append(pf.AccessGroups, g.ID)
			}
		}
		for _, p := range g.DefaultFor {
			pf := &prods[e.pidx[p]]
			pf.DefaultGroups = append(pf.DefaultGroups, g.ID)
		}
		// Grants in catalogue order, whatever order the collector met them.
		gf.Grants = slices.Clone(gf.Grants)
		slices.SortFunc(gf.Grants, func(a, b Grant) int {
			return cmp.Or(catalogueIndex(a.Product)-catalogueIndex(b.Product), roleRank(b.Role)-roleRank(a.Role))
		})
		byCatalogue := func(a, b string) int { return catalogueIndex(a) - catalogueIndex(b) }
		gf.DefaultFor = slices.Clone(gf.DefaultFor)
		slices.SortFunc(gf.DefaultFor, byCatalogue)
		slices.SortFunc(gf.AdminFor, byCatalogue)
		groups[i] = gf
	}
	for i := range prods {
		slices.Sort(prods[i].DefaultGroups)
		slices.Sort(prods[i].AccessGroups)
		prods[i].MonthlySaving = cents(prods[i].MonthlySaving)
		t.MonthlySaving += prods[i].MonthlySaving
	}
	t.MonthlySaving, t.LikelyMonthlySaving = cents(t.MonthlySaving), cents(t.LikelyMonthlySaving)
	slices.SortFunc(groups, func(a, b GroupFindings) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
	})
	f.Products, f.Groups, f.Totals = prods, groups, t

	sf := []SiteFinding{}
	for gi, g := range e.groups {
		if len(g.g.DefaultFor) == 0 {
			continue
		}
		for _, q := range grantedProducts(g) {
			qk := e.products[q].Key
			others := without(g.g.DefaultFor, qk)
			if len(others) == 0 || !licensedGrant(g, q) {
				continue // a free role (guest, contributor) takes no seat
			}
			n := billableVia[gp{gi, q}]
			sf = append(sf, SiteFinding{Code: FindingDefaultGrantsOtherProduct, GroupID: g.g.ID, GroupName: g.g.Name,
				Product: qk, Products: others, Count: n,
				Message: fmt.Sprintf("%s is the default group of %s and also grants %s: everyone given %s takes a %s seat too (%d billable %s seats come through it).",
					g.g.Name, e.names(others), e.products[q].Name, e.names(others), e.products[q].Name, n, e.products[q].Name)})
		}
		if g.admin {
			var admin []string
			for _, gr := range g.g.Grants {
				if gr.Role == RoleAdmin && !slices.Contains(admin, gr.Product) {
					admin = append(admin, gr.Product)
				}
			}
			sf = append(sf, SiteFinding{Code: FindingDefaultGrantsAdmin, GroupID: g.g.ID, GroupName: g.g.Name, Products: admin,
				Message: fmt.Sprintf("%s is a default group and also grants the admin role on %s: everyone given the product becomes an admin.", g.g.Name, e.names(admin))})
		}
	}
	for gi, g := range e.groups {
		if g.synced != syncYes {
			continue
		}
		var ps []string
		n := 0
		for _, q := range grantedProducts(g) {
			if licensedGrant(g, q) {
				ps = append(ps, e.products[q].Key)
				n += billableVia[gp{gi, q}]
			}
		}
		if len(ps) == 0 {
			continue
		}
		sf = append(sf, SiteFinding{Code: FindingSyncedAccessGroup, GroupID: g.g.ID, GroupName: g.g.Name, Products: ps, Count: n,
			Message: fmt.Sprintf("%s is synced from an identity provider and grants %s: its %d billable seats can only be freed in the identity provider.", g.g.Name, e.names(ps), n)})
	}
	for i, p := range e.products {
		pf := &prods[i]
		if p.Limit != nil {
			sf = append(sf, SiteFinding{Code: FindingSeatsVsLimit, Product: p.Key, Count: pf.Billable, Limit: p.Limit,
				Message: fmt.Sprintf("%s: %d billable seats of a licence for %d.", p.Name, pf.Billable, *p.Limit)})
		}
		if p.UserCount != nil && *p.UserCount != pf.Billable {
			why := ""
			if !e.snap.Sources.OrgAPI && *p.UserCount > pf.Billable {
				why = " An org key shows the direct and inferred roles an API token cannot see."
			}
			sf = append(sf, SiteFinding{Code: FindingUserCountMismatch, Product: p.Key, Count: *p.UserCount,
				Message: fmt.Sprintf("%s: Atlassian counts %d users against the licence, this scan explains %d billable seats.%s", p.Name, *p.UserCount, pf.Billable, why)})
		}
	}
	if len(e.settings.SeatPrices) > 0 {
		amount := t.MonthlySaving
		sf = append(sf, SiteFinding{Code: FindingMonthlySaving, Count: t.Removable, Amount: &amount,
			Message: fmt.Sprintf("Removing the %d removable seats saves an estimated %.2f a month at the seat prices in Settings.", t.Removable, amount)})
	}
	if !e.snap.Sources.OrgAPI {
		sf = append(sf, SiteFinding{Code: FindingMissingOrgData, Count: t.LikelyRemovable,
			Message: fmt.Sprintf("No org key: synced groups, direct and inferred roles, service accounts and products other than Jira cannot be checked, so nothing is removable yet; %d seats are likely removable.", t.LikelyRemovable)})
	}
	if e.activity == nil {
		sf = append(sf, SiteFinding{Code: FindingNoActivitySource,
			Message: "No activity source: without an org key or the admin users export, no seat can be judged inactive."})
	}
	f.SiteFindings = sf
}

func grantedProducts(g groupInfo) []int {
	var out []int
	for _, gr := range g.grants {
		if !slices.Contains(out, gr.product) {
			out = append(out, gr.product)
		}
	}
	return out
}

func licensedGrant(g groupInfo, product int) bool {
	for _, gr := range g.grants {
		if gr.product == product && Billable(gr.role) {
			return true
		}
	}
	return false
}

func without(s []string, x string) []string {
	var out []string
	for _, v := range s {
		if v != x {
			out = append(out, v)
		}
	}
	return out
}

func (e *engine) names(keys []string) string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k
		if pi, ok := e.pidx[k]; ok {
			names[i] = e.products[pi].Name
		}
	}
	return andList(names)
}

func onlyNeedsOrgData(rs []Reason) bool {
	found := false
	for _, r := range rs {
		if r.Category == VerdictReview {
			if r.Code != reasonTable[cNeedsOrgData].Code {
				return false
			}
			found = true
		}
	}
	return found
}

func cents(x float64) float64 { return math.Round(x*100) / 100 }

// LikelyRemovable says whether a seat is "likely removable": a review seat
// whose only review reason is that the org data is missing.
func LikelyRemovable(s Seat) bool {
	return s.Verdict == VerdictReview && onlyNeedsOrgData(s.Reasons)
}
