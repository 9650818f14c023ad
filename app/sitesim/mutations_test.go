package sitesim

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// seen is what the read endpoints say about one account, group and
// product, so a mutation can be checked everywhere it must show.
type seen struct {
	inGroup       bool // group/member of the group
	inUserGroups  bool // user/groups
	inExpanded    bool // user?expand=groups
	groupsSize    int  // user (unexpanded) groups.size
	userCount     int  // applicationrole/{key}.userCount
	remaining     int
	approxLicense string // approximateLicenseCount/product/{key}
}

// look reads seen through the REST API with the API token.
func (ts *testSite) look(accountID, groupID, product string) seen {
	ts.t.Helper()
	var s seen
	var page tMemberPage
	ts.get("/rest/api/3/group/member", q("groupId", groupID, "includeInactiveUsers", "true"), 200, &page)
	s.inGroup = slices.Contains(page.members(), accountID)
	var gs []tGroupName
	ts.get("/rest/api/3/user/groups", q("accountId", accountID), 200, &gs)
	s.inUserGroups = slices.ContainsFunc(gs, func(g tGroupName) bool { return g.GroupID == groupID })
	var u tUser
	ts.get("/rest/api/3/user", q("accountId", accountID, "expand", "groups"), 200, &u)
	s.inExpanded = slices.ContainsFunc(u.Groups.Items, func(g tGroupName) bool { return g.GroupID == groupID })
	var plain tUser
	ts.get("/rest/api/3/user", q("accountId", accountID), 200, &plain)
	s.groupsSize = plain.Groups.Size
	if len(plain.Groups.Items) != 0 {
		ts.t.Fatalf("unexpanded groups carry items: %+v", plain.Groups)
	}
	var r tRole
	ts.get("/rest/api/3/applicationrole/"+product, "", 200, &r)
	s.userCount, s.remaining = r.UserCount, r.RemainingSeats
	var m struct{ Value string }
	ts.get("/rest/api/3/license/approximateLicenseCount/product/"+product, "", 200, &m)
	s.approxLicense = m.Value
	return s
}

func (ts *testSite) addMember(c cred, groupID, accountID string) response {
	ts.t.Helper()
	return ts.do(c, http.MethodPost, "/rest/api/3/group/user", q("groupId", groupID), `{"accountId":"`+accountID+`"}`)
}

func (ts *testSite) removeMember(c cred, groupID, accountID string) response {
	ts.t.Helper()
	return ts.do(c, http.MethodDelete, "/rest/api/3/group/user", q("groupId", groupID, "accountId", accountID), "")
}

// TestMutationsVisible: a removal and a re-add through group/user show in
// group/member, user?expand=groups, user/groups, the application role's
// userCount and the licence count — all computed from one site.
func TestMutationsVisible(t *testing.T) {
	ts := defaultSite(t)
	before := ts.look(grace, GroupSoftwareUsers, JiraSoftware)
	want := seen{inGroup: true, inUserGroups: true, inExpanded: true, groupsSize: 2, userCount: 5, remaining: 5, approxLicense: "5"}
	if before != want {
		t.Fatalf("before: %+v, want %+v", before, want)
	}
	if res := ts.removeMember(basicCred(), GroupSoftwareUsers, grace); res.status != 200 || len(res.body) != 0 {
		t.Fatalf("DELETE = %d %q", res.status, res.body)
	}
	// Grace held Jira Software only through jira-software-users.
	after := ts.look(grace, GroupSoftwareUsers, JiraSoftware)
	want = seen{groupsSize: 1, userCount: 4, remaining: 6, approxLicense: "4"}
	if after != want {
		t.Fatalf("after DELETE: %+v, want %+v", after, want)
	}
	var roles []tRole
	ts.get("/rest/api/3/applicationrole", "", 200, &roles)
	if i := slices.IndexFunc(roles, func(r tRole) bool { return r.Key == JiraSoftware }); i < 0 || roles[i].UserCount != 4 {
		t.Fatalf("applicationrole list disagrees: %+v", roles)
	}
	if res := ts.removeMember(basicCred(), GroupSoftwareUsers, grace); res.status != 400 {
		t.Fatalf("second DELETE = %d %s, want 400 (not a member)", res.status, res.body)
	}

	res := ts.addMember(basicCred(), GroupSoftwareUsers, grace)
	if res.status != 201 {
		t.Fatalf("POST = %d %s", res.status, res.body)
	}
	var g struct {
		GroupID string
		Users   struct {
			Size  int
			Items []tUser
		}
	}
	res.json(t, &g)
	if g.GroupID != GroupSoftwareUsers || !slices.ContainsFunc(g.Users.Items, func(u tUser) bool { return u.AccountID == grace }) {
		t.Fatalf("POST answered %s", res.body)
	}
	if again := ts.look(grace, GroupSoftwareUsers, JiraSoftware); again != before {
		t.Fatalf("after re-add: %+v, want %+v", again, before)
	}
	if res := ts.addMember(basicCred(), GroupSoftwareUsers, grace); res.status != 400 {
		t.Fatalf("second POST = %d %s, want 400 (already a member)", res.status, res.body)
	}
}

