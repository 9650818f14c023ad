package billing_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/billing/billingtest"
	"github.com/seatlens/seatlens/app/sitesim"
)

var fixtureScannedAt = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

func fixtureDir() string { return filepath.Join("..", "sitesim", "testdata", "fixture") }

func loadFixtureScenario(t testing.TB) sitesim.Scenario {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtureDir(), "site.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc, err := sitesim.LoadScenario(f)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func snapshotWithOrg(sc sitesim.Scenario, at time.Time) *billing.Snapshot {
	return billingtest.SnapshotWithOrg(sc, at)
}

func snapshotKeyless(sc sitesim.Scenario, at time.Time) *billing.Snapshot {
	return billingtest.SnapshotKeyless(sc, at)
}
