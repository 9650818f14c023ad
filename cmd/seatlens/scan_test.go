package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/billing/billingtest"
	"github.com/seatlens/seatlens/app/sitesim"
)

var fixtureDir = billingtest.FixtureDir()

// fixtureSite serves the hand-written fixture site; wrap, when given,
// sits in front of it (to break one endpoint).
func fixtureSite(t *testing.T, wrap func(http.Handler) http.Handler) *httptest.Server {
	t.Helper()
	sc := billingtest.FixtureScenario(t)
	site, err := sitesim.NewSite(sc)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sitesim.New(site, sitesim.Options{AdminEmail: sitesim.DefaultAdminEmail, AdminToken: sitesim.DefaultAdminToken})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = srv
	if wrap != nil {
		h = wrap(srv)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}

// fixtureSettingsFile writes the oracle's settings where --settings reads them.
func fixtureSettingsFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "settings.json")
	if err := os.WriteFile(path, billingtest.FixtureSettingsJSON(t), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func pinScanClock(t *testing.T) {
	t.Helper()
	prev := scanClock
	scanClock = func() time.Time { return time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC) }
	t.Cleanup(func() { scanClock = prev })
}

func runScan(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = run(context.Background(), append([]string{"scan"}, args...), &out, &errb, func(k string) string { return env[k] })
	return out.String(), errb.String(), err
}

func credentials(site string) []string {
	return []string{"--site", site, "--email", sitesim.DefaultAdminEmail, "--token", sitesim.DefaultAdminToken}
}

func orgFlags(site string) []string {
	return []string{"--org-url", site, "--org-id", sitesim.DefaultOrgID, "--org-key", sitesim.DefaultOrgKey}
}

// TestScanFixtureAsANewUser runs `seatlens scan` against the simulated
// fixture site as a new user would, with and without an org key, and
// requires the engine's golden findings for that site: every verdict and
// reason of the awkward cases (a seat through a synced and an ordinary
// group, a default group granting two products, an org admin, a service
// account, a guest, an unmanaged account, a direct role) as the oracle
// has them.
func TestScanFixtureAsANewUser(t *testing.T) {
	pinScanClock(t)
	ts := fixtureSite(t, nil)
	settings := fixtureSettingsFile(t)
	for _, tc := range []struct {
		name   string
		args   []string
		golden string
	}{
		{"with org key", append(orgFlags(ts.URL), "--settings", settings), "fixture-org.golden.json"},
		{"without org key", []string{"--settings", settings, "--activity-csv", filepath.Join(fixtureDir, "activity.csv"), "--activity-csv-date", "2026-11-26"}, "fixture-keyless.golden.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, err := runScan(t, nil, append(credentials(ts.URL), tc.args...)...)
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			var f billing.Findings
			if err := json.Unmarshal([]byte(stdout), &f); err != nil {
				t.Fatalf("stdout is not a findings document: %v", err)
			}
			if f.Site.URL != ts.URL {
				t.Errorf("site = %q", f.Site.URL)
			}
			f.Site = billing.SiteInfo{URL: "https://fixture.atlassian.net"}
			got, _ := json.MarshalIndent(&f, "", "  ")
			want, err := os.ReadFile(filepath.Join(billingtest.GoldenDir(), tc.golden))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(append(got, '\n'), want) {
				t.Errorf("the scan's findings differ from %s", tc.golden)
			}
			if !strings.Contains(stderr, "seatlens: scanned "+ts.URL) {
				t.Errorf("no summary on stderr: %q", stderr)
			}
		})
	}
}

func TestScanFormats(t *testing.T) {
	pinScanClock(t)
	ts := fixtureSite(t, nil)
	args := append(credentials(ts.URL), orgFlags(ts.URL)...)

	stdout, _, err := runScan(t, nil, append(args, "--format", "csv")...)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+53 || rows[0][0] != "accountId" {
		t.Errorf("csv: %d rows (want a header and 53 seats), header %v", len(rows), rows[0])
	}

	out := filepath.Join(t.TempDir(), "report.html")
	stdout, _, err = runScan(t, nil, append(args, "--format", "html", "--out", out)...)
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if stdout != "" || !bytes.HasPrefix(page, []byte("<!DOCTYPE html>")) || !bytes.Contains(page, []byte("Removable")) || bytes.Contains(page, []byte("<script")) {
		t.Errorf("html: stdout %q, page starts %q", stdout, page[:min(len(page), 80)])
	}
}

