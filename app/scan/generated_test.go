package scan_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/seatlens/seatlens/app/atlassian"
	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/billing/billingtest"
	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/app/sitesim"
)

// TestCollectGeneratedSites scans generated sites (every case of §6 in
// realistic proportions, several pages per group and per search) over
// HTTP and requires the findings the engine gives for the same scenario
// read straight from the model: the collector neither loses nor invents a
// membership, a role, a flag or a date. Small pages force pagination.
func TestCollectGeneratedSites(t *testing.T) {
	for _, seed := range []uint64{2, 11} {
		sc := sitesim.Generate(900, seed)
		s := startSim(t, sc, sitesim.Options{})
		for _, keyed := range []bool{true, false} {
			src := s.source(t, keyed)
			small := atlassian.Options{PageSize: 7, MaxInFlight: 4}
			src.Jira, _ = atlassian.New(nil, s.ts.URL, atlassian.Basic(sitesim.DefaultAdminEmail, sitesim.DefaultAdminToken), small)
			src.JiraAdmin = src.Jira
			if keyed {
				src.Org, _ = atlassian.New(nil, s.ts.URL, atlassian.Bearer(sitesim.DefaultOrgKey), small)
			}
			src.Concurrency = 4
			snap, err := scan.Collect(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			want := billingtest.SnapshotWithOrg(sc, fixtureScannedAt)
			if !keyed {
				// Without a key and without the admin CSV there is no
				// activity source.
				want = billingtest.SnapshotKeyless(sc, fixtureScannedAt)
				want.Sources.Activity = nil
				for i := range want.Users {
					u := &want.Users[i]
					u.LastActive, u.AddedToOrg, u.ActivityCovered = nil, nil, false
				}
			}
			got := explainJSON(t, snap)
			if exp := explainJSON(t, want); got != exp {
				t.Errorf("seed %d keyed=%v: the scan explains differently from the model", seed, keyed)
				diffJSON(t, []byte(exp), []byte(got))
			}
		}
	}
}

func explainJSON(t *testing.T, snap *billing.Snapshot) string {
	t.Helper()
	f, err := billing.Explain(snap, billing.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	f.Site = billing.SiteInfo{}
	b, _ := json.MarshalIndent(f, "", "  ")
	return string(b) + "\n"
}
