package sitesim

// The hand-written oracle of DESIGN.md §6 (testdata/fixture, decisions in
// its NOTES.md). These tests check that the fixture is complete and
// consistent with itself and with site.json; they do not compute verdicts.

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const fixtureDir = "testdata/fixture"

type fixtureSeat struct {
	AccountID  string   `json:"accountId"`
	User       string   `json:"user"`
	Product    string   `json:"product"`
	Role       string   `json:"role"`
	Billable   bool     `json:"billable"`
	Verdict    string   `json:"verdict"`
	Reasons    []string `json:"reasons"`
	Warnings   []string `json:"warnings"`
	Plan       []string `json:"plan"`
	Collateral []string `json:"collateral"`
	Rule       string   `json:"rule"`
	Note       string   `json:"note"`
}

type fixtureExpected struct {
	ScannedAt string `json:"scannedAt"`
	Settings  struct {
		InactiveDays int `json:"inactiveDays"`
		ManualHolds  []struct {
			AccountID string   `json:"accountId"`
			Products  []string `json:"products"`
			Reason    string   `json:"reason"`
			Expires   string   `json:"expires,omitempty"`
		} `json:"manualHolds"`
		IntegrationUsers []struct {
			AccountID string `json:"accountId"`
			Note      string `json:"note"`
		} `json:"integrationUsers"`
		SeatPrices map[string]float64 `json:"seatPrices"`
	} `json:"settings"`
	// The activity source of the keyless view: the admin "Export users" CSV.
	WithoutOrgDataActivity struct {
		Source     string `json:"source"`
		File       string `json:"file"`
		ExportDate string `json:"exportDate"`
	} `json:"withoutOrgDataActivity"`
	WithOrgData    []fixtureSeat `json:"withOrgData"`
	WithoutOrgData []fixtureSeat `json:"withoutOrgData"`
}

// Reason codes of §6 in the fixture's canonical order (NOTES.md): by
// category not-billable > hold > review > removable, and within a category
// by the rule that produces them, then by §6's own listing.
var fixtureReasons = []struct{ code, category string }{
	{"service-account", "not-billable"}, {"app-account", "not-billable"}, {"customer", "not-billable"},
	{"suspended", "not-billable"}, {"deactivated", "not-billable"}, {"guest", "not-billable"},
	{"non-billable-role", "not-billable"},
	{"recently-active", "hold"}, {"new-account", "hold"}, {"platform-admin", "hold"}, {"product-admin", "hold"},
	{"integration-user", "hold"}, {"manual-hold", "hold"},
	{"no-activity-data", "review"}, {"direct-role", "review"}, {"inferred-role", "review"}, {"synced-group", "review"},
	{"shared-group-collateral", "review"}, {"possible-integration-user", "review"}, {"needs-org-data", "review"},
	{"inactive", "removable"}, {"never-accessed", "removable"},
}

// Warnings of §6 in the fixture's order.
var fixtureWarnings = []string{"unmanaged-account", "default-group-regrant", "sync-status-unknown"}

// fixtureUnreachable lists codes the scenario model cannot produce (NOTES.md):
// the only inferred roles it has come from org-admin, and §6 rule 3 explains
// those by platform-admin, never inferred-role.
var fixtureUnreachable = map[string]bool{}

var categoryRank = map[string]int{"not-billable": 3, "hold": 2, "review": 1, "removable": 0}

var activityReasons = map[string]bool{"inactive": true, "never-accessed": true, "recently-active": true, "new-account": true, "no-activity-data": true}

func loadFixture(t *testing.T) (Scenario, fixtureExpected) {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtureDir, "site.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc, err := LoadScenario(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(fixtureDir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp fixtureExpected
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&exp); err != nil {
		t.Fatalf("expected.json: %v", err)
	}
	return sc, exp
}

func roleRank(r string) int {
	switch r {
	case RoleAdmin:
		return 2
	case RoleUser:
		return 1
	}
	return 0
}

