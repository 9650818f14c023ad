package atlassian

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/sitesim"
)

// The simulated org's audit log, walked from a time, page by page, in
// order, to its end.
func TestEventsSinceWalksTheStream(t *testing.T) {
	s := startSim(t, sitesim.DefaultScenario(), sitesim.Options{}, nil)
	jira := s.jira(t, Options{})
	ctx := context.Background()
	start := time.Now().Add(-time.Second)
	for _, g := range []string{sitesim.GroupSoftwareUsers, sitesim.GroupAgents, sitesim.GroupDiscovery} {
		if err := jira.AddGroupMember(ctx, g, "5b10a2844c20165700ede203"); err != nil {
			t.Fatal(err)
		}
	}
	org := s.org(t, Options{PageSize: 2})
	var got []AuditEvent
	pages := 0
	err := org.EventsSince(ctx, sitesim.DefaultOrgID, start, func(page []AuditEvent) error {
		pages++
		got = append(got, page...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Each add is a membership event, and a product-access event when it
	// gave a product the account did not hold.
	memberships, ids := 0, map[string]bool{}
	for _, e := range got {
		if e.Attributes.Action == "user_added_to_group" {
			memberships++
		}
		ids[e.ID] = true
	}
	if memberships != 3 || len(ids) != len(got) || pages != (len(got)+1)/2 {
		t.Fatalf("%d events (%d memberships, %d ids) in %d pages of 2", len(got), memberships, len(ids), pages)
	}
	for i, e := range got {
		if e.ID == "" || e.Attributes.Time.IsZero() || e.Attributes.Action == "" {
			t.Fatalf("event %d: %+v", i, e)
		}
		if i > 0 && e.Attributes.Time.Before(got[i-1].Attributes.Time.Time) {
			t.Fatal("events out of order")
		}
		users := 0
		for _, c := range e.Attributes.Context {
			if c.Type == "users" && c.ID == "5b10a2844c20165700ede203" {
				users++
			}
		}
		if users != 1 {
			t.Fatalf("event %d names the account %d times: %+v", i, users, e.Attributes.Context)
		}
	}
}

// A stream that answers the same page under new links, or sends its
// next link elsewhere, is refused; one whose tip is an empty page with a
// next link (the cursor kept for the next poll) ends without an error.
func TestEventsSinceSurvivesAHostileStream(t *testing.T) {
	page := func(next string) string {
		return `{"data":[{"id":"e1","type":"events","attributes":{"time":"2026-12-01T10:00:00Z","action":"user_added_to_group","context":[{"id":"557058:a","type":"users"}]},"links":{"self":"x"}}],"links":{"next":` + next + `}}`
	}
	cases := []struct {
		name, wantErr string
		serve         func(n int, w http.ResponseWriter, r *http.Request)
	}{
		{"repeats itself", "repeats itself", func(n int, w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, page(fmt.Sprintf(`"c%d"`, n)))
		}},
		{"next link elsewhere", "not followed", func(n int, w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, page(`"https://evil.example/admin/v1/orgs/o/events-stream?cursor=x"`))
		}},
		{"tip with a cursor", "", func(n int, w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("cursor") != "" {
				fmt.Fprint(w, `{"data":[],"links":{"next":"keep-me"}}`)
				return
			}
			fmt.Fprint(w, page(`"c1"`))
		}},
		{"data null", "data", func(n int, w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"data":null}`)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n++
				w.Header().Set("Content-Type", "application/json")
				tc.serve(n, w, r)
			}))
			defer ts.Close()
			c := mustClient(t, ts.URL, Bearer("k"), Options{MaxRetries: -1})
			events := 0
			err := c.EventsSince(context.Background(), "o", time.Now(), func(p []AuditEvent) error { events += len(p); return nil })
			if tc.wantErr == "" {
				if err != nil || events != 1 {
					t.Fatalf("err %v, %d events", err, events)
				}
				return
			}
			var se *ShapeError
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || (tc.wantErr != "data" && !errors.As(err, &se)) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
			if n > 10 {
				t.Fatalf("%d requests before giving up", n)
			}
		})
	}
}
