package panel

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestAdminCacheBelievesAnswersForAMinute(t *testing.T) {
	var ac adminCache
	asked := 0
	ask := func(_ context.Context, _, account string) (bool, error) {
		asked++
		if account == "broken" {
			return false, errors.New("jira down")
		}
		return account == "admin", nil
	}
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	for range 3 {
		if ok, err := ac.check(context.Background(), now, "t", "admin", ask); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	if asked != 1 {
		t.Fatalf("asked %d times within a minute", asked)
	}
	if ok, _ := ac.check(context.Background(), now.Add(adminTTL+time.Second), "t", "admin", ask); !ok || asked != 2 {
		t.Fatalf("after a minute: asked %d", asked)
	}
	// Another tenant's same account is asked about separately.
	if ok, _ := ac.check(context.Background(), now, "u", "admin", ask); !ok || asked != 3 {
		t.Fatalf("another tenant: asked %d", asked)
	}
	// A failure is not remembered.
	for range 2 {
		if _, err := ac.check(context.Background(), now, "t", "broken", ask); err == nil {
			t.Fatal("a failed check passed")
		}
	}
	if asked != 5 {
		t.Fatalf("failures cached: asked %d", asked)
	}
	// The cache stays bounded.
	for i := range adminCacheMax + 10 {
		ac.check(context.Background(), now, "t", string(rune('a'+i%26))+time.Duration(i).String(), ask)
	}
	if len(ac.entries) > adminCacheMax {
		t.Fatalf("%d entries", len(ac.entries))
	}
}
