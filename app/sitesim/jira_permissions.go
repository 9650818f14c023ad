package sitesim

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
)

// bulkPermissionsRequest is BulkPermissionsRequestBean. Pointers let the
// site ignore JSON nulls, which the OpenAPI says Jira ignores.
type bulkPermissionsRequest struct {
	AccountID          string    `json:"accountId"`
	GlobalPermissions  []*string `json:"globalPermissions"`
	ProjectPermissions []*struct {
		Issues      []*int64  `json:"issues"`
		Permissions []*string `json:"permissions"`
		Projects    []*int64  `json:"projects"`
	} `json:"projectPermissions"`
}

// projectPermissionGrant is BulkProjectPermissionGrants.
type projectPermissionGrant struct {
	Permission string  `json:"permission"`
	Projects   []int64 `json:"projects"`
	Issues     []int64 `json:"issues"`
}

// POST /rest/api/3/permissions/check: the requested global permissions the
// user (accountId, else the caller) holds. The site has no projects, so
// every project and issue ID is "invalid" and ignored, as Jira ignores
// them, and no project permission is ever granted.
func (s *Server) getBulkPermissions(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	var req bulkPermissionsRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		return errBadBody(err)
	}
	unknown := map[string]string{}
	var want []string
	for _, p := range req.GlobalPermissions {
		switch {
		case p == nil:
		case !slices.Contains(knownGlobalPermissions(), *p):
			unknown[*p] = "Unrecognized permission"
		case !slices.Contains(want, *p):
			want = append(want, *p)
		}
	}
	for _, pp := range req.ProjectPermissions {
		if pp == nil {
			continue
		}
		named := 0
		for _, p := range pp.Permissions {
			switch {
			case p == nil || *p == "":
			case !slices.Contains(knownProjectPermissions(), *p):
				unknown[*p] = "Unrecognized permission"
			default:
				named++
			}
		}
		if named == 0 && len(unknown) == 0 {
			return jiraError(http.StatusBadRequest, "At least one project permission is required for each projectPermissions entry.")
		}
	}
	if len(unknown) > 0 {
		return &apiError{Status: http.StatusBadRequest, Errors: unknown}
	}
	who := req.AccountID
	if who == "" {
		who = c.AccountID
	}
	appAdmin := s.connectAppAdmin(who)
	s.site.mu.RLock()
	defer s.site.mu.RUnlock()
	if req.AccountID != "" && s.site.users[req.AccountID] == nil {
		return errPermissionsUserNotFound(req.AccountID)
	}
	held := s.site.globalPermissions(who, appAdmin)
	out := struct {
		GlobalPermissions  []string                 `json:"globalPermissions"`
		ProjectPermissions []projectPermissionGrant `json:"projectPermissions"`
	}{GlobalPermissions: []string{}, ProjectPermissions: []projectPermissionGrant{}}
	for _, p := range want {
		if held[p] {
			out.GlobalPermissions = append(out.GlobalPermissions, p)
		}
	}
	return writeOK(w, out)
}

// connectAppAdmin reports whether accountID is the account of an installed
// Connect app whose descriptor holds ADMIN: Jira puts such an app's user in
// a group with Administer Jira (unconfirmed.go, appAccountPermissions).
func (s *Server) connectAppAdmin(accountID string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, a := range s.apps {
		if accountID != "" && a.AccountID == accountID && connectAllows(a.Scopes, "ADMIN") {
			return true
		}
	}
	return false
}

// knownGlobalPermissions are Jira Cloud's global permission keys (Get all
// permissions); any other key in a request is "Unrecognized permission".
func knownGlobalPermissions() []string {
	return []string{"ADMINISTER", "SYSTEM_ADMIN", "USER_PICKER", "CREATE_SHARED_OBJECTS",
		"MANAGE_GROUP_FILTER_SUBSCRIPTIONS", "BULK_CHANGE"}
}

// knownProjectPermissions are Jira Cloud's built-in project permission keys.
func knownProjectPermissions() []string {
	return []string{"ADD_COMMENTS", "ADMINISTER_PROJECTS", "ARCHIVE_ISSUES", "ASSIGNABLE_USER", "ASSIGN_ISSUES",
		"BROWSE_PROJECTS", "CLOSE_ISSUES", "CREATE_ATTACHMENTS", "CREATE_ISSUES", "DELETE_ALL_ATTACHMENTS",
		"DELETE_ALL_COMMENTS", "DELETE_ALL_WORKLOGS", "DELETE_ISSUES", "DELETE_OWN_ATTACHMENTS",
		"DELETE_OWN_COMMENTS", "DELETE_OWN_WORKLOGS", "EDIT_ALL_COMMENTS", "EDIT_ALL_WORKLOGS", "EDIT_ISSUES",
		"EDIT_OWN_COMMENTS", "EDIT_OWN_WORKLOGS", "LINK_ISSUES", "MANAGE_WATCHERS", "MODIFY_REPORTER",
		"MOVE_ISSUES", "RESOLVE_ISSUES", "SCHEDULE_ISSUES", "SET_ISSUE_SECURITY", "TRANSITION_ISSUES",
		"UNARCHIVE_ISSUES", "VIEW_DEV_TOOLS", "VIEW_READONLY_WORKFLOW", "VIEW_VOTERS_AND_WATCHERS", "WORK_ON_ISSUES"}
}
