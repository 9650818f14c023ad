package sitesim

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// The Organizations (Admin) API mount: api.atlassian.com's /admin paths
// (billing-model.md §7), served by the same Server over the same Site, so
// a membership changed through product REST is what the Org API reports
// and the other way round. It has its own mux because its auth (an org
// API key as bearer), error envelope and pagination differ from Jira's.

// Defaults of the organisation the sim serves (Options.OrgID/OrgKey).
const (
	DefaultOrgID       = "5ea71e55-0000-4000-8000-000000000046"
	DefaultOrgKey      = "sim-org-api-key-0123456789abcdef"
	DefaultDirectoryID = "5ea71e55-0000-4000-8000-0000000d1r00"
	// CredOrg names the org API key in Request.Credential.
	CredOrg = "orgkey"
)

// OrgBasePath is the path of the Organizations API mount (append to the
// server's URL); it holds /admin/v1, /admin/v2 and /admin/api-access.
func (s *Server) OrgBasePath() string { return "/admin" }

// OrgID is the organisation the mount serves.
func (s *Server) OrgID() string { return s.opts.OrgID }

// orgHandler serves one Org API operation once the key is checked.
type orgHandler func(w http.ResponseWriter, r *http.Request) *orgError

func (s *Server) orgRoutes() {
	s.org = http.NewServeMux()
	v1, v2 := "/admin/v1/orgs", "/admin/v2/orgs/{orgId}"
	dir := v2 + "/directories/{directoryId}"
	s.orgHandle("GET "+v1, s.orgList)
	s.orgHandle("GET "+v1+"/{orgId}", s.orgGet)
	s.orgHandle("GET "+v1+"/{orgId}/directory/users/{accountId}/last-active-dates", s.orgLastActive)
	s.orgHandle("GET "+v1+"/{orgId}/events-stream", s.orgEventsStream)
	s.orgHandle("POST "+v2+"/workspaces", s.orgWorkspaces)
	s.orgHandle("GET "+v2+"/directories", s.orgDirectories)
	s.orgHandle("POST "+dir+"/users/search", s.orgUsersSearch)
	s.orgHandle("GET "+dir+"/users/{accountId}", s.orgUserGet)
	s.orgHandle("GET "+dir+"/users/{accountId}/role-assignments", s.orgUserRoles)
	s.orgHandle("POST "+dir+"/groups/search", s.orgGroupsSearch)
	s.orgHandle("GET "+dir+"/groups/{groupId}", s.orgGroupGet)
	s.orgHandle("GET "+dir+"/groups/{groupId}/role-assignments", s.orgGroupRoles)
	s.orgHandle("POST "+dir+"/groups/{groupId}/memberships", s.orgAddMember)
	s.orgHandle("DELETE "+dir+"/groups/{groupId}/memberships/{accountId}", s.orgRemoveMember)
	s.orgHandle("GET /admin/api-access/v1/orgs/{orgId}/service-accounts", s.orgServiceAccounts)
}

// orgHandle registers h behind the org key check, the orgId check and,
// where the path has one, the directoryId check.
func (s *Server) orgHandle(pattern string, h orgHandler) {
	s.org.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		oerr := s.orgAuth(r)
		if oerr == nil && r.PathValue("orgId") != "" && r.PathValue("orgId") != s.opts.OrgID {
			oerr = errOrgNotFound(r.PathValue("orgId"))
		}
		if d := r.PathValue("directoryId"); oerr == nil && d != "" && d != "-" && d != DefaultDirectoryID {
			oerr = errDirectoryNotFound(d)
		}
		if oerr == nil {
			oerr = h(w, r)
		}
		if oerr != nil {
			writeJSON(w, oerr.Status, oerr.body())
		}
	})
}

// serveOrg routes a request of the Org API mount; a path it lacks is a
// 404 in the Org API's error envelope, not Jira's.
func (s *Server) serveOrg(w http.ResponseWriter, r *http.Request) {
	_, pattern := s.org.Handler(r)
	// Counters name an Org API call by its route ("POST /admin/v2/…").
	meterOf(r.Context()).op = pattern
	if pattern == "" {
		e := newOrgError(http.StatusNotFound, orgCodeNoResource, "Not Found", "No resource at "+r.URL.Path)
		writeJSON(w, e.Status, e.body())
		return
	}
	// The latency fault holds for api.atlassian.com as for the site: a
	// scan's wall time is measured against one latency for every call.
	s.faults.delay(r.Context())
	s.org.ServeHTTP(w, r)
}

// orgAuth checks "Authorization: Bearer <org API key>" (§7.1).
func (s *Server) orgAuth(r *http.Request) *orgError {
	scheme, key, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(key)), []byte(s.opts.OrgKey)) != 1 {
		return errOrgUnauthorized()
	}
	return nil
}

func credentialOfOrg(r *http.Request) string {
	if r.Header.Get("Authorization") == "" {
		return CredNone
	}
	return CredOrg
}

// orgError is the Org API's error answer: an errors list of objects with
// id, status, code, title, detail (§7.1).
type orgError struct {
	Status int
	Code   string
	Title  string
	Detail string
}

