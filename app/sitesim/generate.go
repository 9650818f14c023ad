package sitesim

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// generateEpoch is the "now" of generated scenarios: activity and invite
// dates are placed relative to it, so a scan at this instant sees the
// documented proportions (DESIGN.md §6 measures activity from scannedAt).
var generateEpoch = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

// Generated-site group IDs (beyond the default scenario's).
const (
	GroupConfluenceUsers = "6c1a0f5e-0010-4000-8000-000000000010"
	GroupWorkMgmt        = "6c1a0f5e-0011-4000-8000-000000000011" // default for Jira Work Management that also grants Confluence
	GroupJPDContributors = "6c1a0f5e-0012-4000-8000-000000000012"
	GroupPlatformSynced  = "6c1a0f5e-0013-4000-8000-000000000013" // synced group that grants Confluence
)

// proportions of a generated site, as fractions of all users. A test
// asserts them for two seeds and two sizes; the generator never consults
// the explanation engine — it only places people in groups and roles.
var proportions = struct {
	AppAccounts, ServiceAccounts, Customers                           float64
	Suspended, Deactivated, Unmanaged, OrgAdmins, IntegrationNamed    float64
	SoftwareDefault, SoftwareSyncedOnly, SoftwareSyncedAndDefault     float64
	Contractors, Agents, JPDCreators, JPDContributors                 float64
	ConfluenceDefault, ConfluenceGuests, WorkMgmt, JiraAdmins, Direct float64
	Inferred                                                          float64
	RecentlyActive, Inactive, NeverAccessed, NewInvites               float64
	UnicodeNames, LongNames, HTMLNames                                float64
}{
	AppAccounts: 0.01, ServiceAccounts: 0.005, Customers: 0.08,
	Suspended: 0.01, Deactivated: 0.02, Unmanaged: 0.05, OrgAdmins: 0.003, IntegrationNamed: 0.01,
	SoftwareDefault: 0.45, SoftwareSyncedOnly: 0.08, SoftwareSyncedAndDefault: 0.07,
	Contractors: 0.04, Agents: 0.05, JPDCreators: 0.04, JPDContributors: 0.08,
	ConfluenceDefault: 0.40, ConfluenceGuests: 0.03, WorkMgmt: 0.05, JiraAdmins: 0.01, Direct: 0.02, Inferred: 0.005,
	RecentlyActive: 0.55, Inactive: 0.25, NeverAccessed: 0.10, NewInvites: 0.05,
	UnicodeNames: 0.02, LongNames: 0.005, HTMLNames: 0.005,
}

var (
	givenNames   = []string{"Ada", "Ben", "Carla", "Deepak", "Eva", "Femi", "Gustav", "Hana", "Ivan", "Julia", "Kenji", "Lena", "Marco", "Nia", "Omar", "Priya"}
	familyNames  = []string{"Smith", "Okafor", "Müller", "Tanaka", "García", "Nguyen", "Kowalski", "Haddad", "Larsen", "Rossi"}
	unicodeNames = []string{"Zoë Ångström", "Łukasz Żółć", "李小龙", "Ñandú Peña", "Šárka Dvořáková", "Ἀριστοτέλης"}
	htmlNames    = []string{`<script>alert("x")</script>`, `Bobby "Tables" ';--`, `<img src=x onerror=alert(1)>`, `Tom & Jerry <b>Co</b>`}
	integNames   = []string{"jira-bot", "svc-deploy", "integration-sync", "automation-runner", "api-reporting"}
)

