package billing_test

import (
	"time"

	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/billing/billingtest"
	"github.com/seatlens/seatlens/app/sitesim"
)

var (
	fixtureScannedAt    = billingtest.FixtureScannedAt
	fixtureDir          = billingtest.FixtureDir
	loadFixtureScenario = billingtest.FixtureScenario
)

func snapshotWithOrg(sc sitesim.Scenario, at time.Time) *billing.Snapshot {
	return billingtest.SnapshotWithOrg(sc, at)
}

func snapshotKeyless(sc sitesim.Scenario, at time.Time) *billing.Snapshot {
	return billingtest.SnapshotKeyless(sc, at)
}