type orgErrorItem struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Code   string `json:"code"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

func newOrgError(status int, code, title, detail string) *orgError {
	return &orgError{Status: status, Code: code, Title: title, Detail: detail}
}

func (e *orgError) body() any {
	return struct {
		Errors []orgErrorItem `json:"errors"`
	}{[]orgErrorItem{{ID: orgErrorID(e), Status: strconv.Itoa(e.Status), Code: e.Code, Title: e.Title, Detail: e.Detail}}}
}

// orgErrorID is a stable id per code and detail, so answers are
// reproducible (Atlassian's ids are per occurrence; nothing depends on it).
func orgErrorID(e *orgError) string {
	h := uint32(2166136261)
	for _, c := range []byte(e.Code + "\x00" + e.Detail) {
		h = (h ^ uint32(c)) * 16777619
	}
	return fmt.Sprintf("err-%08x", h)
}

// Documented codes (§7.1, applicationError.ts).
const (
	orgCodeInvalidCursor = "ADMIN-400-1"
	orgCodeGroupManage   = "ADMIN-403-5"
	orgCodeUserNotFound  = "ADMIN-404-8"
	orgCodeGroupNotFound = "ADMIN-404-10"
	orgCodeLicenceLimit  = "ADMIN-409-3"
)

func errInvalidCursor(c string) *orgError {
	return newOrgError(http.StatusBadRequest, orgCodeInvalidCursor, "Bad Request", "Invalid cursor: "+c)
}

func errOrgUserNotFound(accountID string) *orgError {
	return newOrgError(http.StatusNotFound, orgCodeUserNotFound, "Not Found", "User "+accountID+" was not found in the directory.")
}

func errOrgGroupNotFound(groupID string) *orgError {
	return newOrgError(http.StatusNotFound, orgCodeGroupNotFound, "Not Found", "Group "+groupID+" was not found.")
}

// errGroupNotManageable: a synced group's membership belongs to the
// identity provider ("can't add to synced groups", §7.5).
func errGroupNotManageable(name string) *orgError {
	return newOrgError(http.StatusForbidden, orgCodeGroupManage, "Forbidden", "You can't add or remove members of the group "+name+"; it is synced from an identity provider.")
}

func errLicenceLimit(product string) *orgError {
	return newOrgError(http.StatusConflict, orgCodeLicenceLimit, "Conflict", "Adding the user would exceed the user limit of "+product+".")
}

// --- cursor pagination -------------------------------------------------

// Cursors are opaque tokens (§7.5 linkPageCursor); the sim encodes an
// offset into the filtered, ordered result. A token it did not issue is
// ADMIN-400-1.
func encodeCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(offset)))
}

func decodeCursor(c string) (int, *orgError) {
	if c == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(raw), "o:") {
		return 0, errInvalidCursor(c)
	}
	n, err := strconv.Atoi(string(raw[2:]))
	if err != nil || n < 0 {
		return 0, errInvalidCursor(c)
	}
	return n, nil
}

// cursorLinks is links.{self,prev,next} of a v2 page: cursor tokens,
// null where there is no such page.
type cursorLinks struct {
	Self string  `json:"self"`
	Prev *string `json:"prev"`
	Next *string `json:"next"`
}

// page cuts [offset, offset+limit) out of n items and links the
// neighbouring pages.
func page(n, offset, limit int) (lo, hi int, l cursorLinks) {
	lo = min(offset, n)
	hi = min(lo+limit, n)
	l.Self = encodeCursor(lo)
	if lo > 0 {
		p := encodeCursor(max(lo-limit, 0))
		l.Prev = &p
	}
	if hi < n {
		nx := encodeCursor(hi)
		l.Next = &nx
	}
	return lo, hi, l
}

// limitOf applies a default and a maximum to a requested page size; 0 or
// absent is the default, outside 1..max is a 400.
func limitOf(v, def, maxLimit int) (int, *orgError) {
	switch {
	case v == 0:
		return def, nil
	case v < 0 || v > maxLimit:
		return 0, newOrgError(http.StatusBadRequest, orgCodeBadRequest, "Bad Request", fmt.Sprintf("limit must be between 1 and %d", maxLimit))
	}
	return v, nil
}

func queryLimit(r *http.Request, def, maxLimit int) (int, *orgError) {
	q := r.URL.Query().Get("limit")
	if q == "" {
		return def, nil
	}
	n, err := strconv.Atoi(q)
	if err != nil {
		return 0, newOrgError(http.StatusBadRequest, orgCodeBadRequest, "Bad Request", "limit must be a number")
	}
	return limitOf(n, def, maxLimit)
}

// decodeOrgBody reads a JSON request body; an empty body is the zero
// request.
func decodeOrgBody(r *http.Request, v any) *orgError {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil && len(strings.TrimSpace(string(b))) > 0 {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		return newOrgError(http.StatusBadRequest, orgCodeBadRequest, "Bad Request", "Invalid request body: "+err.Error())
	}
	return nil
}

// listParam reads a list query parameter given repeated or
// comma-separated.
func listParam(r *http.Request, name string) []string {
	var out []string
	for _, v := range r.URL.Query()[name] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func writeOrg(w http.ResponseWriter, v any) *orgError {
	writeJSON(w, http.StatusOK, v)
	return nil
}

// --- orgs, workspaces, directories ------------------------------------

// orgResource is an organisation as GET /admin/v1/orgs lists it (§7.2).
type orgResource struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Attributes struct {
		Name string `json:"name"`
	} `json:"attributes"`
	Relationships struct {
		Domains relatedLink `json:"domains"`
		Users   relatedLink `json:"users"`
	} `json:"relationships"`
	Links struct {
		Self string `json:"self"`
	} `json:"links"`
}

type relatedLink struct {
	Links struct {
		Related string `json:"related"`
	} `json:"links"`
}

func (s *Server) orgResource(r *http.Request) orgResource {
	base := absBase(r) + "/admin/v1/orgs/" + s.opts.OrgID
	var o orgResource
	o.ID, o.Type = s.opts.OrgID, "orgs"
	o.Attributes.Name = OrgName
	o.Relationships.Domains.Links.Related = base + "/domains"
	o.Relationships.Users.Links.Related = base + "/users"
	o.Links.Self = base
	return o
}

// absBase is the scheme and host the request came to, for v1's full-URL
// links.
func absBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// GET /admin/v1/orgs: the one organisation the key belongs to.
func (s *Server) orgList(w http.ResponseWriter, r *http.Request) *orgError {
	self := absBase(r) + "/admin/v1/orgs"
	return writeOrg(w, struct {
		Data  []orgResource `json:"data"`
		Links cursorLinks   `json:"links"`
	}{[]orgResource{s.orgResource(r)}, cursorLinks{Self: self}})
}

// GET /admin/v1/orgs/{orgId}.
func (s *Server) orgGet(w http.ResponseWriter, r *http.Request) *orgError {
	return writeOrg(w, struct {
		Data orgResource `json:"data"`
	}{s.orgResource(r)})
}

// resourceID is a product's ARI, the resourceId of role assignments.
func (s *Server) resourceID(product string) string {
	return "ari:cloud:" + product + "::site/" + s.opts.CloudID
}

// workspace is one site product of POST /workspaces (§7.5).
type workspace struct {
	ID         string `json:"id"`
	Attributes struct {
		Name      string `json:"name"`
		TypeKey   string `json:"typeKey"`
		Type      string `json:"type"`
		Status    string `json:"status"`
		HostURL   string `json:"hostUrl"`
		Sandbox   bool   `json:"sandbox"`
		Capacity  *int   `json:"capacity"`
		CreatedAt string `json:"createdAt"`
	} `json:"attributes"`
}

// POST /admin/v2/orgs/{orgId}/workspaces: every product of the site, with
// its licence limit as capacity.
func (s *Server) orgWorkspaces(w http.ResponseWriter, r *http.Request) *orgError {
	var req struct {
		Limit  int    `json:"limit"`
		Cursor string `json:"cursor"`
	}
	if oerr := decodeOrgBody(r, &req); oerr != nil {
		return oerr
	}
	limit, oerr := limitOf(req.Limit, 20, 100)
	if oerr != nil {
		return oerr
	}
	offset, oerr := decodeCursor(req.Cursor)
	if oerr != nil {
		return oerr
	}
	s.site.mu.RLock()
	all := s.site.all
	s.site.mu.RUnlock()
	lo, hi, links := page(len(all), offset, limit)
	out := make([]workspace, 0, hi-lo)
	for _, p := range all[lo:hi] {
		var ws workspace
		ws.ID = s.resourceID(p.Key)
		ws.Attributes.Name, ws.Attributes.TypeKey, ws.Attributes.Type = p.Name, p.Key, p.Key
		ws.Attributes.Status, ws.Attributes.HostURL = "online", absBase(r)
		ws.Attributes.CreatedAt = workspaceCreatedAt
		if !p.Unlimited {
			seats := p.Seats
			ws.Attributes.Capacity = &seats
		}
		out = append(out, ws)
	}
	return writeOrg(w, struct {
		Data  []workspace `json:"data"`
		Links cursorLinks `json:"links"`
	}{out, links})
}

// directory is one entry of GET /directories.
type directory struct {
	DirectoryID string `json:"directoryId"`
	Name        string `json:"name"`
}

// GET /admin/v2/orgs/{orgId}/directories: the one directory of the sim.
func (s *Server) orgDirectories(w http.ResponseWriter, r *http.Request) *orgError {
	if _, oerr := decodeCursor(r.URL.Query().Get("cursor")); oerr != nil {
		return oerr
	}
	return writeOrg(w, struct {
		Data  []directory `json:"data"`
		Links cursorLinks `json:"links"`
	}{[]directory{{DirectoryID: DefaultDirectoryID, Name: OrgName}}, cursorLinks{Self: encodeCursor(0)}})
}
