package billing_test

import (
	"strings"
	"testing"

	"github.com/seatlens/seatlens/app/billing"
)

// FuzzParseSettings: whatever a person writes into the settings file, the
// parser answers with valid settings or an error, never a panic, and the
// engine accepts whatever it accepted.
func FuzzParseSettings(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"inactiveDays":90,"manualHolds":[{"accountId":"a","products":[],"reason":"r","expires":"2027-01-31"}],"integrationUsers":[{"accountId":"b","note":"n"}],"seatPrices":{"jira-software":8.6}}`,
		`{"manualHolds":[{"accountId":"a","expires":"2027-01-31T00:00:00+02:00"}]}`,
		`{"seatPrices":{"confluence":1e308}}`,
		`{"inactiveDays":-1}`, `[`, `null`,
	} {
		f.Add(seed)
	}
	snap := newSnap(true).group("g", bp(false), nil, g(jsw, billing.RoleUser)).person("a", in("g")).person("b", in("g")).snap
	f.Fuzz(func(t *testing.T, in string) {
		s, err := billing.ParseSettings(strings.NewReader(in))
		if err != nil {
			return
		}
		if s.InactiveDays < 1 || s.InactiveDays > 3650 {
			t.Fatalf("accepted inactiveDays %d", s.InactiveDays)
		}
		if _, err := billing.Explain(snap, s); err != nil {
			t.Fatalf("settings the parser accepted are refused by the engine: %v", err)
		}
	})
}
