package scan

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/seatlens/seatlens/app/atlassian"
	"github.com/seatlens/seatlens/app/billing"
)

// keyed is the plan with an org key (DESIGN.md §5, billing-model.md
// §11.1): workspaces for the site's products, groups search and group role
// assignments for grants, defaults and sync flags, users search for
// memberships, activity, status and platform roles, service accounts,
// and role assignments for every user who may hold a billable seat (a
// role can come directly and through a group at once). Jira REST adds what
// the Org API lacks: licence counts and plans, and the accounts outside
// the directory (app and customer accounts).
func (c *collector) keyed(ctx context.Context, snap *billing.Snapshot) error {
	org, orgID := c.src.Org, c.src.OrgID
	snap.Sources = billing.Sources{
		Credentials: c.credentials(billing.CredentialOrgKey), OrgAPI: true, DefaultGroups: true,
		Activity: &billing.ActivitySource{Kind: billing.ActivityOrgAPI, AsOf: snap.ScannedAt},
	}
	if c.src.JiraAdmin == nil {
		// Workspaces give the seat limits; only the accounts Jira alone
		// lists stay out of sight.
		snap.Sources.Unknown = []string{billing.UnknownAccountsOutsideDirectory}
	}

	// The site's products: the org's workspaces whose host is the site's.
	// Jira's licence counts and plans are needed only at the end, so they
	// are read while the Org API is walked; if Jira refuses, the walk
	// stops at once rather than after thousands of calls.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var mu sync.Mutex // guards legacy
	var (
		jiraProducts []billing.Product
		jpErr        error
		jiraDone     = make(chan struct{})
	)
	go func() {
		defer close(jiraDone)
		if jiraProducts, _, jpErr = c.jiraProducts(ctx); jpErr != nil {
			stop()
		}
	}()
	workspaces, err := org.Workspaces(ctx, orgID)
	if err != nil {
		<-jiraDone
		if jpErr != nil {
			return jpErr
		}
		return stepErr("list the organisation's products", err)
	}
	byARI, limits, offline := siteProducts(workspaces, c.site.Host)
	snap.Sources.Offline = offline
	c.basis.ARIs = byARI
	if len(byARI) == 0 {
		<-jiraDone
		if len(offline) > 0 {
			return stepErr("find the site's products", fmt.Errorf("every product on %s is offline or deprecated", c.site.Host))
		}
		return stepErr("find the site's products", errNoProducts(c.site.Host))
	}
	var aris []string
	for ari, key := range byARI {
		aris = append(aris, ari)
		if !slices.ContainsFunc(snap.Products, func(q billing.Product) bool { return q.Key == key }) {
			snap.Products = append(snap.Products, billing.Product{Key: key, Name: productName(key), Limit: limits[key]})
		}
	}
	slices.Sort(aris)

	// One walker follows the cursor pages (service accounts, groups,
	// users, Jira's account list) and hands every per-item call it
	// discovers to the pool, so the walk and the calls overlap. The
	// clients' in-flight limit (one shared limit in the CLI) bounds the
	// walker and the workers together.
	p := newPool(ctx, c.workers)
	var (
		groups  []billing.Group
		known   = map[string]bool{}
		users   []*billing.User
		outside []*billing.User
		service = map[string]bool{}
		// customers are the customer accounts the directory lists with a
		// product of the site (see below).
		customers []*billing.User
		legacy    = map[*billing.User][]legacyRole{}
		tally     progressTally
	)
	walk := func(ctx context.Context) error {
		sas, err := org.ServiceAccounts(ctx, orgID)
		if err != nil {
			return stepErr("list the organisation's service accounts", err)
		}
		for _, sa := range sas {
			service[sa.AtlassianID] = true
			c.basis.ServiceAccounts = append(c.basis.ServiceAccounts, sa.AtlassianID)
		}

		orgGroups, err := org.SearchGroups(ctx, orgID, atlassian.DirectoryAll, atlassian.GroupSearch{ResourceIDs: aris, Expand: []string{"counts.users"}})
		if err != nil {
			return stepErr("search the organisation's groups", err)
		}
		groups = make([]billing.Group, len(orgGroups))
		for i, og := range orgGroups {
			// billing-model.md §11.2: a group created by IdP sync, or managed
			// externally, can only be changed in the identity provider.
			synced := og.ExternalSynced || og.ManagedBy == "external"
			groups[i] = billing.Group{ID: og.ID, Name: og.Name, DirectoryID: og.DirectoryID, Synced: &synced}
			if og.Counts != nil && og.Counts.Users != nil {
				groups[i].MemberCount = *og.Counts.Users
			}
			known[og.ID] = true
			g := &groups[i]
			tally.add()
			if !p.submit(func(ctx context.Context) error {
				defer c.progressDone(&tally)
				return c.groupRoles(ctx, g, byARI)
			}) {
				return ctx.Err()
			}
		}

		err = org.SearchUsers(ctx, orgID, atlassian.DirectoryAll, atlassian.UserSearch{
			ResourceIDs: aris, Expand: []string{"productAccess", "groups", "platformRoles"},
		}, func(page []atlassian.OrgUser) error {
			for _, ou := range page {
				u := c.orgUser(ou, byARI, known)
				u.ServiceAccount = service[u.AccountID]
				users = append(users, u)
				// Role assignments for every account rule 1 may leave
				// billable, and for every other account that holds a
				// product of the site: a suspended account's direct role,
				// a guest's or a customer's is a seat too, not billable,
				// and the findings list every seat.
				held := heldProducts(ou, byARI)
				if !mayBeBillable(u) && len(held) == 0 {
					continue
				}
				if u.AccountType == billing.AccountCustomer && slices.Contains(held, billing.CustomerAccountProduct) {
					customers = append(customers, u)
				}
				tally.add()
				if !p.submit(func(ctx context.Context) error {
					defer c.progressDone(&tally)
					return c.userRoles(ctx, u, byARI, &mu, legacy)
				}) {
					return ctx.Err()
				}
			}
			return nil
		})
		if err != nil {
			return stepErr("search the organisation's users", err)
		}

		// Accounts outside the directory: Jira's users list is the only
		// place app and customer accounts show, and an app account's groups
		// need one call each.
		inDirectory := make(map[string]bool, len(users))
		for _, u := range users {
			inDirectory[u.AccountID] = true
		}
		if c.src.JiraAdmin == nil {
			// users/search needs a credential a Connect JWT is not.
			return nil
		}
		hasCustomerProduct := slices.ContainsFunc(snap.Products, func(p billing.Product) bool { return p.Key == billing.CustomerAccountProduct })
		err = c.src.JiraAdmin.EachUser(ctx, func(page []atlassian.User) error {
			for _, ju := range page {
				if inDirectory[ju.AccountID] || ju.AccountType == billing.AccountAtlassian {
					continue
				}
				u := &billing.User{AccountID: ju.AccountID, DisplayName: ju.DisplayName, Email: ju.EmailAddress,
					AccountType: ju.AccountType, AppType: ju.AppType, Active: ju.Active, ServiceAccount: service[ju.AccountID]}
				outside = append(outside, u)
				switch {
				case ju.AccountType == billing.AccountCustomer && hasCustomerProduct:
					u.Roles = []billing.RoleAssignment{{Product: billing.CustomerAccountProduct, Role: billing.RoleCustomer, Method: billing.MethodInferred}}
				case ju.AccountType == billing.AccountApp:
					tally.add()
					if !p.submit(func(ctx context.Context) error {
						defer c.progressDone(&tally)
						return c.appGroups(ctx, u, known)
					}) {
						return ctx.Err()
					}
				}
			}
			return nil
		})
		return stepErr("list the site's accounts", err)
	}
	if err := walk(p.ctx); err != nil {
		p.fail(err)
	}
	err = p.wait()
	<-jiraDone
	if jpErr != nil {
		return jpErr // the cause; the walk's error is only its cancellation
	}
	if err != nil {
		return err
	}
	resolveLegacyRoles(groups, legacy)
	// A customer account the directory lists with no role the Org API
	// names keeps the seat the accounts outside the directory get.
	for _, u := range customers {
		if len(u.Roles) == 0 {
			u.Roles = []billing.RoleAssignment{{Product: billing.CustomerAccountProduct, Role: billing.RoleCustomer, Method: billing.MethodInferred}}
		}
	}
	for i := range snap.Products {
		p := &snap.Products[i]
		for _, jp := range jiraProducts {
			if jp.Key != p.Key {
				continue
			}
			p.Plan, p.UserCount = jp.Plan, jp.UserCount
			if p.Limit == nil {
				p.Limit = jp.Limit
			}
		}
	}
	snap.Groups = groups
	snap.Users = make([]billing.User, 0, len(users)+len(outside))
	for _, u := range slices.Concat(users, outside) {
		snap.Users = append(snap.Users, *u)
	}
	return nil
}

