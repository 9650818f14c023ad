package sitesim

import (
	"net/http"
	"slices"
	"strings"
)

// Groups of the Organizations API's directory (§7.5), and membership
// changes through it, on the same Site as product REST's group endpoints.

// orgGroup is the v2 group object (§7.5 multiDirectoryGroup.ts).
type orgGroup struct {
	ID               string           `json:"id"`
	Name             string           `json:"name"`
	Description      *string          `json:"description"`
	DirectoryID      string           `json:"directoryId"`
	ManagementAccess managementAccess `json:"managementAccess"`
	ExternalSynced   bool             `json:"externalSynced"`
	ManagedBy        string           `json:"managedBy"`
	Counts           *groupCounts     `json:"counts,omitempty"` // only with expand counts.*
	Links            struct {
		Self string `json:"self"`
	} `json:"links"`
}

type managementAccess struct {
	Deletable  bool `json:"deletable"`
	Modifiable bool `json:"modifiable"`
	Readable   bool `json:"readable"`
}

type groupCounts struct {
	Users     *int `json:"users,omitempty"`
	Resources *int `json:"resources,omitempty"`
}

// groupResources is the set of products a group grants any role on.
func groupResources(g *Group) []string {
	var out []string
	for _, gr := range g.Grants {
		if !slices.Contains(out, gr.Product) {
			out = append(out, gr.Product)
		}
	}
	return out
}

// orgGroupOf renders g. A synced group is neither modifiable nor
// deletable here; a default or site-admin group is not deletable (its
// product or site relies on it). Caller holds s.site.mu.
func (s *Server) orgGroupOf(r *http.Request, g *Group, expand []string) orgGroup {
	o := orgGroup{ID: g.ID, Name: g.Name, DirectoryID: DefaultDirectoryID,
		ManagementAccess: managementAccess{Deletable: !g.Synced && len(g.DefaultFor) == 0 && !g.SiteAdmin, Modifiable: !g.Synced, Readable: true},
		ExternalSynced:   g.Synced, ManagedBy: groupManagedBy(g)}
	if slices.Contains(expand, "counts.users") || slices.Contains(expand, "counts.resources") {
		o.Counts = &groupCounts{}
		if slices.Contains(expand, "counts.users") {
			n := len(s.site.members[g.ID])
			o.Counts.Users = &n
		}
		if slices.Contains(expand, "counts.resources") {
			n := len(groupResources(g))
			o.Counts.Resources = &n
		}
	}
	o.Links.Self = absBase(r) + "/admin/v2/orgs/" + s.opts.OrgID + "/directories/" + DefaultDirectoryID + "/groups/" + g.ID
	return o
}

// groupSearch is the body of POST …/groups/search (§7.5).
type groupSearch struct {
	Cursor         string   `json:"cursor"`
	Limit          int      `json:"limit"`
	AccountIDs     []string `json:"accountIds"`
	DirectoryIDs   []string `json:"directoryIds"`
	RoleIDs        []string `json:"roleIds"`
	ResourceOwners []string `json:"resourceOwners"`
	ResourceIDs    []string `json:"resourceIds"`
	SearchTerm     string   `json:"searchTerm"`
	GroupIDs       []string `json:"groupIds"`
	GroupNames     []string `json:"groupNames"`
	Expand         []string `json:"expand"`
}

func (s *Server) matchesGroup(q groupSearch, g *Group) bool {
	if !anyOrContains(q.GroupIDs, g.ID) {
		return false
	}
	if len(q.GroupNames) > 0 && !slices.ContainsFunc(q.GroupNames, func(n string) bool { return strings.EqualFold(n, g.Name) }) {
		return false
	}
	if t := strings.ToLower(q.SearchTerm); t != "" && !strings.Contains(strings.ToLower(g.Name), t) {
		return false
	}
	if len(q.AccountIDs) > 0 && !slices.ContainsFunc(q.AccountIDs, func(a string) bool { return s.site.members[g.ID][a] }) {
		return false
	}
	if len(q.RoleIDs) > 0 || len(q.ResourceIDs) > 0 || len(q.ResourceOwners) > 0 {
		return slices.ContainsFunc(g.Grants, func(gr Grant) bool {
			return anyOrContains(q.RoleIDs, "atlassian/"+gr.Role) && anyOrContains(q.ResourceIDs, s.resourceID(gr.Product)) && anyOrContains(q.ResourceOwners, gr.Product)
		})
	}
	return true
}

// POST …/directories/{directoryId}/groups/search.
func (s *Server) orgGroupsSearch(w http.ResponseWriter, r *http.Request) *orgError {
	var q groupSearch
	if oerr := decodeOrgBody(r, &q); oerr != nil {
		return oerr
	}
	for _, d := range q.DirectoryIDs {
		if d != DefaultDirectoryID {
			return errDirectoryNotFound(d)
		}
	}
	limit, oerr := limitOf(q.Limit, 20, groupsSearchMax)
	if oerr != nil {
		return oerr
	}
	offset, oerr := decodeCursor(q.Cursor)
	if oerr != nil {
		return oerr
	}
	s.site.mu.RLock()
	defer s.site.mu.RUnlock()
	var hits []orgGroup
	for _, g := range s.site.groupsByName() {
		if s.matchesGroup(q, g) {
			hits = append(hits, s.orgGroupOf(r, g, q.Expand))
		}
	}
	lo, hi, links := page(len(hits), offset, limit)
	return writeOrg(w, struct {
		Data  []orgGroup  `json:"data"`
		Links cursorLinks `json:"links"`
	}{append([]orgGroup{}, hits[lo:hi]...), links})
}

