package billing

import (
	"fmt"
	"time"
)

// Snapshot is what a collector hands the engine: one site as read at
// ScannedAt, with a record of which sources were available, because a
// missing source changes verdicts (rules 2 and 8) and must never be
// mistaken for "nothing there".
type Snapshot struct {
	Site      SiteInfo  `json:"site"`
	ScannedAt time.Time `json:"scannedAt"`
	Sources   Sources   `json:"sources"`
	Products  []Product `json:"products"`
	Groups    []Group   `json:"groups"`
	Users     []User    `json:"users"`
}

// SiteInfo names the site and organisation scanned.
type SiteInfo struct {
	URL     string `json:"url"`
	CloudID string `json:"cloudId,omitempty"`
	OrgID   string `json:"orgId,omitempty"`
}

// Credential kinds a scan can use (DESIGN.md §4's credential table).
const (
	CredentialAPIToken   = "api-token"       // Basic auth, the CLI
	CredentialConnectJWT = "connect-jwt"     // the app, as Connect
	CredentialForgeToken = "forge-app-token" // the app, with a Forge system token
	CredentialOrgKey     = "org-key"         // Organizations API key
)

// Sources says what the collector could read.
type Sources struct {
	// Credentials are the credentials the scan used.
	Credentials []string `json:"credentials"`
	// OrgAPI is true when the Organizations API was read: account status,
	// claim status, platform roles, synced flags, role assignments, service
	// accounts and every product (Confluence included) are then known.
	OrgAPI bool `json:"orgApi"`
	// DefaultGroups is true when default groups are known (applicationrole
	// or the Org API's defaultRole); a Connect JWT cannot see them.
	DefaultGroups bool `json:"defaultGroups"`
	// Activity is the source of last-active dates; nil when there is none.
	Activity *ActivitySource `json:"activity,omitempty"`
	// Offline lists the site's products the Organizations API reports as
	// offline or deprecated: they are not explained, and the findings say
	// so instead of leaving them out without a word.
	Offline []OfflineProduct `json:"offline,omitempty"`
	// Unknown names what the scan could not read because no credential it
	// held may read it (Unknown* below), so that a reader knows what
	// connecting a credential would add.
	Unknown []string `json:"unknown,omitempty"`
}

// What a scan may leave unknown for want of a credential.
const (
	// UnknownDefaultGroups: applicationrole is closed to a Connect JWT,
	// so a default group looks like any other access group.
	UnknownDefaultGroups = "default-groups"
	// UnknownSeatLimits: the licence's seat counts and Atlassian's own user
	// counts come from applicationrole too.
	UnknownSeatLimits = "seat-limits"
	// UnknownAccountsOutsideDirectory: app and customer accounts are
	// listed only by Jira's users/search, closed to a Connect JWT.
	UnknownAccountsOutsideDirectory = "accounts-outside-directory"
)

// OfflineProduct is a product of the site whose workspace is not online.
type OfflineProduct struct {
	Product string `json:"product"` // canonical key
	Status  string `json:"status"`  // the workspace's status: offline | deprecated
}

// Activity source kinds.
const (
	ActivityOrgAPI   = "org-api"   // users search productAccess[].lastActiveTimestamp
	ActivityAdminCSV = "admin-csv" // the admin "Export users" CSV
)

// ActivitySource is where last-active dates came from and the instant
// they are measured from: the scan for the Org API, the export date for
// the CSV (which carries no date, so the admin gives it).
type ActivitySource struct {
	Kind string    `json:"kind"`
	AsOf time.Time `json:"asOf"`
	File string    `json:"file,omitempty"`
}

// Product is a product of the site.
type Product struct {
	Key  string `json:"key"` // canonical (products.go)
	Name string `json:"name"`
	// Limit is the licence's seat count (numberOfSeats, workspace capacity);
	// nil when unlimited or unknown.
	Limit *int   `json:"limit,omitempty"`
	Plan  string `json:"plan,omitempty"` // FREE | PAID | … when known
	// UserCount is Atlassian's own count of users against the licence
	// (applicationrole userCount), for a cross-check; nil when unknown.
	UserCount *int `json:"userCount,omitempty"`
}

// Grant is a role on a product.
type Grant struct {
	Product string `json:"product"`
	Role    string `json:"role"`
}

// Group is a group with what it grants.
type Group struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	DirectoryID string  `json:"directoryId,omitempty"`
	Grants      []Grant `json:"grants,omitempty"`
	// DefaultFor lists the products whose default group this is.
	DefaultFor []string `json:"defaultFor,omitempty"`
	// SiteAdmin marks a group granting site administration (Jira's
	// accessType=site-admin), the only platform-admin signal without an
	// org key.
	SiteAdmin bool `json:"siteAdmin,omitempty"`
	// Synced is true for a group provisioned from an identity provider,
	// false when known not to be, nil when unknown (no org key).
	Synced      *bool `json:"synced"`
	MemberCount int   `json:"memberCount"`
}

