package scan

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/seatlens/seatlens/app/atlassian"
	"github.com/seatlens/seatlens/app/billing"
)

// Basis is what a targeted rescan needs of the full scan whose accounts it
// reads again: the snapshot without its users (products, groups, sources)
// and what the collector learnt that the snapshot does not keep.
type Basis struct {
	Snapshot billing.Snapshot `json:"snapshot"`
	// ARIs maps the site's product resource ARIs to products (keyed scans).
	ARIs map[string]string `json:"aris,omitempty"`
	// ServiceAccounts are the organisation's service accounts.
	ServiceAccounts []string `json:"serviceAccounts,omitempty"`
}

// MaxCallsPerAccount bounds what reading one account again may cost: the
// directory's users search (shared by a batch), its role assignments, and
// Jira's user for an account outside the directory.
const MaxCallsPerAccount = 5

// ErrNeedsFullScan says a targeted rescan cannot stand in for a full one:
// the credentials changed since the scan, or an account holds a product
// that none of the groups and roles the scan knows grants (a group made
// since, say), which only reading the groups again explains.
var ErrNeedsFullScan = errors.New("scan: a full scan is needed")

// Reread reads the accounts ids again with the job's credentials, as the
// full scan of basis read them, and returns those that still exist.
func Reread(ctx context.Context, job Job, basis *Basis, ids []string) ([]billing.User, error) {
	src := job.Source
	keyed := src.Org != nil
	if !sameReach(src, basis.Snapshot.Sources) {
		return nil, fmt.Errorf("%w: the credentials changed since the scan", ErrNeedsFullScan)
	}
	if keyed && basis.ARIs == nil {
		return nil, fmt.Errorf("%w: the scan kept no product ARIs", ErrNeedsFullScan)
	}
	known := map[string]bool{}
	grants := map[string][]billing.Grant{}
	for _, g := range basis.Snapshot.Groups {
		known[g.ID] = true
		grants[g.ID] = g.Grants
	}
	var (
		fresh []billing.User
		err   error
	)
	if keyed {
		fresh, err = rereadKeyed(ctx, src, basis, ids, known)
	} else {
		fresh, err = rereadKeyless(ctx, src, basis, ids, known)
	}
	if err != nil {
		return nil, err
	}
	if job.Activity != nil && len(fresh) > 0 {
		mini := basis.Snapshot
		mini.Users = fresh
		if _, err := ApplyActivityCSV(&mini, job.Activity.Export, job.Activity.Date, job.Activity.Name); err != nil {
			return nil, &Failure{Kind: FailSettings, Err: err}
		}
	}
	return fresh, nil
}

// sameReach reports whether a job's credentials read what the scan's did:
// the Organizations API, and the Jira calls a Connect JWT may not make.
func sameReach(src Source, s billing.Sources) bool {
	hadAdmin := !slices.Contains(s.Unknown, billing.UnknownAccountsOutsideDirectory) && !slices.Contains(s.Unknown, billing.UnknownDefaultGroups)
	return (src.Org != nil) == s.OrgAPI && (src.JiraAdmin != nil) == hadAdmin
}

// explained reports whether every product held is granted by one of the
// account's known groups or roles.
func explained(u *billing.User, held []string, grants map[string][]billing.Grant) bool {
	for _, p := range held {
		ok := slices.ContainsFunc(u.Roles, func(r billing.RoleAssignment) bool { return r.Product == p })
		for _, g := range u.Groups {
			ok = ok || slices.ContainsFunc(grants[g], func(gr billing.Grant) bool { return gr.Product == p })
		}
		if !ok {
			return false
		}
	}
	return true
}

