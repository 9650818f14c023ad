package atlassian

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The Organizations (Admin) REST API on the org base URL
// (https://api.atlassian.com) with the org API key as bearer, and the API
// Access service-accounts API beside it. Shapes follow Atlassian's
// reference (https://developer.atlassian.com/cloud/admin/organization/rest/
// and its OpenAPI, https://dac-static.atlassian.com/cloud/admin/organization/swagger.v3.json),
// restated in orgapi-documented.md; the types declare only the fields a
// scan reads. Operation names in the counters are "org.<name>".

// Largest pages asked for. Users search documents a default of 50 and
// groups search one of 20, neither a maximum; 100 is the largest the GET
// lists document (directories, role assignments: "min 1, max 100").
// Workspaces document "max 1000".
const (
	orgUsersPage      = 100
	orgPage           = 100
	orgWorkspacesPage = 1000
)

// DirectoryAll is the directoryId that widens a v2 call to every
// directory the key may manage (billing-model.md §7.5).
const DirectoryAll = "-"

// Timestamp is a time as the Organizations API writes it: RFC 3339, a bare
// date, epoch milliseconds, or null (zero). A value it cannot read keeps
// its text in Raw instead of failing a whole page of users.
type Timestamp struct {
	time.Time
	Raw string
}

// UnmarshalJSON reads the forms above.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	*t = Timestamp{}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return nil
	}
	if b[0] != '"' {
		ms, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil {
			t.Raw = string(b)
			return nil
		}
		if ms != 0 {
			t.Time = time.UnixMilli(ms).UTC()
		}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", time.DateOnly} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v
			return nil
		}
	}
	t.Raw = s
	return nil
}

// MarshalJSON writes RFC 3339, the raw text it could not read, or null.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	switch {
	case !t.Time.IsZero():
		return json.Marshal(t.Time.Format(time.RFC3339Nano))
	case t.Raw != "":
		return json.Marshal(t.Raw)
	}
	return []byte("null"), nil
}

// Org is an organisation of GET /admin/v1/orgs.
type Org struct {
	ID string `json:"id"`
}

func (o Org) ident() (string, string) { return o.ID, "id" }

// Workspace is a product of the organisation (POST workspaces): its ARI,
// host, licence capacity and status.
type Workspace struct {
	ID         string `json:"id"` // ARI, the resourceId of role assignments
	Attributes struct {
		TypeKey  string `json:"typeKey"`
		Status   string `json:"status"`  // online | offline | deprecated (an open enum)
		HostURL  string `json:"hostUrl"` // null reads as ""
		Capacity *int   `json:"capacity"`
	} `json:"attributes"`
}

func (w Workspace) ident() (string, string) { return w.ID, "id" }

// Directory is one entry of GET directories.
type Directory struct {
	DirectoryID string `json:"directoryId"`
	Name        string `json:"name"`
}

func (d Directory) ident() (string, string) { return d.DirectoryID, "directoryId" }

// OrgUser is the v2 directory user. ProductAccess, Groups and
// PlatformRoles are filled only when the search expands them.
type OrgUser struct {
	AccountID     string          `json:"accountId"`
	AccountType   string          `json:"accountType"`
	Status        string          `json:"status"` // active | suspended | not_invited | deactivated | for_deletion
	AccountStatus string          `json:"accountStatus"`
	AddedToOrg    Timestamp       `json:"addedToOrg"`
	Name          string          `json:"name"`
	Email         string          `json:"email"`
	ClaimStatus   string          `json:"claimStatus"` // managed | unmanaged
	PlatformRoles []string        `json:"platformRoles"`
	ProductAccess []ProductAccess `json:"productAccess"`
	Groups        []OrgUserGroup  `json:"groups"`
}

func (u OrgUser) ident() (string, string) { return u.AccountID, "accountId" }

// ProductAccess is one product a user holds, with the last activity in it.
type ProductAccess struct {
	Key                 string    `json:"key"`
	ID                  string    `json:"id"` // the product instance; an ARI where Seatlens has seen one
	LastActiveTimestamp Timestamp `json:"lastActiveTimestamp"`
}

