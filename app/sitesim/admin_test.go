package sitesim

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestAdminAPIErrors: unknown things are 404, bad input 400, as JSON.
func TestAdminAPIErrors(t *testing.T) {
	ts := defaultSite(t)
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{http.MethodPost, "/sim/admin/groups/nope/members", `{"accountId":"` + chen + `"}`, 404},
		{http.MethodPost, "/sim/admin/groups/" + GroupAllStaff + "/members", `{"accountId":"nobody"}`, 404},
		{http.MethodPost, "/sim/admin/groups/" + GroupAllStaff + "/members", `{"accountId":"` + bob + `"}`, 400},
		{http.MethodPost, "/sim/admin/groups/" + GroupAllStaff + "/members", `{`, 400},
		{http.MethodDelete, "/sim/admin/groups/" + GroupAllStaff + "/members/" + chen, "", 400},
		{http.MethodDelete, "/sim/admin/users/nobody", "", 404},
		{http.MethodPost, "/sim/admin/users", `{"email":"x@example.org"}`, 400},
		{http.MethodPost, "/sim/admin/users", `{"accountId":"` + bob + `","displayName":"B"}`, 400},
		{http.MethodPost, "/sim/admin/activity", `{"accountId":"` + bob + `","product":"nope"}`, 404},
		{http.MethodGet, "/sim/admin/users", "", 404},
	} {
		code, body := ts.admin(c.method, c.path, c.body)
		var e struct{ Message string }
		if code != c.want || json.Unmarshal([]byte(body), &e) != nil || e.Message == "" {
			t.Errorf("%s %s: %d %s, want %d with a message", c.method, c.path, code, body, c.want)
		}
	}
	at := "2026-01-02T03:04:05Z"
	if code, body := ts.admin(http.MethodPost, "/sim/admin/activity", `{"accountId":"`+bob+`","product":"`+JiraSoftware+`","at":"`+at+`"}`); code != http.StatusNoContent {
		t.Fatalf("activity: %d %s", code, body)
	}
	ts.srv.site.mu.RLock()
	got := ts.srv.site.users[bob].LastActive[JiraSoftware]
	ts.srv.site.mu.RUnlock()
	if got.Format(time.RFC3339) != at {
		t.Fatalf("lastActive %v, want %s", got, at)
	}
}