func rereadKeyed(ctx context.Context, src Source, basis *Basis, ids []string, known map[string]bool) ([]billing.User, error) {
	c := &collector{src: src, now: time.Now}
	grants := map[string][]billing.Grant{}
	for _, g := range basis.Snapshot.Groups {
		grants[g.ID] = g.Grants
	}
	service := map[string]bool{}
	for _, id := range basis.ServiceAccounts {
		service[id] = true
	}
	found := map[string]*billing.User{}
	var order []*billing.User
	var held = map[*billing.User][]string{}
	err := src.Org.SearchUsers(ctx, src.OrgID, atlassian.DirectoryAll, atlassian.UserSearch{
		AccountIDs: ids, Expand: []string{"productAccess", "groups", "platformRoles"},
	}, func(page []atlassian.OrgUser) error {
		for _, ou := range page {
			if !slices.Contains(ids, ou.AccountID) || found[ou.AccountID] != nil {
				continue
			}
			u := c.orgUser(ou, basis.ARIs, known)
			u.ServiceAccount = service[u.AccountID]
			found[u.AccountID] = u
			order = append(order, u)
			held[u] = heldProducts(ou, basis.ARIs)
		}
		return nil
	})
	if err != nil {
		return nil, stepErr("search the organisation's users", err)
	}
	var mu sync.Mutex
	legacy := map[*billing.User][]legacyRole{}
	p := newPool(ctx, concurrency(src))
	for _, u := range order {
		if !mayBeBillable(u) && len(held[u]) == 0 {
			continue
		}
		p.submit(func(ctx context.Context) error { return c.userRoles(ctx, u, basis.ARIs, &mu, legacy) })
	}
	if err := p.wait(); err != nil {
		return nil, err
	}
	for _, u := range order {
		if u.AccountType == billing.AccountCustomer && slices.Contains(held[u], billing.CustomerAccountProduct) && len(u.Roles) == 0 && len(legacy[u]) == 0 {
			u.Roles = []billing.RoleAssignment{{Product: billing.CustomerAccountProduct, Role: billing.RoleCustomer, Method: billing.MethodInferred}}
		}
	}
	resolveLegacyRoles(basis.Snapshot.Groups, legacy)
	for _, u := range order {
		if !explained(u, held[u], grants) {
			return nil, fmt.Errorf("%w: %s holds a product none of the groups the scan read grants", ErrNeedsFullScan, u.AccountID)
		}
	}
	// Accounts outside the directory (app and customer accounts) are
	// listed only by Jira, and only to a credential that may list users.
	hasCustomerProduct := slices.ContainsFunc(basis.Snapshot.Products, func(p billing.Product) bool { return p.Key == billing.CustomerAccountProduct })
	var outside []string
	if src.JiraAdmin != nil {
		for _, id := range ids {
			if found[id] == nil {
				outside = append(outside, id)
			}
		}
	}
	jus, err := jiraUsers(ctx, src, outside)
	if err != nil {
		return nil, err
	}
	for _, ju := range jus {
		if ju.AccountType == billing.AccountAtlassian {
			continue // a person who left the directory
		}
		u := &billing.User{AccountID: ju.AccountID, DisplayName: ju.DisplayName, Email: ju.EmailAddress,
			AccountType: ju.AccountType, AppType: ju.AppType, Active: ju.Active, ServiceAccount: service[ju.AccountID]}
		switch {
		case ju.AccountType == billing.AccountCustomer && hasCustomerProduct:
			u.Roles = []billing.RoleAssignment{{Product: billing.CustomerAccountProduct, Role: billing.RoleCustomer, Method: billing.MethodInferred}}
		case ju.AccountType == billing.AccountApp && ju.Groups != nil:
			for _, g := range ju.Groups.Items {
				if known[g.GroupID] {
					u.Groups = append(u.Groups, g.GroupID)
				}
			}
		}
		order = append(order, u)
	}
	out := make([]billing.User, len(order))
	for i, u := range order {
		out[i] = *u
	}
	return out, nil
}

func rereadKeyless(ctx context.Context, src Source, basis *Basis, ids []string, known map[string]bool) ([]billing.User, error) {
	grants := map[string][]billing.Grant{}
	licensed := map[string]bool{}
	for _, g := range basis.Snapshot.Groups {
		grants[g.ID] = g.Grants
	}
	for _, p := range basis.Snapshot.Products {
		licensed[p.Key] = true
	}
	jus, err := jiraUsers(ctx, src, ids)
	if err != nil {
		return nil, err
	}
	var out []billing.User
	for _, ju := range jus {
		u := billing.User{AccountID: ju.AccountID, DisplayName: ju.DisplayName, Email: ju.EmailAddress,
			AccountType: ju.AccountType, AppType: ju.AppType, Active: ju.Active}
		if ju.Groups != nil {
			for _, g := range ju.Groups.Items {
				if known[g.GroupID] {
					u.Groups = append(u.Groups, g.GroupID)
				}
			}
		}
		var held []string
		if ju.ApplicationRoles != nil {
			for _, r := range ju.ApplicationRoles.Items {
				if key, ok := billing.FromJiraApplicationKey(r.Key); ok && licensed[key] {
					held = append(held, key)
				}
			}
		}
		if !explained(&u, held, grants) {
			return nil, fmt.Errorf("%w: %s holds a product none of the groups the scan read grants", ErrNeedsFullScan, u.AccountID)
		}
		// The scan lists an account only through a product-granting group.
		if len(u.Groups) > 0 {
			out = append(out, u)
		}
	}
	return out, nil
}

// jiraUsers reads accounts with their groups and application roles,
// concurrency at a time, in the order of ids; an account the site no
// longer knows is left out.
func jiraUsers(ctx context.Context, src Source, ids []string) ([]atlassian.User, error) {
	got := make([]*atlassian.User, len(ids))
	p := newPool(ctx, concurrency(src))
	for i, id := range ids {
		p.submit(func(ctx context.Context) error {
			u, ok, err := jiraUser(ctx, src.Jira, id)
			if err != nil {
				return stepErr("read account "+id, err)
			}
			if ok {
				got[i] = &u
			}
			return nil
		})
	}
	if err := p.wait(); err != nil {
		return nil, err
	}
	var out []atlassian.User
	for _, u := range got {
		if u != nil {
			out = append(out, *u)
		}
	}
	return out, nil
}

func concurrency(src Source) int {
	if src.Concurrency > 0 {
		return src.Concurrency
	}
	return DefaultConcurrency
}

// jiraUser reads one account with its groups; ok is false when the site
// no longer knows it.
func jiraUser(ctx context.Context, c *atlassian.Client, id string) (atlassian.User, bool, error) {
	u, err := c.User(ctx, id)
	var apiErr *atlassian.APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
		return atlassian.User{}, false, nil
	}
	if err != nil {
		return atlassian.User{}, false, err
	}
	return u, true, nil
}
