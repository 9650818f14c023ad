package sitesim

import (
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestConcurrentUse hammers one site with reads, membership changes, IdP
// syncs and app installs at once: under -race it proves every handler
// takes the Site's lock, and the site ends consistent.
func TestConcurrentUse(t *testing.T) {
	sc := SizedScenario(300, 3)
	ts := newTestSite(t, sc, Options{Modes: Modes{SyncedRemoval: SyncedRemovalUndone}})
	forge := forgeCred("forge", true, forgeScopes, time.Hour)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for range 15 {
				for _, r := range [][2]string{
					{"/rest/api/3/group/member", q("groupId", GroupSoftwareUsers, "includeInactiveUsers", "true")},
					{"/rest/api/3/applicationrole", ""},
					{"/rest/api/3/users/search", q("maxResults", "1000")},
					{"/rest/api/3/user", q("accountId", bob, "expand", "groups,applicationRoles")},
					{"/rest/api/3/group/bulk", q("accessType", "user")},
					{"/rest/api/3/license/approximateLicenseCount", ""},
				} {
					if res := ts.do(basicCred(), http.MethodGet, r[0], r[1], ""); res.status != 200 {
						t.Errorf("GET %s: %d", r[0], res.status)
					}
				}
				id := []string{bob, chen, grace, dana}[w]
				ts.removeMember(forge, GroupAllStaff, id)
				ts.addMember(basicCred(), GroupAllStaff, id)
				ts.removeMember(basicCred(), GroupEngineering, id)
				ts.srv.Site().SyncIdP()
				ts.installConnectApp("READ")
			}
		})
	}
	wg.Wait()
	// Whatever happened, the next sync restores the IdP's view.
	ts.srv.Site().SyncIdP()
	var synced tMemberPage
	ts.get("/rest/api/3/group/member", q("groupId", GroupEngineering, "includeInactiveUsers", "true", "maxResults", "50"), 200, &synced)
	want := slices.Clone(sc.Members[GroupEngineering])
	slices.Sort(want)
	want = slices.Compact(want)
	if synced.Total != len(want) {
		t.Fatalf("after SyncIdP engineering has %d members, the IdP says %d", synced.Total, len(want))
	}
}