// Generate builds a seeded site of n users with every case of DESIGN.md §6
// in the proportions above: per-product default groups, a default group
// that also grants a second product, admin groups, synced groups (some
// people reach a product only through one, some through a synced and an
// ordinary group), direct and inferred (org-admin) roles, service and app
// accounts, JSM customers and agents, Confluence guests, JPD contributors
// and creators, unmanaged accounts, integration-like names, suspended and
// deactivated accounts, and every activity shape. Same n and seed, same site.
func Generate(n int, seed uint64) Scenario {
	rng := rand.New(rand.NewPCG(seed, seed^0x5ea71e5))
	sc := DefaultScenario()
	sc.Products = append(sc.Products, Product{Key: Confluence, Name: "Confluence", Seats: n, Plan: "PAID"})
	for i := range sc.Products {
		if !sc.Products[i].Unlimited {
			sc.Products[i].Seats = max(n, sc.Products[i].Seats)
		}
	}
	sc.Groups = append(sc.Groups,
		Group{ID: GroupConfluenceUsers, Name: "confluence-users", Grants: []Grant{{Confluence, RoleUser}}, DefaultFor: []string{Confluence}},
		Group{ID: GroupWorkMgmt, Name: "jira-work-management-users", Grants: []Grant{{JiraCore, RoleUser}, {Confluence, RoleUser}}, DefaultFor: []string{JiraCore}},
		Group{ID: GroupJPDContributors, Name: "jpd-contributors", Grants: []Grant{{JiraProductDisco, RoleContributor}}},
		Group{ID: GroupPlatformSynced, Name: "okta-platform-team", Synced: true, Grants: []Grant{{Confluence, RoleUser}}},
	)
	p := proportions
	add := func(g, id string) { sc.Members[g] = append(sc.Members[g], id) }
	for i := len(sc.Users); i < n; i++ {
		id := fmt.Sprintf("712020:%08x-%04x-4%03x-8%03x-%012x", i, rng.Uint32()&0xffff, rng.Uint32()&0xfff, rng.Uint32()&0xfff, rng.Uint64()&0xffffffffffff)
		u := User{AccountID: id, AccountType: AccountAtlassian, Active: true, Status: "active", ClaimStatus: "managed",
			ManagementSource: "invited", TimeZone: "UTC", Locale: "en_US"}
		given, family := givenNames[rng.IntN(len(givenNames))], familyNames[rng.IntN(len(familyNames))]
		u.DisplayName = given + " " + family
		local := strings.ToLower(given) + "." + strings.ToLower(strings.NewReplacer("ü", "ue", "í", "i").Replace(family)) + fmt.Sprint(i)
		domain := "seatlens-sim.example"
		switch x := rng.Float64(); {
		case x < p.UnicodeNames:
			u.DisplayName = unicodeNames[rng.IntN(len(unicodeNames))] + fmt.Sprint(" ", i)
		case x < p.UnicodeNames+p.LongNames:
			u.DisplayName = strings.Repeat("Bartholomew-Maximilian ", 12) + fmt.Sprint(i)
		case x < p.UnicodeNames+p.LongNames+p.HTMLNames:
			u.DisplayName = htmlNames[rng.IntN(len(htmlNames))]
		}
		// Account kind.
		switch x := rng.Float64(); {
		case x < p.AppAccounts:
			u.AccountType, u.DisplayName, local, domain = AccountApp, "App "+u.DisplayName, "app"+fmt.Sprint(i), "connect.atlassian.com"
		case x < p.AppAccounts+p.ServiceAccounts:
			u.AccountType, u.AppType, u.DisplayName, local = AccountApp, "service", "Service account "+fmt.Sprint(i), "svc-"+fmt.Sprint(i)
		case x < p.AppAccounts+p.ServiceAccounts+p.Customers:
			u.AccountType, domain = AccountCustomer, "customer.example.org"
			u.DirectRoles = []Grant{{JiraServiceDesk, RoleCustomer}}
		case x < p.AppAccounts+p.ServiceAccounts+p.Customers+p.IntegrationNamed:
			n := integNames[rng.IntN(len(integNames))]
			u.DisplayName, local = n+fmt.Sprint(" ", i), n+fmt.Sprint(i)
		}
		u.Email = local + "@" + domain
		switch x := rng.Float64(); {
		case x < p.Suspended:
			u.Status, u.Active = "suspended", false // Jira shows a suspended account as inactive
		case x < p.Suspended+p.Deactivated:
			u.Status, u.Active = "deactivated", false
		}
		if rng.Float64() < p.Unmanaged {
			u.ClaimStatus, u.Email = "unmanaged", local+"@gmail.example"
		}
		if rng.Float64() < p.OrgAdmins {
			u.PlatformRoles = []string{"org-admin"}
		}
		if u.AccountType != AccountCustomer {
			placeGroups(rng, &u, add)
		}
		placeActivity(rng, &u)
		sc.Users = append(sc.Users, u)
	}
	return sc
}

