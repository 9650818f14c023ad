package sitesim

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Jira application role keys (the product keys of Jira's REST API).
const (
	JiraSoftware     = "jira-software"
	JiraServiceDesk  = "jira-servicedesk"
	JiraProductDisco = "jira-product-discovery"
	JiraCore         = "jira-core"
)

// Confluence's product key in the simulated organisation (not a Jira
// application role, so invisible to Jira REST).
const Confluence = "confluence"

// Roles a group (or a direct assignment) grants on a product. user and
// admin are the licensed roles, the ones group/bulk's accessType names;
// the others are the Organizations API's non-billable roles (atlassian/…).
const (
	RoleUser        = "user"        // atlassian/user (JSM: agent; JPD: creator)
	RoleAdmin       = "admin"       // atlassian/admin
	RoleGuest       = "guest"       // atlassian/guest (Confluence)
	RoleCustomer    = "customer"    // atlassian/customer (JSM)
	RoleContributor = "contributor" // atlassian/contributor (JPD)
	RoleStakeholder = "stakeholder" // atlassian/stakeholder (JSM Premium)
)

var knownRoles = map[string]bool{RoleUser: true, RoleAdmin: true, RoleGuest: true, RoleCustomer: true, RoleContributor: true, RoleStakeholder: true}

// licensedRole reports whether Jira counts the role against the licence.
func licensedRole(r string) bool { return r == RoleUser || r == RoleAdmin }

// jiraProduct reports whether a product is a Jira application role.
func jiraProduct(key string) bool { return strings.HasPrefix(key, "jira-") }

// Account types of Jira's User bean.
const (
	AccountAtlassian = "atlassian"
	AccountApp       = "app"
	AccountCustomer  = "customer"
)

// Product is a product of the site: a Jira application (application
// role, key "jira-…") or another product of the organisation (Confluence).
type Product struct {
	Key   string `json:"key"` // JiraSoftware, …, Confluence
	Name  string `json:"name"`
	Seats int    `json:"seats"` // licence limit (numberOfSeats); 0 with Unlimited
	Plan  string `json:"plan"`  // UNLICENSED | FREE | PAID (instance/license)

	Unlimited bool `json:"unlimited,omitempty"`
	// WorkspaceStatus is the Organizations API's workspace status of the
	// product: WorkspaceOnline (also ""), WorkspaceOffline or
	// WorkspaceDeprecated.
	WorkspaceStatus string `json:"workspaceStatus,omitempty"`
}

// Workspace statuses (the documented enum of attributes.status,
// https://developer.atlassian.com/cloud/admin/organization/rest/api-group-workspaces/).
const (
	WorkspaceOnline     = "online"
	WorkspaceOffline    = "offline"
	WorkspaceDeprecated = "deprecated"
)

// Grant is one product role a group (or a direct assignment) gives.
type Grant struct {
	Product string `json:"product"`
	Role    string `json:"role"` // RoleUser, RoleAdmin, RoleGuest, …
}

// Group is a site group.
type Group struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Grants are the product roles the group gives; DefaultFor the products
	// whose default group it is (applicationrole.defaultGroups).
	Grants     []Grant  `json:"grants,omitempty"`
	DefaultFor []string `json:"defaultFor,omitempty"`
	SiteAdmin  bool     `json:"siteAdmin,omitempty"` // grants site administration (accessType=site-admin)
	Synced     bool     `json:"synced,omitempty"`    // provisioned from an identity provider
	// Description is the group's description in the Organizations API
	// ("" when it has none).
	Description string `json:"description,omitempty"`
	// ManagedBy is the Organizations API's managedBy: external, admins,
	// team-members or open; "" is external for a synced group, else admins.
	ManagedBy string `json:"managedBy,omitempty"`
}

