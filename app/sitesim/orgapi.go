package sitesim

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The Organizations (Admin) API mount: api.atlassian.com's /admin paths,
// served by the same Server over the same Site, so a membership changed
// through product REST is what the Org API reports and the other way
// round. It has its own mux because its auth (an org API key as bearer),
// error envelopes and pagination differ from Jira's.
//
// Every answer follows the shapes Atlassian documents, as written up
// operation by operation (§1–§15) in orgapi-documented.md and restated as
// testdata/orgapi-documented.openapi.json, which the contract test
// (orgapi_contract_test.go) holds every route to. Sources, per operation:
//   - https://developer.atlassian.com/cloud/admin/organization/rest/intro/
//     (auth, rate limits, URIs);
//   - https://dac-static.atlassian.com/cloud/admin/organization/swagger.v3.json
//     (Atlassian's OpenAPI: paths, parameters, error bodies and codes);
//   - https://developer.atlassian.com/cloud/admin/organization/rest/api-group-workspaces/
//     (workspaces);
//   - https://developer.atlassian.com/cloud/admin/api-access/rest/api-group-service-account/
//     (service accounts).
//
// What Atlassian leaves open is chosen in the Org API block of
// unconfirmed.go, and nowhere else.

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

// orgKind is the family an operation belongs to; it decides the error
// envelope (https://dac-static.atlassian.com/cloud/admin/organization/swagger.v3.json,
// ApplicationError, ProxyError).
type orgKind int

const (
	// orgV1: /admin/v1 operations. 401 and 429 are the gateway's
	// ProxyError {"code","message"}; other errors the errors list.
	orgV1 orgKind = iota
	// orgV2: the v2 directory, user, group and role-assignment operations:
	// every error is the errors list.
	orgV2
	// orgWorkspaces: 401 is a ProxyError; 400/403/404/500 a bare
	// application error object, not wrapped in "errors".
	orgWorkspaces
	// orgServiceAccounts: error bodies undocumented; the errors list is
	// chosen (unconfirmed.go).
	orgServiceAccounts
)

func (s *Server) orgRoutes() {
	s.org = http.NewServeMux()
	v1, v2 := "/admin/v1/orgs", "/admin/v2/orgs/{orgId}"
	dir := v2 + "/directories/{directoryId}"
	s.orgHandle("GET "+v1, orgV1, s.orgList)
	s.orgHandle("GET "+v1+"/{orgId}", orgV1, s.orgGet)
	s.orgHandle("GET "+v1+"/{orgId}/directory/users/{accountId}/last-active-dates", orgV1, s.orgLastActive)
	s.orgHandle("GET "+v1+"/{orgId}/events-stream", orgV1, s.orgEventsStream)
	s.orgHandle("POST "+v2+"/workspaces", orgWorkspaces, s.orgWorkspaces)
	s.orgHandle("GET "+v2+"/directories", orgV2, s.orgDirectories)
	s.orgHandle("POST "+dir+"/users/search", orgV2, s.orgUsersSearch)
	s.orgHandle("GET "+dir+"/users/{accountId}", orgV2, s.orgUserGet)
	s.orgHandle("GET "+dir+"/users/{accountId}/role-assignments", orgV2, s.orgUserRoles)
	s.orgHandle("POST "+dir+"/groups/search", orgV2, s.orgGroupsSearch)
	s.orgHandle("GET "+dir+"/groups/{groupId}", orgV2, s.orgGroupGet)
	s.orgHandle("GET "+dir+"/groups/{groupId}/role-assignments", orgV2, s.orgGroupRoles)
	s.orgHandle("POST "+dir+"/groups/{groupId}/memberships", orgV2, s.orgAddMember)
	s.orgHandle("DELETE "+dir+"/groups/{groupId}/memberships/{accountId}", orgV2, s.orgRemoveMember)
	s.orgHandle("GET /admin/api-access/v1/orgs/{orgId}/service-accounts", orgServiceAccounts, s.orgServiceAccounts)
	slices.Sort(s.orgPatterns)
}

