package billing_test

import (
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/billing"
)

// A small builder for hand-made snapshots: each rule test states only
// what its case is about.

var scanAt = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

func daysAgo(n int) time.Time { return scanAt.Add(-time.Duration(n) * 24 * time.Hour) }

func tp(t time.Time) *time.Time { return &t }

func bp(b bool) *bool { return &b }

type snapBuilder struct{ snap *billing.Snapshot }

// newSnap starts a site with the four products; org selects a scan with
// an org key (Org API activity) or without (no activity source).
func newSnap(org bool) *snapBuilder {
	s := &billing.Snapshot{ScannedAt: scanAt, Site: billing.SiteInfo{URL: "https://example.atlassian.net"}}
	for _, k := range []string{billing.JiraSoftware, billing.JiraServiceManagement, billing.JiraProductDiscovery, billing.Confluence} {
		p, _ := billing.LookupProduct(k)
		s.Products = append(s.Products, billing.Product{Key: k, Name: p.Name})
	}
	s.Sources.DefaultGroups = true
	if org {
		s.Sources.OrgAPI = true
		s.Sources.Credentials = []string{billing.CredentialAPIToken, billing.CredentialOrgKey}
		s.Sources.Activity = &billing.ActivitySource{Kind: billing.ActivityOrgAPI, AsOf: scanAt}
	} else {
		s.Sources.Credentials = []string{billing.CredentialAPIToken}
	}
	return &snapBuilder{s}
}

func (b *snapBuilder) group(id string, synced *bool, defaultFor []string, grants ...billing.Grant) *snapBuilder {
	b.snap.Groups = append(b.snap.Groups, billing.Group{ID: id, Name: id, Grants: grants, DefaultFor: defaultFor, Synced: synced})
	return b
}

func g(product, role string) billing.Grant { return billing.Grant{Product: product, Role: role} }

// person is an active managed atlassian account the Org API covers, added
// long ago, with no activity unless a modifier gives some.
func (b *snapBuilder) person(id string, mods ...func(*billing.User)) *snapBuilder {
	u := billing.User{AccountID: id, DisplayName: "Person " + id, Email: id + "@example.com", AccountType: billing.AccountAtlassian, Active: true}
	if b.snap.Sources.OrgAPI {
		u.Status, u.ClaimStatus, u.RolesKnown, u.ActivityCovered = billing.StatusActive, "managed", true, true
		u.AddedToOrg = tp(daysAgo(400))
	}
	for _, m := range mods {
		m(&u)
	}
	b.snap.Users = append(b.snap.Users, u)
	return b
}

func in(groups ...string) func(*billing.User) {
	return func(u *billing.User) { u.Groups = append(u.Groups, groups...) }
}

func active(product string, ago int) func(*billing.User) {
	return func(u *billing.User) {
		if u.LastActive == nil {
			u.LastActive = map[string]time.Time{}
		}
		u.LastActive[product] = daysAgo(ago)
	}
}

func role(product, r, method string) func(*billing.User) {
	return func(u *billing.User) {
		u.Roles = append(u.Roles, billing.RoleAssignment{Product: product, Role: r, Method: method})
	}
}

func explain(t *testing.T, snap *billing.Snapshot, settings billing.Settings) (*billing.Findings, map[[2]string]billing.Seat) {
	t.Helper()
	f, err := billing.Explain(snap, settings)
	if err != nil {
		t.Fatal(err)
	}
	seats := map[[2]string]billing.Seat{}
	for _, u := range f.Users {
		for _, s := range u.Seats {
			seats[[2]string{u.AccountID, s.Product}] = s
		}
	}
	return f, seats
}

// seatOf returns one seat, failing when it does not exist.
func seatOf(t *testing.T, seats map[[2]string]billing.Seat, account, product string) billing.Seat {
	t.Helper()
	s, ok := seats[[2]string{account, product}]
	if !ok {
		t.Fatalf("%s has no seat on %s", account, product)
	}
	return s
}

func planNames(s billing.Seat) []string {
	out := []string{}
	for _, p := range s.Plan {
		out = append(out, p.GroupName)
	}
	return out
}
