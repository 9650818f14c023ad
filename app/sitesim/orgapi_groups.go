package sitesim

import (
	"net/http"
	"slices"
	"strings"
)

// Groups of the Organizations API's directory (orgapi-documented.md §6,
// §7, §10, §11, §13), and membership changes through it, on the same Site
// as product REST's group endpoints.

// orgGroup is the v2 group object (§6, MultiDirectoryGroup).
type orgGroup struct {
	ID               string           `json:"id"`
	Name             string           `json:"name"`
	Description      string           `json:"description"`
	DirectoryID      string           `json:"directoryId"`
	ManagementAccess managementAccess `json:"managementAccess"`
	ExternalSynced   bool             `json:"externalSynced"`
	ManagedBy        string           `json:"managedBy"`
	Counts           *groupCounts     `json:"counts,omitempty"` // with expand counts.* (always on group details)
	Links            selfLink         `json:"links"`
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
	o := orgGroup{ID: g.ID, Name: g.Name, Description: g.Description, DirectoryID: DefaultDirectoryID,
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
	o.Links.Self = orgURL(r, "/admin/v2/orgs/"+s.opts.OrgID+"/directories/"+DefaultDirectoryID+"/groups/"+g.ID)
	return o
}

// groupSearch is the body of POST …/groups/search (§6) without its
// cursor; it is also the filters a groups walk carries in its cursor.
type groupSearch struct {
	Limit          *int     `json:"limit,omitempty"`
	SortBy         []sortBy `json:"sortBy,omitempty"`
	AccountIDs     []string `json:"accountIds,omitempty"`
	DirectoryIDs   []string `json:"directoryIds,omitempty"`
	RoleIDs        []string `json:"roleIds,omitempty"`
	ResourceOwners []string `json:"resourceOwners,omitempty"`
	ResourceIDs    []string `json:"resourceIds,omitempty"`
	SearchTerm     string   `json:"searchTerm,omitempty"`
	GroupIDs       []string `json:"groupIds,omitempty"`
	GroupNames     []string `json:"groupNames,omitempty"`
	Expand         []string `json:"expand,omitempty"`
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
	props, oerr := decodeOrgBody(r, &q)
	if oerr != nil {
		return oerr
	}
	c, oerr := bodyCursor(props)
	if oerr != nil {
		return oerr
	}
	var walk walkCursor
	if c != "" {
		// The cursor carries the walk; other properties are discarded
		// (unconfirmed.go).
		if walk, oerr = decodeWalk(cursorGroups, c); oerr != nil {
			return oerr
		}
		q = groupSearch{}
		if oerr = walk.filters(&q); oerr != nil {
			return oerr
		}
	} else {
		// "groupNames: exclusive with searchTerm and groupIds (400)".
		if len(q.GroupNames) > 0 && (q.SearchTerm != "" || len(q.GroupIDs) > 0) {
			return errBadOrgBody("groupNames cannot be combined with searchTerm or groupIds")
		}
		for _, d := range q.DirectoryIDs {
			if d != DefaultDirectoryID {
				return errDirectoryNotFound(d)
			}
		}
		limit, oerr := limitOf(q.Limit, groupsSearchDefault, groupsSearchMax)
		if oerr != nil {
			return oerr
		}
		if _, oerr := descending(q.SortBy, "name"); oerr != nil {
			return oerr
		}
		q.Limit = nil
		walk = newWalk(cursorGroups, limit, q)
	}
	desc, _ := descending(q.SortBy, "name")
	s.site.mu.RLock()
	defer s.site.mu.RUnlock()
	groups := s.site.groupsByName()
	if desc {
		slices.Reverse(groups)
	}
	var hits []*Group
	for _, g := range groups {
		if s.matchesGroup(q, g) {
			hits = append(hits, g)
		}
	}
	lo := min(walk.Offset, len(hits))
	hi := min(lo+walk.Limit, len(hits))
	out := []orgGroup{}
	for _, g := range hits[lo:hi] {
		out = append(out, s.orgGroupOf(r, g, q.Expand))
	}
	self, prev, next := walk.tokens(lo, hi, hi < len(hits))
	return writeOrg(w, struct {
		Data  []orgGroup    `json:"data"`
		Links nullableLinks `json:"links"`
	}{out, nullable(self, prev, next)})
}

// GET …/directories/{directoryId}/groups/{groupId}: {"data": group} with
// both counts (no query parameters are documented; any are ignored).
func (s *Server) orgGroupGet(w http.ResponseWriter, r *http.Request) *orgError {
	s.site.mu.RLock()
	defer s.site.mu.RUnlock()
	g := s.site.groups[r.PathValue("groupId")]
	if g == nil {
		return errOrgGroupNotFound(r.PathValue("groupId"))
	}
	return writeOrg(w, struct {
		Data orgGroup `json:"data"`
	}{s.orgGroupOf(r, g, []string{"counts.users", "counts.resources"})})
}

// groupRoleAssignment is one resource a group grants roles on (§7).
type groupRoleAssignment struct {
	ResourceID    string   `json:"resourceId"`
	ResourceOwner string   `json:"resourceOwner"`
	DefaultRole   *string  `json:"defaultRole"`
	Roles         []string `json:"roles"`
}

// GET …/groups/{groupId}/role-assignments: the group's grants, per
// product. defaultRole marks the default group of a product (§7).
func (s *Server) orgGroupRoles(w http.ResponseWriter, r *http.Request) *orgError {
	walk, f, oerr := roleWalk(r, cursorGroupRoles)
	if oerr != nil {
		return oerr
	}
	s.site.mu.RLock()
	defer s.site.mu.RUnlock()
	g := s.site.groups[r.PathValue("groupId")]
	if g == nil {
		return errOrgGroupNotFound(r.PathValue("groupId"))
	}
	dir := DefaultDirectoryID
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
		if f.match(&dir, ra.ResourceOwner, ra.ResourceID, ra.Roles) {
			out = append(out, ra)
		}
	}
	lo := min(walk.Offset, len(out))
	hi := min(lo+walk.Limit, len(out))
	self, prev, next := walk.tokens(lo, hi, hi < len(out))
	return writeOrg(w, struct {
		Data  []groupRoleAssignment `json:"data"`
		Links nullableLinks         `json:"links"`
	}{append([]groupRoleAssignment{}, out[lo:hi]...), nullable(self, prev, next)})
}

