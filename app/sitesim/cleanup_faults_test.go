package sitesim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCleanupFaults: what the review cycle's tests need of the site: the
// n-th membership change fails and changes nothing, a group becomes
// synced and refuses changes, and the membership log lists exactly the
// changes made.
func TestCleanupFaults(t *testing.T) {
	site, err := NewSite(DefaultScenario())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(site, Options{AdminEmail: DefaultAdminEmail, AdminToken: DefaultAdminToken, Faults: Faults{FailMembershipCalls: []int{2}}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	const bob, dana, emile = "5b10a2844c20165700ede202", "5b10a2844c20165700ede204", "5b10a2844c20165700ede205"
	org := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, ts.URL+"/admin/v2/orgs/"+DefaultOrgID+"/directories/-"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+DefaultOrgKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	jira := func(method, query string) int {
		req, _ := http.NewRequest(method, ts.URL+"/rest/api/3/group/user?"+query, strings.NewReader(`{"accountId":"`+dana+`"}`))
		req.SetBasicAuth(DefaultAdminEmail, DefaultAdminToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code, body := org("DELETE", "/groups/"+GroupSoftwareUsers+"/memberships/"+bob, ""); code != http.StatusNoContent {
		t.Fatalf("first change: %d %s", code, body)
	}
	// The second change, through product REST, fails and changes nothing.
	if code := jira("DELETE", "groupId="+GroupAgents+"&accountId="+dana); code != http.StatusInternalServerError {
		t.Fatalf("second change: %d, want the injected 500", code)
	}
	if !site.members[GroupAgents][dana] {
		t.Fatal("the failed change removed the member")
	}
	if code := jira("DELETE", "groupId="+GroupAgents+"&accountId="+dana); code != http.StatusOK && code != http.StatusNoContent {
		t.Fatalf("third change: %d", code)
	}

	// contractors becomes synced: changes are refused.
	req, _ := http.NewRequest("PUT", ts.URL+"/sim/admin/groups/"+GroupContractors, strings.NewReader(`{"synced":true}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("make synced: %v %v", resp, err)
	}
	resp.Body.Close()
	if code, body := org("DELETE", "/groups/"+GroupContractors+"/memberships/"+emile, ""); code != http.StatusForbidden || !strings.Contains(body, "ADMIN-403-5") {
		t.Fatalf("a change of a synced group: %d %s", code, body)
	}
	if code, body := org("POST", "/groups/search", `{"groupIds":["`+GroupContractors+`"]}`); code != http.StatusOK || !strings.Contains(body, `"managedBy":"external"`) && !strings.Contains(body, `"externalSynced":true`) {
		var pretty any
		json.Unmarshal([]byte(body), &pretty)
		t.Fatalf("the groups search does not say synced: %d %v", code, pretty)
	}

	log := srv.MembershipLog()
	if len(log) != 2 || log[0].AccountID != bob || log[0].Added || log[1].AccountID != dana || log[1].GroupID != GroupAgents {
		t.Fatalf("membership log %+v, want bob's and dana's removals only", log)
	}
}
