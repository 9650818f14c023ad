package billing_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/billing"
)

const (
	jsw  = billing.JiraSoftware
	jsm  = billing.JiraServiceManagement
	jpd  = billing.JiraProductDiscovery
	conf = billing.Confluence
)

func want(t *testing.T, s billing.Seat, verdict string, reasons ...string) {
	t.Helper()
	if s.Verdict != verdict || !slices.Equal(codes(s.Reasons), reasons) {
		t.Errorf("%s: got %s %v, want %s %v", s.Product, s.Verdict, codes(s.Reasons), verdict, reasons)
	}
	for _, r := range s.Reasons {
		if r.Message == "" || strings.Contains(r.Message, "%!") {
			t.Errorf("%s: reason %s has a bad message %q", s.Product, r.Code, r.Message)
		}
	}
}

func TestRule1Billable(t *testing.T) {
	b := newSnap(true).
		group("users", bp(false), []string{jsw}, g(jsw, billing.RoleUser)).
		group("guests", bp(false), nil, g(conf, billing.RoleGuest)).
		group("contrib", bp(false), nil, g(jpd, billing.RoleContributor)).
		person("human", in("users"), active(jsw, 200)).
		person("app", in("users"), func(u *billing.User) { u.AccountType = billing.AccountApp }).
		person("svc", in("users"), func(u *billing.User) { u.AccountType, u.AppType = billing.AccountApp, "service" }).
		person("svc2", in("users"), func(u *billing.User) { u.ServiceAccount = true }).
		person("cust", role(jsm, billing.RoleCustomer, billing.MethodDirect), func(u *billing.User) { u.AccountType = billing.AccountCustomer }).
		person("susp", in("users"), func(u *billing.User) { u.Status, u.Active = billing.StatusSuspended, false }).
		person("deact", in("users"), func(u *billing.User) { u.Status, u.Active = billing.StatusDeactivated, false }).
		person("jira-inactive", in("users"), func(u *billing.User) { u.Status, u.Active = "", false }).
		person("guest", in("guests"), active(conf, 1), func(u *billing.User) { u.ClaimStatus, u.DisplayName = "unmanaged", "Guest Bot" }).
		person("contrib", in("contrib"))
	_, seats := explain(t, b.snap, billing.Settings{})

	want(t, seatOf(t, seats, "human", jsw), billing.VerdictRemovable, "inactive")
	if s := seatOf(t, seats, "human", jsw); !s.Billable {
		t.Error("an active atlassian account with the user role is billable")
	}
	want(t, seatOf(t, seats, "app", jsw), billing.VerdictNotBillable, "app-account")
	want(t, seatOf(t, seats, "svc", jsw), billing.VerdictNotBillable, "service-account")
	want(t, seatOf(t, seats, "svc2", jsw), billing.VerdictNotBillable, "service-account")
	want(t, seatOf(t, seats, "cust", jsm), billing.VerdictNotBillable, "customer", "non-billable-role")
	want(t, seatOf(t, seats, "susp", jsw), billing.VerdictNotBillable, "suspended")
	want(t, seatOf(t, seats, "deact", jsw), billing.VerdictNotBillable, "deactivated")
	want(t, seatOf(t, seats, "jira-inactive", jsw), billing.VerdictNotBillable, "deactivated")
	want(t, seatOf(t, seats, "contrib", jpd), billing.VerdictNotBillable, "non-billable-role")
	guest := seatOf(t, seats, "guest", conf)
	want(t, guest, billing.VerdictNotBillable, "guest")
	// A not-billable seat lists only its not-billable reasons: no warning
	// for the unmanaged account, no integration-user review, no plan.
	if len(guest.Warnings) != 0 || len(guest.Plan) != 0 || len(guest.Collateral) != 0 || guest.Billable {
		t.Errorf("guest seat carries more than its not-billable reason: %+v", guest)
	}
	for k, s := range seats {
		if !s.Billable && (len(s.Plan) != 0 || len(s.Warnings) != 0) {
			t.Errorf("%v: not-billable seat with plan or warnings", k)
		}
	}
}

