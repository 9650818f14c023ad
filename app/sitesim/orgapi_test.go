package sitesim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// orgSite serves orgScenario (orgapi_contract_test.go).
func orgSite(t *testing.T) *testSite {
	return newTestSite(t, orgScenario(), Options{})
}

func TestOrgAPIAuthFailures(t *testing.T) {
	ts := orgSite(t)
	path := ts.srv.OrgBasePath() + "/v1/orgs"
	// v1 and workspaces: the gateway's ProxyError; v2: the errors list.
	for _, key := range []string{"", "wrong-key", DefaultAdminToken} {
		st, b := ts.orgCall(key, http.MethodGet, path, "")
		wantProxyError(t, st, b, http.StatusUnauthorized)
		st, b = ts.orgCall(key, http.MethodPost, ts.srv.OrgBasePath()+"/v2/orgs/"+DefaultOrgID+"/workspaces", "{}")
		wantProxyError(t, st, b, http.StatusUnauthorized)
		st, b = ts.orgCall(key, http.MethodPost, v2(ts, "/users/search"), "{}")
		wantOrgError(t, st, b, http.StatusUnauthorized, "ADMIN-401-2")
	}
	// Basic credentials of the site are not an org API key.
	req, _ := http.NewRequest(http.MethodGet, ts.ts.URL+path, nil)
	req.SetBasicAuth(DefaultAdminEmail, DefaultAdminToken)
	res, err := ts.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("Basic auth on the org mount = %d, want 401", res.StatusCode)
	}
	// The org API key is not accepted by product REST either.
	r := ts.do(cred{name: "orgkey", auth: func(*testSite, *http.Request) string { return "Bearer " + DefaultOrgKey }}, http.MethodGet, "/rest/api/3/myself", "", "")
	if r.status != http.StatusUnauthorized {
		t.Fatalf("org key on product REST = %d, want 401", r.status)
	}
	// Another org's ID, an unknown directory and an unknown path are 404s
	// in the family's envelope.
	st, b := ts.orgCall(DefaultOrgKey, http.MethodGet, ts.srv.OrgBasePath()+"/v1/orgs/other-org", "")
	wantOrgError(t, st, b, http.StatusNotFound, "ADMIN-404-2")
	st, b = ts.orgCall(DefaultOrgKey, http.MethodPost, ts.srv.OrgBasePath()+"/v2/orgs/other-org/workspaces", "{}")
	wantBareError(t, st, b, http.StatusNotFound, "ADMIN-404-2")
	st, b = ts.orgCall(DefaultOrgKey, http.MethodPost, ts.srv.OrgBasePath()+"/v2/orgs/"+DefaultOrgID+"/directories/nope/users/search", "{}")
	wantOrgError(t, st, b, http.StatusNotFound, "ADMIN-404-1")
	st, b = ts.orgCall(DefaultOrgKey, http.MethodGet, ts.srv.OrgBasePath()+"/v9/nothing", "")
	wantOrgError(t, st, b, http.StatusNotFound, "ADMIN-404-1")
	st, b = ts.orgCall(DefaultOrgKey, http.MethodGet, ts.srv.OrgBasePath()+"/v2/orgs/"+DefaultOrgID+"/workspaces", "")
	wantOrgError(t, st, b, http.StatusMethodNotAllowed, "ADMIN-405-1")
	// A configured key replaces the default.
	ts2 := newTestSite(t, DefaultScenario(), Options{OrgID: "org-2", OrgKey: "k2"})
	if st, _ := ts2.orgCall(DefaultOrgKey, http.MethodGet, path, ""); st != http.StatusUnauthorized {
		t.Fatalf("default key on a configured org = %d, want 401", st)
	}
	var orgs docOrgs
	ts2.org(http.MethodGet, path, "", http.StatusOK, &orgs)
	if len(orgs.Data) != 1 || orgs.Data[0].ID != "org-2" {
		t.Fatalf("orgs = %+v", orgs)
	}
	for _, rq := range ts.srv.Requests() {
		if strings.HasPrefix(rq.Path, "/admin/") && rq.Credential != CredOrg && rq.Credential != CredNone {
			t.Errorf("request %+v: credential %q", rq, rq.Credential)
		}
	}
}

func TestOrgAPIOrgs(t *testing.T) {
	ts := orgSite(t)
	var orgs docOrgs
	ts.org(http.MethodGet, ts.srv.OrgBasePath()+"/v1/orgs", "", http.StatusOK, &orgs)
	if len(orgs.Data) != 1 || orgs.Data[0].ID != DefaultOrgID || orgs.Data[0].Type != "orgs" || orgs.Data[0].Attributes.Name == "" ||
		!strings.HasSuffix(orgs.Data[0].Relationships.Users.Links.Related, "/admin/v1/orgs/"+DefaultOrgID+"/users") ||
		orgs.Links.Next != "" || orgs.Links.Self != ts.ts.URL+"/admin/v1/orgs" {
		t.Fatalf("orgs = %+v", orgs)
	}
	var one struct {
		Data docOrg `json:"data"`
	}
	ts.org(http.MethodGet, v1(ts, ""), "", http.StatusOK, &one)
	if one.Data.ID != DefaultOrgID {
		t.Fatalf("org = %+v", one)
	}
}