// TestSeatLimit fills Jira Service Management (3 seats, 2 used) and checks
// that one more seat is refused and changes nothing, while additions that
// cost no seat still pass.
func TestSeatLimit(t *testing.T) {
	ts := defaultSite(t)
	if res := ts.addMember(basicCred(), GroupAgents, bob); res.status != 201 {
		t.Fatalf("third agent: %d %s", res.status, res.body)
	}
	full := ts.look(chen, GroupAgents, JiraServiceDesk)
	if full.userCount != 3 || full.remaining != 0 {
		t.Fatalf("not full: %+v", full)
	}
	res := ts.addMember(basicCred(), GroupAgents, chen)
	var e tError
	res.json(t, &e)
	if res.status != errSeatLimit("").Status || len(e.ErrorMessages) != 1 || e.ErrorMessages[0] != errSeatLimit("Jira Service Management").ErrorMessages[0] {
		t.Fatalf("beyond the limit: %d %s", res.status, res.body)
	}
	if after := ts.look(chen, GroupAgents, JiraServiceDesk); after != full {
		t.Fatalf("a refused addition changed the site: %+v, was %+v", after, full)
	}
	// No new seat: Alice holds JSM already (jira-administrators), the app
	// and the inactive account never count.
	for _, id := range []string{alice, autoApp, frank} {
		if res := ts.addMember(basicCred(), GroupAgents, id); res.status != 201 {
			t.Fatalf("adding %s (no new seat): %d %s", id, res.status, res.body)
		}
	}
	if after := ts.look(chen, GroupAgents, JiraServiceDesk); after.userCount != 3 {
		t.Fatalf("seat-free additions changed the count: %+v", after)
	}
	// A freed seat can be taken again.
	if res := ts.removeMember(basicCred(), GroupAgents, bob); res.status != 200 {
		t.Fatalf("free a seat: %d %s", res.status, res.body)
	}
	if res := ts.addMember(basicCred(), GroupAgents, chen); res.status != 201 {
		t.Fatalf("take the freed seat: %d %s", res.status, res.body)
	}
}

