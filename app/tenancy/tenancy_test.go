package tenancy

import (
	"strings"
	"testing"
)

func TestParseSettings(t *testing.T) {
	set, err := ParseSettings([]byte(`{}`))
	if err != nil || set.InactiveDays != 90 || set.Schedule != "daily" || set.Approvers == nil || set.SeatPrices == nil {
		t.Fatalf("defaults: %+v %v", set, err)
	}
	for _, bad := range []struct{ body, names string }{
		{`{"inactiveDays":0.5}`, "inactiveDays"},
		{`{"schedule":"hourly"}`, "schedule"},
		{`{"approvers":[""]}`, "approvers[0]"},
		{`{"manualHolds":[{"accountId":""}]}`, "manualHolds"},
		{`{"nope":1}`, "nope"},
		{`{} {}`, "more than one"},
	} {
		if _, err := ParseSettings([]byte(bad.body)); err == nil || !strings.Contains(err.Error(), bad.names) {
			t.Errorf("%s: %v, want an error naming %s", bad.body, err, bad.names)
		}
	}
}

func TestValidOrgID(t *testing.T) {
	for id, want := range map[string]bool{
		"5ea71e55-0000-4000-8000-000000000046": true, "": false, "a/b": false, "../x": false, "a b": false,
		"a%2f": false, "a?b": false, strings.Repeat("x", 129): false,
	} {
		if ValidOrgID(id) != want {
			t.Errorf("ValidOrgID(%q) = %v", id, !want)
		}
	}
}