func TestOrgAPIWorkspacesAndDirectories(t *testing.T) {
	sc := orgScenario()
	sc.Products[2].WorkspaceStatus = WorkspaceDeprecated
	ts := newTestSite(t, sc, Options{})
	path := ts.srv.OrgBasePath() + "/v2/orgs/" + DefaultOrgID + "/workspaces"
	var ws docWorkspaces
	ts.org(http.MethodPost, path, `{"limit":2}`, http.StatusOK, &ws)
	var keys, statuses []string
	for pages := 1; ; pages++ {
		if ws.Meta.PageSize != 2 || ws.Meta.Total != len(sc.Products) || ws.Meta.StartIndex == nil || *ws.Meta.StartIndex != len(keys) ||
			*ws.Meta.EndIndex != len(keys)+len(ws.Data)-1 {
			t.Errorf("page %d meta %+v", pages, ws.Meta)
		}
		for _, w := range ws.Data {
			keys = append(keys, w.Attributes.TypeKey)
			statuses = append(statuses, w.Attributes.Status)
			i := slices.IndexFunc(ts.srv.Site().all, func(p Product) bool { return p.Key == w.Attributes.TypeKey })
			p := ts.srv.Site().all[i]
			if w.ID != ts.srv.resourceID(w.Attributes.TypeKey) || w.Type != "workspaces" || (w.Attributes.Capacity == nil) != p.Unlimited ||
				w.Attributes.Sandbox == nil || w.Attributes.Sandbox.Type != "NONE" || w.Attributes.HostURL == nil || *w.Attributes.HostURL != ts.ts.URL ||
				w.Attributes.Usage == nil || w.Attributes.UpdatedAt != nil || w.Links.Self == "" {
				t.Errorf("workspace %+v", w)
			}
		}
		if ws.Links.Next == "" {
			break
		}
		// links.next is a URL whose cursor is the next body's only property.
		next, err := url.Parse(ws.Links.Next)
		if err != nil || !strings.HasPrefix(ws.Links.Next, ts.ts.URL+path+"?cursor=") || next.Query().Get("cursor") == "" {
			t.Fatalf("links.next %q", ws.Links.Next)
		}
		ws = docWorkspaces{}
		ts.org(http.MethodPost, path, `{"cursor":"`+next.Query().Get("cursor")+`"}`, http.StatusOK, &ws)
		if ws.Links.Prev == "" {
			t.Fatal("a later page without links.prev")
		}
	}
	var want []string
	for _, p := range sc.Products {
		want = append(want, p.Key)
	}
	if !slices.Equal(keys, want) || !slices.Equal(statuses, []string{"online", "online", "deprecated", "online", "online"}) {
		t.Fatalf("workspaces %v %v, want %v", keys, statuses, want)
	}
	// A cursor with any other property is refused, as documented.
	st, b := ts.orgCall(DefaultOrgKey, http.MethodPost, path, `{"limit":2,"cursor":"`+newWalk(cursorWorkspaces, 2, nil).at(2)+`"}`)
	wantBareError(t, st, b, http.StatusBadRequest, "ADMIN-400-24")
	st, b = ts.orgCall(DefaultOrgKey, http.MethodPost, path, `{"limit":1001}`)
	wantBareError(t, st, b, http.StatusBadRequest, "ADMIN-400-24")
	ws = docWorkspaces{}
	ts.org(http.MethodPost, path, "", http.StatusOK, &ws)
	if ws.Meta.PageSize != 20 || len(ws.Data) != len(want) {
		t.Fatalf("default page %+v", ws.Meta)
	}

	var dirs docDirectories
	ts.org(http.MethodGet, ts.srv.OrgBasePath()+"/v2/orgs/"+DefaultOrgID+"/directories", "", http.StatusOK, &dirs)
	if len(dirs.Data) != 1 || dirs.Data[0].DirectoryID != DefaultDirectoryID || dirs.Data[0].Icon == "" || dirs.Links.Self == "" || dirs.Links.Next != "" {
		t.Fatalf("directories = %+v", dirs)
	}
	dirs = docDirectories{}
	ts.org(http.MethodGet, ts.srv.OrgBasePath()+"/v2/orgs/"+DefaultOrgID+"/directories?accountId="+portal, "", http.StatusOK, &dirs)
	if len(dirs.Data) != 0 {
		t.Fatalf("a customer's directories = %+v", dirs)
	}
}

// walkUsers follows links.next through users search with body filters
// (a JSON object's inner fields, may be empty) and returns every user.
func walkUsers(t *testing.T, ts *testSite, filters string, limit int) []docUser {
	t.Helper()
	var out []docUser
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10_000 {
			t.Fatal("users search never ends")
		}
		body := fmt.Sprintf(`{"limit":%d,"expand":["productAccess","groups","platformRoles"]`, limit)
		if cursor != "" {
			body += `,"cursor":"` + cursor + `"`
		}
		if filters != "" {
			body += "," + filters
		}
		var p docUserPage
		ts.org(http.MethodPost, v2(ts, "/users/search"), body+"}", http.StatusOK, &p)
		if len(p.Data) > limit {
			t.Fatalf("page of %d users, limit %d", len(p.Data), limit)
		}
		out = append(out, p.Data...)
		if p.Links.Next == nil {
			return out
		}
		cursor = *p.Links.Next
	}
}