// orgHandle registers h behind the org key check, the orgId check and,
// where the path has one, the directoryId check.
func (s *Server) orgHandle(pattern string, kind orgKind, h orgHandler) {
	s.orgPatterns = append(s.orgPatterns, pattern)
	s.org.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		oerr := s.orgAuth(r)
		if oerr == nil {
			oerr = s.orgRateLimited(w, r) // hook: orgapi_ratelimit.go
		}
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
			writeJSON(w, oerr.Status, oerr.body(kind))
		}
	})
}

// orgOperations lists the routes of the mount ("METHOD /path", sorted), as
// registered: the contract test holds it to its cases and to the mux.
func (s *Server) orgOperations() []string { return slices.Clone(s.orgPatterns) }

// serveOrg routes a request of the Org API mount. A path it lacks is 404
// ADMIN-404-1 ("unknown resource"), a path it serves with another method
// 405 ADMIN-405-1 ("method not supported"), both in the errors list.
func (s *Server) serveOrg(w http.ResponseWriter, r *http.Request) {
	_, pattern := s.org.Handler(r)
	// Counters name an Org API call by its route ("POST /admin/v2/…").
	meterOf(r.Context()).op = pattern
	if pattern == "" {
		e := newOrgError(http.StatusNotFound, orgCodeNoResource, "Not Found", "No resource at "+r.URL.Path)
		if allow := s.orgAllowed(r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			e = newOrgError(http.StatusMethodNotAllowed, orgCodeMethod, "Method Not Allowed", "Method "+r.Method+" is not supported on "+r.URL.Path)
		}
		writeJSON(w, e.Status, e.body(orgV2))
		return
	}
	// The latency fault holds for api.atlassian.com as for the site: a
	// scan's wall time is measured against one latency for every call.
	s.faults.delay(r.Context())
	s.org.ServeHTTP(w, r)
}

// orgAllowed lists the methods the mount serves on r's path.
func (s *Server) orgAllowed(r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := &http.Request{Method: m, URL: &url.URL{Path: r.URL.Path}, Host: r.Host, Header: http.Header{}}
		if _, pattern := s.org.Handler(probe); pattern != "" {
			out = append(out, m)
		}
	}
	return out
}

// orgAuth checks "Authorization: Bearer <org API key>"
// (https://developer.atlassian.com/cloud/admin/organization/rest/intro/).
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

// orgError is an Org API error answer. Its body depends on the operation
// (orgKind): Atlassian's ApplicationError {id, status (a string), code,
// title, detail}, in an errors list or bare, or the gateway's ProxyError
// {code (a number), message}
// (https://dac-static.atlassian.com/cloud/admin/organization/swagger.v3.json).
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

// proxyError is the gateway's ProxyError.
type proxyError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func newOrgError(status int, code, title, detail string) *orgError {
	return &orgError{Status: status, Code: code, Title: title, Detail: detail}
}

func (e *orgError) item() orgErrorItem {
	return orgErrorItem{ID: orgErrorID(e), Status: strconv.Itoa(e.Status), Code: e.Code, Title: e.Title, Detail: e.Detail}
}

