package billing_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/seatlens/seatlens/app/billing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// checkGolden compares v, as indented JSON, with testdata/name; -update
// rewrites the file instead.
func checkGolden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./app/billing -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the engine's output; if the change is intended, run go test ./app/billing -update and review the diff", path)
	}
}

// fixtureFindings explains the fixture site as an org-key scan and as a
// keyless scan.
func fixtureFindings(t *testing.T) (org, keyless *billing.Findings) {
	t.Helper()
	sc := loadFixtureScenario(t)
	_, settings := loadOracle(t)
	var err error
	if org, err = billing.Explain(snapshotWithOrg(sc, fixtureScannedAt), settings); err != nil {
		t.Fatal(err)
	}
	if keyless, err = billing.Explain(snapshotKeyless(sc, fixtureScannedAt), settings); err != nil {
		t.Fatal(err)
	}
	return org, keyless
}

// TestGoldenFixture locks the whole findings document of the fixture site:
// paths, messages, plan items, site findings and totals. `seatlens scan`
// against the simulated fixture site must print the same document.
func TestGoldenFixture(t *testing.T) {
	org, keyless := fixtureFindings(t)
	checkGolden(t, "fixture-org.golden.json", org)
	checkGolden(t, "fixture-keyless.golden.json", keyless)
}

// showcase is a small site for the site findings the fixture does not
// produce: a default group granting admin, Atlassian's licence count
// disagreeing with the scan, and a keyless scan without activity data.
func showcase() *billing.Snapshot {
	b := newSnap(false).
		group("jira-users", nil, []string{jsw}, g(jsw, billing.RoleUser), g(jsw, billing.RoleAdmin)).
		person("p1", in("jira-users")).
		person("p2", in("jira-users"))
	n := 3
	b.snap.Products[0].UserCount = &n
	return b.snap
}

type codeExample struct {
	Code     string `json:"code"`
	Kind     string `json:"kind"`
	Source   string `json:"source"`
	Account  string `json:"accountId,omitempty"`
	Name     string `json:"displayName,omitempty"`
	Seat     any    `json:"seat,omitempty"`
	Findings any    `json:"siteFindings,omitempty"`
}

// TestGoldenPerCode keeps one golden example for every reason code,
// warning and site finding: the first seat (or finding) that carries it in
// the fixture scans or the showcase. A code no example carries fails.
func TestGoldenPerCode(t *testing.T) {
	org, keyless := fixtureFindings(t)
	show, err := billing.Explain(showcase(), billing.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	sources := []struct {
		name string
		f    *billing.Findings
	}{{"fixture-org", org}, {"fixture-keyless", keyless}, {"showcase", show}}

	seatWith := func(kind, code string) *codeExample {
		for _, src := range sources {
			for _, u := range src.f.Users {
				for _, s := range u.Seats {
					has := kind == "reason" && slices.Contains(codes(s.Reasons), code) ||
						kind == "warning" && slices.Contains(warningCodes(s.Warnings), code)
					if has {
						return &codeExample{Code: code, Kind: kind, Source: src.name, Account: u.AccountID, Name: u.DisplayName, Seat: s}
					}
				}
			}
		}
		return nil
	}
	for _, c := range billing.ReasonCodes() {
		ex := seatWith("reason", c)
		if ex == nil {
			t.Errorf("no example of reason %s", c)
			continue
		}
		checkGolden(t, filepath.Join("codes", "reason-"+c+".json"), ex)
	}
	for _, c := range billing.WarningCodes() {
		ex := seatWith("warning", c)
		if ex == nil {
			t.Errorf("no example of warning %s", c)
			continue
		}
		checkGolden(t, filepath.Join("codes", "warning-"+c+".json"), ex)
	}
	for _, c := range billing.SiteFindingCodes() {
		var ex *codeExample
		for _, src := range sources {
			var fs []billing.SiteFinding
			for _, sf := range src.f.SiteFindings {
				if sf.Code == c {
					fs = append(fs, sf)
				}
			}
			if len(fs) > 0 {
				ex = &codeExample{Code: c, Kind: "site-finding", Source: src.name, Findings: fs}
				break
			}
		}
		if ex == nil {
			t.Errorf("no example of site finding %s", c)
			continue
		}
		checkGolden(t, filepath.Join("codes", "site-"+c+".json"), ex)
	}
}
