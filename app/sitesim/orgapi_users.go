package sitesim

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// Users of the Organizations API's directory (§7.3–7.5): the org's view
// of the same Site product REST serves.

// orgUser is the v2 user object (§7.5 multiDirectoryUser.ts).
type orgUser struct {
	AccountID        string               `json:"accountId"`
	AccountType      string               `json:"accountType"`
	Status           string               `json:"status"`
	AccountStatus    string               `json:"accountStatus"`
	MembershipStatus string               `json:"membershipStatus"`
	AddedToOrg       *string              `json:"addedToOrg"`
	Name             string               `json:"name"`
	Nickname         string               `json:"nickname"`
	Email            string               `json:"email,omitempty"` // absent when hidden, as v1 documents
	EmailVerified    bool                 `json:"emailVerified"`
	ClaimStatus      string               `json:"claimStatus"`
	PlatformRoles    []string             `json:"platformRoles,omitempty"` // only with expand=platformRoles
	ManagementSource string               `json:"managementSource"`
	MFAEnabled       bool                 `json:"mfaEnabled"`
	ProductAccess    []orgProductAccess   `json:"productAccess,omitempty"` // only with expand=productAccess
	Groups           *[]orgUserGroupBrief `json:"groups,omitempty"`        // only with expand=groups
	DeactivatedOn    *string              `json:"deactivatedOn"`
	ForDeletion      bool                 `json:"forDeletion"`
	Links            struct {
		Self string `json:"self"`
	} `json:"links"`
}

type orgProductAccess struct {
	Key                 string  `json:"key"`
	ID                  string  `json:"id"`
	LastActiveTimestamp *string `json:"lastActiveTimestamp"`
}

type orgUserGroupBrief struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
}

// inDirectory reports whether an account is a member of the org's
// directory: atlassian accounts (see unconfirmed.go).
func inDirectory(u *User) bool { return u != nil && u.AccountType == AccountAtlassian }