// body is the error as the operation's family answers it.
func (e *orgError) body(kind orgKind) any {
	gateway := e.Status == http.StatusUnauthorized || e.Status == http.StatusTooManyRequests
	switch {
	case gateway && (kind == orgV1 || kind == orgWorkspaces):
		return proxyError{Code: e.Status, Message: e.Title}
	case kind == orgWorkspaces:
		return e.item()
	}
	return struct {
		Errors []orgErrorItem `json:"errors"`
	}{[]orgErrorItem{e.item()}}
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

// Codes Atlassian documents (ApplicationError.code in
// https://dac-static.atlassian.com/cloud/admin/organization/swagger.v3.json).
// Which of them the sim gives where it has a choice is in unconfirmed.go.
const (
	orgCodeInvalidCursor = "ADMIN-400-1"  // invalid page cursor
	orgCodeRateLimited   = "ADMIN-429-1"  // rate limit exceeded
	orgCodeInvalidTime   = "ADMIN-400-3"  // invalid time date
	orgCodeInvalidParam  = "ADMIN-400-4"  // invalid resource
	orgCodeInvalidBody   = "ADMIN-400-24" // invalid request body
	orgCodeGroupManage   = "ADMIN-403-5"  // not allowed to manage the group
	orgCodeNoResource    = "ADMIN-404-1"  // unknown resource
	orgCodeOrgNotFound   = "ADMIN-404-2"  // organization not found
	orgCodeUserNotFound  = "ADMIN-404-8"  // user not found
	orgCodeGroupNotFound = "ADMIN-404-10" // group not found
	orgCodeMethod        = "ADMIN-405-1"  // method not supported
	orgCodeLicenceLimit  = "ADMIN-409-3"  // license limit exceeded
	orgCodeInternal      = "ADMIN-500-1"  // internal error
)

// Documented page sizes (default, maximum) and filter sizes
// (https://dac-static.atlassian.com/cloud/admin/organization/swagger.v3.json;
// workspaces also
// https://developer.atlassian.com/cloud/admin/organization/rest/api-group-workspaces/).
// The maxima the docs leave open are in unconfirmed.go.
const (
	workspacesDefaultLimit  = 20
	workspacesMaxLimit      = 1000
	directoriesDefaultLimit = 20
	directoriesMaxLimit     = 100
	usersSearchDefault      = 50
	groupsSearchDefault     = 20
	roleAssignmentsDefault  = 20
	roleAssignmentsMax      = 100
	roleFilterMax           = 10 // items per array filter of the role-assignment lists
	eventsDefaultLimit      = 200
	eventsMaxLimit          = 500
	eventsDefaultOrder      = "asc" // "default ascending, by processing time"
)

func errInvalidCursor(c string) *orgError {
	return newOrgError(http.StatusBadRequest, orgCodeInvalidCursor, "Bad Request", "Invalid cursor: "+c)
}

func errBadOrgBody(detail string) *orgError {
	return newOrgError(http.StatusBadRequest, orgCodeInvalidBody, "Bad Request", "Invalid request body: "+detail)
}

func errBadOrgParam(name, detail string) *orgError {
	return newOrgError(http.StatusBadRequest, orgCodeInvalidParam, "Bad Request", "Invalid parameter "+name+": "+detail)
}

func errOrgUserNotFound(accountID string) *orgError {
	return newOrgError(http.StatusNotFound, orgCodeUserNotFound, "Not Found", "User "+accountID+" was not found in the directory.")
}

func errOrgGroupNotFound(groupID string) *orgError {
	return newOrgError(http.StatusNotFound, orgCodeGroupNotFound, "Not Found", "Group "+groupID+" was not found.")
}

// errGroupNotManageable: a synced group's membership belongs to the
// identity provider ("You can't add a user to a group synced from an
// identity provider"; v2 memberships, orgapi-documented.md §10).
func errGroupNotManageable(name string) *orgError {
	return newOrgError(http.StatusForbidden, orgCodeGroupManage, "Forbidden", "You can't add or remove members of the group "+name+"; it is synced from an identity provider.")
}

func errLicenceLimit(product string) *orgError {
	return newOrgError(http.StatusConflict, orgCodeLicenceLimit, "Conflict", "Adding the user would exceed the user limit of "+product+".")
}

// --- cursor pagination -------------------------------------------------

// walkCursor is the state of one walk through a list, and its token is
// the cursor the sim hands out: base64url of its JSON, opaque to clients.
// For GET lists Atlassian documents "If [cursor is] present, all other
// parameters are discarded"
// (https://dac-static.atlassian.com/cloud/admin/organization/swagger.v3.json),
// so a token carries everything the walk needs — page size and filters —
// and a request bearing one is answered from the token alone. The POST
// searches follow the same rule (unconfirmed.go). A token the sim did not
// issue, or one of another list, is ADMIN-400-1.
type walkCursor struct {
	Kind   string          `json:"k"`           // the list it walks (cursorUsers, …)
	Offset int             `json:"o"`           // first entry of the page (events: the last sequence seen)
	Limit  int             `json:"l"`           // page size
	Query  json.RawMessage `json:"q,omitempty"` // the walk's filters, as the list reads them
}

// Lists with cursors.
const (
	cursorOrgs        = "orgs"
	cursorWorkspaces  = "workspaces"
	cursorDirectories = "directories"
	cursorUsers       = "users"
	cursorGroups      = "groups"
	cursorUserRoles   = "user-roles"
	cursorGroupRoles  = "group-roles"
	cursorService     = "service-accounts"
	cursorLastActive  = "last-active"
	cursorEvents      = "events"
)

// newWalk starts a walk of kind with page size limit over filters q
// (nil: none).
func newWalk(kind string, limit int, q any) walkCursor {
	w := walkCursor{Kind: kind, Limit: limit}
	if q != nil {
		b, err := json.Marshal(q)
		if err != nil {
			panic("sitesim: walk filters: " + err.Error()) // programming error: plain structs only
		}
		w.Query = b
	}
	return w
}

// at is the token of the page starting at offset.
func (w walkCursor) at(offset int) string {
	w.Offset = offset
	b, _ := json.Marshal(w)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeWalk reads a token of a kind-list walk.
func decodeWalk(kind, token string) (walkCursor, *orgError) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	var w walkCursor
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		err = dec.Decode(&w)
	}
	if err != nil || w.Kind != kind || w.Offset < 0 || w.Limit < 1 || w.Limit > 1000 {
		return walkCursor{}, errInvalidCursor(token)
	}
	return w, nil
}

