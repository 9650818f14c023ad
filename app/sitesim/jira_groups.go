package sitesim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

// Group access types of group/bulk ("Valid values: 'site-admin', 'admin',
// 'user'").
const (
	AccessSiteAdmin = "site-admin"
	AccessAdmin     = RoleAdmin
	AccessUser      = RoleUser
)

// jiraApplicationKeys are the application keys Jira's OpenAPI accepts
// (group/bulk applicationKey, approximateLicenseCount/product). A valid key
// of a product the site lacks matches nothing rather than failing.
func jiraApplicationKeys() []string {
	return []string{JiraServiceDesk, JiraSoftware, JiraProductDisco, JiraCore}
}

// GET /rest/api/3/group/bulk.
func (s *Server) bulkGetGroups(w http.ResponseWriter, r *http.Request, _ caller) *apiError {
	q := r.URL.Query()
	startAt, maxResults, aerr := paging(q, 50, 0)
	if aerr != nil {
		return aerr
	}
	access, app := q.Get("accessType"), q.Get("applicationKey")
	if access != "" && access != AccessSiteAdmin && access != AccessAdmin && access != AccessUser {
		return errBadParam("accessType", access)
	}
	if app != "" && !slices.Contains(jiraApplicationKeys(), app) {
		return errBadParam("applicationKey", app)
	}
	ids, names := q["groupId"], q["groupName"]
	s.site.mu.RLock()
	defer s.site.mu.RUnlock()
	match := []groupDetails{}
	for _, g := range s.site.groupsByName() {
		if (len(ids) > 0 || len(names) > 0) && !slices.Contains(ids, g.ID) && !slices.Contains(names, g.Name) {
			continue
		}
		if hasAccess(g, access, app) {
			match = append(match, groupDetails{GroupID: g.ID, Name: g.Name})
		}
	}
	lo, hi := window(len(match), startAt, maxResults)
	return writeOK(w, pageBean[groupDetails]{MaxResults: maxResults, StartAt: startAt, Total: len(match),
		IsLast: hi >= len(match), Values: match[lo:hi]})
}

// GET /rest/api/3/group/member.
func (s *Server) getUsersFromGroup(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	q := r.URL.Query()
	startAt, maxResults, aerr := paging(q, memberPageMax, memberPageMax)
	if aerr != nil {
		return aerr
	}
	inactive := false
	if raw := q.Get("includeInactiveUsers"); raw != "" {
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return errBadParam("includeInactiveUsers", raw)
		}
		inactive = b
	}
	v := s.viewOf(r, c)
	s.site.mu.RLock()
	defer s.site.mu.RUnlock()
	g, aerr := s.site.groupParam(q)
	if aerr != nil {
		return aerr
	}
	ids := s.site.membersOf(g.ID, inactive)
	lo, hi := window(len(ids), startAt, maxResults)
	page := pageBean[userDetails]{
		Self:       memberPageURL(v, g, inactive, startAt, maxResults),
		MaxResults: maxResults, StartAt: startAt, Total: len(ids), IsLast: hi >= len(ids),
		Values: make([]userDetails, 0, hi-lo),
	}
	for _, id := range ids[lo:hi] {
		page.Values = append(page.Values, v.userDetails(s.site.users[id]))
	}
	if !page.IsLast {
		page.NextPage = memberPageURL(v, g, inactive, startAt+maxResults, maxResults)
	}
	return writeOK(w, page)
}

// memberPageURL is the self/nextPage link of a group/member page, in the
// parameter order of Jira's example.
func memberPageURL(v view, g *Group, inactive bool, startAt, maxResults int) string {
	return v.base + "/rest/api/3/group/member?groupId=" + url.QueryEscape(g.ID) +
		"&includeInactiveUsers=" + strconv.FormatBool(inactive) +
		"&startAt=" + strconv.Itoa(startAt) + "&maxResults=" + strconv.Itoa(maxResults)
}

// mayChangeMembership applies the operations' "Site administration"
// requirement to the caller. The API token is a site admin; a Connect JWT
// never gets here (INACCESSIBLE); the Forge app's account is mode (c)/(d).
func (s *Server) mayChangeMembership(c caller) *apiError {
	if c.Kind == CredForge && s.opts.Modes.AppMembershipRefused {
		return errNotSiteAdmin()
	}
	return nil
}

// POST /rest/api/3/group/user.
func (s *Server) addUserToGroup(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	if aerr := s.mayChangeMembership(c); aerr != nil {
		return aerr
	}
	if s.faults.failMembershipCall() {
		return jiraError(http.StatusInternalServerError, "Internal server error (injected: Faults.FailMembershipCalls).")
	}
	var body struct {
		AccountID string `json:"accountId"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
		return errBadBody(err)
	}
	v := s.viewOf(r, c)
	s.site.mu.Lock()
	defer s.site.mu.Unlock()
	g, aerr := s.site.groupParam(r.URL.Query())
	if aerr != nil {
		return aerr
	}
	if body.AccountID == "" {
		return errMissingAccountID()
	}
	if aerr := s.site.addMember(g, body.AccountID); aerr != nil {
		return aerr
	}
	writeJSON(w, http.StatusCreated, v.group(s.site, g))
	return nil
}

// DELETE /rest/api/3/group/user: 200 with an empty body, as documented.
func (s *Server) removeUserFromGroup(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	if aerr := s.mayChangeMembership(c); aerr != nil {
		return aerr
	}
	if s.faults.failMembershipCall() {
		return jiraError(http.StatusInternalServerError, "Internal server error (injected: Faults.FailMembershipCalls).")
	}
	q := r.URL.Query()
	s.site.mu.Lock()
	defer s.site.mu.Unlock()
	g, aerr := s.site.groupParam(q)
	if aerr != nil {
		return aerr
	}
	if q.Get("accountId") == "" {
		return errMissingAccountID()
	}
	if aerr := s.site.removeMember(g, q.Get("accountId"), s.opts.Modes.SyncedRemoval); aerr != nil {
		return aerr
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