// POST …/groups/{groupId}/memberships, body {"accountId"}: the same
// Site.addMember product REST uses, so the seat check and the audit log
// are the same; only the error vocabulary is the Org API's. Success is
// 204 with no body (undocumented: unconfirmed.go).
func (s *Server) orgAddMember(w http.ResponseWriter, r *http.Request) *orgError {
	var body struct {
		AccountID string `json:"accountId"`
	}
	if _, oerr := decodeOrgBody(r, &body); oerr != nil {
		return oerr
	}
	if body.AccountID == "" {
		return errBadOrgBody("accountId is required")
	}
	if s.faults.failMembershipCall() {
		return newOrgError(http.StatusInternalServerError, orgCodeInternal, "Internal Server Error", "Injected: Faults.FailMembershipCalls.")
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
	if s.faults.failMembershipCall() {
		return newOrgError(http.StatusInternalServerError, orgCodeInternal, "Internal Server Error", "Injected: Faults.FailMembershipCalls.")
	}
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
		// Every refusal removeMemberAs knows was checked above.
		return newOrgError(http.StatusInternalServerError, orgCodeInternal, "Internal Server Error", strings.Join(aerr.ErrorMessages, " "))
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

// groupManagedBy names who manages a group's membership: the scenario's
// value, else as unconfirmed.go chooses.
func groupManagedBy(g *Group) string {
	if g.ManagedBy != "" {
		return g.ManagedBy
	}
	if g.Synced {
		return "external"
	}
	return "admins"
}
