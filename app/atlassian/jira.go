package atlassian

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

// Jira Cloud platform REST v3 (billing-model.md §5), on the site's base
// URL (https://<site>.atlassian.net) or a Forge app's api mount
// (https://api.atlassian.com/ex/jira/<cloudId>). Operation names in the
// counters are the OpenAPI operationIds.

// Largest pages the endpoints accept: group/member documents 1–50,
// users/search "limited to 1000"; group/bulk documents no limit, and 50
// is its default.
const (
	groupBulkPage   = 50
	groupMemberPage = 50
	usersSearchPage = 1000
)

// The types below hold only what Seatlens reads (decode.go says why);
// their shapes are Atlassian's OpenAPI schemas
// (https://developer.atlassian.com/cloud/jira/platform/rest/v3/).

// GroupName is Jira's GroupName / GroupDetails.
type GroupName struct {
	GroupID string `json:"groupId"`
	Name    string `json:"name"`
}

func (g GroupName) ident() (string, string) { return g.GroupID, "groupId" }

// ApplicationRole is one Jira product's licence (GET applicationrole):
// its default groups and seat counts.
type ApplicationRole struct {
	Key                  string      `json:"key"`
	DefaultGroupsDetails []GroupName `json:"defaultGroupsDetails"`
	NumberOfSeats        int         `json:"numberOfSeats"`
	UserCount            int         `json:"userCount"`
	HasUnlimitedSeats    bool        `json:"hasUnlimitedSeats"`
}

func (a ApplicationRole) ident() (string, string) { return a.Key, "key" }

// User is Jira's User (and the UserDetails of group/member pages, a
// subset). EmailAddress is empty when the user's privacy settings hide it.
type User struct {
	AccountID    string `json:"accountId"`
	AccountType  string `json:"accountType"` // atlassian | app | customer | unknown
	AppType      string `json:"appType,omitempty"`
	Active       bool   `json:"active"`
	DisplayName  string `json:"displayName"`
	EmailAddress string `json:"emailAddress,omitempty"`
	// Only on /user; Items are filled when expanded.
	Groups *GroupList `json:"groups,omitempty"`
	// ApplicationRoles, only on /user when expanded: the products the
	// account may use (ApplicationRole.key).
	ApplicationRoles *RoleList `json:"applicationRoles,omitempty"`
}

// RoleList is the "applicationRoles" expansion of a User.
type RoleList struct {
	Items []struct {
		Key string `json:"key"`
	} `json:"items"`
}

func (u User) ident() (string, string) { return u.AccountID, "accountId" }

// GroupList is the "groups" expansion of a User.
type GroupList struct {
	Items []GroupName `json:"items"`
}

// InstanceLicense is GET instance/license: each product and its plan.
type InstanceLicense struct {
	Applications []LicensedApplication `json:"applications"`
}

// LicensedApplication is one product of an InstanceLicense.
type LicensedApplication struct {
	ID   string `json:"id"`
	Plan string `json:"plan"` // UNLICENSED | FREE | PAID
}

func (a LicensedApplication) ident() (string, string) { return a.ID, "id" }

// Values of GroupsBulkQuery.AccessType.
const (
	AccessSiteAdmin = "site-admin"
	AccessAdmin     = "admin"
	AccessUser      = "user"
)

// GroupsBulkQuery filters group/bulk. AccessType "user" with an
// ApplicationKey lists the groups granting that product, which a Connect
// JWT may ask even though applicationrole is closed to it.
type GroupsBulkQuery struct {
	AccessType     string   // AccessSiteAdmin, AccessAdmin, AccessUser or ""
	ApplicationKey string   // jira-software, jira-servicedesk, jira-product-discovery, jira-core or ""
	GroupIDs       []string // optional, repeatable
	GroupNames     []string // optional, repeatable
}