func TestOrgAPIUsersSearchPaginationAndFilters(t *testing.T) {
	sc := Generate(300, 7)
	ts := newTestSite(t, sc, Options{})
	want := map[string]*User{}
	for i := range sc.Users {
		if sc.Users[i].AccountType == AccountAtlassian {
			want[sc.Users[i].AccountID] = &sc.Users[i]
		}
	}
	got := walkUsers(t, ts, "", 17)
	seen := map[string]bool{}
	for _, u := range got {
		if seen[u.AccountID] {
			t.Fatalf("%s returned twice", u.AccountID)
		}
		seen[u.AccountID] = true
		m := want[u.AccountID]
		if m == nil {
			t.Fatalf("%s (%s) is not a directory user", u.AccountID, u.AccountType)
		}
		if m.ClaimStatus != "" && u.ClaimStatus != m.ClaimStatus || u.ManagementSource == nil || m.ManagementSource != "" && *u.ManagementSource != m.ManagementSource {
			t.Errorf("%s: claim %s/%s source %v/%s", u.AccountID, u.ClaimStatus, m.ClaimStatus, u.ManagementSource, m.ManagementSource)
		}
		if (m.AddedToOrg == nil) != (u.AddedToOrg == nil) {
			t.Errorf("%s: addedToOrg %v", u.AccountID, u.AddedToOrg)
		}
		for _, pa := range u.ProductAccess {
			// key is the Org API's product key; id names the site product.
			site, _ := strings.CutPrefix(strings.TrimSuffix(pa.ID, "::site/"+ts.srv.opts.CloudID), "ari:cloud:")
			if orgProductKey(site) != pa.Key {
				t.Errorf("%s: productAccess key %s for %s", u.AccountID, pa.Key, pa.ID)
			}
			la, ok := m.LastActive[site]
			if ok != (pa.LastActiveTimestamp != nil) || ok && *pa.LastActiveTimestamp != la.UTC().Format(time.RFC3339) {
				t.Errorf("%s %s: lastActive %v, model %v", u.AccountID, pa.Key, pa.LastActiveTimestamp, la)
			}
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("walk saw %d users, directory has %d", len(seen), len(want))
	}
	// Filters: each result satisfies it, and together they partition.
	unmanaged := walkUsers(t, ts, `"claimStatus":"unmanaged"`, 50)
	managed := walkUsers(t, ts, `"claimStatus":"managed"`, 50)
	if len(unmanaged) == 0 || len(unmanaged)+len(managed) != len(want) {
		t.Fatalf("claimStatus: %d unmanaged + %d managed != %d", len(unmanaged), len(managed), len(want))
	}
	for _, u := range unmanaged {
		if u.ClaimStatus != "unmanaged" {
			t.Errorf("%s: claimStatus %s", u.AccountID, u.ClaimStatus)
		}
	}
	for _, st := range []string{"active", "suspended", "deactivated"} {
		for _, u := range walkUsers(t, ts, `"status":["`+st+`"]`, 50) {
			if u.Status != st {
				t.Errorf("status filter %s: got %s", st, u.Status)
			}
		}
	}
	for _, u := range walkUsers(t, ts, `"groupIds":["`+GroupPlatformSynced+`"]`, 50) {
		if !slices.ContainsFunc(u.Groups, func(g docUserGroup) bool { return g.ID == GroupPlatformSynced }) {
			t.Errorf("%s not in the synced group", u.AccountID)
		}
	}
	// Without expand the optional parts are absent.
	var p docUserPage
	ts.org(http.MethodPost, v2(ts, "/users/search"), `{"limit":5}`, http.StatusOK, &p)
	for _, u := range p.Data {
		if u.ProductAccess != nil || u.Groups != nil || u.PlatformRoles != nil || u.Counts != nil {
			t.Errorf("%s: expansions without expand", u.AccountID)
		}
	}
	// Documented refusals.
	st, b := ts.orgCall(DefaultOrgKey, http.MethodPost, v2(ts, "/users/search"), `{"cursor":"not-a-cursor"}`)
	wantOrgError(t, st, b, http.StatusBadRequest, "ADMIN-400-1")
	st, b = ts.orgCall(DefaultOrgKey, http.MethodPost, v2(ts, "/users/search"), `{"searchTerm":"a","emails":["a@b.c"]}`)
	wantOrgError(t, st, b, http.StatusBadRequest, "ADMIN-400-24")
	// directoryId "-" is the same directory.
	ts.org(http.MethodPost, strings.Replace(v2(ts, "/users/search"), DefaultDirectoryID, "-", 1), `{"limit":1}`, http.StatusOK, &docUserPage{})
}

func TestOrgAPIUserDetailsAndLastActive(t *testing.T) {
	ts := orgSite(t)
	var one struct {
		Data docUserDetails `json:"data"`
	}
	ts.org(http.MethodGet, v2(ts, "/users/"+alice), "", http.StatusOK, &one)
	u := one.Data
	if u.AccountID != alice || u.AddedToOrg == nil || *u.AddedToOrg != "2023-01-10T08:00:00Z" ||
		!slices.Equal(u.PlatformRoles, []string{"atlassian/org-admin", "atlassian/site-admin"}) || u.Counts.Resources != 7 ||
		u.Status != "active" || u.AccountStatus != "active" || u.MembershipStatus != "active" || u.DeactivatedOn != nil ||
		u.Picture == "" || u.Avatar == "" || u.TimeZone != nil {
		t.Fatalf("alice = %+v", u)
	}
	var la docLastActive
	ts.org(http.MethodGet, v1(ts, "/directory/users/"+alice+"/last-active-dates"), "", http.StatusOK, &la)
	if len(la.Data.ProductAccess) != 1 || la.Data.ProductAccess[0].Key != JiraSoftware || la.Data.ProductAccess[0].LastActive != "2025-06-01" ||
		la.Data.ProductAccess[0].LastActiveTimestamp != "2025-06-01T12:00:00Z" || la.Data.AddedToOrg == nil || *la.Data.AddedToOrg != "2023-01-10" ||
		la.Links.Next != "" {
		t.Fatalf("last-active-dates = %+v", la)
	}
	la = docLastActive{}
	ts.org(http.MethodGet, v1(ts, "/directory/users/"+bob+"/last-active-dates"), "", http.StatusOK, &la)
	if len(la.Data.ProductAccess) != 0 || la.Data.AddedToOrg != nil || la.Data.AddedToOrgTimestamp != nil {
		t.Fatalf("bob's last-active-dates = %+v", la)
	}
	for _, id := range []string{"nobody", portal, autoApp} { // customers and apps are not directory users
		st, b := ts.orgCall(DefaultOrgKey, http.MethodGet, v2(ts, "/users/"+id), "")
		wantOrgError(t, st, b, http.StatusNotFound, "ADMIN-404-8")
	}
}

// TestOrgAPIUserFields: every documented field of a users-search user is
// present (the schema marks none required), with expansions only when
// asked for.
func TestOrgAPIUserFields(t *testing.T) {
	ts := orgSite(t)
	var page struct {
		Data []map[string]json.RawMessage `json:"data"`
	}
	body := `{"accountIds":["` + alice + `"],"expand":["platformRoles","counts.resources","productAccess","groups"]}`
	_, b := ts.orgCall(DefaultOrgKey, http.MethodPost, v2(ts, "/users/search"), body)
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 1 {
		t.Fatalf("%d users", len(page.Data))
	}
	for _, f := range []string{"accountId", "accountType", "status", "accountStatus", "membershipStatus", "addedToOrg", "name", "nickname",
		"email", "emailVerified", "claimStatus", "platformRoles", "picture", "avatar", "managementSource", "mfaEnabled", "jobTitle",
		"department", "organization", "location", "timeZone", "counts", "productAccess", "groups", "links", "deactivatedOn", "forDeletion"} {
		if _, ok := page.Data[0][f]; !ok {
			t.Errorf("users search lacks %s", f)
		}
	}
	var one struct {
		Data map[string]json.RawMessage `json:"data"`
	}
	_, b = ts.orgCall(DefaultOrgKey, http.MethodGet, v2(ts, "/users/"+alice), "")
	if err := json.Unmarshal(b, &one); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"accountId", "accountType", "status", "accountStatus", "membershipStatus", "addedToOrg", "deactivatedOn", "name",
		"nickname", "email", "emailVerified", "claimStatus", "platformRoles", "picture", "avatar", "managementSource", "mfaEnabled", "jobTitle",
		"department", "organization", "location", "timeZone", "counts"} {
		if _, ok := one.Data[f]; !ok {
			t.Errorf("user details lack %s", f)
		}
	}
	if len(one.Data) != 23 {
		t.Errorf("user details have %d fields: %v", len(one.Data), one.Data)
	}
}