// TestSyncedRemovalRefused is mode (a): the removal is refused with Jira's
// envelope and nothing changes; adding to a synced group is refused too.
func TestSyncedRemovalRefused(t *testing.T) {
	ts := newTestSite(t, DefaultScenario(), Options{Modes: Modes{SyncedRemoval: SyncedRemovalRefused}})
	before := ts.look(bob, GroupEngineering, JiraSoftware)
	res := ts.removeMember(basicCred(), GroupEngineering, bob)
	var e tError
	res.json(t, &e)
	if res.status != 400 || len(e.ErrorMessages) != 1 || e.Errors == nil {
		t.Fatalf("synced removal: %d %s", res.status, res.body)
	}
	if after := ts.look(bob, GroupEngineering, JiraSoftware); after != before || !after.inGroup {
		t.Fatalf("refused removal changed the site: %+v, was %+v", after, before)
	}
	if res := ts.addMember(basicCred(), GroupEngineering, grace); res.status != 400 {
		t.Fatalf("adding to a synced group: %d %s", res.status, res.body)
	}
}

// TestSyncedRemovalUndone is mode (b): the removal succeeds and shows, the
// next IdP sync restores it; adding to a synced group is still refused.
func TestSyncedRemovalUndone(t *testing.T) {
	ts := newTestSite(t, DefaultScenario(), Options{Modes: Modes{SyncedRemoval: SyncedRemovalUndone}})
	before := ts.look(chen, GroupEngineering, JiraSoftware)
	if res := ts.removeMember(basicCred(), GroupEngineering, chen); res.status != 200 {
		t.Fatalf("synced removal: %d %s", res.status, res.body)
	}
	// Chen held Jira Software only through engineering.
	removed := ts.look(chen, GroupEngineering, JiraSoftware)
	if removed.inGroup || removed.inUserGroups || removed.userCount != before.userCount-1 {
		t.Fatalf("removal not visible: %+v (before %+v)", removed, before)
	}
	if res := ts.addMember(basicCred(), GroupEngineering, grace); res.status != 400 {
		t.Fatalf("adding to a synced group: %d %s", res.status, res.body)
	}
	ts.srv.Site().SyncIdP()
	if after := ts.look(chen, GroupEngineering, JiraSoftware); after != before {
		t.Fatalf("after SyncIdP: %+v, want %+v", after, before)
	}
}

// TestAppMembershipModes: mode (c) lets the Forge app token change
// membership, mode (d) answers 403 while the API token still may.
func TestAppMembershipModes(t *testing.T) {
	forge := forgeCred("forge", true, forgeScopes, time.Hour)
	t.Run("c allowed", func(t *testing.T) {
		ts := newTestSite(t, DefaultScenario(), Options{Modes: Modes{SyncedRemoval: SyncedRemovalRefused}})
		if res := ts.removeMember(forge, GroupSoftwareUsers, grace); res.status != 200 {
			t.Fatalf("DELETE: %d %s", res.status, res.body)
		}
		if s := ts.look(grace, GroupSoftwareUsers, JiraSoftware); s.inGroup {
			t.Fatalf("removal not visible: %+v", s)
		}
		if res := ts.addMember(forge, GroupSoftwareUsers, grace); res.status != 201 {
			t.Fatalf("POST: %d %s", res.status, res.body)
		}
	})
	t.Run("d refused", func(t *testing.T) {
		ts := newTestSite(t, DefaultScenario(), Options{Modes: Modes{SyncedRemoval: SyncedRemovalRefused, AppMembershipRefused: true}})
		for _, res := range []response{ts.removeMember(forge, GroupSoftwareUsers, grace), ts.addMember(forge, GroupAllStaff, chen)} {
			var e tError
			res.json(t, &e)
			if res.status != 403 || len(e.ErrorMessages) != 1 || e.ErrorMessages[0] != errNotSiteAdmin().ErrorMessages[0] {
				t.Fatalf("%s: %d %s", res.req.Method, res.status, res.body)
			}
		}
		if s := ts.look(grace, GroupSoftwareUsers, JiraSoftware); !s.inGroup {
			t.Fatalf("a refused removal changed the site: %+v", s)
		}
		if res := ts.removeMember(basicCred(), GroupSoftwareUsers, grace); res.status != 200 {
			t.Fatalf("the API token is a site admin in mode (d) too: %d %s", res.status, res.body)
		}
	})
}