// User is an Atlassian account known to the site. The fields after Locale
// are the organisation's view (Organizations API), invisible to Jira REST.
type User struct {
	AccountID   string `json:"accountId"`
	AccountType string `json:"accountType"`       // AccountAtlassian | AccountApp | AccountCustomer
	AppType     string `json:"appType,omitempty"` // "service", "agent" or "" (Jira's appType)
	Active      bool   `json:"active"`
	DisplayName string `json:"displayName"`
	Email       string `json:"email,omitempty"` // "" when hidden by the user's privacy settings
	TimeZone    string `json:"timeZone,omitempty"`
	Locale      string `json:"locale,omitempty"`

	// Status is the org status: active, suspended, not_invited,
	// deactivated or for_deletion; "" is active, or deactivated when
	// Active is false.
	Status           string               `json:"status,omitempty"`
	ClaimStatus      string               `json:"claimStatus,omitempty"`      // managed | unmanaged
	ManagementSource string               `json:"managementSource,omitempty"` // invited | synced
	AddedToOrg       *time.Time           `json:"addedToOrg,omitempty"`
	DeactivatedOn    *time.Time           `json:"deactivatedOn,omitempty"` // deactivated or for_deletion accounts only
	LastActive       map[string]time.Time `json:"lastActive,omitempty"`    // product key → last activity
	PlatformRoles    []string             `json:"platformRoles,omitempty"` // org-admin, site-admin, user-access-admin, ai-access
	DirectRoles      []Grant              `json:"directRoles,omitempty"`   // roles assigned to the user, not through a group
	// InferredRoles are roles the Organizations API reports as inferred
	// (role assignment type "inferred") other than the admin roles an
	// org-admin or site-admin holds everywhere.
	InferredRoles []Grant `json:"inferredRoles,omitempty"`
}

// Scenario is the content of a site: what a generator or a fixture file
// produces and NewSite loads. It is also the JSON of `seatlens sim
// --scenario FILE`.
type Scenario struct {
	Products []Product `json:"products"`
	Groups   []Group   `json:"groups"`
	Users    []User    `json:"users"`
	// Members maps a group ID to the account IDs in it.
	Members map[string][]string `json:"members"`
	// AdminAccountID is the human site admin the API token belongs to.
	AdminAccountID string `json:"admin"`
}

// LoadScenario reads a scenario file; unknown fields are refused so a typo
// cannot silently drop data.
func LoadScenario(r io.Reader) (Scenario, error) {
	var sc Scenario
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sc); err != nil {
		return Scenario{}, fmt.Errorf("sitesim: scenario: %w", err)
	}
	if _, err := NewSite(sc); err != nil {
		return Scenario{}, err
	}
	return sc, nil
}

// Site is the live, mutable state of a simulated site. Every REST view is
// computed from it, so a change through one endpoint is visible in all.
type Site struct {
	mu       sync.RWMutex
	products []Product         // Jira application roles: what Jira REST shows
	all      []Product         // every product, Confluence included
	groups   map[string]*Group // by ID
	byName   map[string]string // name → ID
	users    map[string]*User
	order    []string       // account IDs in display order (Jira pages by username)
	pos      map[string]int // account ID → index in order (reindex)
	// memberCache holds each group's ordered member list (membersOf);
	// cacheMu guards it, since readers fill it under s.mu's read lock.
	cacheMu     sync.Mutex
	memberCache map[string][]string
	countCache  map[string]int             // product → userCount
	members     map[string]map[string]bool // group ID → account IDs
	admin       string
	// idp holds the memberships the identity provider dictates for synced
	// groups; SyncIdP restores them (unconfirmed mode (b)).
	idp map[string]map[string]bool
	// events is the organisation's audit log (orgapi_events.go): every
	// membership and product-access change, whichever API made it, so
	// product REST and the Organizations API report one history.
	events   []auditEvent
	eventSeq int
	now      func() time.Time // the Server's clock, for event times
	// notify is the Server's webhook hook (webhooks.go), called with s.mu
	// held for writing; nil = no listener.
	notify func(event, accountID string)
	// onEvent is the Server's audit-log push hook (audithooks.go), called
	// with s.mu held for writing; nil = no listener.
	onEvent func(auditEvent)
}

