package sitesim

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// Users of the Organizations API's directory (orgapi-documented.md §5,
// §8, §12, §14): the org's view of the same Site product REST serves.

// orgUser is the user object of users search (§5, MultiDirectoryUser of
// https://dac-static.atlassian.com/cloud/admin/organization/swagger.v3.json
// and its newer generated form).
type orgUser struct {
	AccountID        string               `json:"accountId"`
	AccountType      string               `json:"accountType"`
	Status           string               `json:"status"`
	AccountStatus    string               `json:"accountStatus"`
	MembershipStatus string               `json:"membershipStatus"`
	AddedToOrg       string               `json:"addedToOrg,omitempty"` // a string, not nullable: left out when unknown
	Name             string               `json:"name"`
	Nickname         string               `json:"nickname"`
	Email            string               `json:"email,omitempty"` // left out when hidden
	EmailVerified    bool                 `json:"emailVerified"`
	ClaimStatus      string               `json:"claimStatus"`
	PlatformRoles    *[]string            `json:"platformRoles,omitempty"` // expand platformRoles
	Picture          string               `json:"picture"`
	Avatar           string               `json:"avatar"`
	ManagementSource *string              `json:"managementSource"`
	MFAEnabled       bool                 `json:"mfaEnabled"`
	JobTitle         string               `json:"jobTitle"`
	Department       *string              `json:"department"`
	Organization     *string              `json:"organization"`
	Location         *string              `json:"location"`
	TimeZone         *string              `json:"timeZone"`
	Counts           *userCounts          `json:"counts,omitempty"`        // expand counts.resources
	ProductAccess    *[]orgProductAccess  `json:"productAccess,omitempty"` // expand productAccess
	Groups           *[]orgUserGroupBrief `json:"groups,omitempty"`        // expand groups
	Links            selfLink             `json:"links"`
	DeactivatedOn    *string              `json:"deactivatedOn"`
	ForDeletion      bool                 `json:"forDeletion"`
}

// orgUserDetails is GET …/users/{accountId} (§12): the listed fields
// only, counts included, no links, forDeletion, productAccess or groups.
type orgUserDetails struct {
	AccountID        string     `json:"accountId"`
	AccountType      string     `json:"accountType"`
	Status           string     `json:"status"`
	AccountStatus    string     `json:"accountStatus"`
	MembershipStatus string     `json:"membershipStatus"`
	AddedToOrg       string     `json:"addedToOrg,omitempty"`
	DeactivatedOn    *string    `json:"deactivatedOn"`
	Name             string     `json:"name"`
	Nickname         string     `json:"nickname"`
	Email            string     `json:"email,omitempty"`
	EmailVerified    bool       `json:"emailVerified"`
	ClaimStatus      string     `json:"claimStatus"`
	PlatformRoles    []string   `json:"platformRoles"`
	Picture          string     `json:"picture"`
	Avatar           string     `json:"avatar"`
	ManagementSource *string    `json:"managementSource"`
	MFAEnabled       bool       `json:"mfaEnabled"`
	JobTitle         string     `json:"jobTitle"`
	Department       *string    `json:"department"`
	Organization     *string    `json:"organization"`
	Location         *string    `json:"location"`
	TimeZone         *string    `json:"timeZone"`
	Counts           userCounts `json:"counts"`
}

type userCounts struct {
	Resources int `json:"resources"`
}

type orgProductAccess struct {
	Key                 string `json:"key"`
	ID                  string `json:"id"`
	LastActiveTimestamp string `json:"lastActiveTimestamp,omitempty"` // left out for a product never used
}

