package report_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/report"
)

// renderCSV renders f and parses it back with encoding/csv, which also
// checks every row has the header's number of fields.
func renderCSV(t *testing.T, f *billing.Findings) (raw []byte, header []string, rows []map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	if err := report.CSV(&buf, f); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse back: %v", err)
	}
	if len(recs) == 0 {
		t.Fatal("no header")
	}
	header = recs[0]
	for _, r := range recs[1:] {
		m := make(map[string]string, len(header))
		for i, h := range header {
			m[h] = r[i]
		}
		rows = append(rows, m)
	}
	return buf.Bytes(), header, rows
}

func TestCSVColumnsAreTheContract(t *testing.T) {
	want := []string{"accountId", "displayName", "email", "accountType", "class", "status", "claimStatus",
		"product", "role", "billable", "verdict", "reasons", "reasonText", "warnings", "lastActive",
		"plan", "planGroupIds", "collateral", "paths", "seatPrice"}
	if got := report.CSVColumns(); !slices.Equal(got, want) {
		t.Fatalf("CSVColumns() = %q\nwant %q (scripts depend on these names: only append)", got, want)
	}
	report.CSVColumns()[0] = "changed"
	if report.CSVColumns()[0] != "accountId" {
		t.Fatal("CSVColumns hands out its own array")
	}
}

func TestCSVOneRowPerSeatInDocumentOrder(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			f := loadFindings(t, name)
			_, header, rows := renderCSV(t, f)
			if !slices.Equal(header, report.CSVColumns()) {
				t.Fatalf("header %q", header)
			}
			if want := countSeats(f); len(rows) != want || want == 0 {
				t.Fatalf("%d rows, want one per seat: %d", len(rows), want)
			}
			i := 0
			for _, u := range f.Users {
				for _, s := range u.Seats {
					r := rows[i]
					if r["accountId"] != u.AccountID || r["product"] != s.Product || r["verdict"] != s.Verdict {
						t.Fatalf("row %d is %s/%s/%s, want %s/%s/%s", i+1, r["accountId"], r["product"], r["verdict"], u.AccountID, s.Product, s.Verdict)
					}
					// Nothing in the fixtures looks like a formula, so every
					// name must come back exactly as typed, markup included.
					if r["displayName"] != u.DisplayName || r["email"] != u.Email {
						t.Errorf("row %d: name %q e-mail %q, want %q %q", i+1, r["displayName"], r["email"], u.DisplayName, u.Email)
					}
					if n := strings.Count(r["reasons"], ";") + 1; n != len(s.Reasons) {
						t.Errorf("row %d: reasons %q for %d reasons", i+1, r["reasons"], len(s.Reasons))
					}
					i++
				}
			}
		})
	}
}

func TestCSVKnownSeats(t *testing.T) {
	cases := []struct {
		fixture, account, product string
		want                      map[string]string
	}{
		{"fixture-org", "fx02-bob", billing.JiraSoftware, map[string]string{
			"displayName": "Bob Inactive", "email": "bob@fixture.example", "accountType": "atlassian",
			"class": "managed", "status": "active", "claimStatus": "managed", "role": "user", "billable": "true",
			"verdict": "removable", "reasons": "inactive",
			"reasonText": "Last used Jira Software on 2026-05-01, 209 days before the scan (threshold 90 days).",
			"warnings":   "default-group-regrant", "lastActive": "2026-05-01",
			"plan": "jira-software-users-fixture", "planGroupIds": "fx-g-jsw", "collateral": "confluence",
			"paths": "group:jira-software-users-fixture(user,default)", "seatPrice": "8.6",
		}},
		{"fixture-org", "fx01-alice", billing.JiraSoftware, map[string]string{
			"role": "admin", "verdict": "hold", "reasons": "recently-active;platform-admin;product-admin",
			"reasonText": "Used Jira Software on 2026-11-25, 1 day before the scan (threshold 90 days). | " +
				"A platform admin (org-admin, site-admin): admins keep their access. | Holds the admin role on Jira Software.",
			"warnings": "", "lastActive": "2026-11-25", "plan": "", "planGroupIds": "", "collateral": "",
			"paths": "group:jira-admins-fixture(admin);group:jira-software-users-fixture(user,default);inferred(admin)",
		}},
		{"fixture-org", "fx06-portal", billing.JiraServiceManagement, map[string]string{
			"accountType": "customer", "class": "customer", "status": "", "claimStatus": "", "role": "customer",
			"billable": "false", "verdict": "not-billable", "reasons": "customer;non-billable-role",
			"lastActive": "", "paths": "inferred(customer)", "plan": "", "seatPrice": "21.05",
		}},
		{"fixture-org", "fx15-liam", billing.JiraSoftware, map[string]string{
			"verdict": "review", "reasons": "synced-group;inactive", "plan": "", "paths": "group:engineering(user,synced)",
		}},
		{"fixture-org", "fx32-mallory", billing.JiraProductDiscovery, map[string]string{
			"displayName": `<script>alert("x")</script> & "Mallory" O'Brien <b>`, "verdict": "hold", "seatPrice": "10",
		}},
		{"fixture-keyless", "fx02-bob", billing.JiraSoftware, map[string]string{
			"class": "unknown", "status": "", "verdict": "review", "reasons": "needs-org-data;inactive",
			"plan": "jira-software-users-fixture", "collateral": "", "seatPrice": "8.6",
		}},
		{"fixture-keyless", "fx01-alice", billing.JiraSoftware, map[string]string{
			"warnings": "default-group-regrant;sync-status-unknown",
			"paths":    "group:jira-admins-fixture(admin,sync-unknown);group:jira-software-users-fixture(user,default)",
		}},
	}
	rowsOf := map[string][]map[string]string{}
	for _, c := range cases {
		if rowsOf[c.fixture] == nil {
			_, _, rowsOf[c.fixture] = renderCSV(t, loadFindings(t, c.fixture))
		}
		i := slices.IndexFunc(rowsOf[c.fixture], func(r map[string]string) bool {
			return r["accountId"] == c.account && r["product"] == c.product
		})
		if i < 0 {
			t.Errorf("%s: no row for %s on %s", c.fixture, c.account, c.product)
			continue
		}
		for col, want := range c.want {
			if got := rowsOf[c.fixture][i][col]; got != want {
				t.Errorf("%s %s %s: %s = %q, want %q", c.fixture, c.account, c.product, col, got, want)
			}
		}
	}
}