func TestRule2Activity(t *testing.T) {
	b := newSnap(true).
		group("users", bp(false), nil, g(jsw, billing.RoleUser)).
		person("exactly", in("users"), active(jsw, 90)).
		person("day-short", in("users"), func(u *billing.User) {
			u.LastActive = map[string]time.Time{jsw: scanAt.Add(-90*24*time.Hour + time.Second)}
		}).
		person("never", in("users")).
		person("never-exactly", in("users"), func(u *billing.User) { u.AddedToOrg = tp(daysAgo(90)) }).
		person("new", in("users"), func(u *billing.User) { u.AddedToOrg = tp(daysAgo(89)) }).
		person("no-added", in("users"), func(u *billing.User) { u.AddedToOrg = nil }).
		person("not-covered", in("users"), func(u *billing.User) { u.ActivityCovered = false }).
		person("other-product", in("users"), active(conf, 1))
	_, seats := explain(t, b.snap, billing.Settings{})
	want(t, seatOf(t, seats, "exactly", jsw), billing.VerdictRemovable, "inactive")
	want(t, seatOf(t, seats, "day-short", jsw), billing.VerdictHold, "recently-active")
	want(t, seatOf(t, seats, "never", jsw), billing.VerdictRemovable, "never-accessed")
	want(t, seatOf(t, seats, "never-exactly", jsw), billing.VerdictRemovable, "never-accessed")
	want(t, seatOf(t, seats, "new", jsw), billing.VerdictHold, "new-account")
	want(t, seatOf(t, seats, "no-added", jsw), billing.VerdictReview, "no-activity-data")
	want(t, seatOf(t, seats, "not-covered", jsw), billing.VerdictReview, "no-activity-data")
	// Activity is per product: using Confluence does not keep Jira.
	want(t, seatOf(t, seats, "other-product", jsw), billing.VerdictRemovable, "never-accessed")

	t.Run("threshold from settings", func(t *testing.T) {
		_, seats := explain(t, b.snap, billing.Settings{InactiveDays: 30})
		want(t, seatOf(t, seats, "new", jsw), billing.VerdictRemovable, "never-accessed")
	})
	t.Run("no activity source", func(t *testing.T) {
		b.snap.Sources.Activity = nil
		defer func() { b.snap.Sources.Activity = &billing.ActivitySource{Kind: billing.ActivityOrgAPI, AsOf: scanAt} }()
		_, seats := explain(t, b.snap, billing.Settings{})
		want(t, seatOf(t, seats, "exactly", jsw), billing.VerdictReview, "no-activity-data")
	})
	t.Run("admin CSV counts up to its export date", func(t *testing.T) {
		// Exported 30 days before the scan: 70 days before the export is
		// recent although it is 100 days before the scan.
		b := newSnap(false).group("users", nil, []string{jsw}, g(jsw, billing.RoleUser)).
			person("csv", in("users"), active(jsw, 100), func(u *billing.User) { u.ActivityCovered = true })
		b.snap.Sources.Activity = &billing.ActivitySource{Kind: billing.ActivityAdminCSV, AsOf: daysAgo(30), File: "export-users.csv"}
		_, seats := explain(t, b.snap, billing.Settings{})
		s := seatOf(t, seats, "csv", jsw)
		want(t, s, billing.VerdictHold, "recently-active")
		if !strings.Contains(s.Reasons[0].Message, "export of "+daysAgo(30).Format(time.DateOnly)) {
			t.Errorf("the reason should name the export date: %q", s.Reasons[0].Message)
		}
	})
}

func TestRule3Admins(t *testing.T) {
	b := newSnap(true).
		group("users", bp(false), []string{jsw}, g(jsw, billing.RoleUser)).
		group("admins", bp(false), nil, g(jsw, billing.RoleAdmin), g(jsm, billing.RoleAdmin)).
		group("site-admins", bp(false), nil).
		person("org", in("users"), active(jsw, 200), func(u *billing.User) { u.PlatformRoles = []string{"org-admin"} }).
		person("site", in("users"), active(jsw, 200), func(u *billing.User) { u.PlatformRoles = []string{"site-admin"} }).
		person("legacy", in("users", "site-admins"), active(jsw, 200)).
		person("padmin", in("users", "admins"), active(jsw, 200))
	b.snap.Groups[2].SiteAdmin = true
	f, seats := explain(t, b.snap, billing.Settings{})
	// An org admin holds admin on every product, through no group.
	for _, p := range []string{jsw, jsm, jpd, conf} {
		s := seatOf(t, seats, "org", p)
		if s.Role != billing.RoleAdmin || s.Verdict != billing.VerdictHold || !slices.Contains(codes(s.Reasons), "platform-admin") ||
			!slices.Contains(codes(s.Reasons), "product-admin") || slices.Contains(codes(s.Reasons), "inferred-role") || len(s.Plan) != 0 {
			t.Errorf("org admin on %s: %+v", p, s)
		}
	}
	// A site admin gets no inferred product roles.
	for _, u := range f.Users {
		if u.AccountID == "site" && len(u.Seats) != 1 {
			t.Errorf("site admin has %d seats, want only the group's", len(u.Seats))
		}
	}
	want(t, seatOf(t, seats, "site", jsw), billing.VerdictHold, "platform-admin", "inactive")
	want(t, seatOf(t, seats, "legacy", jsw), billing.VerdictHold, "platform-admin", "inactive")
	// The seat's role is the highest held: admin through one group beats
	// user through another.
	pa := seatOf(t, seats, "padmin", jsw)
	want(t, pa, billing.VerdictHold, "product-admin", "inactive")
	if pa.Role != billing.RoleAdmin || !slices.Equal(planNames(pa), []string{"admins", "users"}) {
		t.Errorf("product admin: role %s plan %v", pa.Role, planNames(pa))
	}
}

