package sitesim

import (
	"fmt"
	"slices"
	"sort"
	"sync"
)

// Jira application role keys (the product keys of Jira's REST API).
const (
	JiraSoftware     = "jira-software"
	JiraServiceDesk  = "jira-servicedesk"
	JiraProductDisco = "jira-product-discovery"
	JiraCore         = "jira-core"
)

// Roles a group grants on a product, as group/bulk's accessType names them.
const (
	RoleUser  = "user"
	RoleAdmin = "admin"
)

// Account types of Jira's User bean.
const (
	AccountAtlassian = "atlassian"
	AccountApp       = "app"
	AccountCustomer  = "customer"
)

// Product is a Jira application (application role).
type Product struct {
	Key   string // JiraSoftware, …
	Name  string
	Seats int    // licence limit (numberOfSeats); 0 with Unlimited
	Plan  string // UNLICENSED | FREE | PAID (instance/license)

	Unlimited bool
}

// Grant is one product role a group gives its members.
type Grant struct {
	Product string
	Role    string // RoleUser or RoleAdmin
}

// Group is a site group.
type Group struct {
	ID   string
	Name string
	// Grants are the product roles the group gives; DefaultFor the products
	// whose default group it is (applicationrole.defaultGroups).
	Grants     []Grant
	DefaultFor []string
	SiteAdmin  bool // grants site administration (accessType=site-admin)
	Synced     bool // provisioned from an identity provider
}

// User is an Atlassian account known to the site.
type User struct {
	AccountID   string
	AccountType string // AccountAtlassian | AccountApp | AccountCustomer
	AppType     string // "service", "agent" or "" (Jira's appType)
	Active      bool
	DisplayName string
	Email       string // "" when hidden by the user's privacy settings
	TimeZone    string
	Locale      string
}

// Scenario is the content of a site: what a generator or a fixture file
// produces and New loads.
type Scenario struct {
	Products []Product
	Groups   []Group
	Users    []User
	// Members maps a group ID to the account IDs in it.
	Members map[string][]string
	// Admin is the human site admin the API token belongs to.
	AdminAccountID string
}

// Site is the live, mutable state of a simulated site. Every REST view is
// computed from it, so a change through one endpoint is visible in all.
type Site struct {
	mu       sync.RWMutex
	products []Product
	groups   map[string]*Group // by ID
	byName   map[string]string // name → ID
	users    map[string]*User
	order    []string                   // account IDs in display order (Jira pages by username)
	members  map[string]map[string]bool // group ID → account IDs
	admin    string
	// idp holds the memberships the identity provider dictates for synced
	// groups; SyncIdP restores them (unconfirmed mode (b)).
	idp map[string]map[string]bool
}

// NewSite loads a scenario, refusing an inconsistent one.
func NewSite(sc Scenario) (*Site, error) {
	s := &Site{
		products: slices.Clone(sc.Products),
		groups:   map[string]*Group{}, byName: map[string]string{},
		users: map[string]*User{}, members: map[string]map[string]bool{}, idp: map[string]map[string]bool{},
		admin: sc.AdminAccountID,
	}
	known := map[string]bool{}
	for _, p := range sc.Products {
		known[p.Key] = true
	}
	for i := range sc.Groups {
		g := sc.Groups[i]
		if g.ID == "" || g.Name == "" || s.groups[g.ID] != nil || s.byName[g.Name] != "" {
			return nil, fmt.Errorf("sitesim: group %q/%q is empty or duplicated", g.ID, g.Name)
		}
		for _, gr := range g.Grants {
			if !known[gr.Product] || (gr.Role != RoleUser && gr.Role != RoleAdmin) {
				return nil, fmt.Errorf("sitesim: group %s grants unknown %v", g.Name, gr)
			}
		}
		g.Grants, g.DefaultFor = slices.Clone(g.Grants), slices.Clone(g.DefaultFor)
		s.groups[g.ID] = &g
		s.byName[g.Name] = g.ID
		s.members[g.ID] = map[string]bool{}
	}
	for i := range sc.Users {
		u := sc.Users[i]
		if u.AccountID == "" || s.users[u.AccountID] != nil {
			return nil, fmt.Errorf("sitesim: user %q is empty or duplicated", u.AccountID)
		}
		s.users[u.AccountID] = &u
		s.order = append(s.order, u.AccountID)
	}
	for gid, ids := range sc.Members {
		if s.groups[gid] == nil {
			return nil, fmt.Errorf("sitesim: members of unknown group %q", gid)
		}
		for _, id := range ids {
			if s.users[id] == nil {
				return nil, fmt.Errorf("sitesim: unknown member %q of %s", id, gid)
			}
			s.members[gid][id] = true
		}
		if s.groups[gid].Synced {
			s.idp[gid] = maps(s.members[gid])
		}
	}
	if s.users[s.admin] == nil {
		return nil, fmt.Errorf("sitesim: admin %q is not a user", s.admin)
	}
	sort.SliceStable(s.order, func(i, j int) bool { return s.users[s.order[i]].DisplayName < s.users[s.order[j]].DisplayName })
	return s, nil
}

func maps(m map[string]bool) map[string]bool {
	out := make(map[string]bool, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Admin returns the site admin the API token acts as.
func (s *Site) Admin() User {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return *s.users[s.admin]
}

// groupByRef resolves a group by ID or name (the API takes either).
func (s *Site) groupByRef(id, name string) *Group {
	if id != "" {
		return s.groups[id]
	}
	if gid, ok := s.byName[name]; ok {
		return s.groups[gid]
	}
	return nil
}

// groupsOf returns the groups of a user, sorted by name.
func (s *Site) groupsOf(accountID string) []*Group {
	var out []*Group
	for gid, m := range s.members {
		if m[accountID] {
			out = append(out, s.groups[gid])
		}
	}
	slices.SortFunc(out, func(a, b *Group) int { return compareStrings(a.Name, b.Name) })
	return out
}

// productsOf returns the products a user reaches through any group, with
// the highest role on each.
func (s *Site) productsOf(accountID string) map[string]string {
	out := map[string]string{}
	for _, g := range s.groupsOf(accountID) {
		for _, gr := range g.Grants {
			if out[gr.Product] != RoleAdmin {
				out[gr.Product] = gr.Role
			}
		}
	}
	return out
}

// userCount is the number of active users holding product p: what counts
// against the licence.
func (s *Site) userCount(p string) int {
	n := 0
	for _, id := range s.order {
		u := s.users[id]
		if u.Active && u.AccountType == AccountAtlassian && s.productsOf(id)[p] != "" {
			n++
		}
	}
	return n
}

func (s *Site) product(key string) (Product, bool) {
	for _, p := range s.products {
		if p.Key == key {
			return p, true
		}
	}
	return Product{}, false
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
