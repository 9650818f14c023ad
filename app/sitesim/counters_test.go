package sitesim

import (
	"net/http"
	"testing"
	"time"
)

// TestCountersAddUp makes a known mix of calls (three credential kinds,
// an anonymous one, unrouted paths, 429s and injected faults) and checks
// the counters match what the client saw, call for call.
func TestCountersAddUp(t *testing.T) {
	clk := newTestClock()
	ts := newTestSite(t, SizedScenario(300, 3), Options{Now: clk.Now,
		Limits: RateLimits{Enabled: true, PointsPerHour: 200},
		Faults: Faults{ErrorRate: 0.1, Seed: 7}})
	ts.installConnectApp("ADMIN")
	creds := []cred{basicCred(), clockConnect(clk, testAppKey, testSecret), forgeCred("forge", true, forgeScopes, time.Hour), noCred()}
	kinds := []string{CredAPI, CredConnect, CredForge, CredNone}
	calls := []struct{ path, query string }{
		{"/rest/api/3/group/member", q("groupId", GroupSoftwareUsers, "maxResults", "8")},
		{"/rest/api/3/myself", ""},
		{"/rest/api/3/user/groups", q("accountId", bob)},
		{"/rest/api/3/no/such/path", ""},
	}
	made, limited, faults := map[string]int{}, 0, 0
	points := map[string]int{}
	for round := range 30 {
		for i, c := range creds {
			for _, call := range calls {
				before := ts.srv.Usage().Total.Points
				res := ts.do(c, http.MethodGet, call.path, call.query, "")
				made[kinds[i]]++
				points[kinds[i]] += ts.srv.Usage().Total.Points - before
				switch {
				case res.status == http.StatusTooManyRequests:
					limited++
				case res.status == 500 || res.status == 503:
					faults++
				}
			}
		}
		if round%10 == 9 {
			clk.Advance(time.Second) // let the buckets refill now and then
		}
	}
	u := ts.srv.Usage()
	total := 0
	for _, n := range made {
		total += n
	}
	if u.Total.Calls != total || len(ts.srv.Requests()) != total {
		t.Errorf("counted %d calls, logged %d, made %d", u.Total.Calls, len(ts.srv.Requests()), total)
	}
	if u.Total.Limited != limited || limited == 0 {
		t.Errorf("counted %d 429s, saw %d (the mix must hit the pool)", u.Total.Limited, limited)
	}
	if u.Total.Faults != faults || faults == 0 {
		t.Errorf("counted %d faults, saw %d", u.Total.Faults, faults)
	}
	var sum Counts
	for _, c := range u.By {
		sum.add(c)
	}
	if sum != u.Total {
		t.Errorf("per-(operation, credential) counts sum to %+v, total is %+v", sum, u.Total)
	}
	for _, k := range kinds {
		if got := u.Credential(k); got.Calls != made[k] || got.Points != points[k] {
			t.Errorf("%s: counted %+v, made %d calls costing %d points", k, got, made[k], points[k])
		}
	}
	if p := u.Credential(CredAPI).Points + u.Credential(CredNone).Points; p != 0 {
		t.Errorf("API-token and anonymous calls drew %d points", p)
	}
	if got := u.Operation("").Calls; got != 4*30 {
		t.Errorf("unrouted calls: %d, want %d", got, 4*30)
	}
	if got := u.Credential(CredConnect).Points + u.Credential(CredForge).Points; got != 200-ts.srv.PoolRemaining() && ts.srv.PoolRemaining() != 0 {
		t.Errorf("apps spent %d points, the pool lost %d", got, 200-ts.srv.PoolRemaining())
	}
	ts.srv.ResetUsage()
	if u := ts.srv.Usage(); u.Total != (Counts{}) || len(u.By) != 0 {
		t.Errorf("after ResetUsage: %+v", u)
	}
}