// OrgUserGroup is a group in a user's "groups" expansion.
type OrgUserGroup struct {
	ID string `json:"id"`
}

// OrgGroup is the v2 directory group: who manages it and whether it is
// synced from an identity provider.
type OrgGroup struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	DirectoryID    string `json:"directoryId"`
	ExternalSynced bool   `json:"externalSynced"`
	ManagedBy      string `json:"managedBy"` // external | admins | team-members | open
	Counts         *struct {
		Users *int `json:"users"`
	} `json:"counts"` // only with expand counts.*
}

func (g OrgGroup) ident() (string, string) { return g.ID, "id" }

// GroupRoleAssignment is a resource a group grants roles on. DefaultRole
// is set when the group is that resource's default group.
type GroupRoleAssignment struct {
	ResourceID  string   `json:"resourceId"`
	DefaultRole string   `json:"defaultRole"`
	Roles       []string `json:"roles"`
}

func (a GroupRoleAssignment) ident() (string, string) { return a.ResourceID, "resourceId" }

// UserRoleAssignment is a resource a user holds roles on, and how.
// RoleAssignments is nil when the answer has only the deprecated roles
// list, which does not say how a role was assigned.
type UserRoleAssignment struct {
	ResourceID      string            `json:"resourceId"`
	Roles           []string          `json:"roles"` // deprecated by Atlassian for roleAssignments
	RoleAssignments *[]RoleAssignment `json:"roleAssignments"`
	DirectoryID     string            `json:"directoryId"` // "" for platform roles
}

// RoleAssignment is one role of a UserRoleAssignment.
type RoleAssignment struct {
	Role                  string   `json:"role"`
	RoleAssignmentMethods []string `json:"roleAssignmentMethods"` // direct | group_direct | inferred
}

func (a UserRoleAssignment) ident() (string, string) {
	if a.ResourceID == "" {
		return "", "resourceId"
	}
	return a.ResourceID + " " + a.DirectoryID, "resourceId"
}

// ServiceAccount is one item of the service-accounts API.
type ServiceAccount struct {
	AtlassianID string `json:"atlassianId"` // the account ID Jira shows
}

func (a ServiceAccount) ident() (string, string) { return a.AtlassianID, "atlassianId" }

// SortBy orders a search.
type SortBy struct {
	Field     string `json:"field"`
	Direction string `json:"direction"` // asc | desc
}

// UserSearch is the body of POST …/users/search (§7.5) without its cursor,
// which the client manages. Empty filters are not sent.
type UserSearch struct {
	Limit            int      `json:"limit,omitempty"` // 0: the largest page
	AccountIDs       []string `json:"accountIds,omitempty"`
	DirectoryIDs     []string `json:"directoryIds,omitempty"`
	ResourceIDs      []string `json:"resourceIds,omitempty"`
	GroupIDs         []string `json:"groupIds,omitempty"`
	ClaimStatus      string   `json:"claimStatus,omitempty"`
	Status           []string `json:"status,omitempty"`
	AccountStatus    []string `json:"accountStatus,omitempty"`
	MembershipStatus []string `json:"membershipStatus,omitempty"`
	RoleIDs          []string `json:"roleIds,omitempty"`
	EmailDomains     []string `json:"emailDomains,omitempty"`
	Emails           []string `json:"emails,omitempty"`
	SearchTerm       string   `json:"searchTerm,omitempty"`
	Expand           []string `json:"expand,omitempty"` // productAccess, groups, platformRoles, counts.resources
	SortBy           []SortBy `json:"sortBy,omitempty"`
}

// GroupSearch is the body of POST …/groups/search (§7.5) without its
// cursor. A nil Expand asks for counts.users.
type GroupSearch struct {
	Limit          int      `json:"limit,omitempty"`
	AccountIDs     []string `json:"accountIds,omitempty"`
	DirectoryIDs   []string `json:"directoryIds,omitempty"`
	RoleIDs        []string `json:"roleIds,omitempty"`
	ResourceOwners []string `json:"resourceOwners,omitempty"`
	ResourceIDs    []string `json:"resourceIds,omitempty"`
	SearchTerm     string   `json:"searchTerm,omitempty"`
	GroupIDs       []string `json:"groupIds,omitempty"`
	GroupNames     []string `json:"groupNames,omitempty"`
	Expand         []string `json:"expand,omitempty"`
	SortBy         []SortBy `json:"sortBy,omitempty"`
}