// GET …/directories/{directoryId}/groups/{groupId}.
func (s *Server) orgGroupGet(w http.ResponseWriter, r *http.Request) *orgError {
	s.site.mu.RLock()
	defer s.site.mu.RUnlock()
	g := s.site.groups[r.PathValue("groupId")]
	if g == nil {
		return errOrgGroupNotFound(r.PathValue("groupId"))
	}
	return writeOrg(w, s.orgGroupOf(r, g, listParam(r, "expand")))
}

// groupRoleAssignment is one resource a group grants roles on (§7.5).
type groupRoleAssignment struct {
	ResourceID    string   `json:"resourceId"`
	ResourceOwner string   `json:"resourceOwner"`
	DefaultRole   *string  `json:"defaultRole"`
	Roles         []string `json:"roles"`
}

// GET …/groups/{groupId}/role-assignments: the group's grants, per
// product. defaultRole marks the default group of a product (§7.5).
func (s *Server) orgGroupRoles(w http.ResponseWriter, r *http.Request) *orgError {
	limit, oerr := queryLimit(r, 50, 100)
	if oerr != nil {
		return oerr
	}
	offset, oerr := decodeCursor(r.URL.Query().Get("cursor"))
	if oerr != nil {
		return oerr
	}
	s.site.mu.RLock()
	defer s.site.mu.RUnlock()
	g := s.site.groups[r.PathValue("groupId")]
	if g == nil {
		return errOrgGroupNotFound(r.PathValue("groupId"))
	}
	var out []groupRoleAssignment
	for _, p := range groupResources(g) {
		ra := groupRoleAssignment{ResourceID: s.resourceID(p), ResourceOwner: p}
		for _, gr := range g.Grants {
			if gr.Product == p {
				ra.Roles = append(ra.Roles, "atlassian/"+gr.Role)
			}
		}
		if slices.Contains(g.DefaultFor, p) {
			ra.DefaultRole = defaultRoleOf(ra.Roles)
		}
		out = append(out, ra)
	}
	lo, hi, links := page(len(out), offset, limit)
	return writeOrg(w, struct {
		Data  []groupRoleAssignment `json:"data"`
		Links nextLink              `json:"links"`
	}{append([]groupRoleAssignment{}, out[lo:hi]...), nextLink{links.Next}})
}

// POST …/groups/{groupId}/memberships, body {"accountId"}: the same
// Site.addMember product REST uses, so the seat check and the audit log
// are the same; only the error vocabulary is the Org API's.
func (s *Server) orgAddMember(w http.ResponseWriter, r *http.Request) *orgError {
	var body struct {
		AccountID string `json:"accountId"`
	}
	if oerr := decodeOrgBody(r, &body); oerr != nil {
		return oerr
	}
	if body.AccountID == "" {
		return newOrgError(http.StatusBadRequest, orgCodeBadRequest, "Bad Request", "accountId is required")
	}
	site := s.site
	site.mu.Lock()
	defer site.mu.Unlock()
	g := site.groups[r.PathValue("groupId")]
	switch {
	case g == nil:
		return errOrgGroupNotFound(r.PathValue("groupId"))
	case !inDirectory(site.users[body.AccountID]):
		return errOrgUserNotFound(body.AccountID) // "must be in the same directory as the group"
	case g.Synced:
		return errGroupNotManageable(g.Name)
	case site.members[g.ID][body.AccountID]:
		w.WriteHeader(http.StatusNoContent) // already a member: nothing changes, nothing is logged
		return nil
	}
	if aerr := site.addMemberAs(g, body.AccountID, orgActor); aerr != nil {
		// Every other refusal was checked above, so this is the licence
		// limit; name the product the way errSeatLimit found it.
		return errLicenceLimit(seatLimitProduct(aerr))
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// DELETE …/groups/{groupId}/memberships/{accountId}.
func (s *Server) orgRemoveMember(w http.ResponseWriter, r *http.Request) *orgError {
	site := s.site
	site.mu.Lock()
	defer site.mu.Unlock()
	g := site.groups[r.PathValue("groupId")]
	id := r.PathValue("accountId")
	switch {
	case g == nil:
		return errOrgGroupNotFound(r.PathValue("groupId"))
	case !inDirectory(site.users[id]):
		return errOrgUserNotFound(id)
	case g.Synced:
		return errGroupNotManageable(g.Name)
	case !site.members[g.ID][id]:
		w.WriteHeader(http.StatusNoContent) // not a member: nothing to remove
		return nil
	}
	if aerr := site.removeMemberAs(g, id, SyncedRemovalRefused, orgActor); aerr != nil {
		return newOrgError(aerr.Status, orgCodeBadRequest, "Bad Request", strings.Join(aerr.ErrorMessages, " "))
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// seatLimitProduct recovers the product name from errSeatLimit's message.
func seatLimitProduct(aerr *apiError) string {
	msg := strings.Join(aerr.ErrorMessages, " ")
	const pre = "licence limit of "
	if i := strings.Index(msg, pre); i >= 0 {
		return strings.TrimSuffix(msg[i+len(pre):], ".")
	}
	return "the product"
}

// groupManagedBy names who manages a group's membership (values chosen:
// unconfirmed.go).
func groupManagedBy(g *Group) string {
	if g.Synced {
		return "external"
	}
	return "admins"
}
