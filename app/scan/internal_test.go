package scan

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/atlassian"
	"github.com/seatlens/seatlens/app/billing"
)

// A scan cancelled with calls still queued must not look complete.
func TestPoolCancelledIsAnError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := newPool(ctx, 1)
	var ran atomic.Int32
	started := make(chan struct{})
	p.submit(func(ctx context.Context) error {
		ran.Add(1)
		close(started)
		<-ctx.Done() // a call that ends with the scan, without failing it
		return nil
	})
	for range 5 {
		p.submit(func(context.Context) error { ran.Add(1); return nil })
	}
	<-started
	cancel()
	if err := p.wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait = %v after %d of 6 calls, want context.Canceled", err, ran.Load())
	}
}

func TestPoolFirstErrorWins(t *testing.T) {
	p := newPool(context.Background(), 3)
	boom := errors.New("boom")
	for i := range 20 {
		p.submit(func(ctx context.Context) error {
			if i == 4 {
				return boom
			}
			time.Sleep(time.Millisecond)
			return nil
		})
	}
	if err := p.wait(); !errors.Is(err, boom) {
		t.Fatalf("wait = %v", err)
	}
	if p.submit(func(context.Context) error { return nil }) {
		t.Error("a failed pool accepted more work")
	}
}

// Calls that submit calls are waited for too.
func TestPoolNestedSubmits(t *testing.T) {
	p := newPool(context.Background(), 2)
	var n atomic.Int32
	var spawn func(depth int) func(context.Context) error
	spawn = func(depth int) func(context.Context) error {
		return func(context.Context) error {
			n.Add(1)
			if depth < 6 {
				p.submit(spawn(depth + 1))
				p.submit(spawn(depth + 1))
			}
			return nil
		}
	}
	p.submit(spawn(0))
	if err := p.wait(); err != nil || n.Load() != 127 {
		t.Fatalf("wait = %v, %d calls ran, want 127", err, n.Load())
	}
}

// A productAccess entry is placed by its ARI, else by its key; one that
// cannot be placed makes the account's activity unknown, never "never
// used" (unconfirmed.go).
func TestOrgUserActivityPlacement(t *testing.T) {
	c := &collector{}
	byARI := map[string]string{"ari:cloud:jira-software::site/1": billing.JiraSoftware, "ari:cloud:confluence::site/1": billing.Confluence}
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	ts := atlassian.Timestamp{Time: at}
	cases := []struct {
		name        string
		access      []atlassian.ProductAccess
		lastActive  []string
		unknownSite bool
	}{
		{"by ARI", []atlassian.ProductAccess{{Key: "whatever", ID: "ari:cloud:jira-software::site/1", LastActiveTimestamp: ts}}, []string{billing.JiraSoftware}, false},
		{"by key when the id is an instance id", []atlassian.ProductAccess{{Key: "confluence", ID: "0f3a-instance", LastActiveTimestamp: ts}}, []string{billing.Confluence}, false},
		{"another site's product is ignored", []atlassian.ProductAccess{{Key: "jira-software", ID: "ari:cloud:jira-software::site/2", LastActiveTimestamp: ts}}, nil, false},
		{"an unknown product elsewhere is ignored", []atlassian.ProductAccess{{Key: "bitbucket", ID: "ari:cloud:bitbucket::workspace/9", LastActiveTimestamp: ts}}, nil, false},
		{"an unplaceable entry makes activity unknown", []atlassian.ProductAccess{{Key: "jira-xyz", ID: "0f3a-instance", LastActiveTimestamp: ts}}, nil, true},
	}
	for _, tc := range cases {
		u := c.orgUser(atlassian.OrgUser{AccountID: "a", AccountType: "atlassian", Status: "active", ProductAccess: tc.access}, byARI, map[string]bool{})
		var got []string
		for k := range u.LastActive {
			got = append(got, k)
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.lastActive) || (len(u.ActivityUnknown) > 0) != tc.unknownSite {
			t.Errorf("%s: last active on %v, unknown %v", tc.name, got, u.ActivityUnknown)
		}
	}
}
