// Package billingtest turns a simulated site's scenario straight into the
// snapshot a collector would build from its APIs, for the engine's tests
// and benchmark. It mirrors what each credential can see (fixture NOTES.md
// decision 11); app/scan's tests check that the real collector, reading
// the same site over HTTP, explains to the same findings. Tests only.
package billingtest

import (
	"slices"
	"strings"
	"time"

	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/sitesim"
)

// SnapshotWithOrg is what a scan with an org key sees of a scenario.
func SnapshotWithOrg(sc sitesim.Scenario, scannedAt time.Time) *billing.Snapshot {
	snap := &billing.Snapshot{
		Site:      billing.SiteInfo{URL: "https://fixture.atlassian.net"},
		ScannedAt: scannedAt,
		Sources: billing.Sources{
			Credentials: []string{billing.CredentialAPIToken, billing.CredentialOrgKey}, OrgAPI: true, DefaultGroups: true,
			Activity: &billing.ActivitySource{Kind: billing.ActivityOrgAPI, AsOf: scannedAt},
		},
	}
	for _, p := range sc.Products {
		snap.Products = append(snap.Products, product(sc, p))
	}
	// The Org API's groups search, filtered to the site's products, finds
	// the groups granting any role on them; a site-admin group is not a
	// product group (platform roles say who is a site admin).
	siteAdmins := map[string]bool{}
	visible := map[string]bool{}
	for _, g := range sc.Groups {
		if g.SiteAdmin {
			for _, id := range sc.Members[g.ID] {
				siteAdmins[id] = true
			}
		}
		if len(g.Grants) == 0 {
			continue
		}
		synced := g.Synced
		bg := billing.Group{ID: g.ID, Name: g.Name, DirectoryID: sitesim.DefaultDirectoryID, DefaultFor: g.DefaultFor, Synced: &synced, MemberCount: len(sc.Members[g.ID])}
		for _, gr := range g.Grants {
			bg.Grants = append(bg.Grants, billing.Grant{Product: gr.Product, Role: gr.Role})
		}
		snap.Groups = append(snap.Groups, bg)
		visible[g.ID] = true
	}
	groupsOf := membership(sc)
	for _, u := range sc.Users {
		var gs []string
		for _, g := range groupsOf[u.AccountID] {
			if visible[g] {
				gs = append(gs, g)
			}
		}
		bu := billing.User{
			AccountID: u.AccountID, DisplayName: u.DisplayName, Email: u.Email, AccountType: u.AccountType,
			AppType: u.AppType, ServiceAccount: u.AppType == "service", Active: u.Active, Groups: gs,
		}
		if u.AccountType == sitesim.AccountAtlassian {
			bu.Status = orgStatus(u)
			bu.ClaimStatus = cmpOr(u.ClaimStatus, "managed")
			bu.AddedToOrg = u.AddedToOrg
			bu.LastActive = u.LastActive
			bu.ActivityCovered = true
			bu.PlatformRoles = slices.Clone(u.PlatformRoles)
			if siteAdmins[u.AccountID] && !slices.Contains(bu.PlatformRoles, "site-admin") {
				bu.PlatformRoles = append(bu.PlatformRoles, "site-admin")
			}
			slices.Sort(bu.PlatformRoles)
		}
		switch {
		case u.AccountType == sitesim.AccountCustomer:
			// No API lists a customer account's role; collectors infer the
			// JSM customer role (billing.CustomerAccountProduct).
			bu.Roles = []billing.RoleAssignment{{Product: billing.CustomerAccountProduct, Role: billing.RoleCustomer, Method: billing.MethodInferred}}
		case u.AccountType == sitesim.AccountAtlassian && (bu.Status == billing.StatusActive && !bu.ServiceAccount || holdsAny(sc, u, groupsOf[u.AccountID])):
			// Role assignments are read for every user who may hold a
			// billable seat, and for every other one holding a product
			// (its seats are not billable, and listed all the same).
			bu.RolesKnown = true
			for _, r := range u.DirectRoles {
				bu.Roles = append(bu.Roles, billing.RoleAssignment{Product: r.Product, Role: r.Role, Method: billing.MethodDirect})
			}
			for _, r := range u.InferredRoles {
				bu.Roles = append(bu.Roles, billing.RoleAssignment{Product: r.Product, Role: r.Role, Method: billing.MethodInferred})
			}
		}
		snap.Users = append(snap.Users, bu)
	}
	return snap
}

// holdsAny reports whether u holds any role on one of the site's
// products, as the Organizations API's productAccess would list it: through
// a group, a direct or inferred role, or as an org admin.
func holdsAny(sc sitesim.Scenario, u sitesim.User, groups []string) bool {
	if len(u.DirectRoles)+len(u.InferredRoles) > 0 || slices.Contains(u.PlatformRoles, "org-admin") {
		return true
	}
	for _, g := range sc.Groups {
		if slices.Contains(groups, g.ID) && len(g.Grants) > 0 {
			return true
		}
	}
	return false
}