// ApplicationRoles returns every Jira product with its groups, default
// groups and seat counts. Connect JWTs are refused here (403); the Forge
// app token and an API token are not.
func (c *Client) ApplicationRoles(ctx context.Context) ([]ApplicationRole, error) {
	var out list[ApplicationRole, atRoot]
	err := c.do(ctx, request{op: "getAllApplicationRoles", method: http.MethodGet,
		path: "/rest/api/3/applicationrole", idempotent: true}, &out)
	return out.Items, err
}

// GroupsBulk returns every group matching q, all pages.
func (c *Client) GroupsBulk(ctx context.Context, q GroupsBulkQuery) ([]GroupName, error) {
	v := url.Values{}
	if q.AccessType != "" {
		v.Set("accessType", q.AccessType)
	}
	if q.ApplicationKey != "" {
		v.Set("applicationKey", q.ApplicationKey)
	}
	v["groupId"] = q.GroupIDs
	v["groupName"] = q.GroupNames
	r := request{op: "bulkGetGroups", method: http.MethodGet, path: "/rest/api/3/group/bulk", query: dropEmpty(v), idempotent: true}
	return collect(func(fn func([]GroupName) error) error {
		return eachOffsetPage(ctx, c, r, c.size(groupBulkPage), fn)
	})
}

// EachGroupMember hands every member of a group, inactive ones included
// (an inactive member still shows where a seat came from), to fn one page
// at a time.
func (c *Client) EachGroupMember(ctx context.Context, groupID string, fn func([]User) error) error {
	if groupID == "" {
		return errors.New("atlassian: group members: empty group ID")
	}
	r := request{op: "getUsersFromGroup", method: http.MethodGet, path: "/rest/api/3/group/member",
		query: url.Values{"groupId": {groupID}, "includeInactiveUsers": {"true"}}, idempotent: true}
	return eachOffsetPage(ctx, c, r, c.size(groupMemberPage), fn)
}

// GroupMembers returns every member of a group, inactive ones included.
func (c *Client) GroupMembers(ctx context.Context, groupID string) ([]User, error) {
	return collect(func(fn func([]User) error) error { return c.EachGroupMember(ctx, groupID, fn) })
}

// EachUser hands every account of the site (active, inactive, app and
// customer accounts) to fn one page at a time. users/search answers a bare
// array without a total, so only an empty page ends the walk; Connect JWTs
// are refused here.
func (c *Client) EachUser(ctx context.Context, fn func([]User) error) error {
	r := request{op: "getAllUsers", method: http.MethodGet, path: "/rest/api/3/users/search", idempotent: true}
	return eachArrayPage(ctx, c, r, c.size(usersSearchPage), fn)
}

// AllUsers returns every account of the site.
func (c *Client) AllUsers(ctx context.Context) ([]User, error) {
	return collect(func(fn func([]User) error) error { return c.EachUser(ctx, fn) })
}

// InstanceLicense returns the plan of each product.
func (c *Client) InstanceLicense(ctx context.Context) (InstanceLicense, error) {
	r := request{op: "getLicense", method: http.MethodGet, path: "/rest/api/3/instance/license", idempotent: true}
	var out struct {
		Applications list[LicensedApplication, inApplications] `json:"applications"`
	}
	if err := c.do(ctx, r, &out); err != nil {
		return InstanceLicense{}, err
	}
	// A licence without its list would read as a site with no product.
	if err := out.Applications.need(); err != nil {
		return InstanceLicense{}, fmt.Errorf("atlassian: %s %s (%s): %w", r.method, r.path, r.op, err)
	}
	return InstanceLicense{Applications: out.Applications.Items}, nil
}

// Myself returns the account the credential acts as (a cheap credential
// check: 401 means the credential is wrong).
func (c *Client) Myself(ctx context.Context) (User, error) {
	var out User
	err := c.do(ctx, request{op: "getCurrentUser", method: http.MethodGet, path: "/rest/api/3/myself", idempotent: true}, &out)
	return out, err
}

