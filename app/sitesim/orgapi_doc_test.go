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

// Shapes of the Organizations API as orgapi-documented.md writes them
// (§1–§15), written from the document (not from orgapi*.go's types), so a
// field the sim adds or renames fails the strict decode. A documented
// T|null is a pointer; a documented optional field the sim may leave out
// is a pointer or omitted slice too. The contract test
// (orgapi_contract_test.go) checks the same shapes against the typed
// schema testdata/orgapi-documented.openapi.json.

type (
	// docLinks is LinkPageCursor of the searches and role-assignment lists
	// (§5–§8): tokens, string|null.
	docLinks struct {
		Self *string `json:"self"`
		Prev *string `json:"prev"`
		Next *string `json:"next"`
	}
	// docPageLinks is links typed as plain strings: LinkPageModel URLs
	// (§1, §3, §15) and the directories list's tokens (§4).
	docPageLinks struct {
		Self string `json:"self"`
		Prev string `json:"prev"`
		Next string `json:"next"`
	}
	docErrorItem struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Code   string `json:"code"`
		Title  string `json:"title"`
		Detail string `json:"detail"`
	}
	docError struct {
		Errors []docErrorItem `json:"errors"`
	}
	docProxyError struct {
		Code    float64 `json:"code"`
		Message string  `json:"message"`
	}
	docSelf struct {
		Self string `json:"self"`
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
		Links docSelf `json:"links"`
	}
	docOrgs struct {
		Data  []docOrg     `json:"data"`
		Links docPageLinks `json:"links"`
	}
	docProductAccess struct {
		Key                 string  `json:"key"`
		ID                  string  `json:"id"`
		LastActiveTimestamp *string `json:"lastActiveTimestamp"`
	}
	docUserGroup struct {
		ID          string  `json:"id"`
		Name        *string `json:"name"`
		Description *string `json:"description"`
	}
	// docUser is §5's user.
	docUser struct {
		AccountID        string             `json:"accountId"`
		AccountType      string             `json:"accountType"`
		Status           string             `json:"status"`
		AccountStatus    string             `json:"accountStatus"`
		MembershipStatus string             `json:"membershipStatus"`
		AddedToOrg       *string            `json:"addedToOrg"`
		Name             string             `json:"name"`
		Nickname         string             `json:"nickname"`
		Email            string             `json:"email"`
		EmailVerified    bool               `json:"emailVerified"`
		ClaimStatus      string             `json:"claimStatus"`
		PlatformRoles    []string           `json:"platformRoles"`
		Picture          string             `json:"picture"`
		Avatar           string             `json:"avatar"`
		ManagementSource *string            `json:"managementSource"`
		MFAEnabled       bool               `json:"mfaEnabled"`
		JobTitle         string             `json:"jobTitle"`
		Department       *string            `json:"department"`
		Organization     *string            `json:"organization"`
		Location         *string            `json:"location"`
		TimeZone         *string            `json:"timeZone"`
		Counts           *docResourceCount  `json:"counts"`
		ProductAccess    []docProductAccess `json:"productAccess"`
		Groups           []docUserGroup     `json:"groups"`
		Links            docSelf            `json:"links"`
		DeactivatedOn    *string            `json:"deactivatedOn"`
		ForDeletion      bool               `json:"forDeletion"`
	}
	docResourceCount struct {
		Resources int `json:"resources"`
	}
	docUserPage struct {
		Data  []docUser `json:"data"`
		Links docLinks  `json:"links"`
	}
	// docUserDetails is §12's user (inside "data").
	docUserDetails struct {
		AccountID        string           `json:"accountId"`
		AccountType      string           `json:"accountType"`
		Status           string           `json:"status"`
		AccountStatus    string           `json:"accountStatus"`
		MembershipStatus string           `json:"membershipStatus"`
		AddedToOrg       *string          `json:"addedToOrg"`
		DeactivatedOn    *string          `json:"deactivatedOn"`
		Name             string           `json:"name"`
		Nickname         string           `json:"nickname"`
		Email            string           `json:"email"`
		EmailVerified    bool             `json:"emailVerified"`
		ClaimStatus      string           `json:"claimStatus"`
		PlatformRoles    []string         `json:"platformRoles"`
		Picture          string           `json:"picture"`
		Avatar           string           `json:"avatar"`
		ManagementSource *string          `json:"managementSource"`
		MFAEnabled       bool             `json:"mfaEnabled"`
		JobTitle         string           `json:"jobTitle"`
		Department       *string          `json:"department"`
		Organization     *string          `json:"organization"`
		Location         *string          `json:"location"`
		TimeZone         *string          `json:"timeZone"`
		Counts           docResourceCount `json:"counts"`
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
		Links docLinks `json:"links"`
	}
	docGroup struct {
		ID               string `json:"id"`
		Name             string `json:"name"`
		Description      string `json:"description"`
		DirectoryID      string `json:"directoryId"`
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
		Links docSelf `json:"links"`
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
		Links docLinks `json:"links"`
	}
	docLastActive struct {
		Data struct {
			ProductAccess []struct {
				ID                  string `json:"id"`
				Key                 string `json:"key"`
				LastActive          string `json:"last_active"`
				LastActiveTimestamp string `json:"last_active_timestamp"`
			} `json:"product_access"`
			AddedToOrg          *string `json:"added_to_org"`
			AddedToOrgTimestamp *string `json:"added_to_org_timestamp"`
		} `json:"data"`
		Links struct {
			Next string `json:"next"`
		} `json:"links"`
	}
	docWorkspace struct {
		ID         string `json:"id"`
		Type       string `json:"type"`
		Attributes struct {
			Name          string         `json:"name"`
			TypeKey       string         `json:"typeKey"`
			Type          string         `json:"type"`
			Owner         *string        `json:"owner"`
			Status        string         `json:"status"`
			StatusDetails []string       `json:"statusDetails"`
			Icons         map[string]any `json:"icons"`
			Avatars       map[string]any `json:"avatars"`
			Labels        []string       `json:"labels"`
			Sandbox       *struct {
				Type string `json:"type"`
			} `json:"sandbox"`
			Usage     *int     `json:"usage"`
			Capacity  *int     `json:"capacity"`
			CreatedAt *string  `json:"createdAt"`
			CreatedBy *string  `json:"createdBy"`
			UpdatedAt *string  `json:"updatedAt"`
			HostURL   *string  `json:"hostUrl"`
			Realm     string   `json:"realm"`
			Regions   []string `json:"regions"`
		} `json:"attributes"`
		Links         docSelf                      `json:"links"`
		Relationships map[string][]json.RawMessage `json:"relationships"`
	}
	docWorkspaces struct {
		Data  []docWorkspace `json:"data"`
		Links docPageLinks   `json:"links"`
		Meta  struct {
			PageSize   int  `json:"pageSize"`
			StartIndex *int `json:"startIndex"`
			EndIndex   *int `json:"endIndex"`
			Total      int  `json:"total"`
		} `json:"meta"`
	}
	docServiceAccounts struct {
		Links struct {
			Next string `json:"next"`
			Prev string `json:"prev"`
		} `json:"links"`
		Items []struct {
			AtlassianID string  `json:"atlassianId"`
			ID          string  `json:"id"`
			Email       string  `json:"email"`
			DisplayName string  `json:"displayName"`
			Picture     string  `json:"picture"`
			Container   string  `json:"container"`
			UpdatedAt   float64 `json:"updatedAt"`
			Status      string  `json:"status"`
			CreatedByID string  `json:"createdById"`
			Description string  `json:"description"`
		} `json:"items"`
		Total float64 `json:"total"`
	}
	docEventContext struct {
		ID         string         `json:"id"`
		Type       string         `json:"type"`
		Attributes map[string]any `json:"attributes"`
		Links      *struct {
			Self string `json:"self"`
			Alt  string `json:"alt"`
		} `json:"links"`
	}
	docEvent struct {
		ID         string `json:"id"`
		Type       string `json:"type"`
		Attributes struct {
			Time        string `json:"time"`
			ProcessedAt string `json:"processedAt"`
			Action      string `json:"action"`
			Actor       struct {
				ID    string `json:"id"`
				Name  string `json:"name"`
				Email string `json:"email"`
				Auth  *struct {
					AuthType   string `json:"authType"`
					TokenID    string `json:"tokenId"`
					TokenLabel string `json:"tokenLabel"`
				} `json:"auth"`
				OnBehalfOf *struct {
					ID    string `json:"id"`
					Name  string `json:"name"`
					Email string `json:"email"`
				} `json:"onBehalfOf"`
				Links docSelf `json:"links"`
			} `json:"actor"`
			Context   []docEventContext `json:"context"`
			Container []docEventContext `json:"container"`
			Location  *struct {
				IP          string `json:"ip"`
				Geo         string `json:"geo"`
				CountryName string `json:"countryName"`
				RegionName  string `json:"regionName"`
				City        string `json:"city"`
			} `json:"location"`
		} `json:"attributes"`
		Links   docSelf `json:"links"`
		Message *struct {
			Content string `json:"content"`
			Format  string `json:"format"`
		} `json:"message"`
	}
	docEvents struct {
		Data []docEvent `json:"data"`
		Meta struct {
			Next     *string `json:"next"`
			PageSize int     `json:"page_size"`
		} `json:"meta"`
		Links struct {
			Self string  `json:"self"`
			Prev *string `json:"prev"`
			Next *string `json:"next"`
		} `json:"links"`
	}
	docDirectories struct {
		Data []struct {
			DirectoryID string `json:"directoryId"`
			Name        string `json:"name"`
			Icon        string `json:"icon"`
		} `json:"data"`
		Links docPageLinks `json:"links"`
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

// wantOrgError checks an error answer in the errors list: status, the
// documented envelope and code.
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

// wantBareError checks a workspaces error: one application error object,
// not wrapped.
func wantBareError(t *testing.T, st int, b []byte, status int, code string) {
	t.Helper()
	if st != status {
		t.Fatalf("status %d %s, want %d", st, b, status)
	}
	var e docErrorItem
	strictDecode(t, b, &e)
	if e.Code != code || e.Status != strconv.Itoa(status) || e.ID == "" || e.Title == "" {
		t.Fatalf("error %s, want code %s", b, code)
	}
}

// wantProxyError checks a gateway error {"code": status, "message"}.
func wantProxyError(t *testing.T, st int, b []byte, status int) {
	t.Helper()
	if st != status {
		t.Fatalf("status %d %s, want %d", st, b, status)
	}
	var e docProxyError
	strictDecode(t, b, &e)
	if int(e.Code) != status || e.Message == "" {
		t.Fatalf("error %s, want a ProxyError %d", b, status)
	}
}

// Paths of the default org.
func v2(ts *testSite, rest string) string {
	return ts.srv.OrgBasePath() + "/v2/orgs/" + ts.srv.OrgID() + "/directories/" + DefaultDirectoryID + rest
}

func v1(ts *testSite, rest string) string {
	return ts.srv.OrgBasePath() + "/v1/orgs/" + ts.srv.OrgID() + rest
}