// groupRoles reads what a group grants on the site's products and whether
// it is a default group.
func (c *collector) groupRoles(ctx context.Context, g *billing.Group, byARI map[string]string) error {
	ras, err := c.src.Org.GroupRoleAssignments(ctx, c.src.OrgID, cmpOr(g.DirectoryID, atlassian.DirectoryAll), g.ID)
	if err != nil {
		return stepErr("read the roles of group "+g.Name, err)
	}
	for _, ra := range ras {
		key, ok := byARI[ra.ResourceID]
		if !ok {
			continue
		}
		for _, id := range ra.Roles {
			if role, ok := billing.RoleFromID(id); ok {
				g.Grants = append(g.Grants, billing.Grant{Product: key, Role: role})
			}
		}
		// DefaultFor is the product's default user group: Atlassian makes a
		// default group for every role (billing-model.md §2), and a default
		// admin group is no misconfiguration.
		if ra.DefaultRole == "atlassian/"+billing.RoleUser && !slices.Contains(g.DefaultFor, key) {
			g.DefaultFor = append(g.DefaultFor, key)
		}
	}
	return nil
}

// userRoles reads a user's direct and inferred roles on the site's
// products; group_direct ones are the groups' grants. An entry with only
// the deprecated roles list (Atlassian's 2025-07 OpenAPI had no
// roleAssignments) does not say how a role came; such roles wait in
// legacy until the groups' grants are known (resolveLegacyRoles).
func (c *collector) userRoles(ctx context.Context, u *billing.User, byARI map[string]string, mu *sync.Mutex, legacy map[*billing.User][]legacyRole) error {
	ras, err := c.src.Org.UserRoleAssignments(ctx, c.src.OrgID, atlassian.DirectoryAll, u.AccountID)
	if err != nil {
		return stepErr("read the roles of "+u.DisplayName, err)
	}
	var old []legacyRole
	for _, ra := range ras {
		key, ok := byARI[ra.ResourceID]
		if !ok {
			continue
		}
		if ra.RoleAssignments == nil {
			for _, id := range ra.Roles {
				if role, ok := billing.RoleFromID(id); ok {
					old = append(old, legacyRole{product: key, role: role})
				}
			}
			continue
		}
		for _, a := range *ra.RoleAssignments {
			role, ok := billing.RoleFromID(a.Role)
			if !ok {
				continue
			}
			for _, m := range a.RoleAssignmentMethods {
				if m == billing.MethodDirect || m == billing.MethodInferred {
					u.Roles = append(u.Roles, billing.RoleAssignment{Product: key, Role: role, Method: m})
				}
			}
		}
	}
	if len(old) > 0 {
		mu.Lock()
		legacy[u] = old
		mu.Unlock()
		return nil // RolesKnown stays false: how these roles came is unknown
	}
	u.RolesKnown = true
	return nil
}

