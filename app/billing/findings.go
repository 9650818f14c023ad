package billing

import "time"

// SchemaVersion is the version of the Findings JSON. It changes only when
// a field changes meaning or goes away; new fields do not bump it.
const SchemaVersion = 1

// Findings is the versioned document of DESIGN.md §6: what `seatlens scan
// --format json` prints and what the app stores per scan.
type Findings struct {
	SchemaVersion int       `json:"schemaVersion"`
	Site          SiteInfo  `json:"site"`
	ScannedAt     time.Time `json:"scannedAt"`
	Settings      Settings  `json:"settings"`
	Credentials   []string  `json:"credentials"`
	Sources       Sources   `json:"sources"`

	Products     []ProductFindings `json:"products"`
	Groups       []GroupFindings   `json:"groups"`
	Users        []UserFindings    `json:"users"`
	SiteFindings []SiteFinding     `json:"siteFindings"`
	Totals       Totals            `json:"totals"`
}

// ProductFindings sums one product.
type ProductFindings struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	// Seats counts every seat on the product, billable or not; Billable
	// the ones that take a licence.
	Seats       int    `json:"seats"`
	Billable    int    `json:"billable"`
	Removable   int    `json:"removable"`
	Review      int    `json:"review"`
	Hold        int    `json:"hold"`
	NotBillable int    `json:"notBillable"`
	Limit       *int   `json:"limit,omitempty"`
	Plan        string `json:"plan,omitempty"`
	// DefaultGroups and AccessGroups are group IDs: the product's default
	// groups, and every group granting a licensed role on it.
	DefaultGroups []string `json:"defaultGroups"`
	AccessGroups  []string `json:"accessGroups"`
	// SeatPrice is the monthly price from Settings; nil when not given.
	SeatPrice     *float64 `json:"seatPrice,omitempty"`
	MonthlySaving float64  `json:"monthlySaving"`
}

// GroupFindings describes one group.
type GroupFindings struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	DirectoryID string   `json:"directoryId,omitempty"`
	Grants      []Grant  `json:"grants"`
	DefaultFor  []string `json:"defaultFor"`
	AdminFor    []string `json:"adminFor"`
	SiteAdmin   bool     `json:"siteAdmin,omitempty"`
	Synced      *bool    `json:"synced"`
	MemberCount int      `json:"memberCount"`
}

// Account classes (DESIGN.md §1): what kind of account this is, for
// filtering; the seat reasons carry the consequences.
const (
	ClassServiceAccount  = "service-account"
	ClassAppAccount      = "app-account"
	ClassCustomer        = "customer"
	ClassIntegrationUser = "integration-user"
	ClassGuest           = "guest"
	ClassUnmanaged       = "unmanaged"
	ClassManaged         = "managed"
	ClassUnknown         = "unknown" // a person whose claim status is not known (no org key)
)

// UserFindings is one account with its seats.
type UserFindings struct {
	AccountID     string   `json:"accountId"`
	DisplayName   string   `json:"displayName"`
	Email         string   `json:"email,omitempty"`
	AccountType   string   `json:"accountType"`
	Class         string   `json:"class"`
	Status        string   `json:"status,omitempty"`
	ClaimStatus   string   `json:"claimStatus,omitempty"`
	PlatformRoles []string `json:"platformRoles,omitempty"`
	Seats         []Seat   `json:"seats"`
	// RefreshedAt is when a targeted rescan last read this account again
	// (Refresh); nil while the scan's own reading stands.
	RefreshedAt *time.Time `json:"refreshedAt,omitempty"`
}

// Seat is one user × product.
type Seat struct {
	Product string `json:"product"`
	// Role is the highest role held on the product.
	Role     string `json:"role"`
	Billable bool   `json:"billable"`
	Paths    []Path `json:"paths"`
	// LastActive is the last activity on the product, nil when none is
	// known; the activity source and its as-of date are in Sources.
	LastActive *time.Time `json:"lastActive"`
	Verdict    string     `json:"verdict"`
	Reasons    []Reason   `json:"reasons"`
	Warnings   []Warning  `json:"warnings"`
	// Plan is the executable plan: the groups to leave so the seat goes.
	// Empty when none can be executed (direct, inferred, synced) and for
	// seats that are not billable.
	Plan []PlanItem `json:"plan"`
	// Collateral lists the other products the user holds only through the
	// plan's groups: removing the plan removes them too.
	Collateral []string `json:"collateral"`
}

// Path kinds.
const (
	ViaGroup    = "group"
	ViaDirect   = "direct"
	ViaInferred = "inferred"
)

// Path is one way the user holds a role on the product.
type Path struct {
	Via       string `json:"via"`
	Role      string `json:"role"`
	GroupID   string `json:"groupId,omitempty"`
	GroupName string `json:"groupName,omitempty"`
	// Default: the group is a default group of some product. Synced: true,
	// false or null (unknown).
	Default bool  `json:"default,omitempty"`
	Synced  *bool `json:"synced,omitempty"`
}

// PlanItem is one group membership to remove.
type PlanItem struct {
	GroupID     string `json:"groupId"`
	GroupName   string `json:"groupName"`
	DirectoryID string `json:"directoryId,omitempty"`
	// Default warns that re-granting the product puts the user back.
	Default bool `json:"default"`
	// AlsoFrees are the collateral products this group also takes away.
	AlsoFrees []string `json:"alsoFrees"`
}

// Reason explains part of a verdict, in words.
type Reason struct {
	Code     string `json:"code"`
	Category string `json:"category"`
	Scope    string `json:"scope"`
	Message  string `json:"message"`
}

// Warning is something the admin should know that does not change the
// verdict.
type Warning struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// SiteFinding is a finding about the site rather than a seat.
type SiteFinding struct {
	Code      string   `json:"code"`
	Message   string   `json:"message"`
	GroupID   string   `json:"groupId,omitempty"`
	GroupName string   `json:"groupName,omitempty"`
	Product   string   `json:"product,omitempty"`
	Products  []string `json:"products,omitempty"`
	// Count is the finding's number: seats affected, seats used, …
	Count int `json:"count,omitempty"`
	// Limit is the licence limit of a seats-vs-limit finding.
	Limit *int `json:"limit,omitempty"`
	// Amount is a monthly amount in the currency of the seat prices.
	Amount *float64 `json:"amount,omitempty"`
}

// Totals sums the whole site.
type Totals struct {
	Users         int `json:"users"`
	Seats         int `json:"seats"`
	BillableSeats int `json:"billableSeats"`
	Removable     int `json:"removable"`
	Review        int `json:"review"`
	Hold          int `json:"hold"`
	NotBillable   int `json:"notBillable"`
	// LikelyRemovable counts review seats whose only review reason is
	// needs-org-data: removable once an org key confirms it.
	LikelyRemovable int `json:"likelyRemovable"`
	// MonthlySaving prices the removable seats; LikelyMonthlySaving the
	// likely removable ones. Seats of unpriced products count as 0.
	MonthlySaving       float64 `json:"monthlySaving"`
	LikelyMonthlySaving float64 `json:"likelyMonthlySaving"`
}
