package sitesim

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestGroupBulkFilters pins group/bulk's accessType / applicationKey
// semantics (unconfirmed.go, hasAccess) on the default scenario.
func TestGroupBulkFilters(t *testing.T) {
	ts := defaultSite(t)
	names := func(query string) []string {
		var page struct {
			Total  int
			IsLast bool
			Values []tGroupName
		}
		ts.get("/rest/api/3/group/bulk", query, 200, &page)
		var out []string
		for _, g := range page.Values {
			out = append(out, g.Name)
		}
		if page.Total != len(out) || !page.IsLast {
			t.Fatalf("%s: total %d for %d values, isLast %v", query, page.Total, len(out), page.IsLast)
		}
		return out
	}
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", []string{"all-staff", "contractors", "engineering", "jira-administrators", "jira-product-discovery-users", "jira-servicemanagement-users", "jira-software-users", "site-admins"}},
		{q("accessType", "user", "applicationKey", JiraSoftware), []string{"contractors", "engineering", "jira-software-users"}},
		{q("accessType", "admin", "applicationKey", JiraSoftware), []string{"jira-administrators", "site-admins"}},
		{q("accessType", "admin", "applicationKey", JiraServiceDesk), []string{"jira-administrators"}},
		{q("accessType", "user"), []string{"contractors", "engineering", "jira-product-discovery-users", "jira-servicemanagement-users", "jira-software-users"}},
		{q("accessType", "site-admin"), []string{"site-admins"}},
		{q("accessType", "site-admin", "applicationKey", JiraProductDisco), []string{"site-admins"}},
		{q("applicationKey", JiraProductDisco), []string{"contractors", "jira-product-discovery-users"}},
		{q("applicationKey", JiraCore), nil},
		{q("groupId", GroupAgents, "groupName", "all-staff", "groupId", "unknown"), []string{"all-staff", "jira-servicemanagement-users"}},
		{q("groupName", "all-staff", "accessType", "user"), nil},
	} {
		if got := names(c.query); !slices.Equal(got, c.want) {
			t.Errorf("group/bulk?%s = %q, want %q", c.query, got, c.want)
		}
	}
	var page struct {
		StartAt, MaxResults, Total int
		IsLast                     bool
		Values                     []tGroupName
	}
	ts.get("/rest/api/3/group/bulk", q("startAt", "6", "maxResults", "5"), 200, &page)
	if page.StartAt != 6 || page.MaxResults != 5 || page.Total != 8 || !page.IsLast || len(page.Values) != 2 {
		t.Fatalf("last page: %+v", page)
	}
}

// TestApplicationRoles pins the role beans of the default scenario.
func TestApplicationRoles(t *testing.T) {
	ts := defaultSite(t)
	var roles []struct {
		tRole
		HasUnlimitedSeats bool
		Platform          bool
	}
	ts.get("/rest/api/3/applicationrole", "", 200, &roles)
	if len(roles) != 4 {
		t.Fatalf("%d roles", len(roles))
	}
	for _, r := range roles {
		switch r.Key {
		case JiraSoftware:
			if r.UserCount != 5 || r.NumberOfSeats != 10 || r.RemainingSeats != 5 ||
				!slices.Equal(r.DefaultGroups, []string{"jira-software-users"}) ||
				!slices.Equal(r.Groups, []string{"contractors", "engineering", "jira-administrators", "jira-software-users", "site-admins"}) {
				t.Errorf("software: %+v", r)
			}
		case JiraCore:
			if !r.HasUnlimitedSeats || !r.Platform || r.NumberOfSeats != unlimitedSeats || r.UserCount != 0 {
				t.Errorf("core: %+v", r)
			}
		case JiraServiceDesk:
			if r.UserCount != 2 || r.RemainingSeats != 1 || r.Platform {
				t.Errorf("service desk: %+v", r)
			}
		}
	}
	var m struct{ Key, Value string }
	ts.get("/rest/api/3/license/approximateLicenseCount", "", 200, &m)
	// Alice, Bob, Chen, Dana, Émile, Grace: active atlassian accounts with
	// a product; Frank is inactive, the app and the customer never count.
	if m.Key != "license.totalApproximateUserCount" || m.Value != "6" {
		t.Fatalf("total licence count %+v", m)
	}
}

// TestUserSearch: active users only, display name or e-mail, accountId.
func TestUserSearch(t *testing.T) {
	ts := defaultSite(t)
	ids := func(query string) []string {
		var us []tUser
		ts.get("/rest/api/3/user/search", query, 200, &us)
		var out []string
		for _, u := range us {
			out = append(out, u.AccountID)
		}
		return out
	}
	if got := ids(q("query", "FORMER")); got != nil {
		t.Errorf("inactive user found: %v", got)
	}
	if got := ids(q("query", "builder")); !slices.Equal(got, []string{bob}) {
		t.Errorf("display name: %v", got)
	}
	if got := ids(q("query", "chen@")); !slices.Equal(got, []string{chen}) {
		t.Errorf("e-mail: %v", got)
	}
	if got := ids(q("accountId", dana)); !slices.Equal(got, []string{dana}) {
		t.Errorf("accountId: %v", got)
	}
	if got := ids(q("query", "e", "startAt", "1", "maxResults", "2")); len(got) != 2 {
		t.Errorf("paged search: %v", got)
	}
}

