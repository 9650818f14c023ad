package sitesim

import (
	"fmt"
	"math/rand/v2"
)

// Default credentials of the simulated site's human admin (Basic auth).
const (
	DefaultAdminEmail = "admin@seatlens-sim.example"
	DefaultAdminToken = "sim-api-token-0123456789abcdef"
)

// Group IDs of the default scenario.
const (
	GroupSoftwareUsers = "6c1a0f5e-0001-4000-8000-000000000001"
	GroupAgents        = "6c1a0f5e-0002-4000-8000-000000000002"
	GroupDiscovery     = "6c1a0f5e-0003-4000-8000-000000000003"
	GroupJiraAdmins    = "6c1a0f5e-0004-4000-8000-000000000004"
	GroupSiteAdmins    = "6c1a0f5e-0005-4000-8000-000000000005"
	GroupEngineering   = "6c1a0f5e-0006-4000-8000-000000000006"
	GroupContractors   = "6c1a0f5e-0007-4000-8000-000000000007"
	GroupAllStaff      = "6c1a0f5e-0008-4000-8000-000000000008"
)

func defaultProducts() []Product {
	return []Product{
		{Key: JiraSoftware, Name: "Jira Software", Seats: 10, Plan: "PAID"},
		{Key: JiraServiceDesk, Name: "Jira Service Management", Seats: 3, Plan: "PAID"},
		{Key: JiraProductDisco, Name: "Jira Product Discovery", Seats: 5, Plan: "FREE"},
		{Key: JiraCore, Name: "Jira Work Management", Unlimited: true, Plan: "PAID"},
	}
}

func defaultGroups() []Group {
	return []Group{
		{ID: GroupSoftwareUsers, Name: "jira-software-users", Grants: []Grant{{JiraSoftware, RoleUser}}, DefaultFor: []string{JiraSoftware}},
		{ID: GroupAgents, Name: "jira-servicemanagement-users", Grants: []Grant{{JiraServiceDesk, RoleUser}}, DefaultFor: []string{JiraServiceDesk}},
		{ID: GroupDiscovery, Name: "jira-product-discovery-users", Grants: []Grant{{JiraProductDisco, RoleUser}}, DefaultFor: []string{JiraProductDisco}},
		{ID: GroupJiraAdmins, Name: "jira-administrators", Grants: []Grant{{JiraSoftware, RoleAdmin}, {JiraServiceDesk, RoleAdmin}}},
		{ID: GroupSiteAdmins, Name: "site-admins", SiteAdmin: true, Grants: []Grant{{JiraSoftware, RoleAdmin}}},
		{ID: GroupEngineering, Name: "engineering", Synced: true, Grants: []Grant{{JiraSoftware, RoleUser}}},
		{ID: GroupContractors, Name: "contractors", Grants: []Grant{{JiraSoftware, RoleUser}, {JiraProductDisco, RoleUser}}},
		{ID: GroupAllStaff, Name: "all-staff"},
	}
}