func TestCSVGolden(t *testing.T) {
	raw, _, _ := renderCSV(t, loadFindings(t, "fixture-org"))
	checkGolden(t, "fixture-org.csv.golden", raw)
}

// TestCSVFormulaInjection is OWASP's rule: no cell a spreadsheet opens may
// start with =, +, -, @, tab or CR, nor may any ";"-separated piece of a
// cell (Excel splits there in ";" locales).
func TestCSVFormulaInjection(t *testing.T) {
	_, _, rows := renderCSV(t, hostile())
	want := map[string]map[string]string{
		"acc-1": {
			"displayName": `<script>alert("x")</script>`, // no formula: kept as typed
			"email":       `'=cmd|' /C calc'!A0`,
			"plan":        `'-ops;'@SUM(1+1)`,
			"paths":       "group:-ops(user,sync-unknown)",
			"reasonText":  "Last used <i>long</i> ago.",
			"seatPrice":   "8.6",
		},
		"acc-2": {
			"displayName": `'+1 555 0100;'=HYPERLINK("x")`,
			"email":       "'\tpadded@example.net",
			"paths":       "group:\rcr(user,synced)",
			"reasonText":  "'=1+1",
			"lastActive":  "",
		},
	}
	for _, r := range rows {
		for col, w := range want[r["accountId"]] {
			if r[col] != w {
				t.Errorf("%s %s = %q, want %q", r["accountId"], col, r[col], w)
			}
		}
		for col, v := range r {
			for piece := range strings.SplitSeq(v, ";") {
				if piece != "" && strings.ContainsRune("=+-@\t\r", rune(piece[0])) {
					t.Errorf("%s %s = %q: a spreadsheet would run %q", r["accountId"], col, v, piece)
				}
			}
		}
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
}

func TestCSVReportsWriteErrors(t *testing.T) {
	err := report.CSV(&failWriter{n: 100}, loadFindings(t, "fixture-org"))
	if !errors.Is(err, errFull) {
		t.Fatalf("CSV on a failing writer = %v, want the writer's error", err)
	}
	if err := report.CSV(&bytes.Buffer{}, nil); err == nil {
		t.Fatal("CSV(nil) succeeded")
	}
}

func TestCSVEmptyDocument(t *testing.T) {
	raw, header, rows := renderCSV(t, &billing.Findings{})
	if len(rows) != 0 || !slices.Equal(header, report.CSVColumns()) {
		t.Fatalf("empty document gave %q", raw)
	}
}

func TestIDPTasksCSV(t *testing.T) {
	yes, no := true, false
	f := &billing.Findings{Users: []billing.UserFindings{
		{AccountID: "a1", DisplayName: "=cmd", Email: "a@x", Seats: []billing.Seat{
			{Product: "jira-software", Billable: true, Verdict: billing.VerdictReview, Paths: []billing.Path{
				{Via: billing.ViaGroup, GroupID: "g-eng", GroupName: "engineering", Synced: &yes},
				{Via: billing.ViaGroup, GroupID: "g-jsw", GroupName: "jira-software-users", Synced: &no},
			}},
			{Product: "confluence", Billable: true, Verdict: billing.VerdictHold, Paths: []billing.Path{
				{Via: billing.ViaGroup, GroupID: "g-okta", GroupName: "okta", Synced: &yes}}},
		}},
		{AccountID: "a2", DisplayName: "Bea", Seats: []billing.Seat{
			{Product: "jira-software", Billable: true, Verdict: billing.VerdictRemovable, Paths: []billing.Path{
				{Via: billing.ViaGroup, GroupID: "g-jsw", GroupName: "jira-software-users", Synced: &no}}},
		}},
	}}
	var b strings.Builder
	if err := report.IDPTasksCSV(&b, f); err != nil {
		t.Fatal(err)
	}
	want := "syncedGroup,syncedGroupId,displayName,email,accountId,product,verdict,otherGroups\n" +
		"engineering,g-eng,'=cmd,a@x,a1,jira-software,review,jira-software-users\n"
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}