// TestCallerViews: /myself names the credential's account; a Connect app
// without ACCESS_EMAIL_ADDRESSES sees no e-mail; hidden e-mails stay
// hidden; self links are absolute on the mount that was asked.
func TestCallerViews(t *testing.T) {
	ts := newTestSite(t, DefaultScenario(), Options{ContextPath: "/jira"})
	ts.installConnectApp("READ")
	forge := forgeCred("forge", true, forgeScopes, time.Hour)
	me := func(c cred) tUser {
		res := ts.do(c, http.MethodGet, "/rest/api/3/myself", "", "")
		if res.status != 200 {
			t.Fatalf("myself as %s: %d %s", c.name, res.status, res.body)
		}
		var u tUser
		res.json(t, &u)
		return u
	}
	if u := me(basicCred()); u.AccountID != alice || u.AccountType != AccountAtlassian {
		t.Errorf("Basic myself: %+v", u)
	}
	if u := me(connectCred("connect", nil)); u.AccountID != testAppAccount || u.AccountType != AccountApp || u.DisplayName != testAppKey {
		t.Errorf("Connect myself: %+v", u)
	}
	if u := me(forge); u.AccountID != testForgeAccount || u.AccountType != AccountApp {
		t.Errorf("Forge myself: %+v", u)
	}
	anonymousApp := cred{name: "forge-no-account", api: true, auth: func(ts *testSite, _ *http.Request) string {
		return "Bearer " + ts.srv.IssueAppToken("app-without-account", "", forgeScopes(ts.t), time.Hour)
	}}
	if u := me(anonymousApp); u.AccountType != AccountApp || !u.Active || u.DisplayName != "app-without-account" {
		t.Errorf("myself of an unknown app account: %+v", u)
	}

	user := func(c cred, id string) tUser {
		res := ts.do(c, http.MethodGet, "/rest/api/3/user", q("accountId", id), "")
		if res.status != 200 {
			t.Fatalf("user as %s: %d %s", c.name, res.status, res.body)
		}
		var u tUser
		res.json(t, &u)
		return u
	}
	if u := user(basicCred(), bob); u.EmailAddress != "bob@seatlens-sim.example" {
		t.Errorf("Basic sees no e-mail: %+v", u)
	}
	if u := user(connectCred("connect", nil), bob); u.EmailAddress != "" {
		t.Errorf("Connect app without ACCESS_EMAIL_ADDRESSES sees %q", u.EmailAddress)
	}
	if u := user(basicCred(), emile); u.EmailAddress != "" {
		t.Errorf("hidden e-mail shown: %q", u.EmailAddress)
	}
	for _, c := range []struct {
		cred   cred
		prefix string
	}{{basicCred(), ts.ts.URL + "/jira/rest/api/3/user?"}, {forge, ts.ts.URL + ts.srv.APIBasePath() + "/rest/api/3/user?"}} {
		u := user(c.cred, bob)
		if !strings.HasPrefix(u.Self, c.prefix) {
			t.Errorf("self on %s = %q, want prefix %q", c.cred.name, u.Self, c.prefix)
		}
		// The link works: following it answers the same account.
		su, _ := url.Parse(u.Self)
		path := strings.TrimPrefix(su.Path, ts.srv.opts.ContextPath)
		path = strings.TrimPrefix(path, ts.srv.APIBasePath())
		if again := ts.do(c.cred, http.MethodGet, path, su.RawQuery, ""); again.status != 200 || !strings.Contains(string(again.body), bob) {
			t.Errorf("following self %q: %d", u.Self, again.status)
		}
	}
}

