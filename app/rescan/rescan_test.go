package rescan

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/atlassian"
	"github.com/seatlens/seatlens/store"
	"github.com/seatlens/seatlens/store/storetest"
)

func TestDecodeAuditPush(t *testing.T) {
	ev := `{"id":"e1","attributes":{"time":"2026-12-01T10:00:00Z","action":"user_added_to_group","context":[{"id":"557058:a","type":"users"},{"id":"g1","type":"groups"}]}}`
	for name, body := range map[string]string{"array": "[" + ev + "]", "data": `{"data":[` + ev + `],"links":{}}`, "one": ev} {
		got, err := DecodeAuditPush([]byte(body))
		if err != nil || len(got) != 1 || got[0].ID != "e1" || got[0].Attributes.Action != "user_added_to_group" {
			t.Errorf("%s: %+v %v", name, got, err)
		}
	}
	for name, body := range map[string]string{"empty": "", "not json": "hello", "no id": `{"x":1}`, "bad array": `[1,2]`, "number": "42"} {
		if _, err := DecodeAuditPush([]byte(body)); !errors.Is(err, ErrBadDelivery) {
			t.Errorf("%s: %v, want ErrBadDelivery", name, err)
		}
	}
}

func TestHowCame(t *testing.T) {
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	def := map[string][]string{"jsw-users": {"jira-software"}}
	hint := func(event, group string) []Hint {
		return []Hint{{Cause: CauseAuditLog, Event: event, GroupID: group, At: at.Add(-time.Hour)}}
	}
	cases := []struct {
		name      string
		groups    []string
		direct    bool
		unseen    bool
		hints     []Hint
		how, from string
	}{
		{"default group event", []string{"jsw-users", "eng"}, false, false, hint("user_added_to_group", "jsw-users"), HowDefaultGroup, "jsw-users"},
		{"other group event", []string{"jsw-users", "eng"}, false, false, hint("user_added_to_group", "eng"), HowAddedToGroup, "eng"},
		{"invited", []string{"jsw-users"}, false, true, []Hint{{Cause: CauseWebhook, Event: "user_created", At: at}}, HowInvited, "jsw-users"},
		{"access request", []string{"eng"}, false, false, hint("access_request_approved", ""), HowAccessRequest, ""},
		{"paths only, default", []string{"eng", "jsw-users"}, false, false, nil, HowDefaultGroup, "jsw-users"},
		{"paths only, group", []string{"eng"}, false, false, nil, HowAddedToGroup, "eng"},
		{"direct role", nil, true, false, hint("role_assigned", ""), HowRoleGranted, ""},
	}
	for _, tc := range cases {
		how, group, _, _ := howCame("jira-software", tc.groups, tc.direct, tc.unseen, tc.hints, def, at)
		if how != tc.how || group != tc.from {
			t.Errorf("%s: %s via %q, want %s via %q", tc.name, how, group, tc.how, tc.from)
		}
	}
}

// Audit events name accounts only through actions that can change seats,
// and only with account IDs that look like Atlassian's.
func TestMarkAuditTakesOnlySeatEvents(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	if err := st.PutTenant(ctx, store.Tenant{ClientKey: "t1", SharedSecret: "s", BaseURL: "https://t1.atlassian.net", Installed: true}); err != nil {
		t.Fatal(err)
	}
	in := &Inbox{Store: st}
	ev := func(id, action, account string) atlassian.AuditEvent {
		var e atlassian.AuditEvent
		e.ID = id
		e.Attributes.Action = action
		e.Attributes.Time.Time = time.Now()
		e.Attributes.Context = []atlassian.EventContext{{ID: account, Type: "users"}}
		return e
	}
	events := []atlassian.AuditEvent{
		ev("1", "user_added_to_group", "557058:a"),
		ev("2", "user_logged_in", "557058:b"),
		ev("3", "product_access_granted", "bad id with spaces"),
		ev("4", "user_removed_from_group", "557058:c"),
	}
	n, _, err := in.MarkAudit(ctx, "t1", CauseAuditLog, events, time.Time{})
	if err != nil || n != 2 {
		t.Fatalf("marked %d (%v), want 2", n, err)
	}
	if n, _, _ := in.MarkAudit(ctx, "t1", CauseAuditHook, events, time.Time{}); n != 0 {
		t.Fatalf("the same events again marked %d", n)
	}
	ps, err := in.PendingList(ctx, "t1", 0)
	if err != nil || len(ps) != 2 || ps[0].AccountID != "557058:a" || ps[0].Duplicates != 1 {
		t.Fatalf("pending %+v %v", ps, err)
	}
}