// methodsOf flattens role assignments to "resourceOwner role: methods".
func methodsOf(r docUserRoles) []string {
	var out []string
	for _, d := range r.Data {
		for _, a := range d.RoleAssignments {
			out = append(out, d.ResourceOwner+" "+a.Role+": "+strings.Join(a.RoleAssignmentMethods, ","))
		}
	}
	return out
}

func TestOrgAPIUserRoleAssignments(t *testing.T) {
	ts := orgSite(t)
	var r docUserRoles
	ts.org(http.MethodGet, v2(ts, "/users/"+bob+"/role-assignments"), "", http.StatusOK, &r)
	want := []string{
		"jira-software atlassian/user: group_direct",
		"jira-product-discovery atlassian/user: inferred",
		"confluence atlassian/guest: direct",
	}
	if got := methodsOf(r); !slices.Equal(got, want) {
		t.Fatalf("bob's roles %q, want %q", got, want)
	}
	for _, d := range r.Data {
		if d.DirectoryID == nil || *d.DirectoryID != DefaultDirectoryID || d.UserDirectoryStatus == nil || *d.UserDirectoryStatus != "active" {
			t.Errorf("bob %s: directory %v status %v", d.ResourceID, d.DirectoryID, d.UserDirectoryStatus)
		}
	}
	// Alice is org-admin: an inferred admin role everywhere, beside her
	// group roles, then her platform roles with no directory.
	r = docUserRoles{}
	ts.org(http.MethodGet, v2(ts, "/users/"+alice+"/role-assignments"), "", http.StatusOK, &r)
	got := methodsOf(r)
	for _, w := range []string{
		"jira-software atlassian/admin: group_direct,inferred",
		"jira-software atlassian/user: group_direct",
		"jira-servicedesk atlassian/admin: group_direct,inferred",
		"jira-product-discovery atlassian/admin: inferred",
		"platform atlassian/org-admin: direct",
		"platform atlassian/site-admin: direct",
	} {
		if !slices.Contains(got, w) {
			t.Errorf("alice's roles %q lack %q", got, w)
		}
	}
	for _, d := range r.Data {
		if d.ResourceOwner == "platform" && (d.DirectoryID != nil || d.UserDirectoryStatus != nil) {
			t.Errorf("platform role %s has a directory", d.ResourceID)
		}
	}
	// Filters and pagination.
	r = docUserRoles{}
	ts.org(http.MethodGet, v2(ts, "/users/"+alice+"/role-assignments?resourceOwners=platform"), "", http.StatusOK, &r)
	if len(r.Data) != 2 {
		t.Fatalf("platform filter: %q", methodsOf(r))
	}
	var all []string
	cursor := ""
	for {
		r = docUserRoles{}
		ts.org(http.MethodGet, v2(ts, "/users/"+alice+"/role-assignments?limit=1&cursor="+cursor), "", http.StatusOK, &r)
		all = append(all, methodsOf(r)...)
		if r.Links.Next == nil {
			break
		}
		cursor = *r.Links.Next
	}
	if !slices.Equal(all, got) {
		t.Fatalf("paged %q, whole %q", all, got)
	}
}