// Orgs returns the organisations the key belongs to.
func (c *Client) Orgs(ctx context.Context) ([]Org, error) {
	r := request{op: "org.getOrgs", method: http.MethodGet, path: "/admin/v1/orgs", idempotent: true}
	return collect(func(fn func([]Org) error) error { return eachGetCursorPage(ctx, c, r, "data", 0, fn) })
}

// Workspaces returns the org's products with their ARIs and capacity. The
// search is a POST that changes nothing, so it is retried. Atlassian: "when
// a cursor is provided in the request body, no other properties may be
// present"
// (https://developer.atlassian.com/cloud/admin/organization/rest/api-group-workspaces/),
// so later pages send the cursor alone.
func (c *Client) Workspaces(ctx context.Context, orgID string) ([]Workspace, error) {
	if err := need("workspaces", orgID); err != nil {
		return nil, err
	}
	r := request{op: "org.searchWorkspaces", method: http.MethodPost,
		path: "/admin/v2/orgs/" + url.PathEscape(orgID) + "/workspaces", idempotent: true}
	limit := c.size(orgWorkspacesPage)
	return collect(func(fn func([]Workspace) error) error {
		return eachPostCursorPage(ctx, c, r, func(cursor string) any {
			if cursor != "" {
				return struct {
					Cursor string `json:"cursor"`
				}{cursor}
			}
			return struct {
				Limit int `json:"limit"`
			}{limit}
		}, fn)
	})
}

// Directories returns the org's directories.
func (c *Client) Directories(ctx context.Context, orgID string) ([]Directory, error) {
	if err := need("directories", orgID); err != nil {
		return nil, err
	}
	r := request{op: "org.getDirectories", method: http.MethodGet,
		path: "/admin/v2/orgs/" + url.PathEscape(orgID) + "/directories", idempotent: true}
	return collect(func(fn func([]Directory) error) error {
		return eachGetCursorPage(ctx, c, r, "data", c.size(orgPage), fn)
	})
}

// SearchUsers hands every user matching q to fn one page at a time, so a
// 100k-user directory streams. directoryID may be DirectoryAll.
func (c *Client) SearchUsers(ctx context.Context, orgID, directoryID string, q UserSearch, fn func([]OrgUser) error) error {
	if err := need("search users", orgID, directoryID); err != nil {
		return err
	}
	if q.Limit <= 0 {
		q.Limit = c.size(orgUsersPage)
	}
	r := request{op: "org.searchUsers", method: http.MethodPost, idempotent: true,
		path: "/admin/v2/orgs/" + url.PathEscape(orgID) + "/directories/" + url.PathEscape(directoryID) + "/users/search"}
	return eachPostCursorPage(ctx, c, r, func(cursor string) any {
		return struct {
			UserSearch
			Cursor string `json:"cursor,omitempty"`
		}{q, cursor}
	}, fn)
}

// SearchGroups returns every group matching q, with its sync flags.
func (c *Client) SearchGroups(ctx context.Context, orgID, directoryID string, q GroupSearch) ([]OrgGroup, error) {
	if err := need("search groups", orgID, directoryID); err != nil {
		return nil, err
	}
	if q.Limit <= 0 {
		q.Limit = c.size(orgPage)
	}
	if q.Expand == nil {
		q.Expand = []string{"counts.users"}
	}
	r := request{op: "org.searchGroups", method: http.MethodPost, idempotent: true,
		path: "/admin/v2/orgs/" + url.PathEscape(orgID) + "/directories/" + url.PathEscape(directoryID) + "/groups/search"}
	return collect(func(fn func([]OrgGroup) error) error {
		return eachPostCursorPage(ctx, c, r, func(cursor string) any {
			return struct {
				GroupSearch
				Cursor string `json:"cursor,omitempty"`
			}{q, cursor}
		}, fn)
	})
}

