package sitesim

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// routes registers every Jira operation the site implements. handle
// panics on a path the embedded OpenAPI lacks, so a typo here fails New's
// first caller (every test) instead of serving a path Jira does not have.
func (s *Server) routes() error {
	s.handle("GET", "/rest/api/3/applicationrole", s.getAllApplicationRoles)
	s.handle("GET", "/rest/api/3/applicationrole/{key}", s.getApplicationRole)

	s.handle("GET", "/rest/api/3/group/bulk", s.bulkGetGroups)
	s.handle("GET", "/rest/api/3/group/member", s.getUsersFromGroup)
	s.handle("POST", "/rest/api/3/group/user", s.addUserToGroup)
	s.handle("DELETE", "/rest/api/3/group/user", s.removeUserFromGroup)

	s.handle("GET", "/rest/api/3/users/search", s.getAllUsers)
	s.handle("GET", "/rest/api/3/user", s.getUser)
	s.handle("GET", "/rest/api/3/user/groups", s.getUserGroups)
	s.handle("GET", "/rest/api/3/user/search", s.findUsers)
	s.handle("GET", "/rest/api/3/myself", s.getCurrentUser)

	s.handle("GET", "/rest/api/3/instance/license", s.getLicense)
	s.handle("GET", "/rest/api/3/license/approximateLicenseCount", s.getApproximateLicenseCount)
	s.handle("GET", "/rest/api/3/license/approximateLicenseCount/product/{applicationKey}", s.getApproximateApplicationLicenseCount)

	s.handle("POST", "/rest/api/3/permissions/check", s.getBulkPermissions)
	return nil
}

// registeredOperations lists the OpenAPI operations ("METHOD /path") the
// mux actually serves, found by asking the mux rather than trusting a
// second list, so a test can compare it with the operations it covers.
func (s *Server) registeredOperations() []string {
	var out []string
	for key, op := range s.ops {
		path := op.Path
		for strings.Contains(path, "{") {
			i, j := strings.Index(path, "{"), strings.Index(path, "}")
			path = path[:i] + "x" + path[j+1:]
		}
		probe := &http.Request{Method: op.Method, URL: &url.URL{Path: path}, Host: "site.invalid", Header: http.Header{}}
		if _, pattern := s.mux.Handler(probe); pattern == key {
			out = append(out, key)
		}
	}
	slices.Sort(out)
	return out
}