// fixtureSeats is the seat definition of §6 (user × product on which the
// user holds any role), as the fixture lists it: grants of the user's groups,
// direct roles, and for org-admins an inferred admin role on every product.
// jiraOnly gives the keyless collector's view: Jira products reached through
// a group granting a licensed role (what group/bulk?accessType=user|admin and
// group/member show). The value is the highest role held.
func fixtureSeats(sc Scenario, jiraOnly bool) map[[2]string]string {
	out := map[[2]string]string{}
	add := func(id, p, r string) {
		k := [2]string{id, p}
		if old, ok := out[k]; !ok || roleRank(r) > roleRank(old) {
			out[k] = r
		}
	}
	groups := map[string]Group{}
	for _, g := range sc.Groups {
		groups[g.ID] = g
	}
	for gid, ids := range sc.Members {
		for _, id := range ids {
			for _, gr := range groups[gid].Grants {
				if jiraOnly && (!jiraProduct(gr.Product) || !licensedRole(gr.Role)) {
					continue
				}
				add(id, gr.Product, gr.Role)
			}
		}
	}
	if jiraOnly {
		return out
	}
	for _, u := range sc.Users {
		for _, gr := range slices.Concat(u.DirectRoles, u.InferredRoles) {
			add(u.AccountID, gr.Product, gr.Role)
		}
		if slices.Contains(u.PlatformRoles, "org-admin") {
			for _, p := range sc.Products {
				add(u.AccountID, p.Key, RoleAdmin)
			}
		}
	}
	return out
}

func TestFixtureSiteAndSettings(t *testing.T) {
	sc, exp := loadFixture(t)
	if len(sc.Users) < 28 {
		t.Errorf("fixture has %d users, want at least 28", len(sc.Users))
	}
	if exp.ScannedAt != "2026-11-26T00:00:00Z" || exp.Settings.InactiveDays != 90 {
		t.Errorf("scannedAt %q inactiveDays %d", exp.ScannedAt, exp.Settings.InactiveDays)
	}
	users := map[string]User{}
	for _, u := range sc.Users {
		users[u.AccountID] = u
	}
	for _, h := range exp.Settings.ManualHolds {
		if _, ok := users[h.AccountID]; !ok || h.Reason == "" {
			t.Errorf("manual hold %+v: unknown account or no reason", h)
		}
	}
	for _, iu := range exp.Settings.IntegrationUsers {
		if _, ok := users[iu.AccountID]; !ok {
			t.Errorf("integration user %s unknown", iu.AccountID)
		}
	}
	for _, p := range sc.Products {
		if exp.Settings.SeatPrices[p.Key] <= 0 {
			t.Errorf("no seat price for %s", p.Key)
		}
	}
	// The keyless activity source: the admin CSV with one row per
	// Atlassian account.
	a := exp.WithoutOrgDataActivity
	if a.Source != "admin-csv" || a.ExportDate == "" {
		t.Errorf("withoutOrgDataActivity %+v", a)
	}
	raw, err := os.ReadFile(filepath.Join(fixtureDir, a.File))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 || rows[0][0] != "User id" || !strings.HasPrefix(rows[0][len(rows[0])-1], "Last seen in ") {
		t.Fatalf("activity.csv header %v", rows[0])
	}
	inCSV := map[string]bool{}
	for _, r := range rows[1:] {
		inCSV[r[0]] = true
	}
	for _, u := range sc.Users {
		if inCSV[u.AccountID] != (u.AccountType == AccountAtlassian) {
			t.Errorf("activity.csv: %s (%s) present=%v", u.AccountID, u.AccountType, inCSV[u.AccountID])
		}
	}
}

func TestFixtureSeatsComplete(t *testing.T) {
	sc, exp := loadFixture(t)
	for _, view := range []struct {
		name     string
		seats    []fixtureSeat
		jiraOnly bool
	}{{"withOrgData", exp.WithOrgData, false}, {"withoutOrgData", exp.WithoutOrgData, true}} {
		want := fixtureSeats(sc, view.jiraOnly)
		got := map[[2]string]bool{}
		for _, s := range view.seats {
			k := [2]string{s.AccountID, s.Product}
			if got[k] {
				t.Errorf("%s: seat %v listed twice", view.name, k)
			}
			got[k] = true
			role, ok := want[k]
			if !ok {
				t.Errorf("%s: seat %v is not a seat of site.json", view.name, k)
				continue
			}
			if s.Role != role {
				t.Errorf("%s: seat %v role %q, want the highest held, %q", view.name, k, s.Role, role)
			}
		}
		for k := range want {
			if !got[k] {
				t.Errorf("%s: seat %v (role %s) missing", view.name, k, want[k])
			}
		}
		if view.jiraOnly {
			for _, s := range view.seats {
				if s.Product == Confluence {
					t.Errorf("%s: Confluence seat of %s is invisible without an org key", view.name, s.AccountID)
				}
			}
		}
	}
}