// placeGroups gives a person product access by the documented shares.
func placeGroups(rng *rand.Rand, u *User, add func(group, id string)) {
	p := proportions
	id := u.AccountID
	switch x := rng.Float64(); {
	case x < p.SoftwareDefault:
		add(GroupSoftwareUsers, id)
	case x < p.SoftwareDefault+p.SoftwareSyncedOnly:
		add(GroupEngineering, id)
		u.ManagementSource = "synced"
	case x < p.SoftwareDefault+p.SoftwareSyncedOnly+p.SoftwareSyncedAndDefault:
		add(GroupEngineering, id)
		add(GroupSoftwareUsers, id)
		u.ManagementSource = "synced"
	case x < p.SoftwareDefault+p.SoftwareSyncedOnly+p.SoftwareSyncedAndDefault+p.Contractors:
		add(GroupContractors, id)
	}
	if rng.Float64() < p.Agents {
		add(GroupAgents, id)
	}
	switch x := rng.Float64(); {
	case x < p.JPDCreators:
		add(GroupDiscovery, id)
	case x < p.JPDCreators+p.JPDContributors:
		add(GroupJPDContributors, id)
	}
	switch x := rng.Float64(); {
	case x < p.ConfluenceDefault:
		add(GroupConfluenceUsers, id)
		if u.ManagementSource == "synced" && rng.IntN(2) == 0 {
			add(GroupPlatformSynced, id)
		}
	case x < p.ConfluenceDefault+p.ConfluenceGuests:
		u.DirectRoles = append(u.DirectRoles, Grant{Confluence, RoleGuest})
	}
	if rng.Float64() < p.WorkMgmt {
		add(GroupWorkMgmt, id)
	}
	if rng.Float64() < p.JiraAdmins {
		add(GroupJiraAdmins, id)
	}
	if rng.Float64() < p.Direct {
		// A direct role, sometimes on top of the same role through a group.
		u.DirectRoles = append(u.DirectRoles, Grant{JiraSoftware, RoleUser})
	}
	if rng.Float64() < p.Inferred {
		u.InferredRoles = append(u.InferredRoles, Grant{JiraProductDisco, RoleUser})
	}
}

// placeActivity sets addedToOrg and last activity per product.
func placeActivity(rng *rand.Rand, u *User) {
	p := proportions
	days := func(lo, hi int) time.Time {
		return generateEpoch.Add(-time.Duration(lo+rng.IntN(hi-lo+1)) * 24 * time.Hour).Add(-time.Duration(rng.IntN(86400)) * time.Second)
	}
	added := days(120, 1500)
	products := []string{JiraSoftware, JiraServiceDesk, JiraProductDisco, JiraCore, Confluence}
	switch x := rng.Float64(); {
	case x < p.RecentlyActive:
		u.LastActive = map[string]time.Time{}
		for _, prod := range products {
			if rng.IntN(2) == 0 || prod == JiraSoftware {
				u.LastActive[prod] = days(0, 60)
			}
		}
	case x < p.RecentlyActive+p.Inactive:
		u.LastActive = map[string]time.Time{JiraSoftware: days(100, 700), Confluence: days(95, 900)}
	case x < p.RecentlyActive+p.Inactive+p.NeverAccessed:
		// no activity at all, added long ago
	case x < p.RecentlyActive+p.Inactive+p.NeverAccessed+p.NewInvites:
		added = days(0, 60)
	default:
		// no addedToOrg known and no activity: "no-activity-data"
		return
	}
	u.AddedToOrg = &added
}
