package sitesim

import (
	"net/http"
	"strings"
)

// GET /rest/api/3/users/search: every account (active, inactive, app and
// customer) as a bare array without a total (billing-model.md §5.1).
func (s *Server) getAllUsers(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	startAt, maxResults, aerr := paging(r.URL.Query(), 50, usersPageMax)
	if aerr != nil {
		return aerr
	}
	v := s.viewOf(r, c)
	s.site.mu.RLock()
	defer s.site.mu.RUnlock()
	lo, hi := window(len(s.site.order), startAt, maxResults)
	out := make([]userBean, 0, hi-lo)
	for _, id := range s.site.order[lo:hi] {
		out = append(out, v.user(s.site.users[id]))
	}
	return writeOK(w, out)
}

// GET /rest/api/3/user?accountId=…&expand=groups,applicationRoles.
func (s *Server) getUser(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	q := r.URL.Query()
	id := q.Get("accountId")
	if id == "" {
		return errMissingAccountID()
	}
	v := s.viewOf(r, c)
	s.site.mu.RLock()
	defer s.site.mu.RUnlock()
	u := s.site.users[id]
	if u == nil {
		return errUserNotFound(id)
	}
	return writeOK(w, v.userExpanded(s.site, u, q.Get("expand")))
}

// GET /rest/api/3/user/groups?accountId=…: the user's groups by name.
func (s *Server) getUserGroups(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	id := r.URL.Query().Get("accountId")
	if id == "" {
		return errMissingAccountID()
	}
	v := s.viewOf(r, c)
	s.site.mu.RLock()
	defer s.site.mu.RUnlock()
	if s.site.users[id] == nil {
		return errUserNotFound(id)
	}
	out := []groupName{}
	for _, g := range s.site.groupsOf(id) {
		out = append(out, v.groupName(g))
	}
	return writeOK(w, out)
}

// GET /rest/api/3/user/search: active users matching query (display name
// or visible e-mail, case-insensitive substring) or accountId, cut at the
// 1000th match before paging, as the OpenAPI describes.
func (s *Server) findUsers(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	q := r.URL.Query()
	query, id, property := q.Get("query"), q.Get("accountId"), q.Get("property")
	switch {
	case query == "" && id == "" && property == "":
		return jiraError(http.StatusBadRequest, "One of 'query', 'accountId' or 'property' must be provided.")
	case query != "" && id != "":
		return jiraError(http.StatusBadRequest, "Only one of 'query' and 'accountId' may be provided.")
	case property != "" && !strings.Contains(property, "="):
		return errBadParam("property", property)
	}
	startAt, maxResults, aerr := paging(q, 50, 0)
	if aerr != nil {
		return aerr
	}
	v := s.viewOf(r, c)
	needle := strings.ToLower(query)
	s.site.mu.RLock()
	defer s.site.mu.RUnlock()
	var match []string
	for _, uid := range s.site.order {
		u := s.site.users[uid]
		switch {
		case !u.Active, property != "": // the site stores no user properties: none match
			continue
		case id != "" && uid != id:
			continue
		case query != "" && !strings.Contains(strings.ToLower(u.DisplayName), needle) &&
			!(v.showEmail && u.Email != "" && strings.Contains(strings.ToLower(u.Email), needle)):
			continue
		}
		if match = append(match, uid); len(match) == userSearchMax {
			break
		}
	}
	lo, hi := window(len(match), startAt, maxResults)
	out := make([]userBean, 0, hi-lo)
	for _, uid := range match[lo:hi] {
		out = append(out, v.user(s.site.users[uid]))
	}
	return writeOK(w, out)
}

// GET /rest/api/3/myself: the account the credential acts as — the admin
// for the API token, the app's own account for Connect and Forge.
func (s *Server) getCurrentUser(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	v := s.viewOf(r, c)
	s.site.mu.RLock()
	defer s.site.mu.RUnlock()
	if u := s.site.users[c.AccountID]; u != nil {
		return writeOK(w, v.userExpanded(s.site, u, r.URL.Query().Get("expand")))
	}
	// An app whose account the site was never told: Jira always knows the
	// app user, so answer the minimal bean of one rather than an error.
	return writeOK(w, v.user(&User{AccountID: c.AccountID, AccountType: AccountApp, Active: true, DisplayName: appName(c)}))
}

// appName is the display name Jira gives an app's account: the app's name,
// here its key (the site knows no other).
func appName(c caller) string {
	switch {
	case c.App != nil:
		return c.App.Key
	case c.Token != nil:
		return c.Token.AppKey
	}
	return "app"
}