// TestPermissionsCheck pins permissions/check (unconfirmed.go,
// globalPermissions).
func TestPermissionsCheck(t *testing.T) {
	ts := defaultSite(t)
	ts.installConnectApp("READ", "ADMIN")
	all := `"globalPermissions":["ADMINISTER","SYSTEM_ADMIN","USER_PICKER","BULK_CHANGE",null]`
	check := func(c cred, account string) []string {
		body := "{" + all
		if account != "" {
			body += `,"accountId":"` + account + `"`
		}
		body += "}"
		res := ts.do(c, http.MethodPost, "/rest/api/3/permissions/check", "", body)
		if res.status != 200 {
			t.Fatalf("check %s as %s: %d %s", account, c.name, res.status, res.body)
		}
		var out struct {
			GlobalPermissions  []string
			ProjectPermissions []any
		}
		res.json(t, &out)
		if out.ProjectPermissions == nil || len(out.ProjectPermissions) != 0 {
			t.Fatalf("projectPermissions %v", out.ProjectPermissions)
		}
		return out.GlobalPermissions
	}
	for _, c := range []struct {
		cred    cred
		account string
		want    []string
	}{
		{basicCred(), "", []string{"ADMINISTER", "SYSTEM_ADMIN", "USER_PICKER", "BULK_CHANGE"}},
		{basicCred(), bob, []string{"USER_PICKER", "BULK_CHANGE"}},
		{basicCred(), frank, nil},
		{basicCred(), portal, nil},
		{basicCred(), autoApp, []string{"USER_PICKER"}},
		{connectCred("connect", nil), "", []string{"ADMINISTER", "USER_PICKER"}},
		{connectCred("connect", nil), dana, []string{"USER_PICKER", "BULK_CHANGE"}},
	} {
		if got := check(c.cred, c.account); !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Errorf("%s checking %q: %v, want %v", c.cred.name, c.account, got, c.want)
		}
	}
	res := ts.do(basicCred(), http.MethodPost, "/rest/api/3/permissions/check", "", `{"globalPermissions":["PERMISSION_123","ADMINISTER"]}`)
	var e tError
	res.json(t, &e)
	if res.status != 400 || e.Errors["PERMISSION_123"] != "Unrecognized permission" {
		t.Fatalf("unknown permission: %d %s", res.status, res.body)
	}
}

// TestAppAccounts: installing an app gives the site its account, listed
// like Jira lists app users and never counted against a licence.
func TestAppAccounts(t *testing.T) {
	ts := defaultSite(t)
	var before []tUser
	ts.get("/rest/api/3/users/search", "", 200, &before)
	ts.installConnectApp("READ")
	ts.installConnectApp("READ") // reinstalling does not duplicate it
	var after []tUser
	ts.get("/rest/api/3/users/search", "", 200, &after)
	if len(after) != len(before)+1 {
		t.Fatalf("%d accounts before, %d after install", len(before), len(after))
	}
	i := slices.IndexFunc(after, func(u tUser) bool { return u.AccountID == testAppAccount })
	if i < 0 || after[i].AccountType != AccountApp {
		t.Fatalf("app account missing: %+v", after)
	}
	for j := 1; j < len(after); j++ {
		if after[j-1].DisplayName > after[j].DisplayName {
			t.Fatalf("users/search out of display order at %d: %q > %q", j, after[j-1].DisplayName, after[j].DisplayName)
		}
	}
}

// TestHugePaging: extreme startAt and maxResults neither overflow nor fail.
func TestHugePaging(t *testing.T) {
	ts := defaultSite(t)
	huge := "9223372036854775807"
	for _, path := range []string{"/rest/api/3/group/bulk", "/rest/api/3/users/search", "/rest/api/3/user/search"} {
		for _, query := range []string{q("maxResults", huge, "query", "a"), q("startAt", huge, "query", "a"), q("startAt", huge, "maxResults", huge, "query", "a")} {
			if res := ts.do(basicCred(), http.MethodGet, path, query, ""); res.status != 200 {
				t.Errorf("%s?%s = %d %s", path, query, res.status, res.body)
			}
		}
	}
	if res := ts.do(basicCred(), http.MethodGet, "/rest/api/3/group/member", q("groupId", GroupAgents, "startAt", huge), ""); res.status != 200 {
		t.Errorf("group/member far past the end: %d %s", res.status, res.body)
	}
}

func TestSkeletonFixes(t *testing.T) {
	site, err := NewSite(DefaultScenario())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(site, Options{AdminEmail: DefaultAdminEmail, AdminToken: DefaultAdminToken, Modes: Modes{AppMembershipRefused: true}})
	if err != nil {
		t.Fatal(err)
	}
	if !srv.opts.Modes.AppMembershipRefused || srv.opts.Modes.SyncedRemoval != SyncedRemovalRefused {
		t.Fatalf("modes %+v: a partly set Modes must keep the caller's choices", srv.opts.Modes)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	req, _ := http.NewRequest("PUT", ts.URL+"/rest/api/3/myself", nil)
	req.SetBasicAuth(DefaultAdminEmail, DefaultAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("wrong method: %d, want 405", resp.StatusCode)
	}
	req, _ = http.NewRequest("GET", ts.URL+"/rest/api/3/group/member?groupId="+GroupSoftwareUsers+"&maxResults=1", nil)
	req.SetBasicAuth(DefaultAdminEmail, DefaultAdminToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), `\u0026`) {
		t.Fatalf("URLs are HTML-escaped: %s", body)
	}
}
