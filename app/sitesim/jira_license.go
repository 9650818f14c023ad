package sitesim

import (
	"net/http"
	"slices"
	"strconv"
)

type licensedApplication struct {
	ID   string `json:"id"`
	Plan string `json:"plan"`
}

type licenseMetric struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// GET /rest/api/3/instance/license: each product and its plan, by id as
// in Jira's example.
func (s *Server) getLicense(w http.ResponseWriter, _ *http.Request, _ caller) *apiError {
	s.site.mu.RLock()
	defer s.site.mu.RUnlock()
	apps := make([]licensedApplication, 0, len(s.site.products))
	for _, p := range s.site.products {
		plan := p.Plan
		if plan == "" {
			plan = "UNLICENSED" // a product listed without a plan has no licence
		}
		apps = append(apps, licensedApplication{ID: p.Key, Plan: plan})
	}
	slices.SortFunc(apps, func(a, b licensedApplication) int { return compareStrings(a.ID, b.ID) })
	return writeOK(w, struct {
		Applications []licensedApplication `json:"applications"`
	}{apps})
}

// GET /rest/api/3/license/approximateLicenseCount: distinct users holding
// any product. The site's count is exact; Jira's is a 7-day cache, which
// a simulation that must reflect its own mutations does not imitate.
func (s *Server) getApproximateLicenseCount(w http.ResponseWriter, _ *http.Request, _ caller) *apiError {
	s.site.mu.RLock()
	defer s.site.mu.RUnlock()
	n := 0
	for _, id := range s.site.order {
		u := s.site.users[id]
		if u.Active && u.AccountType == AccountAtlassian && len(s.site.productsOf(id)) > 0 {
			n++
		}
	}
	return writeOK(w, licenseMetric{Key: "license.totalApproximateUserCount", Value: strconv.Itoa(n)})
}

// GET /rest/api/3/license/approximateLicenseCount/product/{applicationKey}.
func (s *Server) getApproximateApplicationLicenseCount(w http.ResponseWriter, r *http.Request, _ caller) *apiError {
	key := r.PathValue("applicationKey")
	if !slices.Contains(jiraApplicationKeys(), key) {
		return errUnknownApplicationKey(key)
	}
	s.site.mu.RLock()
	defer s.site.mu.RUnlock()
	n := 0
	if _, ok := s.site.product(key); ok {
		n = s.site.userCount(key)
	}
	return writeOK(w, licenseMetric{Key: "license." + key + ".approximateUserCount", Value: strconv.Itoa(n)})
}