func TestScanFailures(t *testing.T) {
	pinScanClock(t)
	ts := fixtureSite(t, nil)
	// A site whose group members endpoint breaks mid-scan: the data would
	// be partial, so the scan must fail and write nothing.
	broken := fixtureSite(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/rest/api/3/group/member" && strings.Contains(r.URL.RawQuery, "fx-g-jsm") {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				w.Write([]byte(`{"errorMessages":["The group is being migrated."],"errors":{}}`))
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	out := filepath.Join(t.TempDir(), "out.json")

	for _, tc := range []struct {
		name  string
		args  []string
		usage bool
		msg   string
	}{
		{"wrong token", []string{"--site", ts.URL, "--email", sitesim.DefaultAdminEmail, "--token", "wrong"}, false, "bad credentials: " + ts.URL + " refused the e-mail and API token"},
		{"wrong org key", append(credentials(ts.URL), "--org-url", ts.URL, "--org-id", sitesim.DefaultOrgID, "--org-key", "wrong"), false, "bad credentials: the Organizations API refused the org key"},
		{"unreachable", credentials(closed.URL), false, "cannot reach the site"},
		{"unreachable org API", append(credentials(ts.URL), "--org-url", closed.URL, "--org-id", sitesim.DefaultOrgID, "--org-key", "k"), false, "cannot reach the site or the Organizations API"},
		{"key of another org", append(credentials(ts.URL), "--org-url", ts.URL, "--org-id", "other-org", "--org-key", sitesim.DefaultOrgKey), false, "the org key does not belong to organisation other-org"},
		{"partial data", append(credentials(broken.URL), "--out", out), false, "scan incomplete, nothing was written: scan: list the members of group jira-servicemanagement-users-fixture"},
		{"missing token", []string{"--site", ts.URL, "--email", "a@b.c"}, true, "--site, --email and --token are required"},
		{"plain http to a remote site", []string{"--site", "http://acme.atlassian.net", "--email", "a", "--token", "b"}, true, "want an https URL"},
		{"key without org id", append(credentials(ts.URL), "--org-key", "k"), true, "--org-key and --org-id go together"},
		{"csv with key", append(append(credentials(ts.URL), orgFlags(ts.URL)...), "--activity-csv", "x.csv"), true, "--activity-csv is for scans without an org key"},
		{"bad format", append(credentials(ts.URL), "--format", "xml"), true, `--format "xml"`},
		{"bad threshold", append(credentials(ts.URL), "--inactive-days", "0x"), true, "inactive-days"},
		{"missing csv", append(credentials(ts.URL), "--activity-csv", "/nonexistent.csv"), true, "--activity-csv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, err := runScan(t, nil, tc.args...)
			if err == nil {
				t.Fatalf("no error; stderr %q", stderr)
			}
			if errors.Is(err, errUsage) != tc.usage || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q (usage=%v), want %q (usage=%v)", err, errors.Is(err, errUsage), tc.msg, tc.usage)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("the error is more than one line: %q", err)
			}
			if strings.Contains(err.Error(), sitesim.DefaultAdminToken) || strings.Contains(err.Error(), sitesim.DefaultOrgKey) {
				t.Errorf("a secret leaked into the error: %q", err)
			}
			if stdout != "" {
				t.Errorf("stdout on failure: %q", stdout)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed scan left %s behind", out)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".*")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
	t.Run("bad settings file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "s.json")
		os.WriteFile(path, []byte(`{"inactiveDay": 30}`), 0o600)
		_, _, err := runScan(t, nil, append(credentials(ts.URL), "--settings", path)...)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), `unknown field "inactiveDay"`) {
			t.Errorf("error %v", err)
		}
	})
}

// TestScanActivityCSVProblems: malformed rows are reported, not fatal.
func TestScanActivityCSVProblems(t *testing.T) {
	pinScanClock(t)
	ts := fixtureSite(t, nil)
	b, err := os.ReadFile(filepath.Join(fixtureDir, "activity.csv"))
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, []byte("fx99-ghost,Ghost,ghost@x,Active,31 Feb 2025,,not a date,Never accessed,Never accessed,Never accessed\nshort,row\n")...)
	path := filepath.Join(t.TempDir(), "export-users.csv")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	// The token comes from the environment, as the README advises.
	stdout, stderr, err := runScan(t, map[string]string{"SEATLENS_TOKEN": sitesim.DefaultAdminToken},
		"--site", ts.URL, "--email", sitesim.DefaultAdminEmail, "--activity-csv", path, "--inactive-days", "30", "--progress", "always")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, want := range []string{"activity CSV: line 34", "activity CSV: line 35", "33 accounts, 24 on this site", "scanning: ["} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	var f billing.Findings
	if err := json.Unmarshal([]byte(stdout), &f); err != nil {
		t.Fatal(err)
	}
	if f.Settings.InactiveDays != 30 || f.Sources.Activity == nil || f.Sources.Activity.Kind != billing.ActivityAdminCSV {
		t.Errorf("settings %+v, activity %+v", f.Settings, f.Sources.Activity)
	}
}
