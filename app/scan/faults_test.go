package scan_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/atlassian"
	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/billing/billingtest"
	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/app/sitesim"
)

// TestCollectSurvivesServerErrors: a site answering a third of its calls
// with 500 or 503 still gives the complete scan (every read is retried),
// and the retries are counted, not hidden.
func TestCollectSurvivesServerErrors(t *testing.T) {
	s := startSim(t, loadFixture(t), sitesim.Options{Faults: sitesim.Faults{ErrorRate: 0.3, Seed: 9}})
	fast := atlassian.Options{BackoffBase: time.Millisecond, MaxRetries: 8}
	jira, err := atlassian.New(nil, s.ts.URL, atlassian.Basic(sitesim.DefaultAdminEmail, sitesim.DefaultAdminToken), fast)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := scan.Collect(context.Background(), scan.Source{SiteURL: s.ts.URL, Jira: jira, JiraAdmin: jira, Now: func() time.Time { return fixtureScannedAt }})
	if err != nil {
		t.Fatal(err)
	}
	applyFixtureCSV(t, snap)
	f, err := billing.Explain(snap, fixtureSettings(t))
	if err != nil {
		t.Fatal(err)
	}
	f.Site = billing.SiteInfo{URL: "https://fixture.atlassian.net"}
	got, _ := json.MarshalIndent(f, "", "  ")
	want, err := os.ReadFile(filepath.Join(billingtest.GoldenDir(), "fixture-keyless.golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got)+"\n" != string(want) {
		t.Error("a scan through server errors differs from the golden findings")
	}
	st := jira.Stats().Total
	if st.Retries == 0 || st.ServerErrors == 0 || s.srv.Usage().Total.Faults != st.ServerErrors {
		t.Errorf("retries %d, server errors %d; the site injected %d", st.Retries, st.ServerErrors, s.srv.Usage().Total.Faults)
	}
}
