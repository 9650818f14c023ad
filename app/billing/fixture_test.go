package billing_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/seatlens/seatlens/app/billing"
)

type expectedSeat struct {
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

type fixtureOracle struct {
	Settings       json.RawMessage `json:"settings"`
	WithOrgData    []expectedSeat  `json:"withOrgData"`
	WithoutOrgData []expectedSeat  `json:"withoutOrgData"`
}

func loadOracle(t testing.TB) (fixtureOracle, billing.Settings) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir(), "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var o fixtureOracle
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	settings, err := billing.ParseSettings(bytesReader(o.Settings))
	if err != nil {
		t.Fatal(err)
	}
	return o, settings
}

// TestFixtureVerdicts runs the engine over the hand-written fixture site
// and compares every seat with the oracle, verdict for verdict and reason
// for reason, with and without an org key.
func TestFixtureVerdicts(t *testing.T) {
	sc := loadFixtureScenario(t)
	oracle, settings := loadOracle(t)
	for _, tc := range []struct {
		name string
		snap *billing.Snapshot
		want []expectedSeat
	}{
		{"withOrgData", snapshotWithOrg(sc, fixtureScannedAt), oracle.WithOrgData},
		{"withoutOrgData", snapshotKeyless(sc, fixtureScannedAt), oracle.WithoutOrgData},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := billing.Explain(tc.snap, settings)
			if err != nil {
				t.Fatal(err)
			}
			compareWithOracle(t, f, tc.want)
		})
	}
}

func compareWithOracle(t *testing.T, f *billing.Findings, want []expectedSeat) {
	t.Helper()
	got := map[[2]string]billing.Seat{}
	for _, u := range f.Users {
		for _, s := range u.Seats {
			got[[2]string{u.AccountID, s.Product}] = s
		}
	}
	for _, w := range want {
		key := [2]string{w.AccountID, w.Product}
		s, ok := got[key]
		if !ok {
			t.Errorf("%s %s: seat missing (%s)", w.AccountID, w.Product, w.Rule)
			continue
		}
		delete(got, key)
		var plan []string
		for _, p := range s.Plan {
			plan = append(plan, p.GroupName)
		}
		if s.Role != w.Role || s.Billable != w.Billable || s.Verdict != w.Verdict ||
			!slices.Equal(codes(s.Reasons), w.Reasons) || !slices.Equal(warningCodes(s.Warnings), w.Warnings) ||
			!slices.Equal(nz(plan), nz(w.Plan)) || !slices.Equal(nz(s.Collateral), nz(w.Collateral)) {
			t.Errorf("%s %s (%s; %s):\n got  role=%s billable=%v %s %v warnings=%v plan=%v collateral=%v\n want role=%s billable=%v %s %v warnings=%v plan=%v collateral=%v",
				w.AccountID, w.Product, w.Rule, w.Note,
				s.Role, s.Billable, s.Verdict, codes(s.Reasons), warningCodes(s.Warnings), plan, s.Collateral,
				w.Role, w.Billable, w.Verdict, w.Reasons, w.Warnings, w.Plan, w.Collateral)
		}
	}
	for k, s := range got {
		t.Errorf("%s %s: unexpected seat %s %v", k[0], k[1], s.Verdict, codes(s.Reasons))
	}
}

func codes(rs []billing.Reason) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Code)
	}
	return out
}

func warningCodes(ws []billing.Warning) []string {
	out := []string{}
	for _, w := range ws {
		out = append(out, w.Code)
	}
	return out
}

func nz(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
