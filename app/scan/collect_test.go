package scan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/atlassian"
	"github.com/seatlens/seatlens/app/atlassian/admincsv"
	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/billing/billingtest"
	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/app/sitesim"
)

var (
	fixtureScannedAt = billingtest.FixtureScannedAt
	fixtureDir       = billingtest.FixtureDir()
	loadFixture      = billingtest.FixtureScenario
	fixtureSettings  = billingtest.FixtureSettings
)

type sim struct {
	srv *sitesim.Server
	ts  *httptest.Server
}

func startSim(t testing.TB, sc sitesim.Scenario, o sitesim.Options) *sim {
	t.Helper()
	site, err := sitesim.NewSite(sc)
	if err != nil {
		t.Fatal(err)
	}
	o.AdminEmail, o.AdminToken = sitesim.DefaultAdminEmail, sitesim.DefaultAdminToken
	srv, err := sitesim.New(site, o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &sim{srv: srv, ts: ts}
}

// source builds the clients a new user would: an API token for Jira and,
// when withKey, the org key.
func (s *sim) source(t testing.TB, withKey bool) scan.Source {
	t.Helper()
	jira, err := atlassian.New(nil, s.ts.URL, atlassian.Basic(sitesim.DefaultAdminEmail, sitesim.DefaultAdminToken), atlassian.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := scan.Source{SiteURL: s.ts.URL, Jira: jira, JiraAdmin: jira, Now: func() time.Time { return fixtureScannedAt }}
	if withKey {
		org, err := atlassian.New(nil, s.ts.URL, atlassian.Bearer(sitesim.DefaultOrgKey), atlassian.Options{})
		if err != nil {
			t.Fatal(err)
		}
		src.Org, src.OrgID = org, sitesim.DefaultOrgID
	}
	return src
}

func applyFixtureCSV(t testing.TB, snap *billing.Snapshot) scan.ActivityReport {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtureDir, "activity.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	exp, err := admincsv.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := scan.ApplyActivityCSV(snap, exp, fixtureScannedAt, "activity.csv")
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestScanFixtureMatchesEngineGolden scans the simulated fixture site over
// HTTP, as `seatlens scan` does, and requires the very findings document
// the engine's golden files hold for that site (site URL aside): the
// collector sees what the engine's tests assume it sees.
func TestScanFixtureMatchesEngineGolden(t *testing.T) {
	sc := loadFixture(t)
	s := startSim(t, sc, sitesim.Options{})
	// The same site behind an Organizations API that refuses more than 20
	// requests a second (429 with X-RateLimit-Reset, no Retry-After): the
	// scan waits for the reset and gets the same findings.
	limited := startSim(t, sc, sitesim.Options{OrgRateLimit: 20})
	settings := fixtureSettings(t)
	for _, tc := range []struct {
		name   string
		key    bool
		golden string
		site   *sim
	}{
		{"with org key", true, "fixture-org.golden.json", s},
		{"without org key", false, "fixture-keyless.golden.json", s},
		{"with org key, Org API rate limited", true, "fixture-org.golden.json", limited},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap, err := scan.Collect(context.Background(), tc.site.source(t, tc.key))
			if err != nil {
				t.Fatal(err)
			}
			if !tc.key {
				rep := applyFixtureCSV(t, snap)
				if rep.Matched == 0 || len(rep.Problems) != 0 {
					t.Fatalf("CSV report %+v", rep)
				}
			}
			f, err := billing.Explain(snap, settings)
			if err != nil {
				t.Fatal(err)
			}
			f.Site = billing.SiteInfo{URL: "https://fixture.atlassian.net"}
			got, _ := json.MarshalIndent(f, "", "  ")
			want, err := os.ReadFile(filepath.Join(billingtest.GoldenDir(), tc.golden))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(append(got, '\n'), want) {
				diffJSON(t, want, got)
			}
			if tc.site == limited && limited.srv.Usage().Total.Limited == 0 {
				t.Fatal("the Org API's rate limit never refused a call: the case proves nothing")
			}
			if tc.site == limited {
				t.Logf("usage %+v", limited.srv.Usage().Total)
			}
		})
	}
}

// diffJSON names the first users and top-level fields that differ.
func diffJSON(t *testing.T, want, got []byte) {
	t.Helper()
	var w, g map[string]json.RawMessage
	_ = json.Unmarshal(want, &w)
	_ = json.Unmarshal(got, &g)
	for k := range w {
		if !bytes.Equal(compact(w[k]), compact(g[k])) && k != "users" {
			t.Errorf("field %s differs:\n got  %s\n want %s", k, compact(g[k]), compact(w[k]))
		}
	}
	var wu, gu []json.RawMessage
	_ = json.Unmarshal(w["users"], &wu)
	_ = json.Unmarshal(g["users"], &gu)
	shown := 0
	for i := 0; i < max(len(wu), len(gu)) && shown < 5; i++ {
		var a, b []byte
		if i < len(wu) {
			a = compact(wu[i])
		}
		if i < len(gu) {
			b = compact(gu[i])
		}
		if !bytes.Equal(a, b) {
			t.Errorf("user %d differs:\n got  %s\n want %s", i, b, a)
			shown++
		}
	}
	if shown == 0 {
		t.Error("documents differ")
	}
}

func compact(b []byte) []byte {
	var out bytes.Buffer
	_ = json.Compact(&out, b)
	return out.Bytes()
}