// filters decodes the walk's filters into v.
func (w walkCursor) filters(v any) *orgError {
	if len(w.Query) == 0 {
		return nil
	}
	if err := json.Unmarshal(w.Query, v); err != nil {
		return errInvalidCursor(w.at(w.Offset))
	}
	return nil
}

// tokens are the cursors of a page [lo, hi) and of its neighbours: prev
// when lo > 0, next when more entries follow ("" where none).
func (w walkCursor) tokens(lo, hi int, more bool) (self, prev, next string) {
	self = w.at(lo)
	if lo > 0 {
		prev = w.at(max(lo-w.Limit, 0))
	}
	if more {
		next = w.at(hi)
	}
	return self, prev, next
}

// nullableLinks is LinkPageCursor as the v2 searches and role-assignment
// lists type it: cursor tokens, null where there is no such page.
type nullableLinks struct {
	Self *string `json:"self"`
	Prev *string `json:"prev"`
	Next *string `json:"next"`
}

func nullable(self, prev, next string) nullableLinks {
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	return nullableLinks{opt(self), opt(prev), opt(next)}
}

// pageLinks is links {self, prev, next} typed as plain strings (LinkPageModel
// URLs, and the directories list's tokens): a link that does not exist is
// left out rather than null.
type pageLinks struct {
	Self string `json:"self,omitempty"`
	Prev string `json:"prev,omitempty"`
	Next string `json:"next,omitempty"`
}

// withCursor is a URL carrying a cursor token ("" stays "").
func withCursor(base, token string) string {
	if token == "" {
		return ""
	}
	return base + "?cursor=" + url.QueryEscape(token)
}