// Org-view defaults for users whose scenario leaves the org fields empty
// (unconfirmed.go explains each).
func orgStatus(u *User) string {
	switch {
	case u.Status != "":
		return u.Status
	case !u.Active:
		return "deactivated"
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

func isoTime(t time.Time) *string {
	v := t.UTC().Format(time.RFC3339)
	return &v
}

// orgUserOf renders u; expand selects the optional parts.
func (s *Server) orgUserOf(r *http.Request, u *User, expand []string) orgUser {
	site := s.site
	st := orgStatus(u)
	o := orgUser{
		AccountID: u.AccountID, AccountType: u.AccountType, Status: st,
		AccountStatus: "active", MembershipStatus: "active",
		Name: u.DisplayName, Nickname: u.DisplayName, Email: u.Email, EmailVerified: u.Email != "",
		ClaimStatus: orgClaimStatus(u), ManagementSource: site.orgManagementSource(u),
	}
	if !u.Active {
		o.AccountStatus = "inactive"
	}
	if st == "suspended" {
		o.MembershipStatus = "suspended"
	}
	if u.AddedToOrg != nil {
		o.AddedToOrg = isoTime(*u.AddedToOrg)
	}
	if slices.Contains(expand, "platformRoles") {
		for _, p := range site.platformRolesOf(u) {
			o.PlatformRoles = append(o.PlatformRoles, "atlassian/"+p)
		}
	}
	if slices.Contains(expand, "productAccess") {
		o.ProductAccess = []orgProductAccess{}
		access := site.accessOf(u.AccountID)
		for _, p := range site.all {
			if !access[p.Key] {
				continue
			}
			pa := orgProductAccess{Key: p.Key, ID: s.resourceID(p.Key)}
			if t, ok := u.LastActive[p.Key]; ok {
				pa.LastActiveTimestamp = isoTime(t)
			}
			o.ProductAccess = append(o.ProductAccess, pa)
		}
	}
	if slices.Contains(expand, "groups") {
		gs := []orgUserGroupBrief{}
		for _, g := range site.groupsOf(u.AccountID) {
			gs = append(gs, orgUserGroupBrief{ID: g.ID, Name: g.Name})
		}
		o.Groups = &gs
	}
	o.Links.Self = absBase(r) + "/admin/v2/orgs/" + s.opts.OrgID + "/directories/" + DefaultDirectoryID + "/users/" + u.AccountID
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

// userSearch is the body of POST …/users/search (§7.5).
type userSearch struct {
	Cursor           string   `json:"cursor"`
	Limit            int      `json:"limit"`
	AccountIDs       []string `json:"accountIds"`
	DirectoryIDs     []string `json:"directoryIds"`
	ResourceIDs      []string `json:"resourceIds"`
	GroupIDs         []string `json:"groupIds"`
	ClaimStatus      string   `json:"claimStatus"`
	Status           []string `json:"status"`
	AccountStatus    []string `json:"accountStatus"`
	MembershipStatus []string `json:"membershipStatus"`
	RoleIDs          []string `json:"roleIds"`
	EmailDomains     []string `json:"emailDomains"`
	Emails           []string `json:"emails"`
	SearchTerm       string   `json:"searchTerm"`
	Expand           []string `json:"expand"`
}

func anyOrContains(filter []string, v string) bool {
	return len(filter) == 0 || slices.Contains(filter, v)
}

// matches applies every filter of q to u (a filter left empty passes).
// It runs for every directory user on every page of a search, so it
// computes only what the filters need, never the whole user object.
func (s *Server) matchesUser(q userSearch, u *User) bool {
	site := s.site
	status, accountStatus, membershipStatus := orgStatus(u), "active", "active"
	if !u.Active {
		accountStatus = "inactive"
	}
	if status == "suspended" {
		membershipStatus = "suspended"
	}
	if !anyOrContains(q.AccountIDs, u.AccountID) || !anyOrContains(q.Status, status) ||
		!anyOrContains(q.AccountStatus, accountStatus) || !anyOrContains(q.MembershipStatus, membershipStatus) ||
		(q.ClaimStatus != "" && q.ClaimStatus != orgClaimStatus(u)) {
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
	if oerr := decodeOrgBody(r, &q); oerr != nil {
		return oerr
	}
	if q.SearchTerm != "" && len(q.Emails) > 0 {
		return newOrgError(http.StatusBadRequest, orgCodeBadRequest, "Bad Request", "searchTerm and emails are mutually exclusive")
	}
	for _, d := range q.DirectoryIDs {
		if d != DefaultDirectoryID {
			return errDirectoryNotFound(d)
		}
	}
	limit, oerr := limitOf(q.Limit, 50, usersSearchMax)
	if oerr != nil {
		return oerr
	}
	offset, oerr := decodeCursor(q.Cursor)
	if oerr != nil {
		return oerr
	}
	s.site.mu.RLock()
	defer s.site.mu.RUnlock()
	// Only the page's users are rendered; the rest are only counted.
	hits, n := []orgUser{}, 0
	for _, id := range s.site.order { // display order: stable between pages
		u := s.site.users[id]
		if !inDirectory(u) || !s.matchesUser(q, u) {
			continue
		}
		if n >= offset && n < offset+limit {
			hits = append(hits, s.orgUserOf(r, u, q.Expand))
		}
		n++
	}
	_, _, links := page(n, offset, limit)
	return writeOrg(w, struct {
		Data  []orgUser   `json:"data"`
		Links cursorLinks `json:"links"`
	}{hits, links})
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

// GET …/directories/{directoryId}/users/{accountId}: the user object;
// expand (comma-separated) as in search.
func (s *Server) orgUserGet(w http.ResponseWriter, r *http.Request) *orgError {
	s.site.mu.RLock()
	defer s.site.mu.RUnlock()
	u, oerr := s.directoryUser(r)
	if oerr != nil {
		return oerr
	}
	return writeOrg(w, s.orgUserOf(r, u, listParam(r, "expand")))
}

// userRoleAssignment is one resource of a user's role assignments (§7.5).
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

// Role assignment methods (§7.5).
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
	dir, status := DefaultDirectoryID, orgStatus(u)
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
		// Platform roles carry no directory (§7.5); the resource is the
		// org or the site (unconfirmed.go).
		res := "ari:cloud:platform::site/" + s.opts.CloudID
		if pr == "org-admin" {
			res = "ari:cloud:platform::org/" + s.opts.OrgID
		}
		out = append(out, userRoleAssignment{ResourceID: res, ResourceOwner: "platform",
			Roles: []string{"atlassian/" + pr}, RoleAssignments: []roleAssignmentItem{{"atlassian/" + pr, []string{methodDirect}}}})
	}
	return out
}

// nextLink is links.{next} of the role-assignment pages (§7.5).
type nextLink struct {
	Next *string `json:"next"`
}

// GET …/users/{accountId}/role-assignments.
func (s *Server) orgUserRoles(w http.ResponseWriter, r *http.Request) *orgError {
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
	u, oerr := s.directoryUser(r)
	if oerr != nil {
		return oerr
	}
	owners, resources, roles, dirs := listParam(r, "resourceOwners"), listParam(r, "resourceIds"), listParam(r, "roleIds"), listParam(r, "directoryIds")
	var hits []userRoleAssignment
	for _, ra := range s.roleAssignmentsOf(u) {
		dirOK := len(dirs) == 0 || (ra.DirectoryID != nil && slices.Contains(dirs, *ra.DirectoryID))
		roleOK := len(roles) == 0 || slices.ContainsFunc(ra.Roles, func(x string) bool { return slices.Contains(roles, x) })
		if dirOK && roleOK && anyOrContains(owners, ra.ResourceOwner) && anyOrContains(resources, ra.ResourceID) {
			hits = append(hits, ra)
		}
	}
	lo, hi, links := page(len(hits), offset, limit)
	return writeOrg(w, struct {
		Data  []userRoleAssignment `json:"data"`
		Links nextLink             `json:"links"`
	}{append([]userRoleAssignment{}, hits[lo:hi]...), nextLink{links.Next}})
}

// lastActiveDates is GET /admin/v1/orgs/{orgId}/directory/users/{accountId}/last-active-dates (§7.4).
type lastActiveDates struct {
	Data struct {
		ProductAccess       []productLastActive `json:"product_access"`
		AddedToOrg          string              `json:"added_to_org,omitempty"`
		AddedToOrgTimestamp string              `json:"added_to_org_timestamp,omitempty"`
	} `json:"data"`
	Links struct {
		Next *string `json:"next"`
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
	if _, oerr := decodeCursor(r.URL.Query().Get("cursor")); oerr != nil {
		return oerr
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
			out.Data.ProductAccess = append(out.Data.ProductAccess, productLastActive{s.resourceID(p.Key), p.Key, t.Format(time.DateOnly), t.Format(time.RFC3339)})
		}
	}
	if u.AddedToOrg != nil {
		out.Data.AddedToOrg = u.AddedToOrg.UTC().Format(time.DateOnly)
		out.Data.AddedToOrgTimestamp = u.AddedToOrg.UTC().Format(time.RFC3339)
	}
	return writeOrg(w, out)
}
