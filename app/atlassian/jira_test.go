package atlassian

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/sitesim"
)

// Accounts of sitesim's default scenario.
const (
	alice = "5b10a2844c20165700ede201" // site admin, the API token's user
	bob   = "5b10a2844c20165700ede202"
	frank = "5b10a2844c20165700ede206" // inactive
)

// forgeScopes are the granular scopes of the reads a scan makes with the
// Forge app token.
var forgeScopes = []string{"read:application-role:jira", "read:group:jira", "read:user:jira", "read:avatar:jira", "read:license:jira", "write:group:jira"}

func TestJiraEndpointsDecode(t *testing.T) {
	s := startSim(t, sitesim.DefaultScenario(), sitesim.Options{}, nil)
	c := s.jira(t, Options{})
	ctx := context.Background()

	roles, err := c.ApplicationRoles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{}
	for _, r := range roles {
		keys = append(keys, r.Key)
		switch r.Key {
		case sitesim.JiraSoftware:
			if len(r.DefaultGroupsDetails) != 1 || r.DefaultGroupsDetails[0].Name != "jira-software-users" ||
				r.DefaultGroupsDetails[0].GroupID != sitesim.GroupSoftwareUsers || r.NumberOfSeats != 10 ||
				r.UserCount == 0 || r.HasUnlimitedSeats {
				t.Errorf("jira-software role %+v", r)
			}
		case sitesim.JiraCore:
			if !r.HasUnlimitedSeats {
				t.Errorf("jira-core role %+v", r)
			}
		}
	}
	slices.Sort(keys)
	if strings.Join(keys, ",") != "jira-core,jira-product-discovery,jira-servicedesk,jira-software" {
		t.Fatalf("roles %v", keys)
	}

	groups, err := c.GroupsBulk(ctx, GroupsBulkQuery{AccessType: AccessUser, ApplicationKey: sitesim.JiraSoftware})
	if err != nil {
		t.Fatal(err)
	}
	if names := groupNames(groups); names != "contractors,engineering,jira-software-users" {
		t.Fatalf("user groups of jira-software: %s", names)
	}
	admins, err := c.GroupsBulk(ctx, GroupsBulkQuery{AccessType: AccessSiteAdmin})
	if err != nil || groupNames(admins) != "site-admins" || admins[0].GroupID != sitesim.GroupSiteAdmins {
		t.Fatalf("site-admin groups %v %v", admins, err)
	}
	named, err := c.GroupsBulk(ctx, GroupsBulkQuery{GroupNames: []string{"all-staff", "contractors"}})
	if err != nil || groupNames(named) != "all-staff,contractors" {
		t.Fatalf("groups by name %v %v", named, err)
	}

	members, err := c.GroupMembers(ctx, sitesim.GroupSoftwareUsers)
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 5 || !slices.ContainsFunc(members, func(u User) bool { return u.AccountID == frank && !u.Active }) {
		t.Fatalf("members (inactive included) %+v", members)
	}

	users, err := c.AllUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != len(s.sc.Users) {
		t.Fatalf("%d users, scenario has %d", len(users), len(s.sc.Users))
	}
	kinds := map[string]int{}
	for _, u := range users {
		kinds[u.AccountType]++
		if u.AccountType == "app" && u.AppType != "service" {
			t.Errorf("app account %+v", u)
		}
	}
	if kinds["atlassian"] != 7 || kinds["app"] != 1 || kinds["customer"] != 1 {
		t.Fatalf("account types %v", kinds)
	}

	lic, err := c.InstanceLicense(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plans := []string{}
	for _, a := range lic.Applications {
		plans = append(plans, a.ID+"="+a.Plan)
	}
	if strings.Join(plans, ",") != "jira-core=PAID,jira-product-discovery=FREE,jira-servicedesk=PAID,jira-software=PAID" {
		t.Fatalf("licence %v", plans)
	}

	me, err := c.Myself(ctx)
	if err != nil || me.AccountID != alice || me.EmailAddress != sitesim.DefaultAdminEmail || !me.Active {
		t.Fatalf("myself %+v %v", me, err)
	}

	u, err := c.User(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	if u.Groups == nil || groupNames(u.Groups.Items) != "all-staff,engineering,jira-software-users" {
		t.Fatalf("bob's groups %+v", u.Groups)
	}

	_, err = c.User(ctx, "no-such-account")
	var ae *APIError
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &ae) || len(ae.Messages) == 0 {
		t.Fatalf("unknown user: %v", err)
	}
}

// TestJiraMembershipChanges removes and re-adds a member through product
// REST, and sees the change through the same client.
func TestJiraMembershipChanges(t *testing.T) {
	s := startSim(t, sitesim.DefaultScenario(), sitesim.Options{}, nil)
	c := s.jira(t, Options{})
	ctx := context.Background()
	if err := c.RemoveGroupMember(ctx, sitesim.GroupAllStaff, bob); err != nil {
		t.Fatal(err)
	}
	if m := memberIDs(t, c, sitesim.GroupAllStaff); m[bob] {
		t.Fatal("bob still in all-staff after removal")
	}
	if err := c.AddGroupMember(ctx, sitesim.GroupAllStaff, bob); err != nil {
		t.Fatal(err)
	}
	if m := memberIDs(t, c, sitesim.GroupAllStaff); !m[bob] {
		t.Fatal("bob not back in all-staff")
	}
	// Removing a non-member is Jira's 400 with its message.
	err := c.RemoveGroupMember(ctx, sitesim.GroupContractors, bob)
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 400 || !strings.Contains(err.Error(), "is not a member") {
		t.Fatalf("removing a non-member: %v", err)
	}
}

// TestJiraPaginationOnALargeSite walks every page of users/search,
// group/member and group/bulk of a generated site and finds every item
// exactly once, in the fewest calls the page size allows.
func TestJiraPaginationOnALargeSite(t *testing.T) {
	sc := sitesim.Generate(2000, 42)
	s := startSim(t, sc, sitesim.Options{}, nil)
	const size = 40
	c := s.jira(t, Options{PageSize: size})
	ctx := context.Background()

	pages := 0
	seen := map[string]int{}
	err := c.EachUser(ctx, func(page []User) error {
		pages++
		if len(page) > size {
			return fmt.Errorf("page of %d", len(page))
		}
		for _, u := range page {
			seen[u.AccountID]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(sc.Users) {
		t.Fatalf("%d distinct users, scenario has %d", len(seen), len(sc.Users))
	}
	for _, u := range sc.Users {
		if seen[u.AccountID] != 1 {
			t.Fatalf("user %s seen %d times", u.AccountID, seen[u.AccountID])
		}
	}
	// A bare array has no total: a full last page costs one empty call.
	if got, want := c.Stats().ByOp["getAllUsers"].Calls, len(sc.Users)/size+1; got != want {
		t.Fatalf("users/search: %d calls, want %d", got, want)
	}

	wantCalls := 0
	for _, g := range sc.Groups {
		want := distinct(sc.Members[g.ID])
		got, err := c.GroupMembers(ctx, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for _, u := range got {
			if ids[u.AccountID] || !want[u.AccountID] {
				t.Fatalf("group %s: member %s duplicated or unexpected", g.Name, u.AccountID)
			}
			ids[u.AccountID] = true
		}
		if len(ids) != len(want) {
			t.Fatalf("group %s: %d members, scenario has %d", g.Name, len(ids), len(want))
		}
		wantCalls += max(1, (len(want)+size-1)/size)
	}
	if got := c.Stats().ByOp["getUsersFromGroup"].Calls; got != wantCalls {
		t.Fatalf("group/member: %d calls, want %d (isLast ends each walk)", got, wantCalls)
	}

	// group/bulk one group a page: every page walked, isLast honoured.
	small := s.jira(t, Options{PageSize: 1})
	for _, app := range []string{sitesim.JiraSoftware, sitesim.JiraProductDisco, sitesim.JiraServiceDesk} {
		got, err := small.GroupsBulk(ctx, GroupsBulkQuery{AccessType: AccessUser, ApplicationKey: app})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, g := range sc.Groups {
			if slices.ContainsFunc(g.Grants, func(gr sitesim.Grant) bool { return gr.Product == app && gr.Role == sitesim.RoleUser }) {
				want = append(want, g.Name)
			}
		}
		slices.Sort(want)
		if groupNames(got) != strings.Join(want, ",") {
			t.Fatalf("%s user groups: %s, want %v", app, groupNames(got), want)
		}
	}

	// The client's counts are the site's.
	u := s.srv.Usage()
	for _, op := range []string{"getAllUsers", "getUsersFromGroup"} {
		if got, want := c.Stats().ByOp[op].Calls, u.Operation(op).Calls; got != want {
			t.Errorf("%s: client counted %d calls, site %d", op, got, want)
		}
	}
	if got, want := small.Stats().ByOp["bulkGetGroups"].Calls, u.Operation("bulkGetGroups").Calls; got != want {
		t.Errorf("bulkGetGroups: client counted %d calls, site %d", got, want)
	}
}

func TestWrongCredentials(t *testing.T) {
	s := startSim(t, sitesim.DefaultScenario(), sitesim.Options{}, nil)
	ctx := context.Background()
	const badToken = "not-the-token-5ecret"
	basic := mustClient(t, s.ts.URL, Basic(sitesim.DefaultAdminEmail, badToken), Options{})
	org := mustClient(t, s.ts.URL, Bearer(badToken), Options{})
	forge := mustClient(t, s.ts.URL+s.srv.APIBasePath(), Bearer(badToken), Options{})
	encoded := base64.StdEncoding.EncodeToString([]byte(sitesim.DefaultAdminEmail + ":" + badToken))

	for _, tc := range []struct {
		name string
		call func() error
		line string
	}{
		{"jira basic", func() error { _, err := basic.GroupMembers(ctx, sitesim.GroupAgents); return err },
			"atlassian: GET /rest/api/3/group/member: 401 Unauthorized: You are not authenticated. Authentication required to perform this operation."},
		{"org key", func() error { _, err := org.Orgs(ctx); return err },
			"atlassian: GET /admin/v1/orgs: 401 Unauthorized: Unauthorized"},
		{"org search", func() error {
			return org.SearchUsers(ctx, sitesim.DefaultOrgID, DirectoryAll, UserSearch{}, func([]OrgUser) error { return nil })
		}, "atlassian: POST /admin/v2/orgs/" + sitesim.DefaultOrgID + "/directories/-/users/search: 401 Unauthorized: The API key is missing, invalid or expired. (ADMIN-401-2)"},
		{"forge token", func() error { _, err := forge.ApplicationRoles(ctx); return err },
			"atlassian: GET /rest/api/3/applicationrole: 401 Unauthorized: Unauthorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("err %v, want ErrUnauthorized", err)
			}
			if err.Error() != tc.line {
				t.Fatalf("Error()\n got %q\nwant %q", err.Error(), tc.line)
			}
			for _, f := range []string{"%v", "%+v", "%#v"} {
				if out := fmt.Sprintf(f, err); strings.Contains(out, badToken) || strings.Contains(out, encoded) {
					t.Fatalf("%s of the error shows the credential: %s", f, out)
				}
			}
			// A 401 is final: no retry, no wait.
			var ae *APIError
			if !errors.As(err, &ae) || ae.Body == "" {
				t.Fatalf("no body kept: %+v", ae)
			}
		})
	}
	if st := basic.Stats().Total; st.Calls != 1 || st.Retries != 0 {
		t.Fatalf("a 401 was retried: %+v", st)
	}
}

// TestCredentialKinds: the SigningTransport plugs in as the http.Client's
// transport with no Authorizer (Connect JWT: group reads allowed,
// applicationrole refused with Jira's 403), and a Forge app token is a
// Bearer on the api mount.
func TestCredentialKinds(t *testing.T) {
	s := startSim(t, sitesim.DefaultScenario(), sitesim.Options{}, nil)
	ctx := context.Background()
	const appKey, clientKey, secret = "io.seatlens.app", "client-key-1", "shared-secret-0123456789abcdef"
	s.srv.RegisterConnectApp(sitesim.ConnectApp{Key: appKey, ClientKey: clientKey, SharedSecret: secret,
		Scopes: []string{"READ", "ADMIN", "ACCESS_EMAIL_ADDRESSES"}, AccountID: "557058:00000000-0000-4000-8000-00000000c0de"})
	tr, err := NewSigningTransport(SigningConfig{AppKey: appKey, ClientKey: clientKey, SharedSecret: secret, BaseURL: s.ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	connect, err := New(&http.Client{Transport: tr}, s.ts.URL, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	groups, err := connect.GroupsBulk(ctx, GroupsBulkQuery{AccessType: AccessUser, ApplicationKey: sitesim.JiraSoftware})
	if err != nil || len(groups) != 3 {
		t.Fatalf("Connect group/bulk: %v %v", groups, err)
	}
	if m, err := connect.GroupMembers(ctx, sitesim.GroupEngineering); err != nil || len(m) != 2 {
		t.Fatalf("Connect group/member: %v %v", m, err)
	}
	_, err = connect.ApplicationRoles(ctx)
	if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "403 Forbidden: Connect apps cannot access this resource") {
		t.Fatalf("Connect applicationrole: %v", err)
	}
	if _, err := connect.AllUsers(ctx); !errors.Is(err, ErrForbidden) {
		t.Fatalf("Connect users/search: %v", err)
	}

	tok := s.srv.IssueAppToken(appKey, "557058:00000000-0000-4000-8000-00000000f04e", forgeScopes, time.Hour)
	forge := mustClient(t, s.ts.URL+s.srv.APIBasePath(), Bearer(tok), Options{})
	roles, err := forge.ApplicationRoles(ctx)
	if err != nil || len(roles) != 4 {
		t.Fatalf("Forge applicationrole: %v %v", roles, err)
	}
	if users, err := forge.AllUsers(ctx); err != nil || len(users) < len(s.sc.Users) {
		t.Fatalf("Forge users/search: %d users, %v", len(users), err)
	}
}

// TestFaultsAreRetriedAndResultsComplete: the site answers a seeded 30%
// of requests with 500 or 503 (Retry-After: 1); every read still returns
// everything, and the client saw exactly the faults the site injected.
func TestFaultsAreRetriedAndResultsComplete(t *testing.T) {
	sc := sitesim.Generate(600, 9)
	s := startSim(t, sc, sitesim.Options{Faults: sitesim.Faults{ErrorRate: 0.3, Seed: 11}}, nil)
	sl := &sleepLog{}
	// Ten retries: the draw is seeded, but a margin keeps the test about
	// the client, not about the seed.
	c := s.jira(t, Options{PageSize: 25, MaxRetries: 10, Sleep: sl.Sleep})
	ctx := context.Background()
	users, err := c.AllUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != len(sc.Users) {
		t.Fatalf("%d users, scenario has %d", len(users), len(sc.Users))
	}
	for _, g := range []string{sitesim.GroupSoftwareUsers, sitesim.GroupEngineering, sitesim.GroupConfluenceUsers} {
		got, err := c.GroupMembers(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(distinct(sc.Members[g])) {
			t.Fatalf("group %s: %d members, scenario has %d", g, len(got), len(distinct(sc.Members[g])))
		}
	}
	st, site := c.Stats().Total, s.srv.Usage().Total
	if st.ServerErrors == 0 || st.ServerErrors != site.Faults || st.Retries != site.Faults || st.Calls != site.Calls {
		t.Fatalf("client %+v, site %+v", st, site)
	}
	if len(sl.Waits()) != st.Retries {
		t.Fatalf("%d waits for %d retries", len(sl.Waits()), st.Retries)
	}
	for _, w := range sl.Waits() {
		if w < time.Second { // 503s carry Retry-After: 1; backoff starts at 1.4 s
			t.Fatalf("wait %v below the minimum", w)
		}
	}
}

// TestDeleteHitBy5xxIsNotRetried: every request fails; the removal is
// sent once, and the membership is untouched (read through the Org API,
// which the site does not fault).
func TestDeleteHitBy5xxIsNotRetried(t *testing.T) {
	s := startSim(t, sitesim.DefaultScenario(), sitesim.Options{Faults: sitesim.Faults{ErrorRate: 1, Seed: 3}}, nil)
	c := s.jira(t, Options{})
	ctx := context.Background()
	err := c.RemoveGroupMember(ctx, sitesim.GroupAllStaff, bob)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err %v", err)
	}
	if n := s.srv.Usage().Operation("removeUserFromGroup").Calls; n != 1 {
		t.Fatalf("DELETE group/user sent %d times", n)
	}
	if err := c.AddGroupMember(ctx, sitesim.GroupContractors, bob); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("POST group/user: %v", err)
	}
	if n := s.srv.Usage().Operation("addUserToGroup").Calls; n != 1 {
		t.Fatalf("POST group/user sent %d times", n)
	}
	var groups []string
	err = s.org(t, Options{}).SearchUsers(ctx, sitesim.DefaultOrgID, DirectoryAll, UserSearch{AccountIDs: []string{bob}, Expand: []string{"groups"}},
		func(page []OrgUser) error {
			for _, g := range page[0].Groups {
				groups = append(groups, g.ID)
			}
			return nil
		})
	if err != nil || !slices.Contains(groups, sitesim.GroupAllStaff) || slices.Contains(groups, sitesim.GroupContractors) {
		t.Fatalf("bob's groups after failed writes: %v %v", groups, err)
	}
}

// TestQuotaAgainstTheSite: a Forge app token with a pool of 50 points an
// hour reads a large group. Each page overdraws the pool, so every later
// page meets jira-quota-global-based until the next UTC hour; the client
// waits for each reset (on a clock the site shares) and gets every member.
func TestQuotaAgainstTheSite(t *testing.T) {
	clk := newFakeClock(time.Date(2026, 11, 26, 10, 59, 0, 0, time.UTC))
	sc := sitesim.Generate(600, 3)
	s := startSim(t, sc, sitesim.Options{Now: clk.Now, Limits: sitesim.RateLimits{Enabled: true, PointsPerHour: 50}}, nil)
	tok := s.srv.IssueAppToken("io.seatlens.app", "557058:00000000-0000-4000-8000-00000000f04e", forgeScopes, 48*time.Hour)
	sl := &sleepLog{clock: clk}
	c := mustClient(t, s.ts.URL+s.srv.APIBasePath(), Bearer(tok), Options{Now: clk.Now, Sleep: sl.Sleep, MaxWait: 2 * time.Hour})
	members, err := c.GroupMembers(context.Background(), sitesim.GroupSoftwareUsers)
	if err != nil {
		t.Fatal(err)
	}
	want := distinct(sc.Members[sitesim.GroupSoftwareUsers])
	if len(members) != len(want) {
		t.Fatalf("%d members, scenario has %d", len(members), len(want))
	}
	pages := (len(want) + groupMemberPage - 1) / groupMemberPage
	st := c.Stats().ByOp["getUsersFromGroup"]
	if st.RateLimited != pages-1 || st.RateLimited != s.srv.Usage().Total.Limited {
		t.Fatalf("%d pages, client saw %d 429s, site sent %d", pages, st.RateLimited, s.srv.Usage().Total.Limited)
	}
	w := sl.Waits()
	if len(w) != pages-1 || w[0] != time.Minute {
		t.Fatalf("waits %v: want 1m to the first reset, then an hour each", w)
	}
	for _, d := range w[1:] {
		if d != time.Hour {
			t.Fatalf("waits %v", w)
		}
	}
	// Beyond MaxWait the client stops with a typed error instead.
	short := mustClient(t, s.ts.URL+s.srv.APIBasePath(), Bearer(tok), Options{Now: clk.Now, Sleep: sl.Sleep})
	_, err = short.GroupMembers(context.Background(), sitesim.GroupSoftwareUsers)
	var rl *RateLimitError
	if err == nil {
		_, err = short.GroupMembers(context.Background(), sitesim.GroupSoftwareUsers) // the first page may still fit the pool
	}
	if !errors.As(err, &rl) || rl.Reason != sitesim.ReasonQuotaGlobal {
		t.Fatalf("err %v, want a RateLimitError for the quota", err)
	}
}

// TestBurstAgainstTheSite: one member a page, with the site's clock
// standing still, empties the 100/s burst bucket of group/member; each
// 429 (jira-burst-based, Retry-After: 1) delays only that call.
func TestBurstAgainstTheSite(t *testing.T) {
	clk := newFakeClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	sc := sitesim.Generate(600, 3)
	s := startSim(t, sc, sitesim.Options{Now: clk.Now, Limits: sitesim.RateLimits{Enabled: true}}, nil)
	sl := &sleepLog{clock: clk}
	c := s.jira(t, Options{PageSize: 1, Now: clk.Now, Sleep: sl.Sleep})
	members, err := c.GroupMembers(context.Background(), sitesim.GroupSoftwareUsers)
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != len(distinct(sc.Members[sitesim.GroupSoftwareUsers])) {
		t.Fatalf("%d members", len(members))
	}
	st := c.Stats().ByOp["getUsersFromGroup"]
	if st.RateLimited < 2 || st.RateLimited != s.srv.Usage().Total.Limited || len(sl.Waits()) != st.RateLimited {
		t.Fatalf("client %+v, site limited %d, waits %v", st, s.srv.Usage().Total.Limited, sl.Waits())
	}
	for _, w := range sl.Waits() {
		if w < time.Second || w > 3*time.Second {
			t.Fatalf("burst wait %v", w)
		}
	}
	if until, _ := c.pauseState(); !until.IsZero() {
		t.Fatalf("a burst refusal paused the whole client until %v", until)
	}
}

// TestConcurrencyBoundAgainstTheSite: many concurrent reads through one
// client never put more than MaxInFlight requests on the site at once.
func TestConcurrencyBoundAgainstTheSite(t *testing.T) {
	sc := sitesim.Generate(600, 5)
	var f inFlight
	s := startSim(t, sc, sitesim.Options{Faults: sitesim.Faults{Latency: 3 * time.Millisecond}}, f.wrap)
	const bound = 3
	c := s.jira(t, Options{MaxInFlight: bound, PageSize: 20})
	var wg sync.WaitGroup
	errs := make(chan error, len(sc.Groups)+1)
	for _, g := range sc.Groups {
		wg.Go(func() {
			got, err := c.GroupMembers(context.Background(), g.ID)
			if err == nil && len(got) != len(distinct(sc.Members[g.ID])) {
				err = fmt.Errorf("group %s: %d members", g.Name, len(got))
			}
			errs <- err
		})
	}
	wg.Go(func() {
		users, err := c.AllUsers(context.Background())
		if err == nil && len(users) != len(sc.Users) {
			err = fmt.Errorf("%d users", len(users))
		}
		errs <- err
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if m := f.Max(); m > bound || m < 1 {
		t.Fatalf("peak of %d requests in flight, bound %d", m, bound)
	}
}

func groupNames(gs []GroupName) string {
	var names []string
	for _, g := range gs {
		names = append(names, g.Name)
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}

func memberIDs(t *testing.T, c *Client, group string) map[string]bool {
	t.Helper()
	m, err := c.GroupMembers(context.Background(), group)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, u := range m {
		out[u.AccountID] = true
	}
	return out
}