// legacyRole is a role from the deprecated roles list: held, by an
// unknown method.
type legacyRole struct{ product, role string }

// resolveLegacyRoles keeps, of each account's roles whose method is
// unknown, those its groups do not grant, as direct roles. Direct and
// inferred give the same verdict (review: no group removal frees the
// seat), and the account's roles stay unverified (RolesKnown false), so
// rule 8 keeps any seat of it from being removable.
func resolveLegacyRoles(groups []billing.Group, legacy map[*billing.User][]legacyRole) {
	grants := map[string][]billing.Grant{}
	for _, g := range groups {
		grants[g.ID] = g.Grants
	}
	for u, roles := range legacy {
		for _, lr := range roles {
			viaGroup := slices.ContainsFunc(u.Groups, func(gid string) bool {
				return slices.Contains(grants[gid], billing.Grant{Product: lr.product, Role: lr.role})
			})
			if !viaGroup {
				u.Roles = append(u.Roles, billing.RoleAssignment{Product: lr.product, Role: lr.role, Method: billing.MethodDirect})
			}
		}
	}
}

// heldProducts is the site's products a directory user's productAccess
// names (by ARI, else by key; unconfirmed.go).
func heldProducts(ou atlassian.OrgUser, byARI map[string]string) []string {
	site := map[string]bool{}
	for _, key := range byARI {
		site[key] = true
	}
	var out []string
	for _, pa := range ou.ProductAccess {
		if key, ok := productAccessKey(pa, byARI); ok && site[key] && !slices.Contains(out, key) {
			out = append(out, key)
		}
	}
	return out
}

// siteProducts picks the org's workspaces on the site's host: the
// resource ARIs of its products, their capacities, and the products whose
// only workspaces there are offline or deprecated (left out, and said).
// When one product has several workspaces on the host, an online one's
// capacity wins. A status outside the documented online | offline |
// deprecated is taken as online: explaining a product too many is safer
// than leaving one out.
func siteProducts(workspaces []atlassian.Workspace, host string) (map[string]string, map[string]*int, []billing.OfflineProduct) {
	byARI := map[string]string{} // resource ARI → canonical product
	limits := map[string]*int{}
	online := map[string]bool{}
	down := map[string]string{} // product → status, while no online workspace is seen
	for _, ws := range workspaces {
		if !sameHost(ws.Attributes.HostURL, host) {
			continue
		}
		key, ok := billing.FromARI(ws.ID)
		if !ok {
			key, ok = billing.FromOrgProductKey(ws.Attributes.TypeKey)
		}
		if !ok {
			continue // a product Seatlens does not explain (Bitbucket, Trello, …)
		}
		switch ws.Attributes.Status {
		case "offline", "deprecated":
			if !online[key] {
				down[key] = ws.Attributes.Status
			}
			continue
		}
		byARI[ws.ID] = key
		if !online[key] || limits[key] == nil {
			limits[key] = ws.Attributes.Capacity
		}
		online[key] = true
		delete(down, key)
	}
	var offline []billing.OfflineProduct
	for key, status := range down {
		offline = append(offline, billing.OfflineProduct{Product: key, Status: status})
	}
	slices.SortFunc(offline, func(a, b billing.OfflineProduct) int { return strings.Compare(a.Product, b.Product) })
	return byARI, limits, offline
}