// limitOf applies a default and a range to a page size given in a body:
// nil is the default, outside 1..maxLimit is 400 ADMIN-400-24.
func limitOf(v *int, def, maxLimit int) (int, *orgError) {
	switch {
	case v == nil:
		return def, nil
	case *v < 1 || *v > maxLimit:
		return 0, errBadOrgBody(fmt.Sprintf("limit must be between 1 and %d", maxLimit))
	}
	return *v, nil
}

// queryLimit is limitOf for a query parameter: 400 ADMIN-400-4.
func queryLimit(r *http.Request, def, maxLimit int) (int, *orgError) {
	q := r.URL.Query().Get("limit")
	if q == "" {
		return def, nil
	}
	n, err := strconv.Atoi(q)
	if err != nil || n < 1 || n > maxLimit {
		return 0, errBadOrgParam("limit", fmt.Sprintf("must be a number between 1 and %d", maxLimit))
	}
	return n, nil
}

// decodeOrgBody reads a JSON object request body into v and returns the
// names of the properties it held; an empty body is the empty request.
// Anything else is 400 ADMIN-400-24.
func decodeOrgBody(r *http.Request, v any) (map[string]json.RawMessage, *orgError) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, errBadOrgBody(err.Error())
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return map[string]json.RawMessage{}, nil
	}
	var props map[string]json.RawMessage
	if err := json.Unmarshal(b, &props); err != nil || props == nil {
		return nil, errBadOrgBody("the body must be a JSON object")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return nil, errBadOrgBody(err.Error())
	}
	return props, nil
}

// bodyCursor is the body's cursor: "" when absent, null or empty; a
// cursor that is not a string is 400 ADMIN-400-24.
func bodyCursor(props map[string]json.RawMessage) (string, *orgError) {
	raw, ok := props["cursor"]
	if !ok {
		return "", nil
	}
	var c *string
	if err := json.Unmarshal(raw, &c); err != nil {
		return "", errBadOrgBody("cursor must be a string")
	}
	if c == nil {
		return "", nil
	}
	return *c, nil
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

// orgURL is an absolute URL on the mount: the scheme and host the request
// came to, then path.
func orgURL(r *http.Request, path string) string { return absBase(r) + path }

// absBase is the scheme and host the request came to.
func absBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// avatarURL is a stable picture URL on the sim's own host (unconfirmed.go:
// no avatar CDN, so demos stay offline).
func avatarURL(r *http.Request, ownerID string, size int) string {
	sum := sha256.Sum256([]byte(ownerID))
	return absBase(r) + "/secure/useravatar?avatarId=" + hex.EncodeToString(sum[:8]) + "&ownerId=" + url.QueryEscape(ownerID) + "&size=" + strconv.Itoa(size)
}

// --- orgs (§1, §2) -----------------------------------------------------

// orgResource is an organisation as GET /admin/v1/orgs lists it.
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
	base := orgURL(r, "/admin/v1/orgs/"+s.opts.OrgID)
	var o orgResource
	o.ID, o.Type = s.opts.OrgID, "orgs"
	o.Attributes.Name = OrgName
	o.Relationships.Domains.Links.Related = base + "/domains"
	o.Relationships.Users.Links.Related = base + "/users"
	o.Links.Self = base
	return o
}

// GET /admin/v1/orgs: the one organisation the key belongs to, on one
// page; links are URLs (LinkPageModel).
func (s *Server) orgList(w http.ResponseWriter, r *http.Request) *orgError {
	if c := r.URL.Query().Get("cursor"); c != "" {
		if _, oerr := decodeWalk(cursorOrgs, c); oerr != nil {
			return oerr
		}
	}
	return writeOrg(w, struct {
		Data  []orgResource `json:"data"`
		Links pageLinks     `json:"links"`
	}{[]orgResource{s.orgResource(r)}, pageLinks{Self: orgURL(r, "/admin/v1/orgs")}})
}

// GET /admin/v1/orgs/{orgId}: {"data": org}.
func (s *Server) orgGet(w http.ResponseWriter, r *http.Request) *orgError {
	return writeOrg(w, struct {
		Data orgResource `json:"data"`
	}{s.orgResource(r)})
}

