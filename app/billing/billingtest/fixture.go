package billingtest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/sitesim"
)

// FixtureScannedAt is the instant the fixture's oracle was written for.
var FixtureScannedAt = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

// FixtureDir is the simulated site's hand-written fixture
// (app/sitesim/testdata/fixture), found from this file so that tests of
// any package reach it.
func FixtureDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "sitesim", "testdata", "fixture")
}

// GoldenDir holds the engine's golden findings of the fixture.
func GoldenDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata")
}

// FixtureScenario loads the fixture site.
func FixtureScenario(t testing.TB) sitesim.Scenario {
	t.Helper()
	f, err := os.Open(filepath.Join(FixtureDir(), "site.json"))
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

// FixtureSettingsJSON is the settings object of the oracle, as written.
func FixtureSettingsJSON(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(FixtureDir(), "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Settings json.RawMessage `json:"settings"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Settings
}

// FixtureSettings parses the oracle's settings.
func FixtureSettings(t testing.TB) billing.Settings {
	t.Helper()
	s, err := billing.ParseSettings(bytes.NewReader(FixtureSettingsJSON(t)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
