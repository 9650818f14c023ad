package atlassian

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/seatlens/seatlens/app/sitesim"
)

const orgID = sitesim.DefaultOrgID

func TestOrgEndpointsDecode(t *testing.T) {
	s := startSim(t, sitesim.DefaultScenario(), sitesim.Options{}, nil)
	c := s.org(t, Options{})
	ctx := context.Background()

	orgs, err := c.Orgs(ctx)
	if err != nil || len(orgs) != 1 || orgs[0].ID != orgID {
		t.Fatalf("orgs %+v %v", orgs, err)
	}

	ws, err := c.Workspaces(ctx, orgID)
	if err != nil || len(ws) != len(s.sc.Products) {
		t.Fatalf("workspaces %+v %v", ws, err)
	}
	for _, w := range ws {
		a := w.Attributes
		if !strings.HasPrefix(w.ID, "ari:cloud:"+a.TypeKey+"::site/") || a.HostURL != s.ts.URL || a.Status != "online" {
			t.Errorf("workspace %+v", w)
		}
		if (a.Capacity == nil) != (a.TypeKey == sitesim.JiraCore) { // jira-core is unlimited in the scenario
			t.Errorf("workspace %s capacity %v", a.TypeKey, a.Capacity)
		}
	}

	dirs, err := c.Directories(ctx, orgID)
	if err != nil || len(dirs) != 1 || dirs[0].DirectoryID != sitesim.DefaultDirectoryID {
		t.Fatalf("directories %+v %v", dirs, err)
	}

	var users []OrgUser
	err = c.SearchUsers(ctx, orgID, DirectoryAll, UserSearch{Expand: []string{"productAccess", "groups", "platformRoles"}}, func(p []OrgUser) error {
		users = append(users, p...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 7 { // the atlassian accounts: app and customer accounts are not directory users
		t.Fatalf("%d directory users", len(users))
	}
	var a, f *OrgUser
	for i := range users {
		switch users[i].AccountID {
		case alice:
			a = &users[i]
		case frank:
			f = &users[i]
		}
	}
	if a == nil || !slices.Contains(a.PlatformRoles, "atlassian/site-admin") || len(a.Groups) != 4 ||
		!slices.ContainsFunc(a.ProductAccess, func(p ProductAccess) bool { return p.Key == sitesim.JiraSoftware && strings.HasPrefix(p.ID, "ari:") }) ||
		a.Email != sitesim.DefaultAdminEmail || a.ClaimStatus != "managed" || a.Status != "active" {
		t.Fatalf("alice %+v", a)
	}
	if f == nil || f.Status != "deactivated" || f.AccountStatus != "inactive" {
		t.Fatalf("frank %+v", f)
	}

	groups, err := c.SearchGroups(ctx, orgID, DirectoryAll, GroupSearch{})
	if err != nil || len(groups) != len(s.sc.Groups) {
		t.Fatalf("groups %d %v", len(groups), err)
	}
	for _, g := range groups {
		n := len(distinct(s.sc.Members[g.ID]))
		if g.Counts == nil || g.Counts.Users == nil || *g.Counts.Users != n || g.DirectoryID != sitesim.DefaultDirectoryID {
			t.Errorf("group %s counts %+v, want %d users", g.Name, g.Counts, n)
		}
		if g.ID == sitesim.GroupEngineering && (!g.ExternalSynced || g.ManagedBy != "external") {
			t.Errorf("synced group %+v", g)
		}
	}

	gra, err := c.GroupRoleAssignments(ctx, orgID, DirectoryAll, sitesim.GroupSoftwareUsers)
	if err != nil || len(gra) != 1 || gra[0].DefaultRole != "atlassian/user" || !strings.HasPrefix(gra[0].ResourceID, "ari:cloud:"+sitesim.JiraSoftware+"::") ||
		!slices.Equal(gra[0].Roles, []string{"atlassian/user"}) {
		t.Fatalf("default group role assignments %+v %v", gra, err)
	}
	gra, err = c.GroupRoleAssignments(ctx, orgID, DirectoryAll, sitesim.GroupContractors)
	if err != nil || len(gra) != 2 || gra[0].DefaultRole != "" {
		t.Fatalf("contractors role assignments %+v %v", gra, err)
	}

	ura, err := c.UserRoleAssignments(ctx, orgID, DirectoryAll, bob)
	if err != nil {
		t.Fatal(err)
	}
	var sw *UserRoleAssignment
	for i := range ura {
		if strings.HasPrefix(ura[i].ResourceID, "ari:cloud:"+sitesim.JiraSoftware+"::") {
			sw = &ura[i]
		}
	}
	if sw == nil || sw.RoleAssignments == nil || len(*sw.RoleAssignments) != 1 || (*sw.RoleAssignments)[0].Role != "atlassian/user" ||
		!slices.Equal((*sw.RoleAssignments)[0].RoleAssignmentMethods, []string{"group_direct"}) || sw.DirectoryID != sitesim.DefaultDirectoryID {
		t.Fatalf("bob's role assignments %+v", ura)
	}
	ura, err = c.UserRoleAssignments(ctx, orgID, DirectoryAll, alice)
	if err != nil || !slices.ContainsFunc(ura, func(r UserRoleAssignment) bool {
		return strings.HasPrefix(r.ResourceID, "ari:cloud:platform::") && r.DirectoryID == "" && slices.Contains(r.Roles, "atlassian/site-admin")
	}) {
		t.Fatalf("alice's platform role %+v %v", ura, err)
	}

	sas, err := c.ServiceAccounts(ctx, orgID)
	if err != nil || len(sas) != 1 || sas[0].AtlassianID != "5b10a2844c20165700ede207" {
		t.Fatalf("service accounts %+v %v", sas, err)
	}

	_, err = c.UserRoleAssignments(ctx, orgID, DirectoryAll, "no-such-account")
	var ae *APIError
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &ae) || ae.Code != "ADMIN-404-8" {
		t.Fatalf("unknown user: %v", err)
	}
	_, err = c.Workspaces(ctx, "another-org")
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &ae) || ae.Op != "org.searchWorkspaces" || ae.Code != "ADMIN-404-2" {
		t.Fatalf("unknown org: %v", err)
	}
	if _, err := c.Workspaces(ctx, ""); err == nil {
		t.Fatal("empty org ID accepted")
	}
}

// TestOrgPathSegmentsAreEscaped: an ID with "/" stays one path segment (the
// site answers "group not found", not "no such resource"), and account IDs
// with ":" reach their user.
func TestOrgPathSegmentsAreEscaped(t *testing.T) {
	sc := sitesim.Generate(300, 4)
	s := startSim(t, sc, sitesim.Options{}, nil)
	c := s.org(t, Options{})
	ctx := context.Background()
	_, err := c.GroupRoleAssignments(ctx, orgID, DirectoryAll, "a/../../b?x=1#y")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "ADMIN-404-10" || !strings.Contains(err.Error(), "/groups/a%2F..%2F..%2Fb%3Fx=1%23y/role-assignments") {
		t.Fatalf("err %v", err)
	}
	var colon string
	for _, u := range sc.Users {
		if strings.Contains(u.AccountID, ":") && u.AccountType == sitesim.AccountAtlassian && len(u.DirectRoles) == 0 {
			colon = u.AccountID
			break
		}
	}
	if colon == "" {
		t.Fatal("no account ID with ':' in the scenario")
	}
	if _, err := c.UserRoleAssignments(ctx, orgID, DirectoryAll, colon); err != nil {
		t.Fatalf("account %s: %v", colon, err)
	}
}

// TestOrgPaginationOnALargeSite walks every cursor page of the users and
// groups searches, role assignments, workspaces and service accounts of a
// generated site, and finds every item exactly once.
func TestOrgPaginationOnALargeSite(t *testing.T) {
	sc := sitesim.Generate(2000, 42)
	s := startSim(t, sc, sitesim.Options{}, nil)
	const size = 40
	c := s.org(t, Options{PageSize: size})
	ctx := context.Background()

	groupsOf := map[string]map[string]bool{}
	for g, ids := range sc.Members {
		for _, id := range ids {
			if groupsOf[id] == nil {
				groupsOf[id] = map[string]bool{}
			}
			groupsOf[id][g] = true
		}
	}
	wantUsers := 0
	for _, u := range sc.Users {
		if u.AccountType == sitesim.AccountAtlassian {
			wantUsers++
		}
	}
	seen := map[string]bool{}
	pages := 0
	err := c.SearchUsers(ctx, orgID, DirectoryAll, UserSearch{Expand: []string{"groups"}}, func(page []OrgUser) error {
		pages++
		if len(page) > size {
			return fmt.Errorf("page of %d users", len(page))
		}
		for _, u := range page {
			if seen[u.AccountID] {
				return fmt.Errorf("user %s twice", u.AccountID)
			}
			seen[u.AccountID] = true
			if len(u.Groups) != len(groupsOf[u.AccountID]) {
				return fmt.Errorf("user %s: %d groups, scenario has %d", u.AccountID, len(u.Groups), len(groupsOf[u.AccountID]))
			}
			for _, g := range u.Groups {
				if !groupsOf[u.AccountID][g.ID] {
					return fmt.Errorf("user %s: unexpected group %s", u.AccountID, g.ID)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != wantUsers || pages != (wantUsers+size-1)/size {
		t.Fatalf("%d users in %d pages, scenario has %d users", len(seen), pages, wantUsers)
	}
	if st := c.Stats().ByOp["org.searchUsers"]; st.Calls != pages {
		t.Fatalf("%d calls for %d pages: cursor paging needs no extra call", st.Calls, pages)
	}

	// A filter narrows the walk; the callback's error stops it.
	stop := errors.New("enough")
	calls := c.Stats().ByOp["org.searchUsers"].Calls
	err = c.SearchUsers(ctx, orgID, DirectoryAll, UserSearch{}, func([]OrgUser) error { return stop })
	if !errors.Is(err, stop) || c.Stats().ByOp["org.searchUsers"].Calls != calls+1 {
		t.Fatalf("callback error: %v", err)
	}

	tiny := s.org(t, Options{PageSize: 1})
	groups, err := tiny.SearchGroups(ctx, orgID, DirectoryAll, GroupSearch{})
	if err != nil || len(groups) != len(sc.Groups) {
		t.Fatalf("groups %d, scenario has %d: %v", len(groups), len(sc.Groups), err)
	}
	names := map[string]bool{}
	for _, g := range groups {
		if names[g.Name] {
			t.Fatalf("group %s twice", g.Name)
		}
		names[g.Name] = true
		if n := len(distinct(sc.Members[g.ID])); g.Counts == nil || *g.Counts.Users != n {
			t.Fatalf("group %s: counts %+v, want %d", g.Name, g.Counts, n)
		}
	}
	for _, g := range sc.Groups {
		products := map[string]bool{}
		for _, gr := range g.Grants {
			products[gr.Product] = true
		}
		ra, err := tiny.GroupRoleAssignments(ctx, orgID, DirectoryAll, g.ID)
		if err != nil || len(ra) != len(products) {
			t.Fatalf("group %s: %d role assignments, %d products: %v", g.Name, len(ra), len(products), err)
		}
		for _, r := range ra {
			owner, _, _ := strings.Cut(strings.TrimPrefix(r.ResourceID, "ari:cloud:"), ":")
			if (r.DefaultRole != "") != slices.Contains(g.DefaultFor, owner) {
				t.Fatalf("group %s on %s: defaultRole %q", g.Name, r.ResourceID, r.DefaultRole)
			}
		}
	}
	ws, err := tiny.Workspaces(ctx, orgID)
	if err != nil || len(ws) != len(sc.Products) {
		t.Fatalf("workspaces %d, scenario has %d products: %v", len(ws), len(sc.Products), err)
	}
	var wantSA []string
	for _, u := range sc.Users {
		if u.AccountType == sitesim.AccountApp && u.AppType == "service" {
			wantSA = append(wantSA, u.AccountID)
		}
	}
	sas, err := tiny.ServiceAccounts(ctx, orgID)
	if err != nil || len(sas) != len(wantSA) || len(wantSA) < 3 {
		t.Fatalf("service accounts %d, scenario has %d: %v", len(sas), len(wantSA), err)
	}
	for _, sa := range sas {
		if !slices.Contains(wantSA, sa.AtlassianID) {
			t.Fatalf("unexpected service account %+v", sa)
		}
	}
	// An org-admin holds an inferred admin role on every product: several
	// resources, one a page.
	for _, u := range sc.Users {
		if slices.Contains(u.PlatformRoles, "org-admin") {
			ra, err := tiny.UserRoleAssignments(ctx, orgID, DirectoryAll, u.AccountID)
			if err != nil || len(ra) < len(sc.Products) {
				t.Fatalf("org-admin %s: %d role assignments: %v", u.AccountID, len(ra), err)
			}
			if st := tiny.Stats().ByOp["org.getUserRoleAssignments"]; st.Calls != len(ra) {
				t.Fatalf("%d calls for %d one-item pages", st.Calls, len(ra))
			}
			return
		}
	}
	t.Fatal("no org-admin in the scenario")
}

// orgFaults sits in front of the site and answers every other Organizations
// API request with a 5xx (the site injects faults into Jira REST only).
type orgFaults struct {
	mu       sync.Mutex
	n        int
	injected int
	deletes  int
}

func (f *orgFaults) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/admin/") {
			next.ServeHTTP(w, r)
			return
		}
		f.mu.Lock()
		f.n++
		fail := f.n%2 == 1 || r.Method == http.MethodDelete
		if r.Method == http.MethodDelete {
			f.deletes++
		}
		if fail {
			f.injected++
		}
		code := []int{500, 502, 503, 504}[f.n%4]
		f.mu.Unlock()
		if !fail {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"errors":[{"id":"x","status":"%d","code":"ADMIN-%d-0","title":"%s"}]}`, code, code, http.StatusText(code))
	})
}

// TestOrgSearchesAreRetriedAfter5xx: the searches are POSTs that change
// nothing, marked idempotent, so a 5xx is retried and every page still
// arrives; a membership DELETE hit by a 5xx is sent once.
func TestOrgSearchesAreRetriedAfter5xx(t *testing.T) {
	sc := sitesim.Generate(500, 8)
	var f orgFaults
	s := startSim(t, sc, sitesim.Options{}, f.wrap)
	sl := &sleepLog{}
	c := s.org(t, Options{PageSize: 30, Sleep: sl.Sleep})
	ctx := context.Background()
	n := 0
	if err := c.SearchUsers(ctx, orgID, DirectoryAll, UserSearch{}, func(p []OrgUser) error { n += len(p); return nil }); err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, u := range sc.Users {
		if u.AccountType == sitesim.AccountAtlassian {
			want++
		}
	}
	if n != want {
		t.Fatalf("%d users, want %d", n, want)
	}
	groups, err := c.SearchGroups(ctx, orgID, DirectoryAll, GroupSearch{Limit: 5})
	if err != nil || len(groups) != len(sc.Groups) {
		t.Fatalf("groups %d %v", len(groups), err)
	}
	if ws, err := c.Workspaces(ctx, orgID); err != nil || len(ws) != len(sc.Products) {
		t.Fatalf("workspaces %d %v", len(ws), err)
	}
	st := c.Stats().Total
	f.mu.Lock()
	injected := f.injected
	f.mu.Unlock()
	if st.ServerErrors != injected || st.Retries != injected || len(sl.Waits()) != injected {
		t.Fatalf("client %+v, %d waits, %d injected", st, len(sl.Waits()), injected)
	}

	err = c.RemoveMembership(ctx, orgID, DirectoryAll, sitesim.GroupAllStaff, bob)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("DELETE membership: %v", err)
	}
	f.mu.Lock()
	deletes := f.deletes
	f.mu.Unlock()
	if deletes != 1 {
		t.Fatalf("DELETE membership sent %d times", deletes)
	}
}

// TestOrgMembershipChanges: a removal through the Org API shows in Jira's
// group/member, and a synced group refuses with ADMIN-403-5.
func TestOrgMembershipChanges(t *testing.T) {
	s := startSim(t, sitesim.DefaultScenario(), sitesim.Options{}, nil)
	org, jira := s.org(t, Options{}), s.jira(t, Options{})
	ctx := context.Background()
	if err := org.RemoveMembership(ctx, orgID, DirectoryAll, sitesim.GroupAllStaff, bob); err != nil {
		t.Fatal(err)
	}
	if memberIDs(t, jira, sitesim.GroupAllStaff)[bob] {
		t.Fatal("removal through the Org API not visible in Jira")
	}
	if err := org.AddMembership(ctx, orgID, DirectoryAll, sitesim.GroupAllStaff, bob); err != nil {
		t.Fatal(err)
	}
	if !memberIDs(t, jira, sitesim.GroupAllStaff)[bob] {
		t.Fatal("re-add through the Org API not visible in Jira")
	}
	err := org.RemoveMembership(ctx, orgID, DirectoryAll, sitesim.GroupEngineering, bob)
	var ae *APIError
	if !errors.Is(err, ErrForbidden) || !errors.As(err, &ae) || ae.Code != "ADMIN-403-5" {
		t.Fatalf("synced group: %v", err)
	}
}