func TestRule4Plan(t *testing.T) {
	b := newSnap(true).
		group("b-users", bp(false), []string{jsw}, g(jsw, billing.RoleUser), g(conf, billing.RoleUser)).
		group("a-team", bp(false), nil, g(jsw, billing.RoleUser)).
		group("idp", bp(true), nil, g(jsw, billing.RoleUser)).
		group("guests", bp(false), nil, g(conf, billing.RoleGuest)).
		person("two", in("b-users", "a-team"), active(jsw, 200), active(conf, 200)).
		person("synced", in("idp", "a-team"), active(jsw, 200)).
		person("direct", in("b-users"), active(jsw, 200), active(conf, 200), role(jsw, billing.RoleUser, billing.MethodDirect)).
		person("inferred", active(jsw, 200), role(jsw, billing.RoleUser, billing.MethodInferred)).
		person("guestpath", in("a-team", "guests"), active(jsw, 200), active(conf, 200))
	_, seats := explain(t, b.snap, billing.Settings{})

	two := seatOf(t, seats, "two", jsw)
	want(t, two, billing.VerdictRemovable, "inactive")
	if !slices.Equal(planNames(two), []string{"a-team", "b-users"}) {
		t.Errorf("plan = %v, want every group reaching the product, sorted", planNames(two))
	}
	for _, it := range two.Plan {
		wantDefault := it.GroupName == "b-users"
		if it.Default != wantDefault {
			t.Errorf("plan item %s default=%v", it.GroupName, it.Default)
		}
		if it.GroupName == "b-users" && !slices.Equal(it.AlsoFrees, []string{conf}) {
			t.Errorf("b-users also frees %v, want confluence", it.AlsoFrees)
		}
	}
	syn := seatOf(t, seats, "synced", jsw)
	want(t, syn, billing.VerdictReview, "synced-group", "inactive")
	if len(syn.Plan) != 0 || !strings.Contains(syn.Reasons[0].Message, "a-team and idp") {
		t.Errorf("synced: plan %v, message %q should name every group of the plan", planNames(syn), syn.Reasons[0].Message)
	}
	d := seatOf(t, seats, "direct", jsw)
	want(t, d, billing.VerdictReview, "direct-role", "inactive")
	if len(d.Plan) != 0 || len(d.Warnings) != 0 {
		t.Errorf("a direct role leaves no executable plan: %+v", d)
	}
	// Confluence is reached only through b-users, so it keeps its plan.
	if c := seatOf(t, seats, "direct", conf); !slices.Equal(planNames(c), []string{"b-users"}) {
		t.Errorf("direct's Confluence plan = %v", planNames(c))
	}
	want(t, seatOf(t, seats, "inferred", jsw), billing.VerdictReview, "inferred-role", "inactive")
	// A group granting only a non-billable role on the product is no part
	// of a plan, but the product it reaches is collateral of nothing.
	gp := seatOf(t, seats, "guestpath", jsw)
	if !slices.Equal(planNames(gp), []string{"a-team"}) {
		t.Errorf("guestpath plan = %v", planNames(gp))
	}
}

