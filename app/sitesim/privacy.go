package sitesim

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// The personal data reporting API (gaps-2026-11.md §1;
// https://developer.atlassian.com/cloud/jira/platform/user-privacy-developer-guide/):
// an app reports the account IDs it stores with the time it retrieved
// their data, at most 90 a request, and hears which accounts were closed
// (erase them) or updated (fetch them again).
//
//	POST /app/report-accounts/   {"accounts": [{accountId, updatedAt}]}
//	  200 {"accounts": [{accountId, status: closed|updated}]}, only those needing action
//	  204 none needs action
//	  400 {"errorType", "errorMessage"}
//	  429 with Retry-After (seconds)
//	  every answer but 400 carries Cycle-Period
//
// Served on the site for a Connect JWT (qsh over POST /app/report-accounts/)
// and on the api mount for a Forge app token. Which credential Atlassian
// takes from a remote, the Cycle-Period's format and the rate limit are
// not documented: the choices are in unconfirmed.go.
//
// The admin API closes an account (POST /sim/admin/users/{id}/close: the
// account is gone from the site and reported closed) and updates one
// (PUT /sim/admin/users/{id} {displayName}: reported updated to a report
// whose updatedAt is older).
const reportAccountsPath = "/app/report-accounts/"

// reportMax is the documented batch limit.
const reportMax = 90

var reportAccountID = regexp.MustCompile(`^[A-Za-z0-9:-]{1,128}$`)

// privacyState is what the reporting API knows.
type privacyState struct {
	mu      sync.Mutex
	closed  map[string]bool
	updated map[string]time.Time // profile changed at
	calls   []time.Time          // for the rate limit, the last second
	reports int                  // requests answered (any status)
	batches []int                // accounts per accepted request
}

// ReportAccounts counts the reporting requests answered and the accounts
// of each accepted one.
func (s *Server) ReportAccounts() (requests int, batches []int) {
	p := &s.privacy
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reports, append([]int(nil), p.batches...)
}

// servePrivacy answers the reporting API; it reports whether path was it.
func (s *Server) servePrivacy(w http.ResponseWriter, r *http.Request) bool {
	apiMount := r.URL.Path == s.APIBasePath()+reportAccountsPath || r.URL.Path == "/ex/app"+reportAccountsPath
	if r.URL.Path != s.opts.ContextPath+reportAccountsPath && !apiMount {
		return false
	}
	type apiErr struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	p := &s.privacy
	p.mu.Lock()
	p.reports++
	p.mu.Unlock()
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, apiErr{"METHOD_NOT_ALLOWED", "POST only"})
		return true
	}
	op := operation{Method: http.MethodPost, Path: reportAccountsPath, ID: "reportAccounts", ConnectScope: "READ"}
	if _, aerr := s.authenticate(r, op, apiMount); aerr != nil {
		w.WriteHeader(http.StatusUnauthorized)
		return true
	}
	now := s.now()
	w.Header().Set("Cycle-Period", strconv.Itoa(int(reportCyclePeriod/time.Second)))
	p.mu.Lock()
	recent := p.calls[:0]
	for _, t := range p.calls {
		if now.Sub(t) < time.Second {
			recent = append(recent, t)
		}
	}
	p.calls = recent
	limited := len(p.calls) >= reportRatePerSecond
	if !limited {
		p.calls = append(p.calls, now)
	}
	p.mu.Unlock()
	if limited {
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	}
	var in struct {
		Accounts []struct {
			AccountID string `json:"accountId"`
			UpdatedAt string `json:"updatedAt"`
		} `json:"accounts"`
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(body, &in); err != nil || in.Accounts == nil {
		writeJSON(w, http.StatusBadRequest, apiErr{"INVALID_REQUEST", "body must be {\"accounts\": [...]}"})
		return true
	}
	if len(in.Accounts) == 0 || len(in.Accounts) > reportMax {
		writeJSON(w, http.StatusBadRequest, apiErr{"INVALID_REQUEST", "1 to 90 accounts a request"})
		return true
	}
	type out struct {
		AccountID string `json:"accountId"`
		Status    string `json:"status"`
	}
	var act []out
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, a := range in.Accounts {
		at, err := time.Parse(time.RFC3339Nano, a.UpdatedAt)
		if !reportAccountID.MatchString(a.AccountID) || a.AccountID == "unknown" || err != nil {
			writeJSON(w, http.StatusBadRequest, apiErr{"INVALID_REQUEST", "accountId must be 1-128 of [A-Za-z0-9:-] and updatedAt RFC 3339"})
			return true
		}
		switch {
		case p.closed[a.AccountID]:
			act = append(act, out{a.AccountID, "closed"})
		case !p.updated[a.AccountID].IsZero() && p.updated[a.AccountID].After(at):
			act = append(act, out{a.AccountID, "updated"})
		}
	}
	p.batches = append(p.batches, len(in.Accounts))
	if len(act) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	writeJSON(w, http.StatusOK, map[string]any{"accounts": act})
	return true
}

// adminCloseUser closes an account: it leaves every group and the site,
// and the reporting API answers closed for it.
func (s *Server) adminCloseUser(w http.ResponseWriter, accountID string) *adminError {
	site := s.site
	site.mu.Lock()
	u := site.users[accountID]
	if u == nil {
		site.mu.Unlock()
		return adminErr(http.StatusNotFound, "no account "+accountID)
	}
	for _, g := range site.groupsOf(accountID) {
		_ = site.removeMemberAs(g, accountID, SyncedRemovalUndone, "")
	}
	delete(site.users, accountID)
	for i, id := range site.order {
		if id == accountID {
			site.order = append(site.order[:i], site.order[i+1:]...)
			break
		}
	}
	site.reindex()
	site.emitUserEvent(webhookUserDeleted, accountID)
	site.mu.Unlock()
	s.privacy.mu.Lock()
	if s.privacy.closed == nil {
		s.privacy.closed = map[string]bool{}
	}
	s.privacy.closed[accountID] = true
	s.privacy.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// adminUpdateUser changes an account's display name; reports of it with
// an older updatedAt answer updated.
func (s *Server) adminUpdateUser(w http.ResponseWriter, r *http.Request, accountID string) *adminError {
	var in struct {
		DisplayName string `json:"displayName"`
	}
	if err := decodeAdmin(r, &in); err != nil {
		return err
	}
	site := s.site
	site.mu.Lock()
	u := site.users[accountID]
	if u == nil {
		site.mu.Unlock()
		return adminErr(http.StatusNotFound, "no account "+accountID)
	}
	if in.DisplayName != "" {
		u.DisplayName = in.DisplayName
	}
	site.emitUserEvent(webhookUserUpdated, accountID)
	site.mu.Unlock()
	s.privacy.mu.Lock()
	if s.privacy.updated == nil {
		s.privacy.updated = map[string]time.Time{}
	}
	s.privacy.updated[accountID] = s.now()
	s.privacy.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
	return nil
}
