package scan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/atlassian"
	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/app/sitesim"
)

// TestEverySeatHolderIsListed: accounts that hold a seat no one pays for
// are in the findings all the same, wherever they show up: a suspended
// account with a direct JPD contributor role (its roles are read although
// it cannot be billable), and a customer account the Organizations API's directory
// lists with the JSM product but no role (it keeps the customer seat the
// accounts outside the directory get, once).
func TestEverySeatHolderIsListed(t *testing.T) {
	sc := loadFixture(t)
	for i := range sc.Users {
		if sc.Users[i].AccountID == "fx10-gina" { // suspended
			sc.Users[i].DirectRoles = append(sc.Users[i].DirectRoles, sitesim.Grant{Product: sitesim.JiraProductDisco, Role: sitesim.RoleContributor})
		}
	}
	site, err := sitesim.NewSite(sc)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sitesim.New(site, sitesim.Options{AdminEmail: sitesim.DefaultAdminEmail, AdminToken: sitesim.DefaultAdminToken})
	if err != nil {
		t.Fatal(err)
	}
	// The directory also lists the portal customer (Atlassian's accountType
	// enum is open), with JSM in its product access and no role.
	portal := map[string]any{"accountId": "fx06-portal", "accountType": "customer", "status": "active", "accountStatus": "active",
		"name": "Portal Customer", "productAccess": []any{map[string]any{"key": "jira-service-desk", "id": "jsm-instance-1"}}, "groups": []any{}}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/users/fx06-portal/role-assignments"):
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"data":[],"links":{"self":null,"prev":null,"next":null}}`))
			return
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/users/search"):
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, r)
			var page map[string]any
			if json.Unmarshal(rec.Body.Bytes(), &page) == nil && !strings.Contains(string(body), `"cursor"`) {
				page["data"] = append(page["data"].([]any), portal)
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(page)
			return
		}
		srv.ServeHTTP(w, r)
	}))
	defer ts.Close()
	jira, _ := atlassian.New(nil, ts.URL, atlassian.Basic(sitesim.DefaultAdminEmail, sitesim.DefaultAdminToken), atlassian.Options{})
	org, _ := atlassian.New(nil, ts.URL, atlassian.Bearer(sitesim.DefaultOrgKey), atlassian.Options{})
	snap, err := scan.Collect(context.Background(), scan.Source{SiteURL: ts.URL, Jira: jira, JiraAdmin: jira, Org: org, OrgID: sitesim.DefaultOrgID,
		Now: func() time.Time { return fixtureScannedAt }})
	if err != nil {
		t.Fatal(err)
	}
	f, err := billing.Explain(snap, billing.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	seats := map[string][]string{}
	for _, u := range f.Users {
		for _, s := range u.Seats {
			seats[u.AccountID] = append(seats[u.AccountID], s.Product+"="+s.Role+"/"+s.Verdict+"/"+reasonCodes(s))
		}
	}
	if got := strings.Join(seats["fx10-gina"], " "); !strings.Contains(got, "jira-product-discovery=contributor/not-billable/suspended non-billable-role") {
		t.Errorf("the suspended guest's seats: %q", got)
	}
	if got := strings.Join(seats["fx06-portal"], " "); got != "jira-servicedesk=customer/not-billable/customer non-billable-role" {
		t.Errorf("the directory's customer account: %q", got)
	}
	n := 0
	for _, u := range f.Users {
		if u.AccountID == "fx06-portal" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the customer account is listed %d times", n)
	}
}