func TestFixtureEveryCodeOccurs(t *testing.T) {
	_, exp := loadFixture(t)
	seen := map[string]bool{}
	for _, s := range append(slices.Clone(exp.WithOrgData), exp.WithoutOrgData...) {
		for _, r := range s.Reasons {
			seen[r] = true
		}
		for _, w := range s.Warnings {
			seen[w] = true
		}
	}
	for _, r := range fixtureReasons {
		if seen[r.code] == fixtureUnreachable[r.code] {
			t.Errorf("reason %s: occurs=%v, unreachable=%v", r.code, seen[r.code], fixtureUnreachable[r.code])
		}
	}
	for _, w := range fixtureWarnings {
		if !seen[w] {
			t.Errorf("warning %s never occurs", w)
		}
	}
}

func TestFixtureVerdictsConsistent(t *testing.T) {
	sc, exp := loadFixture(t)
	category, order := map[string]string{}, map[string]int{}
	for i, r := range fixtureReasons {
		category[r.code], order[r.code] = r.category, i
	}
	worder := map[string]int{}
	for i, w := range fixtureWarnings {
		worder[w] = i
	}
	groups := map[string]Group{}
	for _, g := range sc.Groups {
		groups[g.Name] = g
	}
	members := map[string]map[string]bool{}
	for gid, ids := range sc.Members {
		members[gid] = map[string]bool{}
		for _, id := range ids {
			members[gid][id] = true
		}
	}
	users := map[string]User{}
	for _, u := range sc.Users {
		users[u.AccountID] = u
	}
	for _, view := range []struct {
		name  string
		seats []fixtureSeat
		key   bool
	}{{"withOrgData", exp.WithOrgData, true}, {"withoutOrgData", exp.WithoutOrgData, false}} {
		products := map[[2]string]bool{}
		for _, s := range view.seats {
			products[[2]string{s.AccountID, s.Product}] = true
		}
		for _, s := range view.seats {
			where := view.name + " " + s.AccountID + "/" + s.Product
			u := users[s.AccountID]
			if s.User != u.DisplayName {
				t.Errorf("%s: user %q, want the display name %q", where, s.User, u.DisplayName)
			}
			if _, ok := categoryRank[s.Verdict]; !ok {
				t.Errorf("%s: verdict %q", where, s.Verdict)
				continue
			}
			if !strings.HasPrefix(s.Rule, "§6 rule ") || s.Note == "" {
				t.Errorf("%s: rule %q / note %q", where, s.Rule, s.Note)
			}
			if len(s.Reasons) == 0 {
				t.Errorf("%s: no reasons", where)
				continue
			}
			// Reasons: known, no repeats, in canonical order, verdict = highest category.
			high, activity := -1, 0
			for i, r := range s.Reasons {
				c, ok := category[r]
				if !ok {
					t.Errorf("%s: unknown reason %q", where, r)
					continue
				}
				if i > 0 && order[r] <= order[s.Reasons[i-1]] {
					t.Errorf("%s: reasons %v out of the documented order", where, s.Reasons)
				}
				high = max(high, categoryRank[c])
				if activityReasons[r] {
					activity++
				}
			}
			if high != categoryRank[s.Verdict] {
				t.Errorf("%s: verdict %s but reasons %v", where, s.Verdict, s.Reasons)
			}
			nb := s.Verdict == "not-billable"
			if s.Billable == nb {
				t.Errorf("%s: billable=%v with verdict %s", where, s.Billable, s.Verdict)
			}
			if nb {
				for _, r := range s.Reasons {
					if category[r] != "not-billable" {
						t.Errorf("%s: not-billable seat lists %s", where, r)
					}
				}
				if slices.Contains(s.Reasons, "service-account") && slices.Contains(s.Reasons, "app-account") {
					t.Errorf("%s: service-account implies app-account is not listed", where)
				}
				if len(s.Plan)+len(s.Collateral)+len(s.Warnings) != 0 {
					t.Errorf("%s: not-billable seat with plan/collateral/warnings", where)
				}
				continue
			}
			if !licensedRole(s.Role) {
				t.Errorf("%s: billable seat with role %s", where, s.Role)
			}
			if activity != 1 {
				t.Errorf("%s: %d activity reasons in %v, want exactly one", where, activity, s.Reasons)
			}
			if s.Verdict == "removable" && len(s.Plan) == 0 {
				t.Errorf("%s: removable without an executable plan", where)
			}
			noPlan := slices.Contains(s.Reasons, "direct-role") || slices.Contains(s.Reasons, "inferred-role") ||
				slices.Contains(s.Reasons, "synced-group") || (view.key && slices.Contains(s.Reasons, "platform-admin") &&
				slices.Contains(u.PlatformRoles, "org-admin"))
			if noPlan && len(s.Plan) != 0 {
				t.Errorf("%s: plan %v although no executable plan exists", where, s.Plan)
			}
			if !noPlan && len(s.Plan) == 0 {
				t.Errorf("%s: no plan and no reason why", where)
			}
			// (d) plan groups exist, grant the product with a licensed role, hold the user.
			defaultItem, nonDefaultItem := false, false
			for _, name := range s.Plan {
				g, ok := groups[name]
				if !ok {
					t.Errorf("%s: plan group %q does not exist", where, name)
					continue
				}
				if !slices.ContainsFunc(g.Grants, func(gr Grant) bool { return gr.Product == s.Product && licensedRole(gr.Role) }) {
					t.Errorf("%s: plan group %s does not grant %s", where, name, s.Product)
				}
				if !members[g.ID][s.AccountID] {
					t.Errorf("%s: not a member of plan group %s", where, name)
				}
				if g.Synced && view.key {
					t.Errorf("%s: synced group %s in an executable plan", where, name)
				}
				if len(g.DefaultFor) > 0 {
					defaultItem = true
				} else {
					nonDefaultItem = true
				}
			}
			for _, p := range s.Collateral {
				if p == s.Product || !products[[2]string{s.AccountID, p}] || len(s.Plan) == 0 {
					t.Errorf("%s: collateral %s is not another seat of the user freed by a plan", where, p)
				}
			}
			// Warnings: known, in order, and each where its condition holds.
			for i, w := range s.Warnings {
				if _, ok := worder[w]; !ok || (i > 0 && worder[w] <= worder[s.Warnings[i-1]]) {
					t.Errorf("%s: warnings %v unknown or out of order", where, s.Warnings)
				}
			}
			if got := slices.Contains(s.Warnings, "default-group-regrant"); got != defaultItem {
				t.Errorf("%s: default-group-regrant=%v, plan has a default group=%v", where, got, defaultItem)
			}
			if got := slices.Contains(s.Warnings, "unmanaged-account"); got != (view.key && u.ClaimStatus == "unmanaged") {
				t.Errorf("%s: unmanaged-account=%v, claimStatus %q", where, got, u.ClaimStatus)
			}
			if got := slices.Contains(s.Warnings, "sync-status-unknown"); got != (!view.key && nonDefaultItem) {
				t.Errorf("%s: sync-status-unknown=%v, keyless=%v, non-default plan group=%v", where, got, !view.key, nonDefaultItem)
			}
			// Rule 8: needs-org-data exactly on keyless seats that would otherwise be removable.
			otherwiseRemovable := !slices.ContainsFunc(s.Reasons, func(r string) bool {
				return r != "needs-org-data" && category[r] != "removable"
			})
			if slices.Contains(s.Reasons, "needs-org-data") != (!view.key && otherwiseRemovable) {
				t.Errorf("%s: needs-org-data belongs to (and only to) keyless seats otherwise removable: %v", where, s.Reasons)
			}
		}
	}
}