type orgUserGroupBrief struct {
	ID          string  `json:"id"`
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

// inDirectory reports whether an account is a member of the org's
// directory: atlassian accounts (see unconfirmed.go).
func inDirectory(u *User) bool { return u != nil && u.AccountType == AccountAtlassian }

// orgStatus is the user's composite status (unconfirmed.go for the
// default of an empty one).
func orgStatus(u *User) string {
	switch {
	case u.Status != "":
		return u.Status
	case !u.Active:
		return "deactivated"
	}
	return "active"
}

// accountStatusOf and membershipStatusOf follow the documented composite
// rule (§5): active = active + active; suspended = active + suspended;
// not_invited = active + no_membership; deactivated = inactive account;
// for_deletion = a managed account scheduled for deletion (inactive here).
func accountStatusOf(status string) string {
	if status == "deactivated" || status == "for_deletion" {
		return "inactive"
	}
	return "active"
}

func membershipStatusOf(status string) string {
	switch status {
	case "suspended":
		return "suspended"
	case "not_invited":
		return "no_membership"
	}
	return "active"
}

func orgClaimStatus(u *User) string {
	if u.ClaimStatus != "" {
		return u.ClaimStatus
	}
	return "managed"
}

func (s *Site) orgManagementSource(u *User) string {
	if u.ManagementSource != "" {
		return u.ManagementSource
	}
	for _, g := range s.groupsOf(u.AccountID) {
		if g.Synced {
			return "synced"
		}
	}
	return "invited"
}

// platformRolesOf is the user's platform roles: the model's, plus
// site-admin for a member of a group granting site administration.
func (s *Site) platformRolesOf(u *User) []string {
	roles := slices.Clone(u.PlatformRoles)
	for _, g := range s.groupsOf(u.AccountID) {
		if g.SiteAdmin && !slices.Contains(roles, "site-admin") {
			roles = append(roles, "site-admin")
		}
	}
	slices.Sort(roles)
	return roles
}

func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func isoTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	v := isoTime(*t)
	return &v
}

// orgProductKey is a product's key in the Organizations API: the keys of
// the v1 last-active product enum (jira-software, jira-service-desk,
// jira-core, confluence, …), jira-product-discovery for JPD, which that
// enum lacks (unconfirmed.go).
func orgProductKey(siteKey string) string {
	if siteKey == JiraServiceDesk {
		return "jira-service-desk"
	}
	return siteKey
}

// userView is what both user objects share. Caller holds s.site.mu.
func (s *Server) userView(r *http.Request, u *User) (o orgUserDetails) {
	st := orgStatus(u)
	src := s.site.orgManagementSource(u)
	o = orgUserDetails{
		AccountID: u.AccountID, AccountType: u.AccountType, Status: st,
		AccountStatus: accountStatusOf(st), MembershipStatus: membershipStatusOf(st),
		Name: u.DisplayName, Nickname: u.DisplayName, Email: u.Email, EmailVerified: u.Email != "",
		ClaimStatus: orgClaimStatus(u), ManagementSource: &src,
		Picture: avatarURL(r, u.AccountID, 48), Avatar: avatarURL(r, u.AccountID, 24),
	}
	if u.AddedToOrg != nil {
		o.AddedToOrg = isoTime(*u.AddedToOrg)
	}
	if st == "deactivated" || st == "for_deletion" {
		o.DeactivatedOn = isoTimePtr(u.DeactivatedOn)
	}
	return o
}

