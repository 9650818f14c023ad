package sitesim

import (
	"net/http"
	"strconv"
	"time"
)

// The service accounts API (orgapi-documented.md §9, experimental;
// https://developer.atlassian.com/cloud/admin/api-access/rest/api-group-service-account/):
// the model's app accounts whose appType is service.

// serviceAccount is one item of GET …/service-accounts.
type serviceAccount struct {
	AtlassianID string `json:"atlassianId"`
	ID          string `json:"id"`
	Email       string `json:"email"`
	DisplayName string `json:"displayName"`
	Picture     string `json:"picture"`
	Container   string `json:"container"`
	UpdatedAt   int64  `json:"updatedAt"` // epoch milliseconds
	Status      string `json:"status"`
	CreatedByID string `json:"createdById"`
	Description string `json:"description"`
}

// GET /admin/api-access/v1/orgs/{orgId}/service-accounts. Atlassian
// documents no query parameter: the first page takes none (any sent are
// ignored), pages hold serviceAccountsPage items, and links.next is a URL
// carrying the sim's cursor, the only parameter the sim reads
// (unconfirmed.go). total counts every service account. The documented
// X-RateLimit-* headers come with every answer.
func (s *Server) orgServiceAccounts(w http.ResponseWriter, r *http.Request) *orgError {
	walk := newWalk(cursorService, serviceAccountsPage, nil)
	if c := r.URL.Query().Get("cursor"); c != "" {
		var oerr *orgError
		if walk, oerr = decodeWalk(cursorService, c); oerr != nil {
			return oerr
		}
	}
	s.site.mu.RLock()
	var all []serviceAccount
	for _, id := range s.site.order {
		u := s.site.users[id]
		if u.AccountType != AccountApp || u.AppType != "service" {
			continue
		}
		sa := serviceAccount{AtlassianID: u.AccountID, ID: serviceAccountIDPrefix + u.AccountID, Email: u.Email,
			DisplayName: u.DisplayName, Picture: avatarURL(r, u.AccountID, 48),
			Container: "ari:cloud:platform::org/" + s.opts.OrgID, Status: "ACTIVE", CreatedByID: s.site.admin}
		if !u.Active {
			sa.Status = "INACTIVE"
		}
		if u.AddedToOrg != nil {
			sa.UpdatedAt = u.AddedToOrg.UnixMilli()
		}
		all = append(all, sa)
	}
	s.site.mu.RUnlock()
	lo := min(walk.Offset, len(all))
	hi := min(lo+walk.Limit, len(all))
	_, prev, next := walk.tokens(lo, hi, hi < len(all))
	base := orgURL(r, "/admin/api-access/v1/orgs/"+s.opts.OrgID+"/service-accounts")
	var out struct {
		Links struct {
			Next string `json:"next,omitempty"`
			Prev string `json:"prev,omitempty"`
		} `json:"links"`
		Items []serviceAccount `json:"items"`
		Total int              `json:"total"`
	}
	out.Links.Next, out.Links.Prev = withCursor(base, next), withCursor(base, prev)
	out.Items = append([]serviceAccount{}, all[lo:hi]...)
	out.Total = len(all)
	s.serviceAccountRateHeaders(w)
	return writeOrg(w, out)
}

// serviceAccountRateHeaders sets the documented X-RateLimit-Limit,
// X-RateLimit-Remaining (integers) and X-RateLimit-Reset (a string; RFC
// 3339 chosen). The Org mount does not rate-limit, so Remaining is always
// the whole Limit and Reset the next full minute (unconfirmed.go).
func (s *Server) serviceAccountRateHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(serviceAccountsRateLimit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(serviceAccountsRateLimit))
	h.Set("X-RateLimit-Reset", s.now().UTC().Truncate(time.Minute).Add(time.Minute).Format(time.RFC3339))
}