// Account types (Jira's User.accountType).
const (
	AccountAtlassian = "atlassian"
	AccountApp       = "app"
	AccountCustomer  = "customer"
)

// Org API account statuses.
const (
	StatusActive      = "active"
	StatusSuspended   = "suspended"
	StatusDeactivated = "deactivated"
)

// Role assignment methods that are not group membership.
const (
	MethodDirect   = "direct"
	MethodInferred = "inferred"
)

// RoleAssignment is a role held directly or inferred (the Org API's role
// assignments other than group_direct, which Groups already explain).
type RoleAssignment struct {
	Product string `json:"product"`
	Role    string `json:"role"`
	Method  string `json:"method"` // MethodDirect | MethodInferred
}

// User is an account with its memberships, roles and activity.
type User struct {
	AccountID   string `json:"accountId"`
	DisplayName string `json:"displayName"`
	Email       string `json:"email,omitempty"`
	AccountType string `json:"accountType"`       // AccountAtlassian | AccountApp | AccountCustomer | unknown
	AppType     string `json:"appType,omitempty"` // service | agent | unknown, for app accounts
	// ServiceAccount is true for an account the service-accounts API lists.
	ServiceAccount bool `json:"serviceAccount,omitempty"`
	Active         bool `json:"active"` // Jira's active flag
	// Status is the Org API's account status; "" when unknown.
	Status string `json:"status,omitempty"`
	// ClaimStatus is managed | unmanaged; "" when unknown.
	ClaimStatus   string     `json:"claimStatus,omitempty"`
	AddedToOrg    *time.Time `json:"addedToOrg,omitempty"`
	PlatformRoles []string   `json:"platformRoles,omitempty"` // org-admin, site-admin, user-access-admin
	Groups        []string   `json:"groups,omitempty"`        // group IDs
	// Roles are the direct and inferred role assignments; RolesKnown says
	// they were read (Org API), so an empty list means "none".
	Roles      []RoleAssignment `json:"roles,omitempty"`
	RolesKnown bool             `json:"rolesKnown,omitempty"`
	// LastActive is the last activity per product; ActivityCovered says the
	// activity source covers the account, so a missing product means
	// "never used" rather than "unknown".
	LastActive      map[string]time.Time `json:"lastActive,omitempty"`
	ActivityCovered bool                 `json:"activityCovered,omitempty"`
	// ActivityUnknown lists products the source covers the account for but
	// says nothing about (an empty cell of the admin CSV): no activity data
	// for those seats, rather than "never used".
	ActivityUnknown []string `json:"activityUnknown,omitempty"`
}

// Validate checks the references inside a snapshot: every product key
// canonical, every member group and granted product known.
func (s *Snapshot) Validate() error {
	if s.ScannedAt.IsZero() {
		return fmt.Errorf("billing: snapshot has no scannedAt")
	}
	if a := s.Sources.Activity; a != nil {
		if a.Kind != ActivityOrgAPI && a.Kind != ActivityAdminCSV {
			return fmt.Errorf("billing: unknown activity source %q", a.Kind)
		}
		if a.AsOf.IsZero() {
			return fmt.Errorf("billing: activity source %s has no as-of date", a.Kind)
		}
	}
	products := map[string]bool{}
	for _, p := range s.Products {
		if _, ok := LookupProduct(p.Key); !ok {
			return fmt.Errorf("billing: product %q is not a canonical product key", p.Key)
		}
		if products[p.Key] {
			return fmt.Errorf("billing: product %q listed twice", p.Key)
		}
		products[p.Key] = true
	}
	groups := make(map[string]bool, len(s.Groups))
	for _, g := range s.Groups {
		if g.ID == "" || groups[g.ID] {
			return fmt.Errorf("billing: group %q has an empty or duplicated id", g.Name)
		}
		groups[g.ID] = true
		for _, gr := range g.Grants {
			if !products[gr.Product] || roleRank(gr.Role) == 0 {
				return fmt.Errorf("billing: group %s grants unknown %s/%s", g.Name, gr.Product, gr.Role)
			}
		}
		for _, p := range g.DefaultFor {
			if !products[p] {
				return fmt.Errorf("billing: group %s is default for unknown product %q", g.Name, p)
			}
		}
	}
	users := make(map[string]bool, len(s.Users))
	for i := range s.Users {
		u := &s.Users[i]
		if u.AccountID == "" || users[u.AccountID] {
			return fmt.Errorf("billing: user %q has an empty or duplicated account id", u.DisplayName)
		}
		users[u.AccountID] = true
		for _, g := range u.Groups {
			if !groups[g] {
				return fmt.Errorf("billing: user %s is in unknown group %q", u.AccountID, g)
			}
		}
		for _, r := range u.Roles {
			if !products[r.Product] || roleRank(r.Role) == 0 || (r.Method != MethodDirect && r.Method != MethodInferred) {
				return fmt.Errorf("billing: user %s has unknown role assignment %+v", u.AccountID, r)
			}
		}
	}
	return nil
}
