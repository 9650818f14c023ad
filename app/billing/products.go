package billing

import "strings"

// Canonical product keys. Seatlens names every product by one key,
// whichever API it came from; the Jira application role keys are the
// canonical ones for Jira's products because the product REST API, the
// only source without an org key, speaks them.
const (
	JiraSoftware          = "jira-software"
	JiraServiceManagement = "jira-servicedesk"
	JiraProductDiscovery  = "jira-product-discovery"
	JiraWorkManagement    = "jira-core"
	Confluence            = "confluence"
)

// ProductInfo is one product Seatlens knows.
type ProductInfo struct {
	Key  string
	Name string
	// JiraApplication is true for Jira application roles: the products the
	// Jira REST API (applicationrole, group/bulk applicationKey) can see.
	JiraApplication bool
}

// Products is the product catalogue, in display order.
var Products = []ProductInfo{
	{JiraSoftware, "Jira Software", true},
	{JiraWorkManagement, "Jira Work Management", true},
	{JiraServiceManagement, "Jira Service Management", true},
	{JiraProductDiscovery, "Jira Product Discovery", true},
	{Confluence, "Confluence", false},
}

func catalogueIndex(key string) int {
	for i, p := range Products {
		if p.Key == key {
			return i
		}
	}
	return len(Products)
}

// LookupProduct returns the catalogue entry of a canonical key.
func LookupProduct(key string) (ProductInfo, bool) {
	for _, p := range Products {
		if p.Key == key {
			return p, true
		}
	}
	return ProductInfo{}, false
}

// Roles, as the engine names them: the part after "atlassian/" of the
// Organizations API's role IDs (billing-model.md §1.2). Jira REST's
// accessType user/admin are the same two licensed roles.
const (
	RoleAdmin       = "admin"
	RoleUser        = "user" // JSM: agent; JPD: creator
	RoleGuest       = "guest"
	RoleContributor = "contributor"
	RoleStakeholder = "stakeholder"
	RoleCustomer    = "customer"
	RoleBasic       = "basic"
)

// roleRank orders roles so a seat's role is the highest one held: admin
// over user over the non-billable roles (§6 rule 3). Unknown roles rank
// lowest and are not billable.
func roleRank(r string) int {
	switch r {
	case RoleAdmin:
		return 7
	case RoleUser:
		return 6
	case RoleGuest:
		return 5
	case RoleContributor:
		return 4
	case RoleStakeholder:
		return 3
	case RoleBasic:
		return 2
	case RoleCustomer:
		return 1
	}
	return 0
}

// Billable reports whether a role takes a licence (§6 rule 1; billing-model
// §1.2: atlassian/user and atlassian/admin, JSM agents, JPD creators).
func Billable(role string) bool { return role == RoleUser || role == RoleAdmin }

// RoleFromID maps an Organizations API role ID ("atlassian/user") to the
// engine's role name; ok is false for a role that is not a product role
// (platform roles such as atlassian/org-admin, or unknown IDs).
func RoleFromID(id string) (string, bool) {
	r, found := strings.CutPrefix(id, "atlassian/")
	if !found || roleRank(r) == 0 {
		return "", false
	}
	return r, true
}

// FromJiraApplicationKey maps a Jira application role key. They are the
// canonical keys, so this only checks the key is one of them.
func FromJiraApplicationKey(key string) (string, bool) {
	p, ok := LookupProduct(key)
	if !ok || !p.JiraApplication {
		return "", false
	}
	return p.Key, true
}

// FromOrgProductKey maps a product key of the Organizations API (users'
// productAccess[].key, v1 product_access[].key, a role assignment's
// resourceOwner) to a canonical key.
func FromOrgProductKey(key string) (string, bool) {
	if p, ok := LookupProduct(key); ok {
		return p.Key, true
	}
	if k, ok := documentedOrgKeys[key]; ok {
		return k, true
	}
	k, ok := unconfirmedOrgKeys[key]
	return k, ok
}

// documentedOrgKeys are Org API product keys that differ from the canonical
// ones and are documented (billing-model.md §7.3, v1 product enum).
var documentedOrgKeys = map[string]string{
	"jira-service-desk": JiraServiceManagement,
}

// FromARI maps a site product ARI ("ari:cloud:jira-software::site/<cloudId>",
// billing-model.md §7.5) to a canonical key by its resource owner segment.
func FromARI(ari string) (string, bool) {
	rest, ok := strings.CutPrefix(ari, "ari:cloud:")
	if !ok {
		return "", false
	}
	owner, _, ok := strings.Cut(rest, ":")
	if !ok {
		return "", false
	}
	return FromOrgProductKey(owner)
}

// FromCSVLabel maps the product label of an admin "Export users" column
// ("Last seen in <label> - <site>", gaps-2026-11.md §2.1).
func FromCSVLabel(label string) (string, bool) {
	k, ok := csvLabels[strings.ToLower(strings.TrimSpace(label))]
	return k, ok
}