func TestRule5Collateral(t *testing.T) {
	b := newSnap(true).
		group("both", bp(false), nil, g(jsw, billing.RoleUser), g(jpd, billing.RoleUser)).
		group("partners", bp(false), nil, g(jsw, billing.RoleUser), g(conf, billing.RoleGuest)).
		group("jpd", bp(false), nil, g(jpd, billing.RoleUser)).
		person("blocked", in("both"), active(jsw, 200), active(jpd, 1)).
		person("free", in("both"), active(jsw, 200), active(jpd, 200)).
		person("elsewhere", in("both", "jpd"), active(jsw, 200), active(jpd, 1)).
		person("guest-active", in("partners"), active(jsw, 200), active(conf, 5)).
		person("guest-idle", in("partners"), active(jsw, 200), active(conf, 300))
	_, seats := explain(t, b.snap, billing.Settings{})

	bl := seatOf(t, seats, "blocked", jsw)
	want(t, bl, billing.VerdictReview, "shared-group-collateral", "inactive")
	if !slices.Equal(bl.Collateral, []string{jpd}) || !strings.Contains(bl.Reasons[0].Message, "Jira Product Discovery, which is on hold (recently-active)") {
		t.Errorf("blocked: collateral %v, message %q", bl.Collateral, bl.Reasons[0].Message)
	}
	// Rule 5 applies only to seats otherwise removable: the held JPD seat
	// gets no collateral reason although JSW is collateral of its plan.
	jp := seatOf(t, seats, "blocked", jpd)
	want(t, jp, billing.VerdictHold, "recently-active")
	if !slices.Equal(jp.Collateral, []string{jsw}) {
		t.Errorf("collateral is listed for every executable plan: %v", jp.Collateral)
	}
	want(t, seatOf(t, seats, "free", jsw), billing.VerdictRemovable, "inactive")
	// JPD is also reached through another group: not collateral.
	e := seatOf(t, seats, "elsewhere", jsw)
	want(t, e, billing.VerdictRemovable, "inactive")
	if len(e.Collateral) != 0 {
		t.Errorf("elsewhere collateral = %v", e.Collateral)
	}
	// A not-billable collateral seat blocks only when it is in use.
	want(t, seatOf(t, seats, "guest-active", jsw), billing.VerdictReview, "shared-group-collateral", "inactive")
	want(t, seatOf(t, seats, "guest-idle", jsw), billing.VerdictRemovable, "inactive")
}

func TestRule6IntegrationUsers(t *testing.T) {
	b := newSnap(true).group("users", bp(false), nil, g(jsw, billing.RoleUser))
	names := map[string]struct {
		name, email string
		match       bool
	}{
		"a": {"Backup Bot", "backup@example.com", true},
		"b": {"Deploy", "svc-deploy@example.com", true},
		"c": {"Tara Talbot", "tara@example.com", false},
		"d": {"Apiary Keeper", "apiary@example.com", false},
		"e": {"API Reporting", "reports@example.com", true},
		"f": {"Jira", "jira.automation@example.com", true},
		"g": {"Someone", "someone@bot.example.com", false},
		"h": {"Integration2Sync", "x@example.com", true},
		"i": {"Robotics Team", "robotics@example.com", false},
	}
	for id, n := range names {
		b.person(id, in("users"), active(jsw, 200), func(u *billing.User) { u.DisplayName, u.Email = n.name, n.email })
	}
	b.person("marked", in("users"), active(jsw, 200), func(u *billing.User) { u.DisplayName = "Sync Bot" })
	settings := billing.Settings{IntegrationUsers: []billing.IntegrationUser{{AccountID: "marked", Note: "Salesforce sync"}}}
	_, seats := explain(t, b.snap, settings)
	for id, n := range names {
		s := seatOf(t, seats, id, jsw)
		if n.match {
			want(t, s, billing.VerdictReview, "possible-integration-user", "inactive")
		} else {
			want(t, s, billing.VerdictRemovable, "inactive")
		}
	}
	m := seatOf(t, seats, "marked", jsw)
	want(t, m, billing.VerdictHold, "integration-user", "inactive")
	if !strings.Contains(m.Reasons[0].Message, "Salesforce sync") {
		t.Errorf("the note belongs in the reason: %q", m.Reasons[0].Message)
	}
}

