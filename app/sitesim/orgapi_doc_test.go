package sitesim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// Shapes of the Organizations API as billing-model.md §7 documents them,
// written from the document (not from orgapi*.go's types), so a field the
// sim adds or renames fails the strict decode. events-stream and
// directories, which §7 does not show, follow unconfirmed.go.

type (
	docLinks struct {
		Self string  `json:"self"`
		Prev *string `json:"prev"`
		Next *string `json:"next"`
	}
	docNext struct {
		Next *string `json:"next"`
	}
	docError struct {
		Errors []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Code   string `json:"code"`
			Title  string `json:"title"`
			Detail string `json:"detail"`
		} `json:"errors"`
	}
	docRelated struct {
		Links struct {
			Related string `json:"related"`
		} `json:"links"`
	}
	docOrg struct {
		ID         string `json:"id"`
		Type       string `json:"type"`
		Attributes struct {
			Name string `json:"name"`
		} `json:"attributes"`
		Relationships struct {
			Domains docRelated `json:"domains"`
			Users   docRelated `json:"users"`
		} `json:"relationships"`
		Links struct {
			Self string `json:"self"`
		} `json:"links"`
	}
	docOrgs struct {
		Data  []docOrg `json:"data"`
		Links docLinks `json:"links"`
	}
	docUser struct {
		AccountID        string   `json:"accountId"`
		AccountType      string   `json:"accountType"`
		Status           string   `json:"status"`
		AccountStatus    string   `json:"accountStatus"`
		MembershipStatus string   `json:"membershipStatus"`
		AddedToOrg       *string  `json:"addedToOrg"`
		Name             string   `json:"name"`
		Nickname         string   `json:"nickname"`
		Email            string   `json:"email"`
		EmailVerified    bool     `json:"emailVerified"`
		ClaimStatus      string   `json:"claimStatus"`
		PlatformRoles    []string `json:"platformRoles"`
		ManagementSource string   `json:"managementSource"`
		MFAEnabled       bool     `json:"mfaEnabled"`
		ProductAccess    []struct {
			Key                 string  `json:"key"`
			ID                  string  `json:"id"`
			LastActiveTimestamp *string `json:"lastActiveTimestamp"`
		} `json:"productAccess"`
		Groups []struct {
			ID          string  `json:"id"`
			Name        string  `json:"name"`
			Description *string `json:"description"`
		} `json:"groups"`
		DeactivatedOn *string `json:"deactivatedOn"`
		ForDeletion   bool    `json:"forDeletion"`
		Links         struct {
			Self string `json:"self"`
		} `json:"links"`
	}
	docUserPage struct {
		Data  []docUser `json:"data"`
		Links docLinks  `json:"links"`
	}
	docUserRoles struct {
		Data []struct {
			ResourceID      string   `json:"resourceId"`
			ResourceOwner   string   `json:"resourceOwner"`
			Roles           []string `json:"roles"`
			RoleAssignments []struct {
				Role                  string   `json:"role"`
				RoleAssignmentMethods []string `json:"roleAssignmentMethods"`
			} `json:"roleAssignments"`
			DirectoryID         *string `json:"directoryId"`
			UserDirectoryStatus *string `json:"userDirectoryStatus"`
		} `json:"data"`
		Links docNext `json:"links"`
	}
	docGroup struct {
		ID               string  `json:"id"`
		Name             string  `json:"name"`
		Description      *string `json:"description"`
		DirectoryID      string  `json:"directoryId"`
		ManagementAccess struct {
			Deletable  bool `json:"deletable"`
			Modifiable bool `json:"modifiable"`
			Readable   bool `json:"readable"`
		} `json:"managementAccess"`
		ExternalSynced bool   `json:"externalSynced"`
		ManagedBy      string `json:"managedBy"`
		Counts         *struct {
			Users     *int `json:"users"`
			Resources *int `json:"resources"`
		} `json:"counts"`
		Links struct {
			Self string `json:"self"`
		} `json:"links"`
	}
	docGroupPage struct {
		Data  []docGroup `json:"data"`
		Links docLinks   `json:"links"`
	}
	docGroupRoles struct {
		Data []struct {
			ResourceID    string   `json:"resourceId"`
			ResourceOwner string   `json:"resourceOwner"`
			DefaultRole   *string  `json:"defaultRole"`
			Roles         []string `json:"roles"`
		} `json:"data"`
		Links docNext `json:"links"`
	}
	docLastActive struct {
		Data struct {
			ProductAccess []struct {
				ID                  string `json:"id"`
				Key                 string `json:"key"`
				LastActive          string `json:"last_active"`
				LastActiveTimestamp string `json:"last_active_timestamp"`
			} `json:"product_access"`
			AddedToOrg          string `json:"added_to_org"`
			AddedToOrgTimestamp string `json:"added_to_org_timestamp"`
		} `json:"data"`
		Links docNext `json:"links"`
	}
	docWorkspaces struct {
		Data []struct {
			ID         string `json:"id"`
			Attributes struct {
				Name      string `json:"name"`
				TypeKey   string `json:"typeKey"`
				Type      string `json:"type"`
				Status    string `json:"status"`
				HostURL   string `json:"hostUrl"`
				Sandbox   bool   `json:"sandbox"`
				Capacity  *int   `json:"capacity"`
				CreatedAt string `json:"createdAt"`
			} `json:"attributes"`
		} `json:"data"`
		Links docLinks `json:"links"`
	}
	docServiceAccounts struct {
		Links struct {
			Next *string `json:"next"`
			Prev *string `json:"prev"`
		} `json:"links"`
		Items []struct {
			AtlassianID string `json:"atlassianId"`
			ID          string `json:"id"`
			Email       string `json:"email"`
			DisplayName string `json:"displayName"`
			Picture     string `json:"picture"`
			Container   string `json:"container"`
			UpdatedAt   int64  `json:"updatedAt"`
			Status      string `json:"status"`
			CreatedByID string `json:"createdById"`
			Description string `json:"description"`
		} `json:"items"`
		Total int `json:"total"`
	}
	docEventContext struct {
		ID         string            `json:"id"`
		Type       string            `json:"type"`
		Attributes map[string]string `json:"attributes"`
	}
	docEvent struct {
		ID         string `json:"id"`
		Type       string `json:"type"`
		Attributes struct {
			Time   string `json:"time"`
			Action string `json:"action"`
			Actor  struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"actor"`
			Context   []docEventContext `json:"context"`
			Container []docEventContext `json:"container"`
		} `json:"attributes"`
		Links struct {
			Self string `json:"self"`
		} `json:"links"`
	}
	docEvents struct {
		Data  []docEvent `json:"data"`
		Links docLinks   `json:"links"`
		Meta  struct {
			Next     *string `json:"next"`
			PageSize int     `json:"page_size"`
		} `json:"meta"`
	}
	docDirectories struct {
		Data []struct {
			DirectoryID string `json:"directoryId"`
			Name        string `json:"name"`
		} `json:"data"`
		Links docLinks `json:"links"`
	}
)

// orgCall sends one Org API request with the given bearer key ("" sends
// no Authorization header) and returns status and body.
func (ts *testSite) orgCall(key, method, path, body string) (int, []byte) {
	ts.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ts.ts.URL+path, rd)
	if err != nil {
		ts.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := ts.ts.Client().Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		ts.t.Fatal(err)
	}
	return res.StatusCode, b
}

// org calls with the right key, wants status, and strictly decodes the
// body into v (nil: no body expected).
func (ts *testSite) org(method, path, body string, want int, v any) {
	ts.t.Helper()
	st, b := ts.orgCall(ts.srv.opts.OrgKey, method, path, body)
	if st != want {
		ts.t.Fatalf("%s %s = %d %s, want %d", method, path, st, b, want)
	}
	if v == nil {
		if len(bytes.TrimSpace(b)) != 0 {
			ts.t.Fatalf("%s %s: unexpected body %s", method, path, b)
		}
		return
	}
	strictDecode(ts.t, b, v)
}

func strictDecode(t *testing.T, b []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("strict decode of %s: %v", b, err)
	}
}

// wantOrgError checks an error answer: status, the documented envelope
// and code.
func wantOrgError(t *testing.T, st int, b []byte, status int, code string) {
	t.Helper()
	if st != status {
		t.Fatalf("status %d %s, want %d", st, b, status)
	}
	var e docError
	strictDecode(t, b, &e)
	if len(e.Errors) != 1 || e.Errors[0].Code != code || e.Errors[0].Status != strconv.Itoa(status) || e.Errors[0].ID == "" || e.Errors[0].Title == "" {
		t.Fatalf("error %s, want one error with code %s", b, code)
	}
}

// Paths of the default org.
func v2(ts *testSite, rest string) string {
	return ts.srv.OrgBasePath() + "/v2/orgs/" + ts.srv.OrgID() + "/directories/" + DefaultDirectoryID + rest
}

func v1(ts *testSite, rest string) string {
	return ts.srv.OrgBasePath() + "/v1/orgs/" + ts.srv.OrgID() + rest
}
