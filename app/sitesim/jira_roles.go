package sitesim

import (
	"net/http"
)

// GET /rest/api/3/applicationrole: every product of the site.
func (s *Server) getAllApplicationRoles(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	v := s.viewOf(r, c)
	s.site.mu.RLock()
	defer s.site.mu.RUnlock()
	out := make([]roleBean, 0, len(s.site.products))
	for _, p := range s.site.products {
		out = append(out, v.role(s.site, p))
	}
	return writeOK(w, out)
}

// GET /rest/api/3/applicationrole/{key}.
func (s *Server) getApplicationRole(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	v := s.viewOf(r, c)
	key := r.PathValue("key")
	s.site.mu.RLock()
	defer s.site.mu.RUnlock()
	p, ok := s.site.product(key)
	if !ok {
		return jiraError(http.StatusNotFound, "The application role with key '"+key+"' does not exist.")
	}
	return writeOK(w, v.role(s.site, p))
}