// User returns one account with its groups and application roles
// expanded.
func (c *Client) User(ctx context.Context, accountID string) (User, error) {
	var out User
	if accountID == "" {
		return out, errors.New("atlassian: user: empty account ID")
	}
	err := c.do(ctx, request{op: "getUser", method: http.MethodGet, path: "/rest/api/3/user",
		query: url.Values{"accountId": {accountID}, "expand": {"groups,applicationRoles"}}, idempotent: true}, &out)
	return out, err
}

// RemoveGroupMember removes an account from a group (DELETE group/user).
// It is never re-sent after a 5xx or a lost connection: whether the first
// attempt took effect must be checked by reading, not by trying again.
func (c *Client) RemoveGroupMember(ctx context.Context, groupID, accountID string) error {
	if groupID == "" || accountID == "" {
		return errors.New("atlassian: remove group member: empty group or account ID")
	}
	return c.do(ctx, request{op: "removeUserFromGroup", method: http.MethodDelete, path: "/rest/api/3/group/user",
		query: url.Values{"groupId": {groupID}, "accountId": {accountID}}}, nil)
}

// AddGroupMember adds an account to a group (POST group/user), the undo of
// RemoveGroupMember; like it, never re-sent after a 5xx.
func (c *Client) AddGroupMember(ctx context.Context, groupID, accountID string) error {
	if groupID == "" || accountID == "" {
		return errors.New("atlassian: add group member: empty group or account ID")
	}
	return c.do(ctx, request{op: "addUserToGroup", method: http.MethodPost, path: "/rest/api/3/group/user",
		query: url.Values{"groupId": {groupID}}, body: struct {
			AccountID string `json:"accountId"`
		}{accountID}}, nil)
}

// dropEmpty removes parameters without values, so an unset filter is not
// sent as an empty one.
func dropEmpty(v url.Values) url.Values {
	for k, vs := range v {
		if len(vs) == 0 {
			delete(v, k)
		}
	}
	return v
}

// HasGlobalPermission says whether an account holds a global permission
// (ADMINISTER: a Jira administrator), through POST permissions/check, which
// a Connect JWT may call
// (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-permissions/#api-rest-api-3-permissions-check-post).
func (c *Client) HasGlobalPermission(ctx context.Context, accountID, permission string) (bool, error) {
	if accountID == "" || permission == "" {
		return false, errors.New("atlassian: permissions check needs an account and a permission")
	}
	var out struct {
		GlobalPermissions []string `json:"globalPermissions"`
	}
	body := struct {
		AccountID         string   `json:"accountId"`
		GlobalPermissions []string `json:"globalPermissions"`
	}{accountID, []string{permission}}
	// A read sent as a POST: safe to retry.
	err := c.do(ctx, request{op: "getBulkPermissions", method: http.MethodPost, path: "/rest/api/3/permissions/check", body: body, idempotent: true}, &out)
	if err != nil {
		return false, err
	}
	if out.GlobalPermissions == nil {
		return false, &ShapeError{Path: "globalPermissions", Msg: "is missing"}
	}
	return slices.Contains(out.GlobalPermissions, permission), nil
}

// FindUsers returns up to limit accounts whose name or e-mail matches
// query (GET /rest/api/3/user/search, which a Connect JWT may call):
// how an admin picks a person by name.
func (c *Client) FindUsers(ctx context.Context, query string, limit int) ([]User, error) {
	r := request{op: "findUsers", method: http.MethodGet, path: "/rest/api/3/user/search", idempotent: true,
		query: url.Values{"query": {query}, "maxResults": {strconv.Itoa(limit)}}}
	var out list[User, atRoot]
	if err := c.do(ctx, r, &out); err != nil {
		return nil, err
	}
	if err := out.need(); err != nil {
		return nil, fmt.Errorf("atlassian: %s %s (%s): %w", r.method, r.path, r.op, err)
	}
	return out.Items, nil
}