// appGroups reads an app account's groups (Jira's member pages would, but
// only group by group).
func (c *collector) appGroups(ctx context.Context, u *billing.User, known map[string]bool) error {
	ju, err := c.src.Jira.User(ctx, u.AccountID)
	if err != nil {
		return stepErr("read the groups of app account "+u.DisplayName, err)
	}
	if ju.Groups != nil {
		for _, g := range ju.Groups.Items {
			if known[g.GroupID] {
				u.Groups = append(u.Groups, g.GroupID)
			}
		}
	}
	return nil
}

// orgUser maps a directory user; groups outside the site's product groups
// are dropped, since they grant nothing here.
func (c *collector) orgUser(ou atlassian.OrgUser, byARI map[string]string, known map[string]bool) *billing.User {
	u := &billing.User{
		AccountID: ou.AccountID, DisplayName: ou.Name, Email: ou.Email, AccountType: ou.AccountType,
		Active: accountActive(ou), Status: ou.Status, ClaimStatus: ou.ClaimStatus,
		ActivityCovered: true,
	}
	if !ou.AddedToOrg.IsZero() {
		t := ou.AddedToOrg.UTC()
		u.AddedToOrg = &t
	}
	for _, r := range ou.PlatformRoles {
		u.PlatformRoles = append(u.PlatformRoles, strings.TrimPrefix(r, "atlassian/"))
	}
	slices.Sort(u.PlatformRoles)
	for _, g := range ou.Groups {
		if known[g.ID] {
			u.Groups = append(u.Groups, g.ID)
		}
	}
	site := map[string]bool{}
	for _, key := range byARI {
		site[key] = true
	}
	for _, pa := range ou.ProductAccess {
		key, ok := productAccessKey(pa, byARI)
		if !ok {
			// An entry that cannot be placed may be one of this site's
			// products under a name Seatlens does not know: then no
			// product of the site can be called never used.
			if !unplaceableIsOtherSite(pa) {
				u.ActivityUnknown = sortedKeys(site)
			}
			continue
		}
		if !site[key] || pa.LastActiveTimestamp.IsZero() {
			continue // another site's product, or never used
		}
		if u.LastActive == nil {
			u.LastActive = map[string]time.Time{}
		}
		// Two entries for one product (placed by key, in an org with
		// several sites) keep the most recent date: the safe side.
		if at := pa.LastActiveTimestamp.UTC(); at.After(u.LastActive[key]) {
			u.LastActive[key] = at
		}
	}
	return u
}

// accountActive reads accountStatus, else the composite status Atlassian
// documents (active, suspended and not_invited all have accountStatus
// active): a missing field must not turn an account deactivated.
func accountActive(ou atlassian.OrgUser) bool {
	if ou.AccountStatus != "" {
		return ou.AccountStatus == "active"
	}
	switch ou.Status {
	case "active", "suspended", "not_invited":
		return true
	}
	return false
}

// sameHost reports whether a workspace's hostUrl names the site's host.
// Atlassian types hostUrl as a string and does not give its format; an
// absolute URL is what its tracker shows, and a bare host is taken too.
func sameHost(hostURL, host string) bool {
	u, err := url.Parse(strings.TrimSpace(hostURL))
	if err == nil && u.Host == "" && u.Scheme == "" {
		u, err = url.Parse("https://" + strings.TrimSpace(hostURL))
	}
	return err == nil && strings.EqualFold(u.Host, host)
}

type noProductsError string

func (e noProductsError) Error() string {
	return "the organisation lists no Jira or Confluence product on " + string(e) + " (is the org key for the right organisation?)"
}

func errNoProducts(host string) error { return noProductsError(host) }

// mayBeBillable is rule 1 seen from the collector: an account the engine
// may count needs its role assignments read.
func mayBeBillable(u *billing.User) bool {
	switch {
	case u.ServiceAccount, u.AccountType == billing.AccountApp, u.AccountType == billing.AccountCustomer:
		return false
	case u.Status == billing.StatusSuspended, u.Status == billing.StatusDeactivated, u.Status == "for_deletion":
		return false
	}
	return true
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