func TestOrgAPIGroupsSearchAndRoles(t *testing.T) {
	ts := orgSite(t)
	var all []docGroup
	cursor := ""
	for {
		var p docGroupPage
		ts.org(http.MethodPost, v2(ts, "/groups/search"), `{"limit":3,"expand":["counts.users","counts.resources"],"cursor":"`+cursor+`"}`, http.StatusOK, &p)
		all = append(all, p.Data...)
		if p.Links.Next == nil {
			break
		}
		cursor = *p.Links.Next
	}
	if len(all) != len(defaultGroups()) {
		t.Fatalf("walk saw %d groups, want %d", len(all), len(defaultGroups()))
	}
	byID := map[string]docGroup{}
	for _, g := range all {
		if _, dup := byID[g.ID]; dup {
			t.Fatalf("group %s twice", g.ID)
		}
		byID[g.ID] = g
	}
	eng := byID[GroupEngineering]
	if !eng.ExternalSynced || eng.ManagedBy != "external" || eng.ManagementAccess.Modifiable || eng.Counts == nil || *eng.Counts.Users != 2 || *eng.Counts.Resources != 1 {
		t.Errorf("engineering = %+v", eng)
	}
	if sw := byID[GroupSoftwareUsers]; sw.ExternalSynced || sw.ManagedBy != "admins" || !sw.ManagementAccess.Modifiable || sw.ManagementAccess.Deletable {
		t.Errorf("jira-software-users = %+v", sw)
	}
	if c := byID[GroupContractors]; !c.ManagementAccess.Deletable {
		t.Errorf("contractors = %+v", c)
	}
	// Filters.
	var p docGroupPage
	ts.org(http.MethodPost, v2(ts, "/groups/search"), `{"groupNames":["ENGINEERING"],"sortBy":[{"field":"name","direction":"desc"}]}`, http.StatusOK, &p)
	if len(p.Data) != 1 || p.Data[0].ID != GroupEngineering || p.Data[0].Counts != nil {
		t.Fatalf("groupNames = %+v", p)
	}
	p = docGroupPage{}
	ts.org(http.MethodPost, v2(ts, "/groups/search"), `{"accountIds":["`+dana+`"]}`, http.StatusOK, &p)
	var names []string
	for _, g := range p.Data {
		names = append(names, g.Name)
	}
	if !slices.Equal(names, []string{"all-staff", "jira-servicemanagement-users"}) {
		t.Fatalf("dana's groups %v", names)
	}
	p = docGroupPage{}
	ts.org(http.MethodPost, v2(ts, "/groups/search"), `{"accountIds":["`+dana+`"],"sortBy":[{"field":"name","direction":"desc"}]}`, http.StatusOK, &p)
	if len(p.Data) != 2 || p.Data[0].Name != "jira-servicemanagement-users" {
		t.Fatalf("dana's groups, descending: %+v", p.Data)
	}
	p = docGroupPage{}
	ts.org(http.MethodPost, v2(ts, "/groups/search"), `{"resourceOwners":["jira-product-discovery"]}`, http.StatusOK, &p)
	if len(p.Data) != 2 {
		t.Fatalf("JPD groups %+v", p.Data)
	}
	var g struct {
		Data docGroup `json:"data"`
	}
	ts.org(http.MethodGet, v2(ts, "/groups/"+GroupAgents), "", http.StatusOK, &g)
	if g.Data.Name != "jira-servicemanagement-users" || g.Data.Counts == nil || g.Data.Counts.Users == nil || *g.Data.Counts.Users != 1 ||
		g.Data.Counts.Resources == nil || *g.Data.Counts.Resources != 1 {
		t.Fatalf("group = %+v", g)
	}
	st, b := ts.orgCall(DefaultOrgKey, http.MethodGet, v2(ts, "/groups/nope"), "")
	wantOrgError(t, st, b, http.StatusNotFound, "ADMIN-404-10")
	// Role assignments: defaultRole marks the default group.
	var gr docGroupRoles
	ts.org(http.MethodGet, v2(ts, "/groups/"+GroupSoftwareUsers+"/role-assignments"), "", http.StatusOK, &gr)
	if len(gr.Data) != 1 || gr.Data[0].DefaultRole == nil || *gr.Data[0].DefaultRole != "atlassian/user" || gr.Links.Next != nil {
		t.Fatalf("jira-software-users roles %+v", gr)
	}
	gr = docGroupRoles{}
	ts.org(http.MethodGet, v2(ts, "/groups/"+GroupJiraAdmins+"/role-assignments"), "", http.StatusOK, &gr)
	if len(gr.Data) != 2 || gr.Data[0].DefaultRole != nil || !slices.Equal(gr.Data[0].Roles, []string{"atlassian/admin"}) {
		t.Fatalf("jira-administrators roles %+v", gr)
	}
}

// memberOfViaOrg reports whether the Org API lists accountID in groupID.
func memberOfViaOrg(t *testing.T, ts *testSite, accountID, groupID string) bool {
	t.Helper()
	var p docUserPage
	ts.org(http.MethodPost, v2(ts, "/users/search"), `{"groupIds":["`+groupID+`"],"accountIds":["`+accountID+`"]}`, http.StatusOK, &p)
	return len(p.Data) == 1
}

// productAccessViaOrg lists the product keys users search gives accountID
// with expand productAccess.
func productAccessViaOrg(t *testing.T, ts *testSite, accountID string) []string {
	t.Helper()
	var p docUserPage
	ts.org(http.MethodPost, v2(ts, "/users/search"), `{"accountIds":["`+accountID+`"],"expand":["productAccess"]}`, http.StatusOK, &p)
	if len(p.Data) != 1 || p.Data[0].ProductAccess == nil {
		t.Fatalf("users search for %s: %+v", accountID, p)
	}
	var keys []string
	for _, pa := range p.Data[0].ProductAccess {
		keys = append(keys, pa.Key)
	}
	return keys
}