func TestRule7ManualHolds(t *testing.T) {
	b := newSnap(true).
		group("users", bp(false), nil, g(jsw, billing.RoleUser), g(jpd, billing.RoleUser)).
		person("all", in("users"), active(jsw, 200), active(jpd, 200)).
		person("one", in("users"), active(jsw, 200), active(jpd, 200)).
		person("expired", in("users"), active(jsw, 200), active(jpd, 200)).
		person("expires-now", in("users"), active(jsw, 200), active(jpd, 200))
	settings, err := billing.ParseSettings(strings.NewReader(`{"manualHolds":[
		{"accountId":"all","products":[],"reason":"leave"},
		{"accountId":"one","products":["jira-product-discovery"],"reason":"roadmap","expires":"2027-01-31"},
		{"accountId":"expired","products":[],"reason":"old","expires":"2026-10-01T00:00:00Z"},
		{"accountId":"expires-now","products":[],"reason":"edge","expires":"2026-11-26"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	_, seats := explain(t, b.snap, settings)
	want(t, seatOf(t, seats, "all", jsw), billing.VerdictHold, "manual-hold", "inactive")
	want(t, seatOf(t, seats, "all", jpd), billing.VerdictHold, "manual-hold", "inactive")
	one := seatOf(t, seats, "one", jpd)
	want(t, one, billing.VerdictHold, "manual-hold", "inactive")
	if one.Reasons[0].Message != "Manual hold: roadmap (until 2027-01-31)" {
		t.Errorf("hold message %q", one.Reasons[0].Message)
	}
	// one's JSW seat is not held, but leaving the shared group would take
	// the held JPD seat too.
	want(t, seatOf(t, seats, "one", jsw), billing.VerdictReview, "shared-group-collateral", "inactive")
	want(t, seatOf(t, seats, "expired", jsw), billing.VerdictRemovable, "inactive")
	want(t, seatOf(t, seats, "expires-now", jsw), billing.VerdictRemovable, "inactive")
}

func TestRule8NoOrgData(t *testing.T) {
	b := newSnap(false).
		group("users", nil, []string{jsw}, g(jsw, billing.RoleUser)).
		group("team", nil, nil, g(jsw, billing.RoleUser)).
		person("idle", in("users"), active(jsw, 200), func(u *billing.User) { u.ActivityCovered = true }).
		person("busy", in("users"), active(jsw, 2), func(u *billing.User) { u.ActivityCovered = true }).
		person("team", in("team"), active(jsw, 200), func(u *billing.User) { u.ActivityCovered = true })
	b.snap.Sources.Activity = &billing.ActivitySource{Kind: billing.ActivityAdminCSV, AsOf: scanAt}
	f, seats := explain(t, b.snap, billing.Settings{SeatPrices: map[string]float64{jsw: 8.6}})
	idle := seatOf(t, seats, "idle", jsw)
	want(t, idle, billing.VerdictReview, "needs-org-data", "inactive")
	if !strings.Contains(idle.Reasons[0].Message, "Likely removable") {
		t.Errorf("needs-org-data message %q", idle.Reasons[0].Message)
	}
	// A held seat is not also needs-org-data.
	want(t, seatOf(t, seats, "busy", jsw), billing.VerdictHold, "recently-active")
	if f.Totals.Removable != 0 || f.Totals.LikelyRemovable != 2 || f.Totals.LikelyMonthlySaving != 17.2 || f.Totals.MonthlySaving != 0 {
		t.Errorf("totals %+v", f.Totals)
	}
	t.Run("org key but role assignments not read", func(t *testing.T) {
		b := newSnap(true).group("users", bp(false), nil, g(jsw, billing.RoleUser)).
			person("x", in("users"), active(jsw, 200), func(u *billing.User) { u.RolesKnown = false })
		_, seats := explain(t, b.snap, billing.Settings{})
		want(t, seatOf(t, seats, "x", jsw), billing.VerdictReview, "needs-org-data", "inactive")
	})
}

func TestRule9Verdict(t *testing.T) {
	b := newSnap(true).
		group("idp", bp(true), nil, g(jsw, billing.RoleAdmin)).
		person("many", in("idp"), func(u *billing.User) { u.DisplayName = "Build Bot"; u.AddedToOrg = nil }).
		person("nb", in("idp"), func(u *billing.User) { u.Status = billing.StatusSuspended })
	settings := billing.Settings{ManualHolds: []billing.ManualHold{{AccountID: "many", Reason: "x"}}}
	_, seats := explain(t, b.snap, settings)
	// hold beats review; reasons by category, then by rule.
	want(t, seatOf(t, seats, "many", jsw), billing.VerdictHold, "product-admin", "manual-hold", "no-activity-data", "synced-group", "possible-integration-user")
	// not-billable beats everything and lists only itself.
	want(t, seatOf(t, seats, "nb", jsw), billing.VerdictNotBillable, "suspended")

	// The order of ReasonCodes is the canonical order of the fixture notes.
	wantOrder := "service-account app-account customer suspended deactivated guest non-billable-role recently-active new-account platform-admin product-admin integration-user manual-hold no-activity-data direct-role inferred-role synced-group shared-group-collateral possible-integration-user needs-org-data inactive never-accessed"
	if got := strings.Join(billing.ReasonCodes(), " "); got != wantOrder {
		t.Errorf("reason order\n got %s\nwant %s", got, wantOrder)
	}
}

func TestWarnings(t *testing.T) {
	t.Run("with org key", func(t *testing.T) {
		b := newSnap(true).
			group("default", bp(false), []string{jsw}, g(jsw, billing.RoleUser)).
			group("team", bp(false), nil, g(jsw, billing.RoleUser)).
			person("unmanaged", in("team"), active(jsw, 200), func(u *billing.User) { u.ClaimStatus = "unmanaged" }).
			person("default", in("default"), active(jsw, 200))
		_, seats := explain(t, b.snap, billing.Settings{})
		if w := warningCodes(seatOf(t, seats, "unmanaged", jsw).Warnings); !slices.Equal(w, []string{"unmanaged-account"}) {
			t.Errorf("unmanaged warnings %v", w)
		}
		if w := warningCodes(seatOf(t, seats, "default", jsw).Warnings); !slices.Equal(w, []string{"default-group-regrant"}) {
			t.Errorf("default warnings %v", w)
		}
	})
	t.Run("without org key", func(t *testing.T) {
		b := newSnap(false).
			group("default", nil, []string{jsw}, g(jsw, billing.RoleUser)).
			group("team", nil, nil, g(jsw, billing.RoleUser)).
			person("both", in("default", "team")).
			person("default", in("default"))
		_, seats := explain(t, b.snap, billing.Settings{})
		if w := warningCodes(seatOf(t, seats, "both", jsw).Warnings); !slices.Equal(w, []string{"default-group-regrant", "sync-status-unknown"}) {
			t.Errorf("both warnings %v", w)
		}
		// Default groups are never synced, so they leave no doubt.
		if w := warningCodes(seatOf(t, seats, "default", jsw).Warnings); !slices.Equal(w, []string{"default-group-regrant"}) {
			t.Errorf("default warnings %v", w)
		}
		// A Connect JWT cannot see default groups: every group's sync state
		// is then unknown.
		b.snap.Sources.DefaultGroups = false
		b.snap.Groups[0].DefaultFor = nil
		_, seats = explain(t, b.snap, billing.Settings{})
		if w := warningCodes(seatOf(t, seats, "default", jsw).Warnings); !slices.Equal(w, []string{"sync-status-unknown"}) {
			t.Errorf("connect-only warnings %v", w)
		}
	})
}

func TestRule2ActivityUnknownCell(t *testing.T) {
	b := newSnap(true).group("jira", bp(false), nil, g(jsw, billing.RoleUser)).group("wiki", bp(false), nil, g(conf, billing.RoleUser)).
		person("gap", in("jira", "wiki"), func(u *billing.User) { u.ActivityUnknown = []string{conf} })
	_, seats := explain(t, b.snap, billing.Settings{})
	want(t, seatOf(t, seats, "gap", jsw), billing.VerdictRemovable, "never-accessed")
	want(t, seatOf(t, seats, "gap", conf), billing.VerdictReview, "no-activity-data")
}

// A default group granting a free role on another product (Confluence
// guest) is no "default group grants another product" finding; a
// licensed grant is.
func TestSiteFindingDefaultGroupGrantsOtherProduct(t *testing.T) {
	b := newSnap(true).
		group("jira-users", bp(false), []string{jsw}, g(jsw, billing.RoleUser), g(conf, billing.RoleGuest)).
		group("jira-team", bp(false), []string{jpd}, g(jpd, billing.RoleUser), g(conf, billing.RoleUser)).
		person("a", in("jira-users", "jira-team"))
	f, _ := explain(t, b.snap, billing.Settings{})
	var found []string
	for _, sf := range f.SiteFindings {
		if sf.Code == billing.FindingDefaultGrantsOtherProduct {
			found = append(found, sf.GroupName+"→"+sf.Product)
		}
	}
	if !slices.Equal(found, []string{"jira-team→confluence"}) {
		t.Errorf("findings %v, want only jira-team→confluence", found)
	}
}
