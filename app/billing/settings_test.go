package billing_test

import (
	"strings"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/billing"
)

func TestParseSettings(t *testing.T) {
	s, err := billing.ParseSettings(strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.InactiveDays != 90 || s.ManualHolds == nil || s.SeatPrices == nil {
		t.Errorf("defaults not filled: %+v", s)
	}
	s, err = billing.ParseSettings(strings.NewReader(`{"inactiveDays":30,"manualHolds":[{"accountId":"a","products":["confluence"],"reason":"r","expires":"2027-01-31T12:00:00+02:00"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2027, 1, 31, 10, 0, 0, 0, time.UTC); !s.ManualHolds[0].Expires.Equal(want) {
		t.Errorf("expires = %v", s.ManualHolds[0].Expires)
	}
	for _, bad := range []struct{ in, msg string }{
		{`{"inactiveDays":0.5}`, "inactiveDays"},
		{`{"inactiveDays":-3}`, "between 1 and 3650"},
		{`{"inactiveDay":30}`, `unknown field "inactiveDay"`},
		{`{"manualHolds":[{"accountId":"","reason":"x"}]}`, "no accountId"},
		{`{"manualHolds":[{"accountId":"a","products":["jira"]}]}`, `unknown product "jira"`},
		{`{"manualHolds":[{"accountId":"a","expires":"next week"}]}`, "neither a date"},
		{`{"manualHolds":[{"accountId":"a","reasn":"x"}]}`, `unknown field "reasn"`},
		{`{"integrationUsers":[{"note":"x"}]}`, "integrationUsers[0] has no accountId"},
		{`{"seatPrices":{"jira-software":-1}}`, "must be a price"},
		{`{"seatPrices":{"bitbucket":3}}`, `unknown product "bitbucket"`},
		{`{} {}`, "more than one JSON value"},
		{`[`, "settings"},
	} {
		_, err := billing.ParseSettings(strings.NewReader(bad.in))
		if err == nil || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("%s: error %v, want one mentioning %q", bad.in, err, bad.msg)
		}
	}
}

func TestSnapshotValidate(t *testing.T) {
	base := func() *billing.Snapshot {
		return newSnap(true).group("g", bp(false), nil, g(jsw, billing.RoleUser)).person("a", in("g")).snap
	}
	for _, tc := range []struct {
		name   string
		mutate func(*billing.Snapshot)
		msg    string
	}{
		{"no scannedAt", func(s *billing.Snapshot) { s.ScannedAt = time.Time{} }, "no scannedAt"},
		{"unknown product key", func(s *billing.Snapshot) { s.Products[0].Key = "jira" }, "not a canonical product key"},
		{"duplicate product", func(s *billing.Snapshot) { s.Products[1].Key = jsw }, "listed twice"},
		{"unknown member group", func(s *billing.Snapshot) { s.Users[0].Groups = []string{"nope"} }, "unknown group"},
		{"duplicate user", func(s *billing.Snapshot) { s.Users = append(s.Users, s.Users[0]) }, "duplicated account id"},
		{"grant on unknown role", func(s *billing.Snapshot) { s.Groups[0].Grants[0].Role = "owner" }, "grants unknown"},
		{"bad role method", func(s *billing.Snapshot) {
			s.Users[0].Roles = []billing.RoleAssignment{{Product: jsw, Role: billing.RoleUser, Method: "group_direct"}}
		}, "unknown role assignment"},
		{"activity without date", func(s *billing.Snapshot) { s.Sources.Activity.AsOf = time.Time{} }, "no as-of date"},
	} {
		s := base()
		tc.mutate(s)
		if _, err := billing.Explain(s, billing.Settings{}); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.msg)
		}
	}
}

// TestProductMappings: one canonical key per product, whichever API named
// it.
func TestProductMappings(t *testing.T) {
	for _, tc := range []struct {
		fn   func(string) (string, bool)
		in   string
		want string
	}{
		{billing.FromJiraApplicationKey, "jira-servicedesk", jsm},
		{billing.FromJiraApplicationKey, "confluence", ""},
		{billing.FromOrgProductKey, "jira-service-desk", jsm},
		{billing.FromOrgProductKey, "jira", jsw}, // unconfirmed
		{billing.FromOrgProductKey, "confluence", conf},
		{billing.FromOrgProductKey, "trello", ""},
		{billing.FromARI, "ari:cloud:jira-software::site/123", jsw},
		{billing.FromARI, "ari:cloud:confluence::site/abc-def", conf},
		{billing.FromARI, "ari:cloud:platform::org/1", ""},
		{billing.FromARI, "jira-software", ""},
		{billing.FromCSVLabel, "Jira", jsw},
		{billing.FromCSVLabel, "Jira Software", jsw},
		{billing.FromCSVLabel, " jira service management ", jsm},
		{billing.FromCSVLabel, "Jira Product Discovery", jpd},
		{billing.FromCSVLabel, "Confluence", conf},
		{billing.FromCSVLabel, "Atlas", ""},
	} {
		got, ok := tc.fn(tc.in)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%q → %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
	for _, id := range []struct{ in, want string }{{"atlassian/user", "user"}, {"atlassian/admin", "admin"}, {"atlassian/guest", "guest"}, {"atlassian/org-admin", ""}, {"user", ""}} {
		got, ok := billing.RoleFromID(id.in)
		if got != id.want || ok != (id.want != "") {
			t.Errorf("RoleFromID(%q) = %q, %v", id.in, got, ok)
		}
	}
}

func TestSiteFindingsAndTotals(t *testing.T) {
	org, keyless := fixtureFindings(t)
	count := func(f *billing.Findings, code string) (n int, sum int) {
		for _, sf := range f.SiteFindings {
			if sf.Code == code {
				n++
				sum += sf.Count
			}
		}
		return
	}
	if n, c := count(org, billing.FindingDefaultGrantsOtherProduct); n != 1 || c != 7 {
		t.Errorf("default group granting Confluence: %d findings, count %d; want 1, 7 (Bob, Chen, Olivia, Quinn, Sam, Backup, Alice)", n, c)
	}
	if n, _ := count(keyless, billing.FindingDefaultGrantsOtherProduct); n != 0 {
		t.Error("without an org key Confluence is invisible, so the default group grants nothing else")
	}
	if n, c := count(org, billing.FindingSyncedAccessGroup); n != 1 || c != 2 {
		t.Errorf("synced access group: %d, count %d; want engineering with Liam and Maya", n, c)
	}
	if n, _ := count(org, billing.FindingMissingOrgData); n != 0 {
		t.Error("missing-org-data with an org key")
	}
	if n, c := count(keyless, billing.FindingMissingOrgData); n != 1 || c != keyless.Totals.LikelyRemovable {
		t.Errorf("missing-org-data: %d, count %d", n, c)
	}
	tot := org.Totals
	if tot.Seats != 53 || tot.NotBillable != 12 || tot.Hold != 20 || tot.Review != 11 || tot.Removable != 10 || tot.MonthlySaving != 119.9 {
		t.Errorf("org totals %+v (the fixture notes count 53 seats: 12 not-billable, 20 hold, 11 review, 10 removable)", tot)
	}
	var jsm billing.ProductFindings
	for _, p := range org.Products {
		if p.Key == billing.JiraServiceManagement {
			jsm = p
		}
	}
	if jsm.Removable != 3 || jsm.MonthlySaving != 63.15 || len(jsm.DefaultGroups) != 1 {
		t.Errorf("JSM: %+v", jsm)
	}
}