// NewSite loads a scenario, refusing an inconsistent one.
func NewSite(sc Scenario) (*Site, error) {
	s := &Site{
		all:    slices.Clone(sc.Products),
		groups: map[string]*Group{}, byName: map[string]string{},
		users: map[string]*User{}, members: map[string]map[string]bool{}, idp: map[string]map[string]bool{},
		admin: sc.AdminAccountID,
	}
	known := map[string]bool{}
	for _, p := range sc.Products {
		if p.Key == "" || known[p.Key] {
			return nil, fmt.Errorf("sitesim: product %q is empty or duplicated", p.Key)
		}
		known[p.Key] = true
		if !oneOf(p.WorkspaceStatus, "", WorkspaceOnline, WorkspaceOffline, WorkspaceDeprecated) {
			return nil, fmt.Errorf("sitesim: product %s: workspace status %q is not online, offline or deprecated", p.Key, p.WorkspaceStatus)
		}
		if jiraProduct(p.Key) {
			s.products = append(s.products, p)
		}
	}
	for i := range sc.Groups {
		g := sc.Groups[i]
		if g.ID == "" || g.Name == "" || s.groups[g.ID] != nil || s.byName[g.Name] != "" {
			return nil, fmt.Errorf("sitesim: group %q/%q is empty or duplicated", g.ID, g.Name)
		}
		for _, gr := range g.Grants {
			if !known[gr.Product] || !knownRoles[gr.Role] {
				return nil, fmt.Errorf("sitesim: group %s grants unknown %v", g.Name, gr)
			}
		}
		if !oneOf(g.ManagedBy, "", "external", "admins", "team-members", "open") {
			return nil, fmt.Errorf("sitesim: group %s: managedBy %q is not external, admins, team-members or open", g.Name, g.ManagedBy)
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
		for _, gr := range slices.Concat(u.DirectRoles, u.InferredRoles) {
			if !known[gr.Product] || !knownRoles[gr.Role] {
				return nil, fmt.Errorf("sitesim: user %s has unknown direct or inferred role %v", u.AccountID, gr)
			}
		}
		if err := checkOrgFields(u); err != nil {
			return nil, err
		}
		u.LastActive = mapsClone(u.LastActive)
		u.PlatformRoles, u.DirectRoles = slices.Clone(u.PlatformRoles), slices.Clone(u.DirectRoles)
		u.InferredRoles = slices.Clone(u.InferredRoles)
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
	s.reindex()
	return s, nil
}

// checkOrgFields refuses org-view values the Organizations API does not
// document (the sim must send only documented enum values).
func checkOrgFields(u User) error {
	bad := func(field, v string) error {
		return fmt.Errorf("sitesim: user %s: %s %q is not a documented value", u.AccountID, field, v)
	}
	switch {
	case !oneOf(u.Status, "", "active", "suspended", "not_invited", "deactivated", "for_deletion"):
		return bad("status", u.Status)
	case !oneOf(u.ClaimStatus, "", "managed", "unmanaged"):
		return bad("claimStatus", u.ClaimStatus)
	case !oneOf(u.ManagementSource, "", "invited", "synced"):
		return bad("managementSource", u.ManagementSource)
	}
	for _, r := range u.PlatformRoles {
		if !oneOf(r, "org-admin", "site-admin", "user-access-admin", "ai-access") {
			return bad("platform role", r)
		}
	}
	return nil
}

func oneOf(v string, set ...string) bool { return slices.Contains(set, v) }

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

// productsOf returns the Jira applications a user holds a licensed role
// on through any group, with the highest role on each: Jira's view. Direct
// roles and other products belong to the organisation's view.
func (s *Site) productsOf(accountID string) map[string]string {
	out := map[string]string{}
	for _, g := range s.groupsOf(accountID) {
		for _, gr := range g.Grants {
			if !jiraProduct(gr.Product) || !licensedRole(gr.Role) {
				continue
			}
			if out[gr.Product] != RoleAdmin {
				out[gr.Product] = gr.Role
			}
		}
	}
	return out
}

func mapsClone[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return nil
	}
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// userCount is the number of active users holding product p: what counts
// against the licence.
func (s *Site) userCount(p string) int {
	// Cached with the member lists (membershipChanged drops both): a 10k
	// site's applicationrole would otherwise walk every granting group's
	// members for every product on every call.
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	if len(s.countCache) == 0 {
		// applicationrole asks for every product at once: count them all.
		s.countCache = make(map[string]int, len(s.all))
		for _, prod := range s.all {
			s.countCache[prod.Key] = s.countUsers(prod.Key)
		}
	}
	return s.countCache[p]
}

// countUsers counts the active atlassian accounts holding a licensed role
// on p by any path: a group, a direct or inferred role, or org admin
// (unconfirmed.go: Jira's userCount is taken to count every licensed
// holder, not only group members).
func (s *Site) countUsers(p string) int {
	counted := map[string]bool{}
	billable := func(u *User) bool { return u != nil && u.Active && u.AccountType == AccountAtlassian }
	for gid, g := range s.groups {
		if !slices.ContainsFunc(g.Grants, func(gr Grant) bool { return gr.Product == p && licensedRole(gr.Role) }) {
			continue
		}
		for id := range s.members[gid] {
			if billable(s.users[id]) {
				counted[id] = true
			}
		}
	}
	licensedOnP := func(gr Grant) bool { return gr.Product == p && licensedRole(gr.Role) }
	for id, u := range s.users {
		if len(u.DirectRoles)+len(u.InferredRoles)+len(u.PlatformRoles) == 0 || counted[id] || !billable(u) {
			continue
		}
		if slices.ContainsFunc(u.DirectRoles, licensedOnP) || slices.ContainsFunc(u.InferredRoles, licensedOnP) ||
			slices.Contains(u.PlatformRoles, "org-admin") {
			counted[id] = true
		}
	}
	return len(counted)
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