// resourceID is a product's ARI, the resourceId of role assignments, the
// id of its workspace and of its productAccess entries.
func (s *Server) resourceID(product string) string {
	return "ari:cloud:" + product + "::site/" + s.opts.CloudID
}

// --- workspaces (§3) ---------------------------------------------------

// workspace is one site product of POST /workspaces
// (https://developer.atlassian.com/cloud/admin/organization/rest/api-group-workspaces/).
type workspace struct {
	ID            string              `json:"id"`
	Type          string              `json:"type"`
	Attributes    workspaceAttributes `json:"attributes"`
	Links         selfLink            `json:"links"`
	Relationships struct{}            `json:"relationships"`
}

type selfLink struct {
	Self string `json:"self"`
}

type workspaceAttributes struct {
	Name          string            `json:"name"`
	TypeKey       string            `json:"typeKey"`
	Type          string            `json:"type"`
	Owner         *string           `json:"owner"`
	Status        string            `json:"status"`
	StatusDetails []string          `json:"statusDetails"`
	Icons         map[string]string `json:"icons"`
	Avatars       map[string]string `json:"avatars"`
	Labels        []string          `json:"labels"`
	Sandbox       workspaceSandbox  `json:"sandbox"`
	Usage         *int              `json:"usage"`
	Capacity      *int              `json:"capacity"`
	CreatedAt     string            `json:"createdAt"`
	CreatedBy     *string           `json:"createdBy"`
	UpdatedAt     *string           `json:"updatedAt"`
	HostURL       string            `json:"hostUrl"`
	Realm         string            `json:"realm"`
	Regions       []string          `json:"regions"`
}

// workspaceSandbox is attributes.sandbox: an object, never a bool.
type workspaceSandbox struct {
	Type string `json:"type"`
}

// workspacesMeta is the page's meta.
type workspacesMeta struct {
	PageSize   int  `json:"pageSize"`
	StartIndex *int `json:"startIndex"`
	EndIndex   *int `json:"endIndex"`
	Total      int  `json:"total"`
}

// POST /admin/v2/orgs/{orgId}/workspaces: every product of the site, in
// site order, with its licence limit as capacity. "When a cursor is
// provided in the request body, no other properties may be present".
func (s *Server) orgWorkspaces(w http.ResponseWriter, r *http.Request) *orgError {
	var req struct {
		Limit  *int            `json:"limit"`
		Cursor *string         `json:"cursor"`
		Query  json.RawMessage `json:"query"`
		Sort   json.RawMessage `json:"sort"`
	}
	props, oerr := decodeOrgBody(r, &req)
	if oerr != nil {
		return oerr
	}
	c, oerr := bodyCursor(props)
	if oerr != nil {
		return oerr
	}
	var walk walkCursor
	if c != "" {
		if len(props) > 1 {
			return errBadOrgBody("when a cursor is provided in the request body, no other properties may be present")
		}
		if walk, oerr = decodeWalk(cursorWorkspaces, c); oerr != nil {
			return oerr
		}
	} else {
		limit, oerr := limitOf(req.Limit, workspacesDefaultLimit, workspacesMaxLimit)
		if oerr != nil {
			return oerr
		}
		walk = newWalk(cursorWorkspaces, limit, nil)
	}
	s.site.mu.RLock()
	all := slices.Clone(s.site.all)
	usage := make([]int, len(all))
	for i, p := range all {
		usage[i] = s.site.userCount(p.Key)
	}
	s.site.mu.RUnlock()
	lo := min(walk.Offset, len(all))
	hi := min(lo+walk.Limit, len(all))
	base := orgURL(r, "/admin/v2/orgs/"+s.opts.OrgID+"/workspaces")
	out := make([]workspace, 0, hi-lo)
	for i := lo; i < hi; i++ {
		p := all[i]
		ws := workspace{ID: s.resourceID(p.Key), Type: workspaceType}
		a := &ws.Attributes
		a.Name, a.TypeKey, a.Type = p.Name, p.Key, p.Key
		a.Status, a.StatusDetails = workspaceStatusOf(p), []string{}
		a.Icons, a.Avatars, a.Labels = map[string]string{}, map[string]string{}, []string{}
		a.Sandbox = workspaceSandbox{Type: "NONE"}
		a.Usage = &usage[i]
		if !p.Unlimited {
			seats := p.Seats
			a.Capacity = &seats
		}
		a.CreatedAt, a.HostURL, a.Realm, a.Regions = workspaceCreatedAt, absBase(r), workspaceRealm, []string{}
		ws.Links.Self = base + "/" + url.PathEscape(ws.ID)
		out = append(out, ws)
	}
	self, prev, next := walk.tokens(lo, hi, hi < len(all))
	meta := workspacesMeta{PageSize: walk.Limit, Total: len(all)}
	if hi > lo {
		first, last := lo, hi-1
		meta.StartIndex, meta.EndIndex = &first, &last
	}
	return writeOrg(w, struct {
		Data  []workspace    `json:"data"`
		Links pageLinks      `json:"links"`
		Meta  workspacesMeta `json:"meta"`
	}{out, pageLinks{withCursor(base, self), withCursor(base, prev), withCursor(base, next)}, meta})
}