// orgUserOf renders u for users search; expand selects the optional
// parts. Caller holds s.site.mu.
func (s *Server) orgUserOf(r *http.Request, u *User, expand []string) orgUser {
	site := s.site
	v := s.userView(r, u)
	o := orgUser{
		AccountID: v.AccountID, AccountType: v.AccountType, Status: v.Status,
		AccountStatus: v.AccountStatus, MembershipStatus: v.MembershipStatus, AddedToOrg: v.AddedToOrg,
		Name: v.Name, Nickname: v.Nickname, Email: v.Email, EmailVerified: v.EmailVerified,
		ClaimStatus: v.ClaimStatus, Picture: v.Picture, Avatar: v.Avatar, ManagementSource: v.ManagementSource,
		DeactivatedOn: v.DeactivatedOn, ForDeletion: v.Status == "for_deletion",
	}
	if slices.Contains(expand, "platformRoles") {
		roles := []string{}
		for _, p := range site.platformRolesOf(u) {
			roles = append(roles, "atlassian/"+p)
		}
		o.PlatformRoles = &roles
	}
	if slices.Contains(expand, "counts.resources") {
		o.Counts = &userCounts{Resources: len(s.roleAssignmentsOf(u))}
	}
	if slices.Contains(expand, "productAccess") {
		pas := []orgProductAccess{}
		access := site.accessOf(u.AccountID)
		for _, p := range site.all {
			if !access[p.Key] {
				continue
			}
			pa := orgProductAccess{Key: orgProductKey(p.Key), ID: s.resourceID(p.Key)}
			if t, ok := u.LastActive[p.Key]; ok {
				pa.LastActiveTimestamp = isoTime(t)
			}
			pas = append(pas, pa)
		}
		o.ProductAccess = &pas
	}
	if slices.Contains(expand, "groups") {
		gs := []orgUserGroupBrief{}
		for _, g := range site.groupsOf(u.AccountID) {
			name, desc := g.Name, g.Description
			gs = append(gs, orgUserGroupBrief{ID: g.ID, Name: &name, Description: &desc})
		}
		o.Groups = &gs
	}
	o.Links.Self = orgURL(r, "/admin/v2/orgs/"+s.opts.OrgID+"/directories/"+DefaultDirectoryID+"/users/"+u.AccountID)
	return o
}

// accessOf is the set of products an account holds any role on through
// the model (group grants, direct and inferred roles, org admin): the Org API's
// product access, the audit log's product-access changes. Caller holds
// s.mu.
func (s *Site) accessOf(accountID string) map[string]bool {
	out := map[string]bool{}
	u := s.users[accountID]
	if u == nil {
		return out
	}
	for _, g := range s.groupsOf(accountID) {
		for _, gr := range g.Grants {
			out[gr.Product] = true
		}
	}
	for _, gr := range slices.Concat(u.DirectRoles, u.InferredRoles) {
		out[gr.Product] = true
	}
	// An org admin holds every product (billing-model.md §1.6), as the
	// role assignments say; product access must say the same.
	if slices.Contains(u.PlatformRoles, "org-admin") {
		for _, p := range s.all {
			out[p.Key] = true
		}
	}
	return out
}

// userSearch is the body of POST …/users/search (§5) without its cursor;
// it is also the filters a users walk carries in its cursor.
type userSearch struct {
	Limit            *int     `json:"limit,omitempty"`
	AccountIDs       []string `json:"accountIds,omitempty"`
	DirectoryIDs     []string `json:"directoryIds,omitempty"`
	ResourceIDs      []string `json:"resourceIds,omitempty"`
	GroupIDs         []string `json:"groupIds,omitempty"`
	MFAEnabled       *bool    `json:"mfaEnabled,omitempty"`
	ClaimStatus      string   `json:"claimStatus,omitempty"`
	Status           []string `json:"status,omitempty"`
	AccountStatus    []string `json:"accountStatus,omitempty"`
	MembershipStatus []string `json:"membershipStatus,omitempty"`
	RoleIDs          []string `json:"roleIds,omitempty"`
	EmailDomains     []string `json:"emailDomains,omitempty"`
	SearchTerm       string   `json:"searchTerm,omitempty"`
	Emails           []string `json:"emails,omitempty"`
	Expand           []string `json:"expand,omitempty"`
	SortBy           []sortBy `json:"sortBy,omitempty"`
}

// sortBy is one entry of a search's sortBy.
type sortBy struct {
	Field     string `json:"field"`
	Direction string `json:"direction"`
}

// descending checks sortBy (at most one entry on field, direction asc or
// desc) and reports whether it asks for descending order.
func descending(sort []sortBy, field string) (bool, *orgError) {
	switch {
	case len(sort) == 0:
		return false, nil
	case len(sort) > 1:
		return false, errBadOrgBody("sortBy takes one entry")
	case sort[0].Field != field:
		return false, errBadOrgBody("sortBy field must be " + field)
	case sort[0].Direction != "" && sort[0].Direction != "asc" && sort[0].Direction != "desc":
		return false, errBadOrgBody("sortBy direction must be asc or desc")
	}
	return sort[0].Direction == "desc", nil
}