// GroupRoleAssignments returns the roles a group grants, per resource;
// DefaultRole marks a default group.
func (c *Client) GroupRoleAssignments(ctx context.Context, orgID, directoryID, groupID string) ([]GroupRoleAssignment, error) {
	if err := need("group role assignments", orgID, directoryID, groupID); err != nil {
		return nil, err
	}
	r := request{op: "org.getGroupRoleAssignments", method: http.MethodGet, idempotent: true,
		path: "/admin/v2/orgs/" + url.PathEscape(orgID) + "/directories/" + url.PathEscape(directoryID) +
			"/groups/" + url.PathEscape(groupID) + "/role-assignments"}
	return collect(func(fn func([]GroupRoleAssignment) error) error {
		return eachGetCursorPage(ctx, c, r, "data", c.size(orgPage), fn)
	})
}

// UserRoleAssignments returns the roles a user holds, per resource, with
// how each was assigned (direct, group_direct, inferred).
func (c *Client) UserRoleAssignments(ctx context.Context, orgID, directoryID, accountID string) ([]UserRoleAssignment, error) {
	if err := need("user role assignments", orgID, directoryID, accountID); err != nil {
		return nil, err
	}
	r := request{op: "org.getUserRoleAssignments", method: http.MethodGet, idempotent: true,
		path: "/admin/v2/orgs/" + url.PathEscape(orgID) + "/directories/" + url.PathEscape(directoryID) +
			"/users/" + url.PathEscape(accountID) + "/role-assignments"}
	return collect(func(fn func([]UserRoleAssignment) error) error {
		return eachGetCursorPage(ctx, c, r, "data", c.size(orgPage), fn)
	})
}

// ServiceAccounts returns the org's service accounts, which hold no seat.
// Atlassian documents no query parameter for this list and does not say
// whether its links.next is a URL or a token
// (https://developer.atlassian.com/cloud/admin/api-access/rest/api-group-service-account/),
// so the first page is asked for bare and the next link followed as it
// comes: a URL as given, a token as ?cursor= (an inference).
func (c *Client) ServiceAccounts(ctx context.Context, orgID string) ([]ServiceAccount, error) {
	if err := need("service accounts", orgID); err != nil {
		return nil, err
	}
	r := request{op: "org.getServiceAccounts", method: http.MethodGet, idempotent: true,
		path: "/admin/api-access/v1/orgs/" + url.PathEscape(orgID) + "/service-accounts"}
	return collect(func(fn func([]ServiceAccount) error) error {
		return eachGetCursorPage(ctx, c, r, "items", 0, fn)
	})
}

// RemoveMembership removes an account from a group through the Org API,
// the documented cleanup path. Never re-sent after a 5xx or a lost
// connection (see RemoveGroupMember).
func (c *Client) RemoveMembership(ctx context.Context, orgID, directoryID, groupID, accountID string) error {
	if err := need("remove membership", orgID, directoryID, groupID, accountID); err != nil {
		return err
	}
	return c.do(ctx, request{op: "org.removeMembership", method: http.MethodDelete,
		path: "/admin/v2/orgs/" + url.PathEscape(orgID) + "/directories/" + url.PathEscape(directoryID) +
			"/groups/" + url.PathEscape(groupID) + "/memberships/" + url.PathEscape(accountID)}, nil)
}

// AddMembership adds an account to a group through the Org API (the undo
// of RemoveMembership); never re-sent after a 5xx.
func (c *Client) AddMembership(ctx context.Context, orgID, directoryID, groupID, accountID string) error {
	if err := need("add membership", orgID, directoryID, groupID, accountID); err != nil {
		return err
	}
	return c.do(ctx, request{op: "org.addMembership", method: http.MethodPost,
		path: "/admin/v2/orgs/" + url.PathEscape(orgID) + "/directories/" + url.PathEscape(directoryID) +
			"/groups/" + url.PathEscape(groupID) + "/memberships",
		body: struct {
			AccountID string `json:"accountId"`
		}{accountID}}, nil)
}

// need refuses empty identifiers before they become a path like
// /orgs//workspaces that some other resource might answer.
func need(what string, ids ...string) error {
	for _, id := range ids {
		if strings.TrimSpace(id) == "" {
			return errors.New("atlassian: " + what + ": empty identifier")
		}
	}
	return nil
}
