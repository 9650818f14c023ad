package sitesim

import (
	"net/http"
)

// The service accounts API (§7.8, experimental): the model's app accounts
// whose appType is service.

// serviceAccount is one item of GET …/service-accounts (§7.8).
type serviceAccount struct {
	AtlassianID string `json:"atlassianId"`
	ID          string `json:"id"`
	Email       string `json:"email"`
	DisplayName string `json:"displayName"`
	Picture     string `json:"picture"`
	Container   string `json:"container"`
	UpdatedAt   int64  `json:"updatedAt"`
	Status      string `json:"status"`
	CreatedByID string `json:"createdById"`
	Description string `json:"description"`
}

// GET /admin/api-access/v1/orgs/{orgId}/service-accounts: cursor and
// limit as query parameters; total counts every service account.
func (s *Server) orgServiceAccounts(w http.ResponseWriter, r *http.Request) *orgError {
	limit, oerr := queryLimit(r, 50, 100)
	if oerr != nil {
		return oerr
	}
	offset, oerr := decodeCursor(r.URL.Query().Get("cursor"))
	if oerr != nil {
		return oerr
	}
	s.site.mu.RLock()
	var all []serviceAccount
	for _, id := range s.site.order {
		u := s.site.users[id]
		if u.AccountType != AccountApp || u.AppType != "service" {
			continue
		}
		sa := serviceAccount{AtlassianID: u.AccountID, ID: serviceAccountIDPrefix + u.AccountID, Email: u.Email,
			DisplayName: u.DisplayName, Picture: absBase(r) + "/secure/useravatar?ownerId=" + u.AccountID,
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
	lo, hi, links := page(len(all), offset, limit)
	var out struct {
		Links struct {
			Next *string `json:"next"`
			Prev *string `json:"prev"`
		} `json:"links"`
		Items []serviceAccount `json:"items"`
		Total int              `json:"total"`
	}
	out.Links.Next, out.Links.Prev = links.Next, links.Prev
	out.Items = append([]serviceAccount{}, all[lo:hi]...)
	out.Total = len(all)
	return writeOrg(w, out)
}
