package billingtest

import (
	"slices"

	"github.com/seatlens/seatlens/app/sitesim"
)

// Reach is what a scan's credentials may call.
type Reach struct {
	OrgKey bool // the Organizations API
	// JiraAdmin: applicationrole and users/search (an API token or the
	// Forge app token; a Connect JWT alone may not).
	JiraAdmin bool
	// CheckJira: the scan asks who the Jira credential is (the CLI does;
	// the app knows its installed tenant).
	CheckJira bool
	// Installed: the app is installed on the site, which adds its own app
	// account to the site's users.
	Installed bool
}

// PlanMinimum counts the calls DESIGN.md §5's cheapest complete plan needs
// for a site with the given reach, from the scenario itself, not from the
// collector: one page per 50 group members and per 50 groups (Jira), one
// per 100 users or groups and one per group and per user holding a
// product for role assignments (Org API), one per 1000 accounts of Jira's
// user list, one per app account for its groups, plus the credential
// checks.
func PlanMinimum(sc sitesim.Scenario, r Reach) int {
	pages := func(n, size int) int { return max(1, (n+size-1)/size) }
	jira := func(p string) bool { return len(p) > 5 && p[:5] == "jira-" }
	n := 1 // instance/license
	if r.CheckJira {
		n++ // myself
	}
	if r.JiraAdmin {
		n++ // applicationrole
	}
	if !r.OrgKey {
		groups := map[string]bool{}
		for _, p := range sc.Products {
			if !jira(p.Key) {
				continue
			}
			for _, role := range []string{sitesim.RoleUser, sitesim.RoleAdmin} {
				m := 0
				for _, g := range sc.Groups {
					if slices.Contains(g.Grants, sitesim.Grant{Product: p.Key, Role: role}) {
						m++
						groups[g.ID] = true
					}
				}
				n += pages(m, 50)
			}
		}
		admins := 0
		for _, g := range sc.Groups {
			if g.SiteAdmin {
				admins++
				groups[g.ID] = true
			}
		}
		n += pages(admins, 50)
		for id := range groups {
			n += pages(len(sc.Members[id]), 50)
		}
		return n
	}
	n += 1 + 1 // orgs (the key's check), workspaces
	siteGroups := 0
	inGroupWithGrants := map[string]bool{}
	for _, g := range sc.Groups {
		if len(g.Grants) > 0 {
			siteGroups++
			for _, id := range sc.Members[g.ID] {
				inGroupWithGrants[id] = true
			}
		}
	}
	n += pages(siteGroups, 100) + siteGroups // groups search, role assignments per group
	directory, apps, services := 0, 0, 0
	for _, u := range sc.Users {
		switch u.AccountType {
		case sitesim.AccountApp:
			apps++
			if u.AppType == "service" {
				services++
			}
			continue
		case sitesim.AccountAtlassian:
		default:
			continue
		}
		hasRole := inGroupWithGrants[u.AccountID] || len(u.DirectRoles) > 0 || len(u.InferredRoles) > 0 || slices.Contains(u.PlatformRoles, "org-admin")
		if !hasRole {
			continue
		}
		directory++
	}
	// Role assignments of every directory account holding a product: the
	// billable candidates, and the others too, whose seats (not billable)
	// are listed all the same.
	n += pages(directory, 100) + directory
	n += pages(services, 50) // the service-accounts list: 50 a page, no size to ask for
	if r.JiraAdmin {
		users := len(sc.Users)
		if r.Installed {
			users, apps = users+1, apps+1
		}
		n += (users+999)/1000 + 1 + apps // users/search until an empty page, then each app account's groups
	}
	return n
}