// memberOfViaREST reports whether product REST lists accountID in groupID.
func memberOfViaREST(ts *testSite, accountID, groupID string) bool {
	var p tMemberPage
	ts.get("/rest/api/3/group/member", q("groupId", groupID, "includeInactiveUsers", "true", "maxResults", "50"), http.StatusOK, &p)
	return slices.Contains(p.members(), accountID)
}

// allEvents walks events-stream (ascending) and returns every event.
func allEvents(t *testing.T, ts *testSite, query string) []docEvent {
	t.Helper()
	var out []docEvent
	path := v1(ts, "/events-stream?limit=2&sortOrder=asc"+query)
	for i := 0; ; i++ {
		if i > 1000 {
			t.Fatal("events-stream never ends")
		}
		var p docEvents
		ts.org(http.MethodGet, path, "", http.StatusOK, &p)
		if p.Meta.PageSize != len(p.Data) {
			t.Fatalf("page_size %d for %d events", p.Meta.PageSize, len(p.Data))
		}
		out = append(out, p.Data...)
		if p.Links.Next == nil {
			return out
		}
		path = strings.TrimPrefix(*p.Links.Next, ts.ts.URL)
	}
}

func eventSummary(e docEvent) string {
	s := e.Attributes.Action + " " + e.Attributes.Context[0].ID + " " + e.Attributes.Context[1].ID
	if len(e.Attributes.Context) > 2 {
		s += fmt.Sprint(" ", e.Attributes.Context[2].Attributes["key"])
	}
	return s
}