// workspaceStatusOf is the product's attributes.status.
func workspaceStatusOf(p Product) string {
	if p.WorkspaceStatus == "" {
		return WorkspaceOnline
	}
	return p.WorkspaceStatus
}

// --- directories (§4) --------------------------------------------------

// directory is one entry of GET /directories.
type directory struct {
	DirectoryID string `json:"directoryId"`
	Name        string `json:"name"`
	Icon        string `json:"icon"`
}

// directoryFilters are the filters of a directories walk.
type directoryFilters struct {
	AccountID  string `json:"accountId,omitempty"`
	SearchTerm string `json:"searchTerm,omitempty"`
}

// GET /admin/v2/orgs/{orgId}/directories: the one directory of the sim,
// if it matches searchTerm (its name) and accountId (a member of it).
func (s *Server) orgDirectories(w http.ResponseWriter, r *http.Request) *orgError {
	var walk walkCursor
	var f directoryFilters
	if c := r.URL.Query().Get("cursor"); c != "" {
		var oerr *orgError
		if walk, oerr = decodeWalk(cursorDirectories, c); oerr != nil {
			return oerr
		}
		if oerr = walk.filters(&f); oerr != nil {
			return oerr
		}
	} else {
		limit, oerr := queryLimit(r, directoriesDefaultLimit, directoriesMaxLimit)
		if oerr != nil {
			return oerr
		}
		f = directoryFilters{AccountID: r.URL.Query().Get("accountId"), SearchTerm: r.URL.Query().Get("searchTerm")}
		walk = newWalk(cursorDirectories, limit, f)
	}
	var all []directory
	s.site.mu.RLock()
	member := f.AccountID == "" || inDirectory(s.site.users[f.AccountID])
	s.site.mu.RUnlock()
	if member && strings.Contains(strings.ToLower(OrgName), strings.ToLower(f.SearchTerm)) {
		all = append(all, directory{DirectoryID: DefaultDirectoryID, Name: OrgName, Icon: avatarURL(r, DefaultDirectoryID, 48)})
	}
	lo := min(walk.Offset, len(all))
	hi := min(lo+walk.Limit, len(all))
	self, prev, next := walk.tokens(lo, hi, hi < len(all))
	return writeOrg(w, struct {
		Data  []directory `json:"data"`
		Links pageLinks   `json:"links"`
	}{append([]directory{}, all[lo:hi]...), pageLinks{self, prev, next}})
}