func anyOrContains(filter []string, v string) bool {
	return len(filter) == 0 || slices.Contains(filter, v)
}

// matches applies every filter of q to u (a filter left empty passes).
// It runs for every directory user on every page of a search, so it
// computes only what the filters need, never the whole user object.
func (s *Server) matchesUser(q userSearch, u *User) bool {
	site := s.site
	status := orgStatus(u)
	if !anyOrContains(q.AccountIDs, u.AccountID) || !anyOrContains(q.Status, status) ||
		!anyOrContains(q.AccountStatus, accountStatusOf(status)) || !anyOrContains(q.MembershipStatus, membershipStatusOf(status)) ||
		(q.ClaimStatus != "" && q.ClaimStatus != orgClaimStatus(u)) || (q.MFAEnabled != nil && *q.MFAEnabled) {
		return false
	}
	if len(q.GroupIDs) > 0 && !slices.ContainsFunc(q.GroupIDs, func(g string) bool { return site.members[g][u.AccountID] }) {
		return false
	}
	email := strings.ToLower(u.Email)
	if len(q.EmailDomains) > 0 && !slices.ContainsFunc(q.EmailDomains, func(d string) bool { return email != "" && strings.HasSuffix(email, "@"+strings.ToLower(d)) }) {
		return false
	}
	if len(q.Emails) > 0 && !slices.ContainsFunc(q.Emails, func(e string) bool { return email != "" && strings.EqualFold(e, email) }) {
		return false
	}
	if t := strings.ToLower(q.SearchTerm); t != "" && !strings.Contains(strings.ToLower(u.DisplayName), t) && !strings.Contains(email, t) {
		return false
	}
	if len(q.ResourceIDs) > 0 && len(q.RoleIDs) == 0 {
		return s.holdsRoleOn(u, q.ResourceIDs)
	}
	if len(q.ResourceIDs) > 0 || len(q.RoleIDs) > 0 {
		hit := false
		for _, ra := range s.roleAssignmentsOf(u) {
			if !anyOrContains(q.ResourceIDs, ra.ResourceID) {
				continue
			}
			for _, a := range ra.RoleAssignments {
				hit = hit || anyOrContains(q.RoleIDs, a.Role)
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

// POST /admin/v2/orgs/{orgId}/directories/{directoryId}/users/search.
func (s *Server) orgUsersSearch(w http.ResponseWriter, r *http.Request) *orgError {
	var q userSearch
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
		// The cursor carries the walk; the body's other properties are
		// discarded (unconfirmed.go).
		if walk, oerr = decodeWalk(cursorUsers, c); oerr != nil {
			return oerr
		}
		q = userSearch{}
		if oerr = walk.filters(&q); oerr != nil {
			return oerr
		}
	} else {
		if q.SearchTerm != "" && len(q.Emails) > 0 {
			return errBadOrgBody("searchTerm and emails are mutually exclusive")
		}
		for _, d := range q.DirectoryIDs {
			if d != DefaultDirectoryID {
				return errDirectoryNotFound(d)
			}
		}
		limit, oerr := limitOf(q.Limit, usersSearchDefault, usersSearchMax)
		if oerr != nil {
			return oerr
		}
		if _, oerr := descending(q.SortBy, "nick_name"); oerr != nil {
			return oerr
		}
		q.Limit = nil
		walk = newWalk(cursorUsers, limit, q)
	}
	desc, _ := descending(q.SortBy, "nick_name")
	s.site.mu.RLock()
	defer s.site.mu.RUnlock()
	// Only the page's users are rendered; the walk stops at the first
	// match after the page, which is all links.next needs.
	hits, n, more := []orgUser{}, 0, false
	order := s.site.order // display order (= nickname): stable between pages
	for i := range order {
		if desc {
			i = len(order) - 1 - i
		}
		u := s.site.users[order[i]]
		if !inDirectory(u) || !s.matchesUser(q, u) {
			continue
		}
		if n >= walk.Offset+walk.Limit {
			more = true
			break
		}
		if n >= walk.Offset {
			hits = append(hits, s.orgUserOf(r, u, q.Expand))
		}
		n++
	}
	self, prev, next := walk.tokens(walk.Offset, walk.Offset+len(hits), more)
	return writeOrg(w, struct {
		Data  []orgUser     `json:"data"`
		Links nullableLinks `json:"links"`
	}{hits, nullable(self, prev, next)})
}

// holdsRoleOn reports whether u holds any role on one of the resources:
// the same answer as looking through roleAssignmentsOf, without building
// them. Caller holds s.site.mu.
func (s *Server) holdsRoleOn(u *User, resources []string) bool {
	has := func(product string) bool { return slices.Contains(resources, s.resourceID(product)) }
	for gid, m := range s.site.members {
		if m[u.AccountID] && slices.ContainsFunc(s.site.groups[gid].Grants, func(gr Grant) bool { return has(gr.Product) }) {
			return true
		}
	}
	for _, gr := range slices.Concat(u.DirectRoles, u.InferredRoles) {
		if has(gr.Product) {
			return true
		}
	}
	platform := s.site.platformRolesOf(u)
	if slices.Contains(platform, "org-admin") {
		if slices.ContainsFunc(s.site.all, func(p Product) bool { return has(p.Key) }) ||
			slices.Contains(resources, "ari:cloud:platform::org/"+s.opts.OrgID) {
			return true
		}
	}
	return slices.ContainsFunc(platform, func(r string) bool { return r != "org-admin" }) &&
		slices.Contains(resources, "ari:cloud:platform::site/"+s.opts.CloudID)
}

// directoryUser resolves {accountId} to a directory member. Caller holds
// s.site.mu.
func (s *Server) directoryUser(r *http.Request) (*User, *orgError) {
	u := s.site.users[r.PathValue("accountId")]
	if !inDirectory(u) {
		return nil, errOrgUserNotFound(r.PathValue("accountId"))
	}
	return u, nil
}

// GET …/directories/{directoryId}/users/{accountId}: {"data": user}, the
// §12 fields (no query parameters are documented; any are ignored).
func (s *Server) orgUserGet(w http.ResponseWriter, r *http.Request) *orgError {
	s.site.mu.RLock()
	defer s.site.mu.RUnlock()
	u, oerr := s.directoryUser(r)
	if oerr != nil {
		return oerr
	}
	v := s.userView(r, u)
	v.PlatformRoles = []string{}
	for _, p := range s.site.platformRolesOf(u) {
		v.PlatformRoles = append(v.PlatformRoles, "atlassian/"+p)
	}
	v.Counts.Resources = len(s.roleAssignmentsOf(u))
	return writeOrg(w, struct {
		Data orgUserDetails `json:"data"`
	}{v})
}

// userRoleAssignment is one resource of a user's role assignments (§8).
type userRoleAssignment struct {
	ResourceID          string               `json:"resourceId"`
	ResourceOwner       string               `json:"resourceOwner"`
	Roles               []string             `json:"roles"`
	RoleAssignments     []roleAssignmentItem `json:"roleAssignments"`
	DirectoryID         *string              `json:"directoryId"`
	UserDirectoryStatus *string              `json:"userDirectoryStatus"`
}

type roleAssignmentItem struct {
	Role                  string   `json:"role"`
	RoleAssignmentMethods []string `json:"roleAssignmentMethods"`
}

// Role assignment methods (§8).
const (
	methodDirect      = "direct"
	methodGroupDirect = "group_direct"
	methodInferred    = "inferred"
)

// roleAssignmentsOf derives a user's roles from the model: group grants
// (group_direct), DirectRoles (direct), InferredRoles and an org-admin's
// admin role on every product (inferred), then the platform roles.
// Caller holds s.site.mu.
func (s *Server) roleAssignmentsOf(u *User) []userRoleAssignment {
	site := s.site
	methods := map[Grant][]string{}
	add := func(g Grant, m string) {
		if !slices.Contains(methods[g], m) {
			methods[g] = append(methods[g], m)
		}
	}
	for _, g := range site.groupsOf(u.AccountID) {
		for _, gr := range g.Grants {
			add(gr, methodGroupDirect)
		}
	}
	for _, gr := range u.DirectRoles {
		add(gr, methodDirect)
	}
	for _, gr := range u.InferredRoles {
		add(gr, methodInferred)
	}
	platform := site.platformRolesOf(u)
	if slices.Contains(platform, "org-admin") {
		for _, p := range site.all {
			add(Grant{p.Key, RoleAdmin}, methodInferred)
		}
	}
	// userDirectoryStatus is the user's membership of the directory
	// (active, suspended or no_membership), not the composite status.
	dir, status := DefaultDirectoryID, membershipStatusOf(orgStatus(u))
	var out []userRoleAssignment
	for _, p := range site.all {
		ra := userRoleAssignment{ResourceID: s.resourceID(p.Key), ResourceOwner: p.Key, DirectoryID: &dir, UserDirectoryStatus: &status}
		for _, role := range []string{RoleAdmin, RoleUser, RoleGuest, RoleCustomer, RoleContributor, RoleStakeholder} {
			if m := methods[Grant{p.Key, role}]; len(m) > 0 {
				slices.Sort(m)
				ra.Roles = append(ra.Roles, "atlassian/"+role)
				ra.RoleAssignments = append(ra.RoleAssignments, roleAssignmentItem{"atlassian/" + role, m})
			}
		}
		if len(ra.Roles) > 0 {
			out = append(out, ra)
		}
	}
	for _, pr := range platform {
		// Platform roles carry no directory and no directory status (§8);
		// the resource is the org or the site (unconfirmed.go).
		res := "ari:cloud:platform::site/" + s.opts.CloudID
		if pr == "org-admin" {
			res = "ari:cloud:platform::org/" + s.opts.OrgID
		}
		out = append(out, userRoleAssignment{ResourceID: res, ResourceOwner: "platform",
			Roles: []string{"atlassian/" + pr}, RoleAssignments: []roleAssignmentItem{{"atlassian/" + pr, []string{methodDirect}}}})
	}
	return out
}

// roleFilters are the query filters of both role-assignment lists (§7,
// §8), each at most roleFilterMax items.
type roleFilters struct {
	DirectoryIDs   []string `json:"directoryIds,omitempty"`
	ResourceOwners []string `json:"resourceOwners,omitempty"`
	ResourceIDs    []string `json:"resourceIds,omitempty"`
	RoleIDs        []string `json:"roleIds,omitempty"`
}

// roleWalk reads a role-assignment list's request: a cursor alone carries
// the walk; otherwise limit and the filters.
func roleWalk(r *http.Request, kind string) (walkCursor, roleFilters, *orgError) {
	var f roleFilters
	if c := r.URL.Query().Get("cursor"); c != "" {
		walk, oerr := decodeWalk(kind, c)
		if oerr == nil {
			oerr = walk.filters(&f)
		}
		return walk, f, oerr
	}
	limit, oerr := queryLimit(r, roleAssignmentsDefault, roleAssignmentsMax)
	if oerr != nil {
		return walkCursor{}, f, oerr
	}
	f = roleFilters{listParam(r, "directoryIds"), listParam(r, "resourceOwners"), listParam(r, "resourceIds"), listParam(r, "roleIds")}
	for name, l := range map[string][]string{"directoryIds": f.DirectoryIDs, "resourceOwners": f.ResourceOwners, "resourceIds": f.ResourceIDs, "roleIds": f.RoleIDs} {
		if len(l) > roleFilterMax {
			return walkCursor{}, f, errBadOrgParam(name, "at most 10 items")
		}
	}
	return newWalk(kind, limit, f), f, nil
}

// match applies the filters to one resource's assignment.
func (f roleFilters) match(directoryID *string, owner, resource string, roles []string) bool {
	dirOK := len(f.DirectoryIDs) == 0 || (directoryID != nil && (slices.Contains(f.DirectoryIDs, *directoryID) || slices.Contains(f.DirectoryIDs, "-")))
	roleOK := len(f.RoleIDs) == 0 || slices.ContainsFunc(roles, func(x string) bool { return slices.Contains(f.RoleIDs, x) })
	return dirOK && roleOK && anyOrContains(f.ResourceOwners, owner) && anyOrContains(f.ResourceIDs, resource)
}

// GET …/users/{accountId}/role-assignments.
func (s *Server) orgUserRoles(w http.ResponseWriter, r *http.Request) *orgError {
	walk, f, oerr := roleWalk(r, cursorUserRoles)
	if oerr != nil {
		return oerr
	}
	s.site.mu.RLock()
	defer s.site.mu.RUnlock()
	u, oerr := s.directoryUser(r)
	if oerr != nil {
		return oerr
	}
	var hits []userRoleAssignment
	for _, ra := range s.roleAssignmentsOf(u) {
		if f.match(ra.DirectoryID, ra.ResourceOwner, ra.ResourceID, ra.Roles) {
			hits = append(hits, ra)
		}
	}
	lo := min(walk.Offset, len(hits))
	hi := min(lo+walk.Limit, len(hits))
	self, prev, next := walk.tokens(lo, hi, hi < len(hits))
	return writeOrg(w, struct {
		Data  []userRoleAssignment `json:"data"`
		Links nullableLinks        `json:"links"`
	}{append([]userRoleAssignment{}, hits[lo:hi]...), nullable(self, prev, next)})
}

// lastActiveDates is GET /admin/v1/orgs/{orgId}/directory/users/{accountId}/last-active-dates (§14).
type lastActiveDates struct {
	Data struct {
		ProductAccess       []productLastActive `json:"product_access"`
		AddedToOrg          *string             `json:"added_to_org"`
		AddedToOrgTimestamp *string             `json:"added_to_org_timestamp"`
	} `json:"data"`
	Links struct {
		Next string `json:"next,omitempty"`
	} `json:"links"`
}

type productLastActive struct {
	ID                  string `json:"id"`
	Key                 string `json:"key"`
	LastActive          string `json:"last_active"`
	LastActiveTimestamp string `json:"last_active_timestamp"`
}

// GET …/directory/users/{accountId}/last-active-dates: one page with
// every product the model has an activity date for.
func (s *Server) orgLastActive(w http.ResponseWriter, r *http.Request) *orgError {
	if c := r.URL.Query().Get("cursor"); c != "" {
		if _, oerr := decodeWalk(cursorLastActive, c); oerr != nil {
			return oerr
		}
	}
	s.site.mu.RLock()
	defer s.site.mu.RUnlock()
	u, oerr := s.directoryUser(r)
	if oerr != nil {
		return oerr
	}
	var out lastActiveDates
	out.Data.ProductAccess = []productLastActive{}
	for _, p := range s.site.all {
		if t, ok := u.LastActive[p.Key]; ok {
			t = t.UTC()
			out.Data.ProductAccess = append(out.Data.ProductAccess, productLastActive{s.resourceID(p.Key), orgProductKey(p.Key), t.Format(time.DateOnly), t.Format(time.RFC3339)})
		}
	}
	if u.AddedToOrg != nil {
		day, ts := u.AddedToOrg.UTC().Format(time.DateOnly), u.AddedToOrg.UTC().Format(time.RFC3339)
		out.Data.AddedToOrg, out.Data.AddedToOrgTimestamp = &day, &ts
	}
	return writeOrg(w, out)
}