// DefaultScenario is the fixed tiny site: a few people, one of each kind
// the credential and membership rules must handle.
func DefaultScenario() Scenario {
	users := []User{
		{AccountID: "5b10a2844c20165700ede201", AccountType: AccountAtlassian, Active: true, DisplayName: "Alice Admin", Email: DefaultAdminEmail, TimeZone: "Europe/Berlin", Locale: "en_US"},
		{AccountID: "5b10a2844c20165700ede202", AccountType: AccountAtlassian, Active: true, DisplayName: "Bob Builder", Email: "bob@seatlens-sim.example", TimeZone: "Europe/London", Locale: "en_GB"},
		{AccountID: "5b10a2844c20165700ede203", AccountType: AccountAtlassian, Active: true, DisplayName: "Chen Wei 陈伟", Email: "chen@seatlens-sim.example", TimeZone: "Asia/Shanghai", Locale: "zh_CN"},
		{AccountID: "5b10a2844c20165700ede204", AccountType: AccountAtlassian, Active: true, DisplayName: "Dana Agent", Email: "dana@seatlens-sim.example", TimeZone: "America/New_York", Locale: "en_US"},
		{AccountID: "5b10a2844c20165700ede205", AccountType: AccountAtlassian, Active: true, DisplayName: "Émile Zoë Contractor", Email: "", TimeZone: "Europe/Paris", Locale: "fr_FR"},
		{AccountID: "5b10a2844c20165700ede206", AccountType: AccountAtlassian, Active: false, DisplayName: "Frank Former", Email: "frank@seatlens-sim.example", TimeZone: "Europe/Berlin", Locale: "de_DE"},
		{AccountID: "5b10a2844c20165700ede207", AccountType: AccountApp, AppType: "service", Active: true, DisplayName: "Automation for Jira", TimeZone: "UTC", Locale: "en_US"},
		{AccountID: "5b10a2844c20165700ede208", AccountType: AccountCustomer, Active: true, DisplayName: "Portal Customer", Email: "customer@example.org", TimeZone: "UTC", Locale: "en_US"},
		{AccountID: "5b10a2844c20165700ede209", AccountType: AccountAtlassian, Active: true, DisplayName: "Grace Product", Email: "grace@seatlens-sim.example", TimeZone: "Australia/Sydney", Locale: "en_AU"},
	}
	return Scenario{
		Products: defaultProducts(),
		Groups:   defaultGroups(),
		Users:    users,
		Members: map[string][]string{
			GroupSiteAdmins:    {"5b10a2844c20165700ede201"},
			GroupJiraAdmins:    {"5b10a2844c20165700ede201"},
			GroupSoftwareUsers: {"5b10a2844c20165700ede201", "5b10a2844c20165700ede202", "5b10a2844c20165700ede206", "5b10a2844c20165700ede207", "5b10a2844c20165700ede209"},
			GroupEngineering:   {"5b10a2844c20165700ede202", "5b10a2844c20165700ede203"},
			GroupAgents:        {"5b10a2844c20165700ede204"},
			GroupContractors:   {"5b10a2844c20165700ede205"},
			GroupDiscovery:     {"5b10a2844c20165700ede209"},
			GroupAllStaff:      {"5b10a2844c20165700ede201", "5b10a2844c20165700ede202", "5b10a2844c20165700ede204"},
		},
		AdminAccountID: "5b10a2844c20165700ede201",
	}
}

// SizedScenario is the default site grown to n users for load and paging
// tests: the extra people are spread over the product groups by a seeded
// generator, so the same seed gives the same site. (The realistic
// generator with every case of DESIGN.md §6 comes with the next part.)
func SizedScenario(n int, seed uint64) Scenario {
	sc := DefaultScenario()
	if n <= len(sc.Users) {
		return sc
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x5ea71e5))
	groups := []string{GroupSoftwareUsers, GroupAgents, GroupDiscovery, GroupEngineering, GroupContractors, GroupAllStaff}
	for i := len(sc.Users); i < n; i++ {
		id := fmt.Sprintf("712020:%08x-%04x-4%03x-8%03x-%012x", i, rng.Uint32()&0xffff, rng.Uint32()&0xfff, rng.Uint32()&0xfff, rng.Uint64()&0xffffffffffff)
		sc.Users = append(sc.Users, User{
			AccountID: id, AccountType: AccountAtlassian, Active: rng.IntN(20) != 0,
			DisplayName: fmt.Sprintf("User %05d", i), Email: fmt.Sprintf("user%05d@seatlens-sim.example", i),
			TimeZone: "UTC", Locale: "en_US",
		})
		for _, g := range groups {
			if rng.IntN(3) == 0 {
				sc.Members[g] = append(sc.Members[g], id)
			}
		}
	}
	// A sized site needs seats for its people.
	for i := range sc.Products {
		sc.Products[i].Seats = n
	}
	return sc
}