// SnapshotKeyless is what an API token alone sees (decision 11): Jira
// products, groups granting a licensed role on them or site
// administration, their members as Jira's member pages show them, and
// activity from the admin CSV export of the same day.
func SnapshotKeyless(sc sitesim.Scenario, scannedAt time.Time) *billing.Snapshot {
	snap := &billing.Snapshot{
		Site:      billing.SiteInfo{URL: "https://fixture.atlassian.net"},
		ScannedAt: scannedAt,
		Sources: billing.Sources{
			Credentials: []string{billing.CredentialAPIToken}, DefaultGroups: true,
			Activity: &billing.ActivitySource{Kind: billing.ActivityAdminCSV, AsOf: scannedAt, File: "activity.csv"},
		},
	}
	for _, p := range sc.Products {
		if strings.HasPrefix(p.Key, "jira-") {
			snap.Products = append(snap.Products, product(sc, p))
		}
	}
	visible := map[string]bool{}
	for _, g := range sc.Groups {
		bg := billing.Group{ID: g.ID, Name: g.Name, SiteAdmin: g.SiteAdmin, MemberCount: len(sc.Members[g.ID])}
		for _, gr := range g.Grants {
			if strings.HasPrefix(gr.Product, "jira-") && billing.Billable(gr.Role) {
				bg.Grants = append(bg.Grants, billing.Grant{Product: gr.Product, Role: gr.Role})
			}
		}
		for _, p := range g.DefaultFor {
			if strings.HasPrefix(p, "jira-") {
				bg.DefaultFor = append(bg.DefaultFor, p)
			}
		}
		if len(bg.Grants) == 0 && !g.SiteAdmin {
			continue
		}
		visible[g.ID] = true
		snap.Groups = append(snap.Groups, bg)
	}
	groupsOf := membership(sc)
	for _, u := range sc.Users {
		var gs []string
		for _, g := range groupsOf[u.AccountID] {
			if visible[g] {
				gs = append(gs, g)
			}
		}
		if len(gs) == 0 {
			continue
		}
		bu := billing.User{AccountID: u.AccountID, DisplayName: u.DisplayName, Email: u.Email, AccountType: u.AccountType, Active: u.Active, Groups: gs}
		if u.AccountType == sitesim.AccountAtlassian { // the CSV lists directory users
			bu.ActivityCovered, bu.AddedToOrg = true, u.AddedToOrg
			for p, at := range u.LastActive {
				if strings.HasPrefix(p, "jira-") {
					if bu.LastActive == nil {
						bu.LastActive = map[string]time.Time{}
					}
					bu.LastActive[p] = at
				}
			}
		}
		snap.Users = append(snap.Users, bu)
	}
	return snap
}

// product is a product as the APIs describe it: the catalogue's name, the
// licence's limit, and for Jira applications the plan and Jira's own user
// count (applicationrole userCount: active atlassian accounts holding a
// licensed role by any path, as the simulated site counts them).
func product(sc sitesim.Scenario, p sitesim.Product) billing.Product {
	info, _ := billing.LookupProduct(p.Key)
	bp := billing.Product{Key: p.Key, Name: info.Name}
	if !p.Unlimited {
		seats := p.Seats
		bp.Limit = &seats
	}
	if !strings.HasPrefix(p.Key, "jira-") {
		return bp
	}
	bp.Plan = p.Plan
	users := map[string]sitesim.User{}
	for _, u := range sc.Users {
		users[u.AccountID] = u
	}
	counted := map[string]bool{}
	for _, g := range sc.Groups {
		if !slices.ContainsFunc(g.Grants, func(gr sitesim.Grant) bool { return gr.Product == p.Key && billing.Billable(gr.Role) }) {
			continue
		}
		for _, id := range sc.Members[g.ID] {
			if u := users[id]; u.Active && u.AccountType == sitesim.AccountAtlassian {
				counted[id] = true
			}
		}
	}
	for _, u := range sc.Users {
		held := slices.ContainsFunc(slices.Concat(u.DirectRoles, u.InferredRoles), func(gr sitesim.Grant) bool { return gr.Product == p.Key && billing.Billable(gr.Role) })
		if u.Active && u.AccountType == sitesim.AccountAtlassian && (held || slices.Contains(u.PlatformRoles, "org-admin")) {
			counted[u.AccountID] = true
		}
	}
	n := len(counted)
	bp.UserCount = &n
	return bp
}

func membership(sc sitesim.Scenario) map[string][]string {
	out := map[string][]string{}
	for _, g := range sc.Groups {
		for _, id := range sc.Members[g.ID] {
			out[id] = append(out[id], g.ID)
		}
	}
	return out
}

func orgStatus(u sitesim.User) string {
	switch {
	case u.Status != "":
		return u.Status
	case !u.Active:
		return billing.StatusDeactivated
	}
	return billing.StatusActive
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