func TestOrgAPIMembershipBothWays(t *testing.T) {
	ts := orgSite(t)
	// Removed through product REST: gone from the Org API, in the log.
	// Grace holds Jira Software only through jira-software-users.
	if !memberOfViaOrg(t, ts, grace, GroupSoftwareUsers) || !slices.Contains(productAccessViaOrg(t, ts, grace), JiraSoftware) {
		t.Fatal("grace should start in jira-software-users, with Jira Software access")
	}
	r := ts.do(basicCred(), http.MethodDelete, "/rest/api/3/group/user", q("groupId", GroupSoftwareUsers, "accountId", grace), "")
	if r.status != http.StatusOK {
		t.Fatalf("REST remove = %d %s", r.status, r.body)
	}
	if memberOfViaOrg(t, ts, grace, GroupSoftwareUsers) {
		t.Fatal("grace still in jira-software-users through the Org API")
	}
	if slices.Contains(productAccessViaOrg(t, ts, grace), JiraSoftware) {
		t.Fatal("grace keeps Jira Software access after the removal")
	}
	// Added through the Org API: visible through product REST, in the log.
	ts.org(http.MethodPost, v2(ts, "/groups/"+GroupContractors+"/memberships"), `{"accountId":"`+chen+`"}`, http.StatusNoContent, nil)
	if !memberOfViaREST(ts, chen, GroupContractors) {
		t.Fatal("chen not in contractors through product REST")
	}
	// Removed through the Org API: gone from product REST.
	ts.org(http.MethodDelete, v2(ts, "/groups/"+GroupAllStaff+"/memberships/"+dana), "", http.StatusNoContent, nil)
	if memberOfViaREST(ts, dana, GroupAllStaff) || memberOfViaOrg(t, ts, dana, GroupAllStaff) {
		t.Fatal("dana still in all-staff")
	}
	// No-ops change and log nothing.
	ts.org(http.MethodDelete, v2(ts, "/groups/"+GroupAllStaff+"/memberships/"+dana), "", http.StatusNoContent, nil)
	ts.org(http.MethodPost, v2(ts, "/groups/"+GroupContractors+"/memberships"), `{"accountId":"`+chen+`"}`, http.StatusNoContent, nil)

	evs := allEvents(t, ts, "")
	var got []string
	for _, e := range evs {
		got = append(got, eventSummary(e))
		if e.Type != "events" || e.Attributes.Container[0].ID != DefaultOrgID {
			t.Errorf("event %+v", e)
		}
	}
	want := []string{
		evUserRemovedFromGroup + " " + grace + " " + GroupSoftwareUsers,
		evProductAccessRevoked + " " + grace + " " + GroupSoftwareUsers + " " + JiraSoftware,
		evUserAddedToGroup + " " + chen + " " + GroupContractors,
		evProductAccessGranted + " " + chen + " " + GroupContractors + " " + JiraProductDisco,
		evUserRemovedFromGroup + " " + dana + " " + GroupAllStaff,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events\n%q\nwant\n%q", got, want)
	}
	if evs[0].Attributes.Actor.ID != alice || evs[2].Attributes.Actor.ID != orgActor {
		t.Fatalf("actors %q, %q", evs[0].Attributes.Actor.ID, evs[2].Attributes.Actor.ID)
	}
	// Product REST additions are logged too.
	r = ts.do(basicCred(), http.MethodPost, "/rest/api/3/group/user", q("groupId", GroupAllStaff), `{"accountId":"`+dana+`"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("REST add = %d %s", r.status, r.body)
	}
	evs = allEvents(t, ts, "")
	if last := eventSummary(evs[len(evs)-1]); last != evUserAddedToGroup+" "+dana+" "+GroupAllStaff {
		t.Fatalf("last event %q", last)
	}
}

func TestOrgAPIMembershipRefusals(t *testing.T) {
	ts := orgSite(t)
	path := func(g string) string { return v2(ts, "/groups/"+g+"/memberships") }
	st, b := ts.orgCall(DefaultOrgKey, http.MethodPost, path(GroupEngineering), `{"accountId":"`+dana+`"}`)
	wantOrgError(t, st, b, http.StatusForbidden, "ADMIN-403-5")
	st, b = ts.orgCall(DefaultOrgKey, http.MethodDelete, path(GroupEngineering)+"/"+bob, "")
	wantOrgError(t, st, b, http.StatusForbidden, "ADMIN-403-5")
	st, b = ts.orgCall(DefaultOrgKey, http.MethodPost, path("nope"), `{"accountId":"`+dana+`"}`)
	wantOrgError(t, st, b, http.StatusNotFound, "ADMIN-404-10")
	st, b = ts.orgCall(DefaultOrgKey, http.MethodPost, path(GroupAgents), `{"accountId":"nobody"}`)
	wantOrgError(t, st, b, http.StatusNotFound, "ADMIN-404-8")
	st, b = ts.orgCall(DefaultOrgKey, http.MethodPost, path(GroupAgents), `{}`)
	wantOrgError(t, st, b, http.StatusBadRequest, "ADMIN-400-24")
	// JSM has 3 seats, held by Dana (agent) and Alice (jira-administrators):
	// one more fits, the next does not.
	ts.org(http.MethodPost, path(GroupAgents), `{"accountId":"`+bob+`"}`, http.StatusNoContent, nil)
	st, b = ts.orgCall(DefaultOrgKey, http.MethodPost, path(GroupAgents), `{"accountId":"`+grace+`"}`)
	wantOrgError(t, st, b, http.StatusConflict, "ADMIN-409-3")
	if !strings.Contains(string(b), "Jira Service Management") {
		t.Errorf("licence error does not name the product: %s", b)
	}
	if memberOfViaREST(ts, grace, GroupAgents) {
		t.Fatal("refused member was added")
	}
	// Refusals leave no trace in the audit log.
	for _, e := range allEvents(t, ts, "") {
		if e.Attributes.Context[0].ID == grace || e.Attributes.Context[1].ID == GroupEngineering {
			t.Fatalf("refused change logged: %q", eventSummary(e))
		}
	}
}

func TestOrgAPIEventsStreamPagination(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	site, err := NewSite(DefaultScenario())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(site, Options{AdminEmail: DefaultAdminEmail, AdminToken: DefaultAdminToken, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestSiteFrom(t, srv)
	// 7 changes, one per minute of the fake clock.
	for i, id := range []string{bob, chen, dana, emile, grace, frank, alice} {
		now = now.Add(time.Minute)
		if i%2 == 0 {
			ts.org(http.MethodPost, v2(ts, "/groups/"+GroupContractors+"/memberships"), `{"accountId":"`+id+`"}`, http.StatusNoContent, nil)
		} else {
			ts.org(http.MethodPost, v2(ts, "/groups/"+GroupAllStaff+"/memberships"), `{"accountId":"`+id+`"}`, http.StatusNoContent, nil)
		}
	}
	asc := allEvents(t, ts, "")
	seen := map[string]bool{}
	for _, e := range asc {
		if seen[e.ID] {
			t.Fatalf("event %s twice", e.ID)
		}
		seen[e.ID] = true
	}
	if len(asc) != len(site.events) || len(asc) < 7 {
		t.Fatalf("walk saw %d events, log has %d", len(asc), len(site.events))
	}
	// Descending walk: the same events, reversed.
	var desc []string
	path := v1(ts, "/events-stream?limit=3&sortOrder=desc")
	for path != "" {
		var p docEvents
		ts.org(http.MethodGet, path, "", http.StatusOK, &p)
		for _, e := range p.Data {
			desc = append(desc, e.ID)
		}
		path = ""
		if p.Links.Next != nil {
			path = strings.TrimPrefix(*p.Links.Next, ts.ts.URL)
		}
	}
	var ascIDs []string
	for _, e := range asc {
		ascIDs = append(ascIDs, e.ID)
	}
	slices.Reverse(desc)
	if !slices.Equal(desc, ascIDs) {
		t.Fatalf("desc %v, asc %v", desc, ascIDs)
	}
	// An event logged mid-walk is seen once, at the end.
	var p docEvents
	ts.org(http.MethodGet, v1(ts, "/events-stream?limit=2"), "", http.StatusOK, &p)
	now = now.Add(time.Minute)
	ts.org(http.MethodDelete, v2(ts, "/groups/"+GroupAllStaff+"/memberships/"+chen), "", http.StatusNoContent, nil)
	ids := []string{p.Data[0].ID, p.Data[1].ID}
	for p.Links.Next != nil {
		next := strings.TrimPrefix(*p.Links.Next, ts.ts.URL)
		p = docEvents{}
		ts.org(http.MethodGet, next, "", http.StatusOK, &p)
		for _, e := range p.Data {
			ids = append(ids, e.ID)
		}
	}
	uniq := slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(ids) <= len(asc) || len(uniq) != len(ids) {
		t.Fatalf("walk with a new event saw %v (before it: %d events)", ids, len(asc))
	}
	// from/to (epoch ms) select by time (one page: links.next drops them,
	// the documented quirk).
	start := time.Date(2026, 1, 1, 0, 2, 0, 0, time.UTC)
	var selPage docEvents
	ts.org(http.MethodGet, v1(ts, fmt.Sprintf("/events-stream?limit=100&from=%d&to=%d", start.UnixMilli(), start.Add(time.Minute).UnixMilli())), "", http.StatusOK, &selPage)
	sel := selPage.Data
	if selPage.Links.Next != nil {
		t.Fatal("one page expected")
	}
	for _, e := range sel {
		tm, err := time.Parse(time.RFC3339Nano, e.Attributes.Time)
		if err != nil || tm.Before(start) || tm.After(start.Add(time.Minute)) {
			t.Errorf("event at %s outside from/to", e.Attributes.Time)
		}
	}
	if len(sel) == 0 {
		t.Fatal("from/to selected nothing")
	}
	st, b := ts.orgCall(DefaultOrgKey, http.MethodGet, v1(ts, "/events-stream?cursor=bogus"), "")
	wantOrgError(t, st, b, http.StatusBadRequest, "ADMIN-400-1")
}

// newTestSiteFrom serves an already built Server.
func newTestSiteFrom(t *testing.T, srv *Server) *testSite {
	t.Helper()
	ts := &testSite{t: t, srv: srv}
	ts.ts = httptest.NewServer(srv)
	t.Cleanup(ts.ts.Close)
	return ts
}

func TestOrgAPIIdPSyncIsLogged(t *testing.T) {
	ts := newTestSite(t, DefaultScenario(), Options{Modes: Modes{SyncedRemoval: SyncedRemovalUndone}})
	r := ts.do(basicCred(), http.MethodDelete, "/rest/api/3/group/user", q("groupId", GroupEngineering, "accountId", chen), "")
	if r.status != http.StatusOK {
		t.Fatalf("REST remove = %d", r.status)
	}
	if memberOfViaOrg(t, ts, chen, GroupEngineering) {
		t.Fatal("chen still in engineering")
	}
	ts.srv.Site().SyncIdP()
	if !memberOfViaOrg(t, ts, chen, GroupEngineering) {
		t.Fatal("sync did not restore chen")
	}
	// The sync's re-addition is logged with the product access it gives
	// back; engineering is chen's only Jira Software group.
	var got []string
	for _, e := range allEvents(t, ts, "") {
		got = append(got, e.Attributes.Actor.ID+" "+eventSummary(e))
	}
	want := []string{
		alice + " " + evUserRemovedFromGroup + " " + chen + " " + GroupEngineering,
		alice + " " + evProductAccessRevoked + " " + chen + " " + GroupEngineering + " " + JiraSoftware,
		actorIdP + " " + evUserAddedToGroup + " " + chen + " " + GroupEngineering,
		actorIdP + " " + evProductAccessGranted + " " + chen + " " + GroupEngineering + " " + JiraSoftware,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
}

func TestOrgAPIServiceAccounts(t *testing.T) {
	for _, n := range []int{300, 1200} {
		sc := Generate(n, 3)
		manyServiceAccounts(n / 10)(&sc) // beyond one page of serviceAccountsPage
		ts := newTestSite(t, sc, Options{})
		want := map[string]bool{}
		active := map[string]bool{}
		for _, u := range sc.Users {
			if u.AccountType == AccountApp && u.AppType == "service" {
				want[u.AccountID], active[u.AccountID] = true, u.Active
			}
		}
		seen := map[string]bool{}
		// The first call takes no parameters; links.next is a URL to follow
		// as given.
		base := ts.srv.OrgBasePath() + "/api-access/v1/orgs/" + DefaultOrgID + "/service-accounts"
		path := base
		pages := 0
		for ; ; pages++ {
			if pages > 100 {
				t.Fatal("service accounts never end")
			}
			var p docServiceAccounts
			ts.org(http.MethodGet, path, "", http.StatusOK, &p)
			if int(p.Total) != len(want) || len(p.Items) > serviceAccountsPage || (pages > 0) != (p.Links.Prev != "") {
				t.Fatalf("page %d: total %v (want %d), %d items, links %+v", pages, p.Total, len(want), len(p.Items), p.Links)
			}
			for _, it := range p.Items {
				if !want[it.AtlassianID] || seen[it.AtlassianID] || (it.Status == "ACTIVE") != active[it.AtlassianID] || it.DisplayName == "" ||
					it.ID != serviceAccountIDPrefix+it.AtlassianID {
					t.Fatalf("item %+v", it)
				}
				seen[it.AtlassianID] = true
			}
			if p.Links.Next == "" {
				break
			}
			if !strings.HasPrefix(p.Links.Next, ts.ts.URL+base+"?cursor=") {
				t.Fatalf("links.next %q", p.Links.Next)
			}
			path = strings.TrimPrefix(p.Links.Next, ts.ts.URL)
		}
		if len(seen) != len(want) || pages != (len(want)-1)/serviceAccountsPage {
			t.Fatalf("walk saw %d in %d pages, want %d", len(seen), pages+1, len(want))
		}
	}
	// The default site's automation account is a service account too.
	ts2 := orgSite(t)
	var p docServiceAccounts
	r := ts2.do(orgCred(keyOrg), http.MethodGet, ts2.srv.OrgBasePath()+"/api-access/v1/orgs/"+DefaultOrgID+"/service-accounts", "", "")
	strictDecode(t, r.body, &p)
	if p.Total != 1 || p.Items[0].AtlassianID != autoApp || p.Items[0].UpdatedAt == 0 || p.Links.Next != "" {
		t.Fatalf("default site service accounts %+v", p)
	}
	if _, err := time.Parse(time.RFC3339, r.header.Get("X-RateLimit-Reset")); err != nil || r.header.Get("X-RateLimit-Limit") == "" ||
		r.header.Get("X-RateLimit-Remaining") != r.header.Get("X-RateLimit-Limit") {
		t.Fatalf("rate-limit headers %v", r.header)
	}
}
