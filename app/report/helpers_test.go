package report_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/billing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the renderers' output")

// The engine's own golden documents are the input: real findings, kept
// current by app/billing's tests, so a change there shows up here too.
var fixtures = []string{"fixture-org", "fixture-keyless"}

func loadFindings(t testing.TB, name string) *billing.Findings {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "billing", "testdata", name+".golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f billing.Findings
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &f
}

func countSeats(f *billing.Findings) int {
	n := 0
	for _, u := range f.Users {
		n += len(u.Seats)
	}
	return n
}

// checkGolden compares got with testdata/name, or rewrites the file with
// -update so that every change to the output is reviewed as a diff.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./app/report -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s; if intended, run go test ./app/report -update and review the diff", path)
	}
}

// hostile is a document whose person-typed strings are attacks on the two
// formats: markup for the HTML, formulas for the CSV.
func hostile() *billing.Findings {
	at := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	last := at.AddDate(0, -6, 0)
	yes := true
	return &billing.Findings{
		SchemaVersion: billing.SchemaVersion,
		Site:          billing.SiteInfo{URL: "https://hostile.example.net"},
		ScannedAt:     at,
		Settings:      billing.Settings{InactiveDays: 90, SeatPrices: map[string]float64{billing.JiraSoftware: 8.6}},
		Credentials:   []string{billing.CredentialAPIToken},
		Products:      []billing.ProductFindings{{Key: billing.JiraSoftware, Name: "Jira <b>Software</b>", Seats: 2, Billable: 2, Removable: 1, Review: 1}},
		SiteFindings:  []billing.SiteFinding{{Code: "x", Message: `<img src=x onerror=alert(1)> group "=evil"`}},
		Users: []billing.UserFindings{
			{
				AccountID: "acc-1", DisplayName: `<script>alert("x")</script>`, Email: `=cmd|' /C calc'!A0`,
				AccountType: "atlassian", Class: billing.ClassManaged,
				Seats: []billing.Seat{{
					Product: billing.JiraSoftware, Role: billing.RoleUser, Billable: true, LastActive: &last,
					Paths:   []billing.Path{{Via: billing.ViaGroup, Role: billing.RoleUser, GroupID: "g1", GroupName: "-ops"}},
					Verdict: billing.VerdictRemovable,
					Reasons: []billing.Reason{{Code: "inactive", Category: billing.VerdictRemovable, Scope: billing.ScopeSeat, Message: "Last used <i>long</i> ago."}},
					Plan:    []billing.PlanItem{{GroupID: "g1", GroupName: "-ops", Default: false}, {GroupID: "g2", GroupName: "@SUM(1+1)", Default: true}},
				}},
			},
			{
				AccountID: "acc-2", DisplayName: "+1 555 0100;=HYPERLINK(\"x\")", Email: "\tpadded@example.net",
				AccountType: "atlassian", Class: billing.ClassManaged,
				Seats: []billing.Seat{{
					Product: billing.JiraSoftware, Role: billing.RoleUser, Billable: true,
					Paths:   []billing.Path{{Via: billing.ViaGroup, Role: billing.RoleUser, GroupID: "g3", GroupName: "\rcr", Synced: &yes}},
					Verdict: billing.VerdictReview,
					Reasons: []billing.Reason{{Code: "manual-hold", Category: billing.VerdictHold, Message: "=1+1"}},
				}},
			},
		},
		Totals: billing.Totals{Users: 2, Seats: 2, BillableSeats: 2, Removable: 1, Review: 1, MonthlySaving: 8.6},
	}
}

// failWriter fails after n bytes, like a full disk or a closed connection.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errFull
	}
	w.n -= len(p)
	return len(p), nil
}

var errFull = errors.New("disk full")
