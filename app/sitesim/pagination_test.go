package sitesim

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestGroupMemberClamp: maxResults above 50 is clamped silently, and the
// answer says so.
func TestGroupMemberClamp(t *testing.T) {
	ts := newTestSite(t, SizedScenario(500, 1), Options{})
	var page tMemberPage
	ts.get("/rest/api/3/group/member", q("groupId", GroupSoftwareUsers, "maxResults", "100"), 200, &page)
	if page.MaxResults != memberPageMax || len(page.Values) != memberPageMax || page.IsLast || page.NextPage == nil {
		t.Fatalf("maxResults=100 gave maxResults %d, %d values, isLast %v", page.MaxResults, len(page.Values), page.IsLast)
	}
}

// TestGroupMemberPaging walks every page of a large group, by startAt and
// by following nextPage links, on both mounts: each member comes exactly
// once, in display order, and only the last page is isLast.
func TestGroupMemberPaging(t *testing.T) {
	sc := SizedScenario(500, 1)
	ts := newTestSite(t, sc, Options{ContextPath: "/jira"})
	ts.installConnectApp("ADMIN")
	byID := map[string]User{}
	for _, u := range sc.Users {
		byID[u.AccountID] = u
	}
	for _, inactive := range []bool{false, true} {
		var want []string
		for _, id := range sc.Members[GroupAllStaff] {
			if inactive || byID[id].Active {
				want = append(want, id)
			}
		}
		slices.SortStableFunc(want, func(a, b string) int { return compareStrings(byID[a].DisplayName, byID[b].DisplayName) })
		if len(want) < 100 {
			t.Fatalf("the sized scenario gives all-staff only %d members", len(want))
		}
		for _, mount := range []cred{basicCred(), forgeCred("forge", true, forgeScopes, time.Hour)} {
			name := mount.name + "/inactive=" + strconv.FormatBool(inactive)
			t.Run(name+"/startAt", func(t *testing.T) {
				var got []string
				for start := 0; ; start += 37 {
					page := memberPage(t, ts, mount, q("groupId", GroupAllStaff, "includeInactiveUsers", strconv.FormatBool(inactive),
						"startAt", strconv.Itoa(start), "maxResults", "37"))
					if page.Total != len(want) || page.StartAt != start || page.MaxResults != 37 {
						t.Fatalf("page at %d: total %d startAt %d maxResults %d", start, page.Total, page.StartAt, page.MaxResults)
					}
					got = append(got, page.members()...)
					last := start+37 >= len(want)
					if page.IsLast != last || (page.NextPage == nil) != last {
						t.Fatalf("page at %d: isLast %v, nextPage %v; want last=%v", start, page.IsLast, page.NextPage, last)
					}
					if last {
						break
					}
				}
				if !slices.Equal(got, want) {
					t.Fatalf("walked %d members, want %d in display order", len(got), len(want))
				}
			})
			t.Run(name+"/nextPage", func(t *testing.T) {
				var got []string
				query := q("groupId", GroupAllStaff, "includeInactiveUsers", strconv.FormatBool(inactive))
				for pages := 0; ; pages++ {
					page := memberPage(t, ts, mount, query)
					got = append(got, page.members()...)
					if page.NextPage == nil {
						if !page.IsLast {
							t.Fatal("no nextPage on a page that is not the last")
						}
						break
					}
					next, err := url.Parse(*page.NextPage)
					if err != nil || next.Host != strings.TrimPrefix(ts.ts.URL, "http://") {
						t.Fatalf("nextPage %q is not on this site", *page.NextPage)
					}
					wantPrefix := ts.srv.opts.ContextPath
					if mount.api {
						wantPrefix = ts.srv.APIBasePath()
					}
					if !strings.HasPrefix(next.Path, wantPrefix+"/rest/api/3/group/member") {
						t.Fatalf("nextPage %q is not on the mount asked", *page.NextPage)
					}
					query = next.RawQuery
					if pages > len(want) {
						t.Fatal("nextPage never ends")
					}
				}
				if !slices.Equal(got, want) {
					t.Fatalf("followed nextPage over %d members, want %d", len(got), len(want))
				}
			})
		}
	}
}

func memberPage(t *testing.T, ts *testSite, c cred, query string) tMemberPage {
	t.Helper()
	res := ts.do(c, http.MethodGet, "/rest/api/3/group/member", query, "")
	if res.status != 200 {
		t.Fatalf("group/member?%s = %d %s", query, res.status, res.body)
	}
	var page tMemberPage
	res.json(t, &page)
	return page
}

// TestIncludeInactiveUsers: Frank is inactive and in jira-software-users.
func TestIncludeInactiveUsers(t *testing.T) {
	ts := defaultSite(t)
	var hidden, shown tMemberPage
	ts.get("/rest/api/3/group/member", q("groupId", GroupSoftwareUsers), 200, &hidden)
	ts.get("/rest/api/3/group/member", q("groupId", GroupSoftwareUsers, "includeInactiveUsers", "true"), 200, &shown)
	if slices.Contains(hidden.members(), frank) || hidden.Total != 4 {
		t.Fatalf("default page shows the inactive user: %v (total %d)", hidden.members(), hidden.Total)
	}
	if !slices.Contains(shown.members(), frank) || shown.Total != 5 {
		t.Fatalf("includeInactiveUsers=true hides the inactive user: %v (total %d)", shown.members(), shown.Total)
	}
}

// TestUsersSearchPaging walks users/search, a bare array without total:
// pages until a short page, every account once, inactive ones included;
// maxResults is clamped to 1000.
func TestUsersSearchPaging(t *testing.T) {
	sc := SizedScenario(1100, 2)
	ts := newTestSite(t, sc, Options{})
	var got []string
	for start := 0; ; start += 200 {
		var page []tUser
		ts.get("/rest/api/3/users/search", q("startAt", strconv.Itoa(start), "maxResults", "200"), 200, &page)
		for _, u := range page {
			got = append(got, u.AccountID)
		}
		if len(page) < 200 {
			break
		}
	}
	slices.Sort(got)
	var want []string
	for _, u := range sc.Users {
		want = append(want, u.AccountID)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("users/search walked %d accounts, want %d", len(got), len(want))
	}
	var clamped []tUser
	ts.get("/rest/api/3/users/search", q("maxResults", "5000"), 200, &clamped)
	if len(clamped) != usersPageMax {
		t.Fatalf("maxResults=5000 gave %d accounts, want %d", len(clamped), usersPageMax)
	}
}
