package sitesim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// The Organizations API mount against testdata/orgapi-documented.openapi.json,
// the schema written by hand from orgapi-documented.md: every route the
// mount registers, every status it gives there, validated for status,
// headers and body. Statuses the document does not list for an operation
// must be named by orgSpecDeviation (unconfirmed.go); only their envelope
// is checked.

// orgImplementedOperations is the list of Org API routes the sim serves.
// TestOrgRegisteredOperations holds the mux and the schema to it, and
// TestOrgContract demands cases for each, so a route added without
// contract cases fails.
func orgImplementedOperations() []string {
	return []string{
		"DELETE /admin/v2/orgs/{orgId}/directories/{directoryId}/groups/{groupId}/memberships/{accountId}",
		"GET /admin/api-access/v1/orgs/{orgId}/service-accounts",
		"GET /admin/v1/orgs",
		"GET /admin/v1/orgs/{orgId}",
		"GET /admin/v1/orgs/{orgId}/directory/users/{accountId}/last-active-dates",
		"GET /admin/v1/orgs/{orgId}/events-stream",
		"GET /admin/v2/orgs/{orgId}/directories",
		"GET /admin/v2/orgs/{orgId}/directories/{directoryId}/groups/{groupId}",
		"GET /admin/v2/orgs/{orgId}/directories/{directoryId}/groups/{groupId}/role-assignments",
		"GET /admin/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}",
		"GET /admin/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}/role-assignments",
		"POST /admin/v2/orgs/{orgId}/directories/{directoryId}/groups/search",
		"POST /admin/v2/orgs/{orgId}/directories/{directoryId}/groups/{groupId}/memberships",
		"POST /admin/v2/orgs/{orgId}/directories/{directoryId}/users/search",
		"POST /admin/v2/orgs/{orgId}/workspaces",
	}
}

// orgContract validates answers against the hand-written schema.
type orgContract struct {
	doc  *openapi3.T
	opts *openapi3filter.Options
}

func loadOrgContract(t *testing.T) *orgContract {
	t.Helper()
	raw, err := os.ReadFile("testdata/orgapi-documented.openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the schema is not a valid OpenAPI document: %v", err)
	}
	// Values the sim sends outside a documented enum, as unconfirmed.go
	// declares them (the file keeps the documented lists).
	for _, ext := range orgSchemaEnumExtensions() {
		s := doc.Components.Schemas[ext.Schema]
		if s == nil || s.Value.Properties[ext.Property] == nil || len(s.Value.Properties[ext.Property].Value.Enum) == 0 {
			t.Fatalf("enum extension %s.%s names no enum of the schema", ext.Schema, ext.Property)
		}
		for _, v := range ext.Values {
			s.Value.Properties[ext.Property].Value.Enum = append(s.Value.Properties[ext.Property].Value.Enum, v)
		}
	}
	// format "uri" (LinkPageModel) must be an absolute URL: clients follow it.
	uri := openapi3.NewCallbackValidator(func(s string) error {
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("not an absolute URI: %q", s)
		}
		return nil
	})
	return &orgContract{doc: doc, opts: &openapi3filter.Options{
		IncludeResponseStatus: true, MultiError: true,
		AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidator("uri", uri)},
	}}
}

// schemaOperations lists the schema's operations as "METHOD /path".
func (ct *orgContract) schemaOperations() []string {
	var out []string
	for path, pi := range ct.doc.Paths.Map() {
		for method := range pi.Operations() {
			out = append(out, method+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

func TestOrgRegisteredOperations(t *testing.T) {
	ts := defaultSite(t)
	got := ts.srv.orgOperations()
	if !slices.Equal(got, orgImplementedOperations()) {
		t.Fatalf("registered Org API routes\n got %q\nwant %q", got, orgImplementedOperations())
	}
	// The mux routes each to itself (no shadowing), and the schema holds
	// exactly these operations: every documented operation is served.
	for _, op := range got {
		method, path, _ := strings.Cut(op, " ")
		probe := path
		for strings.Contains(probe, "{") {
			i, j := strings.Index(probe, "{"), strings.Index(probe, "}")
			probe = probe[:i] + "x" + probe[j+1:]
		}
		r := &http.Request{Method: method, URL: &url.URL{Path: probe}, Host: "api.invalid", Header: http.Header{}}
		if _, pattern := ts.srv.org.Handler(r); pattern != op {
			t.Errorf("%s routes to %q", op, pattern)
		}
	}
	if schema := loadOrgContract(t).schemaOperations(); !slices.Equal(schema, got) {
		t.Fatalf("schema operations\n got %q\nwant %q", schema, got)
	}
}

// Keys an Org API case sends.
const (
	keyOrg   = ""      // the org API key
	keyNone  = "none"  // no Authorization header
	keyWrong = "wrong" // a Bearer key that is not the org's
	keyBasic = "basic" // the site's Basic credentials
)

func orgCred(key string) cred {
	return cred{name: "org-" + key, auth: func(ts *testSite, _ *http.Request) string {
		switch key {
		case keyNone:
			return ""
		case keyWrong:
			return "Bearer not-the-org-key"
		case keyBasic:
			return basicCred().auth(ts, nil)
		}
		return "Bearer " + ts.srv.opts.OrgKey
	}}
}

// orgCase is one request of the Org API contract test.
type orgCase struct {
	name         string
	method, op   string            // the schema path
	params       map[string]string // path parameters besides the defaults
	query, body  string
	key          string
	scenario     func(sc *Scenario) // changes orgScenario before the site starts
	setup        func(ts *testSite)
	status       int
	code         string // an error's code ("401" for a ProxyError)
	validRequest bool   // the request itself follows the schema
	check        func(t *testing.T, ts *testSite, body []byte)
}

// path fills the path parameters: orgId and directoryId default to the
// sim's.
func (c orgCase) path() string {
	p := c.op
	params := map[string]string{"orgId": DefaultOrgID, "directoryId": DefaultDirectoryID}
	for k, v := range c.params {
		params[k] = v
	}
	for k, v := range params {
		p = strings.ReplaceAll(p, "{"+k+"}", url.PathEscape(v))
	}
	return p
}

func (c orgCase) pathParams() map[string]string {
	out := map[string]string{}
	for _, k := range []string{"orgId", "directoryId", "accountId", "groupId"} {
		if strings.Contains(c.op, "{"+k+"}") {
			out[k] = map[string]string{"orgId": DefaultOrgID, "directoryId": DefaultDirectoryID}[k]
		}
	}
	for k, v := range c.params {
		out[k] = v
	}
	return out
}

// orgEnvelope is the error body an operation family answers (orgKind).
func orgEnvelope(op string, status int) string {
	v1 := strings.HasPrefix(op, "/admin/v1/")
	ws := strings.HasSuffix(op, "/workspaces")
	gateway := status == http.StatusUnauthorized || status == http.StatusTooManyRequests
	switch {
	case gateway && (v1 || ws):
		return "ProxyError"
	case ws:
		return "ApplicationError"
	}
	return "Errors"
}

// check validates one answer: a documented status with its schema, or a
// deviation unconfirmed.go names, whose envelope alone is checked.
func (ct *orgContract) check(t *testing.T, c orgCase, res response) {
	t.Helper()
	ctx := context.Background()
	pi := ct.doc.Paths.Value(c.op)
	if pi == nil || pi.GetOperation(c.method) == nil {
		t.Fatalf("%s %s is not in the schema", c.method, c.op)
	}
	route := &routers.Route{Spec: ct.doc, Path: c.op, PathItem: pi, Method: c.method, Operation: pi.GetOperation(c.method)}
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	target := "https://api.invalid" + c.path()
	if c.query != "" {
		target += "?" + c.query
	}
	vreq, err := http.NewRequest(c.method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if c.body != "" {
		vreq.Header.Set("Content-Type", "application/json")
	}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: c.pathParams(), Route: route, Options: ct.opts}
	if c.validRequest {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			t.Errorf("the test's request does not follow the schema: %v", err)
		}
	}
	if reason := orgSpecDeviation(c.method, c.op, res.status); reason != "" {
		t.Logf("deviation (%s): envelope only", reason)
		ct.envelope(t, c, res)
		return
	}
	if route.Operation.Responses.Status(res.status) == nil {
		t.Fatalf("status %d is not documented for %s %s and not a listed deviation; body %s", res.status, c.method, c.op, res.body)
	}
	err = openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: res.status, Header: res.header,
		Body: io.NopCloser(bytes.NewReader(res.body)), Options: ct.opts,
	})
	if err != nil {
		t.Fatalf("response does not match the schema: %v\nbody: %s", err, res.body)
	}
	// Documented response headers are sent (the schema cannot require
	// them: Atlassian's page lists them without saying so).
	for name := range route.Operation.Responses.Status(res.status).Value.Headers {
		if res.header.Get(name) == "" {
			t.Errorf("documented header %s missing", name)
		}
	}
	if res.status >= 400 {
		ct.envelope(t, c, res) // the code, on top of the shape
	}
}

// envelope checks an answer the schema does not describe, or the code of
// one it does: no body for a 2xx without content, else the family's
// error body with the case's code, status and a non-empty id and title.
func (ct *orgContract) envelope(t *testing.T, c orgCase, res response) {
	t.Helper()
	if res.status < 300 {
		if len(res.body) != 0 {
			t.Fatalf("status %d: a body %s where none is chosen", res.status, res.body)
		}
		return
	}
	if ctype := res.header.Get("Content-Type"); !strings.HasPrefix(ctype, "application/json") {
		t.Fatalf("error Content-Type %q", ctype)
	}
	var generic any
	if err := json.Unmarshal(res.body, &generic); err != nil {
		t.Fatalf("error body is not JSON: %q", res.body)
	}
	name := orgEnvelope(c.op, res.status)
	if err := ct.doc.Components.Schemas[name].Value.VisitJSON(generic, openapi3.VisitAsResponse()); err != nil {
		t.Fatalf("error body is not a %s: %v\n%s", name, err, res.body)
	}
	var items []orgErrorItem
	switch name {
	case "ProxyError":
		var p proxyError
		strictDecode(t, res.body, &p)
		if strconv.Itoa(p.Code) != c.code || p.Code != res.status || p.Message == "" {
			t.Fatalf("ProxyError %s, want code %s", res.body, c.code)
		}
		return
	case "ApplicationError":
		var it orgErrorItem
		strictDecode(t, res.body, &it)
		items = []orgErrorItem{it}
	default:
		var e struct {
			Errors []orgErrorItem `json:"errors"`
		}
		strictDecode(t, res.body, &e)
		items = e.Errors
	}
	if len(items) != 1 || items[0].Code != c.code || items[0].Status != strconv.Itoa(res.status) || items[0].ID == "" || items[0].Title == "" || items[0].Detail == "" {
		t.Fatalf("error %s, want one error with code %s and status %q", res.body, c.code, strconv.Itoa(res.status))
	}
}

func TestOrgContract(t *testing.T) {
	ct := loadOrgContract(t)
	type seen struct{ ok, unauthorized bool }
	covered := map[string]*seen{}
	for _, op := range orgImplementedOperations() {
		covered[op] = &seen{}
	}
	for _, c := range orgContractCases() {
		t.Run(c.name, func(t *testing.T) {
			sc := orgScenario()
			if c.scenario != nil {
				c.scenario(&sc)
			}
			ts := newTestSite(t, sc, Options{})
			if c.setup != nil {
				c.setup(ts)
			}
			res := ts.do(orgCred(c.key), c.method, c.path(), c.query, c.body)
			if res.status != c.status {
				t.Fatalf("status %d, want %d; body %s", res.status, c.status, res.body)
			}
			if (c.code != "") != (c.status >= 400) {
				t.Fatalf("case %s: an error case needs a code, a success none", c.name)
			}
			ct.check(t, c, res)
			if c.check != nil {
				c.check(t, ts, res.body)
			}
		})
		s := covered[c.method+" "+c.op]
		if s == nil {
			t.Errorf("case %s: %s %s is not a registered route", c.name, c.method, c.op)
			continue
		}
		s.ok = s.ok || c.status < 300
		s.unauthorized = s.unauthorized || c.status == http.StatusUnauthorized
	}
	for op, s := range covered {
		if !s.ok || !s.unauthorized {
			t.Errorf("%s lacks a successful case (%v) or a 401 case (%v)", op, s.ok, s.unauthorized)
		}
	}
}

// TestOrgContractUnknownPaths: paths the mount lacks are 404 ADMIN-404-1,
// a served path with another method 405 ADMIN-405-1 with Allow, both in
// the errors list, with or without a key.
func TestOrgContractUnknownPaths(t *testing.T) {
	ct := loadOrgContract(t)
	ts := orgSite(t)
	dir := "/admin/v2/orgs/" + DefaultOrgID + "/directories/" + DefaultDirectoryID
	for _, c := range []struct {
		method, path, key string
		status            int
		code, allow       string
	}{
		{http.MethodGet, "/admin/v9/nothing", keyOrg, 404, "ADMIN-404-1", ""},
		{http.MethodGet, "/admin/v9/nothing", keyNone, 404, "ADMIN-404-1", ""},
		{http.MethodGet, "/admin/v1/orgs/" + DefaultOrgID + "/domains", keyOrg, 404, "ADMIN-404-1", ""},
		{http.MethodGet, "/admin/v2/orgs/" + DefaultOrgID + "/workspaces/x", keyOrg, 404, "ADMIN-404-1", ""},
		{http.MethodGet, dir + "/users", keyOrg, 404, "ADMIN-404-1", ""},
		{http.MethodGet, "/admin/", keyOrg, 404, "ADMIN-404-1", ""},
		{http.MethodDelete, "/admin/v1/orgs", keyOrg, 405, "ADMIN-405-1", "GET"},
		{http.MethodGet, "/admin/v2/orgs/" + DefaultOrgID + "/workspaces", keyOrg, 405, "ADMIN-405-1", "POST"},
		{http.MethodPut, dir + "/groups/" + GroupAllStaff + "/memberships", keyNone, 405, "ADMIN-405-1", "POST"},
		{http.MethodDelete, "/admin/v1/orgs/" + DefaultOrgID + "/events-stream", keyOrg, 405, "ADMIN-405-1", "GET"},
		{http.MethodPut, dir + "/users/search", keyOrg, 405, "ADMIN-405-1", "GET, POST"}, // GET is users/{accountId}
		{http.MethodPatch, dir + "/groups/" + GroupAllStaff, keyOrg, 405, "ADMIN-405-1", "GET"},
	} {
		res := ts.do(orgCred(c.key), c.method, c.path, "", "")
		if res.status != c.status || res.header.Get("Allow") != c.allow {
			t.Errorf("%s %s = %d (Allow %q), want %d (Allow %q)", c.method, c.path, res.status, res.header.Get("Allow"), c.status, c.allow)
			continue
		}
		ct.envelope(t, orgCase{op: "/admin/unknown", code: c.code}, res)
	}
}

// orgScenario is the default scenario with org fields filled in, so every
// role-assignment method and the service-accounts API have something to
// show.
func orgScenario() Scenario {
	sc := DefaultScenario()
	added := time.Date(2023, 1, 10, 8, 0, 0, 0, time.UTC)
	for i := range sc.Users {
		u := &sc.Users[i]
		switch u.AccountID {
		case alice:
			u.PlatformRoles = []string{"org-admin"}
			u.AddedToOrg = &added
			u.LastActive = map[string]time.Time{JiraSoftware: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
		case bob:
			u.DirectRoles = []Grant{{Confluence, RoleGuest}}
			u.InferredRoles = []Grant{{JiraProductDisco, RoleUser}}
		case emile:
			u.ClaimStatus = "unmanaged"
		case autoApp:
			u.AddedToOrg = &added
		}
	}
	sc.Products = append(sc.Products, Product{Key: Confluence, Name: "Confluence", Seats: 10, Plan: "PAID"})
	return sc
}

// setUser changes one user of a scenario.
func setUser(sc *Scenario, id string, f func(u *User)) {
	for i := range sc.Users {
		if sc.Users[i].AccountID == id {
			f(&sc.Users[i])
		}
	}
}

// orgStatuses gives the scenario one user of every documented status.
func orgStatuses(sc *Scenario) {
	deactivated := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	setUser(sc, bob, func(u *User) { u.Status = "suspended" })
	setUser(sc, chen, func(u *User) { u.Status = "not_invited" })
	setUser(sc, frank, func(u *User) { u.Status, u.DeactivatedOn = "deactivated", &deactivated })
	setUser(sc, grace, func(u *User) { u.Status, u.DeactivatedOn, u.Active = "for_deletion", &deactivated, false })
	setUser(sc, dana, func(u *User) { u.PlatformRoles = []string{"user-access-admin", "ai-access"} })
}

// manyServiceAccounts adds n service accounts.
func manyServiceAccounts(n int) func(sc *Scenario) {
	return func(sc *Scenario) {
		for i := range n {
			sc.Users = append(sc.Users, User{AccountID: fmt.Sprintf("sa-test-%03d", i), AccountType: AccountApp, AppType: "service",
				Active: i%7 != 0, DisplayName: fmt.Sprintf("Service %03d", i), Email: fmt.Sprintf("sa%03d@serviceaccount.atlassian.com", i)})
		}
	}
}

// auditTrail makes changes through product REST (the site admin), the Org
// API key and the IdP, so events-stream shows every actor.
func auditTrail(ts *testSite) {
	site := ts.srv.site
	site.mu.Lock()
	if aerr := site.removeMemberAs(site.groups[GroupEngineering], chen, SyncedRemovalUndone, ""); aerr != nil {
		ts.t.Fatal(aerr.ErrorMessages)
	}
	if aerr := site.addMemberAs(site.groups[GroupContractors], dana, orgActor); aerr != nil {
		ts.t.Fatal(aerr.ErrorMessages)
	}
	site.mu.Unlock()
	site.SyncIdP()
}

// wantJSON decodes a body for a case's extra check.
func wantJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("body %s: %v", b, err)
	}
}

func orgContractCases() []orgCase {
	const (
		orgs       = "/admin/v1/orgs"
		org        = "/admin/v1/orgs/{orgId}"
		lastActive = "/admin/v1/orgs/{orgId}/directory/users/{accountId}/last-active-dates"
		events     = "/admin/v1/orgs/{orgId}/events-stream"
		workspaces = "/admin/v2/orgs/{orgId}/workspaces"
		dirs       = "/admin/v2/orgs/{orgId}/directories"
		dir        = "/admin/v2/orgs/{orgId}/directories/{directoryId}"
		users      = dir + "/users/search"
		user       = dir + "/users/{accountId}"
		userRoles  = dir + "/users/{accountId}/role-assignments"
		groups     = dir + "/groups/search"
		group      = dir + "/groups/{groupId}"
		groupRoles = dir + "/groups/{groupId}/role-assignments"
		add        = dir + "/groups/{groupId}/memberships"
		remove     = dir + "/groups/{groupId}/memberships/{accountId}"
		service    = "/admin/api-access/v1/orgs/{orgId}/service-accounts"
	)
	get, post, del := http.MethodGet, http.MethodPost, http.MethodDelete
	other := map[string]string{"orgId": "other-org"}
	nodir := map[string]string{"directoryId": "no-such-directory"}
	anyDir := map[string]string{"directoryId": "-"}
	acct := func(id string) map[string]string { return map[string]string{"accountId": id} }
	grp := func(id string) map[string]string { return map[string]string{"groupId": id} }
	both := func(g, a string) map[string]string { return map[string]string{"groupId": g, "accountId": a} }
	with := func(m map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	tok := func(kind string, limit, offset int, q any) string { return newWalk(kind, limit, q).at(offset) }
	eleven := strings.Repeat("resourceIds=ari%3Acloud%3Ax%3A%3Asite%2F1&", 10) + "resourceIds=ari%3Acloud%3Ax%3A%3Asite%2F2"
	agentsFull := func(ts *testSite) { // jira-servicedesk at its 3 seats
		ts.srv.site.mu.Lock()
		defer ts.srv.site.mu.Unlock()
		ts.srv.site.members[GroupAgents][bob] = true
	}
	workspacePage := func(n int, statuses ...string) func(t *testing.T, ts *testSite, b []byte) {
		return func(t *testing.T, ts *testSite, b []byte) {
			var p struct {
				Data []struct {
					Attributes struct {
						Status  string `json:"status"`
						Sandbox struct {
							Type string `json:"type"`
						} `json:"sandbox"`
					} `json:"attributes"`
				} `json:"data"`
			}
			wantJSON(t, b, &p)
			if len(p.Data) != n {
				t.Fatalf("%d workspaces, want %d", len(p.Data), n)
			}
			for i, s := range statuses {
				if p.Data[i].Attributes.Status != s || p.Data[i].Attributes.Sandbox.Type != "NONE" {
					t.Errorf("workspace %d: %+v, want status %s", i, p.Data[i].Attributes, s)
				}
			}
		}
	}
	return []orgCase{
		// §1 GET /admin/v1/orgs.
		{name: "orgs", method: get, op: orgs, status: 200, validRequest: true},
		{name: "orgs own cursor", method: get, op: orgs, query: q("cursor", tok(cursorOrgs, 20, 0, nil)), status: 200, validRequest: true},
		{name: "orgs bad cursor", method: get, op: orgs, query: q("cursor", "bogus"), status: 400, code: "ADMIN-400-1", validRequest: true},
		{name: "orgs other list's cursor", method: get, op: orgs, query: q("cursor", tok(cursorUsers, 20, 0, nil)), status: 400, code: "ADMIN-400-1", validRequest: true},
		{name: "orgs no key", method: get, op: orgs, key: keyNone, status: 401, code: "401"},
		{name: "orgs wrong key", method: get, op: orgs, key: keyWrong, status: 401, code: "401"},
		{name: "orgs basic", method: get, op: orgs, key: keyBasic, status: 401, code: "401"},

		// §2 GET /admin/v1/orgs/{orgId}.
		{name: "org", method: get, op: org, status: 200, validRequest: true},
		{name: "org other", method: get, op: org, params: other, status: 404, code: "ADMIN-404-2", validRequest: true},
		{name: "org no key", method: get, op: org, key: keyNone, status: 401, code: "401"},

		// §3 POST workspaces.
		{name: "workspaces", method: post, op: workspaces, status: 200, validRequest: true, check: workspacePage(5, "online")},
		{name: "workspaces empty object", method: post, op: workspaces, body: `{}`, status: 200, validRequest: true},
		{name: "workspaces limit 2", method: post, op: workspaces, body: `{"limit":2}`, status: 200, validRequest: true, check: workspacePage(2)},
		{name: "workspaces limit 1000", method: post, op: workspaces, body: `{"limit":1000}`, status: 200, validRequest: true, check: workspacePage(5)},
		{name: "workspaces cursor", method: post, op: workspaces, body: `{"cursor":"` + tok(cursorWorkspaces, 2, 2, nil) + `"}`, status: 200, validRequest: true, check: workspacePage(2)},
		{name: "workspaces cursor past the end", method: post, op: workspaces, body: `{"cursor":"` + tok(cursorWorkspaces, 2, 10, nil) + `"}`, status: 200, validRequest: true, check: workspacePage(0)},
		{name: "workspaces null cursor", method: post, op: workspaces, body: `{"cursor":null,"limit":3}`, status: 200, validRequest: true, check: workspacePage(3)},
		{name: "workspaces query and sort", method: post, op: workspaces, body: `{"query":{"and":[{"field":{"name":"status","values":["online"]}}]},"sort":[{"field":"name","order":"asc"}]}`, status: 200, validRequest: true},
		{name: "workspaces offline and deprecated", method: post, op: workspaces, status: 200, validRequest: true,
			scenario: func(sc *Scenario) {
				sc.Products[1].WorkspaceStatus, sc.Products[2].WorkspaceStatus = WorkspaceOffline, WorkspaceDeprecated
			}, check: workspacePage(5, "online", "offline", "deprecated", "online")},
		{name: "workspaces limit 1001", method: post, op: workspaces, body: `{"limit":1001}`, status: 400, code: "ADMIN-400-24"},
		{name: "workspaces limit 0", method: post, op: workspaces, body: `{"limit":0}`, status: 400, code: "ADMIN-400-24"},
		{name: "workspaces limit not a number", method: post, op: workspaces, body: `{"limit":"ten"}`, status: 400, code: "ADMIN-400-24"},
		{name: "workspaces cursor with limit", method: post, op: workspaces, body: `{"limit":2,"cursor":"` + tok(cursorWorkspaces, 2, 2, nil) + `"}`, status: 400, code: "ADMIN-400-24", validRequest: true},
		{name: "workspaces bad cursor", method: post, op: workspaces, body: `{"cursor":"bogus"}`, status: 400, code: "ADMIN-400-1", validRequest: true},
		{name: "workspaces bad json", method: post, op: workspaces, body: `{"limit":`, status: 400, code: "ADMIN-400-24"},
		{name: "workspaces array body", method: post, op: workspaces, body: `[]`, status: 400, code: "ADMIN-400-24"},
		{name: "workspaces other org", method: post, op: workspaces, params: other, status: 404, code: "ADMIN-404-2", validRequest: true},
		{name: "workspaces no key", method: post, op: workspaces, key: keyNone, status: 401, code: "401"},
		{name: "workspaces wrong key", method: post, op: workspaces, key: keyWrong, status: 401, code: "401"},

		// §4 GET directories.
		{name: "directories", method: get, op: dirs, status: 200, validRequest: true},
		{name: "directories search", method: get, op: dirs, query: q("searchTerm", "sim org", "limit", "1"), status: 200, validRequest: true},
		{name: "directories search none", method: get, op: dirs, query: q("searchTerm", "nothing"), status: 200, validRequest: true},
		{name: "directories member", method: get, op: dirs, query: q("accountId", bob), status: 200, validRequest: true},
		{name: "directories app account", method: get, op: dirs, query: q("accountId", autoApp), status: 200, validRequest: true},
		{name: "directories cursor discards the rest", method: get, op: dirs, query: q("cursor", tok(cursorDirectories, 20, 0, directoryFilters{}), "limit", "x"), status: 200},
		{name: "directories limit 0", method: get, op: dirs, query: q("limit", "0"), status: 400, code: "ADMIN-400-4"},
		{name: "directories limit 101", method: get, op: dirs, query: q("limit", "101"), status: 400, code: "ADMIN-400-4"},
		{name: "directories limit x", method: get, op: dirs, query: q("limit", "x"), status: 400, code: "ADMIN-400-4"},
		{name: "directories bad cursor", method: get, op: dirs, query: q("cursor", "bogus"), status: 400, code: "ADMIN-400-1", validRequest: true},
		{name: "directories other org", method: get, op: dirs, params: other, status: 404, code: "ADMIN-404-2", validRequest: true},
		{name: "directories no key", method: get, op: dirs, key: keyNone, status: 401, code: "ADMIN-401-2"},
		{name: "directories wrong key", method: get, op: dirs, key: keyWrong, status: 401, code: "ADMIN-401-2"},

		// §5 POST users/search.
		{name: "users", method: post, op: users, status: 200, validRequest: true},
		{name: "users expanded", method: post, op: users, body: `{"expand":["platformRoles","counts.resources","productAccess","groups"]}`, status: 200, validRequest: true},
		{name: "users every status", method: post, op: users, body: `{"expand":["platformRoles","counts.resources","productAccess","groups"],"limit":100}`, scenario: orgStatuses, status: 200, validRequest: true,
			check: func(t *testing.T, _ *testSite, b []byte) {
				var p docUserPage
				strictDecode(t, b, &p)
				got := map[string]string{}
				for _, u := range p.Data {
					got[u.Status] = u.AccountStatus + "/" + u.MembershipStatus
				}
				want := map[string]string{"active": "active/active", "suspended": "active/suspended", "not_invited": "active/no_membership",
					"deactivated": "inactive/active", "for_deletion": "inactive/active"}
				for st, w := range want {
					if got[st] != w {
						t.Errorf("status %s: %q, want %q", st, got[st], w)
					}
				}
			}},
		{name: "users filtered page", method: post, op: users, body: `{"limit":2,"status":["active"],"accountStatus":["active"],"membershipStatus":["active"],"claimStatus":"managed","mfaEnabled":false}`, status: 200, validRequest: true},
		{name: "users by resource and role", method: post, op: users, body: `{"resourceIds":["ari:cloud:confluence::site/c0ffee00-0000-4000-8000-000000000001"],"roleIds":["atlassian/guest"],"expand":["productAccess"]}`, status: 200, validRequest: true},
		{name: "users sorted desc", method: post, op: users, body: `{"sortBy":[{"field":"nick_name","direction":"desc"}]}`, status: 200, validRequest: true},
		{name: "users cursor discards the rest", method: post, op: users, body: `{"cursor":"` + tok(cursorUsers, 2, 2, userSearch{}) + `","limit":1000}`, status: 200},
		{name: "users any directory", method: post, op: users, params: anyDir, body: `{"directoryIds":["` + DefaultDirectoryID + `"]}`, status: 200, validRequest: true},
		{name: "users limit 101", method: post, op: users, body: `{"limit":101}`, status: 400, code: "ADMIN-400-24", validRequest: true},
		{name: "users limit 0", method: post, op: users, body: `{"limit":0}`, status: 400, code: "ADMIN-400-24", validRequest: true},
		{name: "users searchTerm and emails", method: post, op: users, body: `{"searchTerm":"a","emails":["a@b.c"]}`, status: 400, code: "ADMIN-400-24", validRequest: true},
		{name: "users bad sortBy", method: post, op: users, body: `{"sortBy":[{"field":"email","direction":"asc"}]}`, status: 400, code: "ADMIN-400-24"},
		{name: "users bad cursor", method: post, op: users, body: `{"cursor":"bogus"}`, status: 400, code: "ADMIN-400-1", validRequest: true},
		{name: "users cursor not a string", method: post, op: users, body: `{"cursor":7}`, status: 400, code: "ADMIN-400-24"},
		{name: "users bad json", method: post, op: users, body: `{"status":"active"}`, status: 400, code: "ADMIN-400-24"},
		{name: "users unknown directory", method: post, op: users, params: nodir, status: 404, code: "ADMIN-404-1", validRequest: true},
		{name: "users unknown directoryIds", method: post, op: users, body: `{"directoryIds":["nope"]}`, status: 404, code: "ADMIN-404-1", validRequest: true},
		{name: "users other org", method: post, op: users, params: other, status: 404, code: "ADMIN-404-2", validRequest: true},
		{name: "users no key", method: post, op: users, key: keyNone, status: 401, code: "ADMIN-401-2"},
		{name: "users wrong key", method: post, op: users, key: keyWrong, status: 401, code: "ADMIN-401-2"},

		// §12 GET users/{accountId}.
		{name: "user", method: get, op: user, params: acct(alice), status: 200, validRequest: true},
		{name: "user hidden email", method: get, op: user, params: acct(emile), status: 200, validRequest: true},
		{name: "user deactivated", method: get, op: user, params: acct(frank), scenario: orgStatuses, status: 200, validRequest: true,
			check: func(t *testing.T, _ *testSite, b []byte) {
				var u struct{ Data docUserDetails }
				strictDecode(t, b, &u)
				if u.Data.Status != "deactivated" || u.Data.DeactivatedOn == nil || *u.Data.DeactivatedOn != "2024-03-01T09:00:00Z" {
					t.Fatalf("frank = %+v", u.Data)
				}
			}},
		{name: "user for deletion", method: get, op: user, params: acct(grace), scenario: orgStatuses, status: 200, validRequest: true},
		{name: "user expand ignored", method: get, op: user, params: with(acct(bob), "directoryId", "-"), query: q("expand", "productAccess"), status: 200},
		{name: "user unknown", method: get, op: user, params: acct("nobody"), status: 404, code: "ADMIN-404-8", validRequest: true},
		{name: "user app account", method: get, op: user, params: acct(autoApp), status: 404, code: "ADMIN-404-8", validRequest: true},
		{name: "user customer", method: get, op: user, params: acct(portal), status: 404, code: "ADMIN-404-8", validRequest: true},
		{name: "user unknown directory", method: get, op: user, params: with(acct(alice), "directoryId", "nope"), status: 404, code: "ADMIN-404-1", validRequest: true},
		{name: "user other org", method: get, op: user, params: with(acct(alice), "orgId", "other-org"), status: 404, code: "ADMIN-404-2", validRequest: true},
		{name: "user no key", method: get, op: user, params: acct(alice), key: keyNone, status: 401, code: "ADMIN-401-2"},

		// §8 GET users/{accountId}/role-assignments.
		{name: "user roles", method: get, op: userRoles, params: acct(bob), status: 200, validRequest: true},
		{name: "user roles org admin", method: get, op: userRoles, params: acct(alice), status: 200, validRequest: true},
		{name: "user roles suspended", method: get, op: userRoles, params: acct(bob), scenario: orgStatuses, status: 200, validRequest: true,
			check: func(t *testing.T, _ *testSite, b []byte) {
				var p docUserRoles
				strictDecode(t, b, &p)
				for _, d := range p.Data {
					if d.UserDirectoryStatus == nil || *d.UserDirectoryStatus != "suspended" {
						t.Fatalf("bob suspended: %+v", d)
					}
				}
			}},
		{name: "user roles not invited", method: get, op: userRoles, params: acct(chen), scenario: orgStatuses, status: 200, validRequest: true},
		{name: "user roles platform", method: get, op: userRoles, params: acct(dana), scenario: orgStatuses, query: q("resourceOwners", "platform"), status: 200, validRequest: true},
		{name: "user roles filtered", method: get, op: userRoles, params: acct(alice), query: q("limit", "1", "roleIds", "atlassian/admin", "directoryIds", DefaultDirectoryID, "resourceIds", "ari:cloud:jira-software::site/c0ffee00-0000-4000-8000-000000000001"), status: 200, validRequest: true},
		{name: "user roles cursor discards the rest", method: get, op: userRoles, params: acct(alice), query: q("cursor", tok(cursorUserRoles, 1, 1, roleFilters{}), "limit", "0"), status: 200},
		{name: "user roles limit 0", method: get, op: userRoles, params: acct(alice), query: q("limit", "0"), status: 400, code: "ADMIN-400-4"},
		{name: "user roles limit 101", method: get, op: userRoles, params: acct(alice), query: q("limit", "101"), status: 400, code: "ADMIN-400-4"},
		{name: "user roles 11 resources", method: get, op: userRoles, params: acct(alice), query: eleven, status: 400, code: "ADMIN-400-4"},
		{name: "user roles bad cursor", method: get, op: userRoles, params: acct(alice), query: q("cursor", "bogus"), status: 400, code: "ADMIN-400-1", validRequest: true},
		{name: "user roles unknown user", method: get, op: userRoles, params: acct("nobody"), status: 404, code: "ADMIN-404-8", validRequest: true},
		{name: "user roles unknown directory", method: get, op: userRoles, params: with(acct(alice), "directoryId", "nope"), status: 404, code: "ADMIN-404-1", validRequest: true},
		{name: "user roles other org", method: get, op: userRoles, params: with(acct(alice), "orgId", "other-org"), status: 404, code: "ADMIN-404-2", validRequest: true},
		{name: "user roles no key", method: get, op: userRoles, params: acct(alice), key: keyNone, status: 401, code: "ADMIN-401-2"},

		// §6 POST groups/search.
		{name: "groups", method: post, op: groups, status: 200, validRequest: true},
		{name: "groups expanded", method: post, op: groups, body: `{"expand":["counts.users","counts.resources"],"limit":3}`, status: 200, validRequest: true},
		{name: "groups one count", method: post, op: groups, body: `{"expand":["counts.users"]}`, status: 200, validRequest: true},
		{name: "groups by name", method: post, op: groups, body: `{"groupNames":["ENGINEERING"]}`, status: 200, validRequest: true},
		{name: "groups by role", method: post, op: groups, body: `{"roleIds":["atlassian/admin"],"resourceOwners":["jira-software"],"accountIds":["` + alice + `"]}`, status: 200, validRequest: true},
		{name: "groups sorted desc", method: post, op: groups, body: `{"sortBy":[{"field":"name","direction":"desc"}]}`, status: 200, validRequest: true},
		{name: "groups managed by everyone", method: post, op: groups, status: 200, validRequest: true,
			scenario: func(sc *Scenario) {
				sc.Groups[6].ManagedBy, sc.Groups[7].ManagedBy, sc.Groups[7].Description = "team-members", "open", "Everyone at the company"
			},
			check: func(t *testing.T, _ *testSite, b []byte) {
				var p docGroupPage
				strictDecode(t, b, &p)
				by := map[string]string{}
				for _, g := range p.Data {
					by[g.ManagedBy] = g.Description
				}
				if _, ok := by["team-members"]; !ok || by["open"] != "Everyone at the company" || len(by) != 4 {
					t.Fatalf("managedBy %v", by)
				}
			}},
		{name: "groups cursor discards the rest", method: post, op: groups, body: `{"cursor":"` + tok(cursorGroups, 3, 3, groupSearch{}) + `","groupNames":["x"],"searchTerm":"y"}`, status: 200},
		{name: "groups names and term", method: post, op: groups, body: `{"groupNames":["a"],"searchTerm":"a"}`, status: 400, code: "ADMIN-400-24", validRequest: true},
		{name: "groups names and ids", method: post, op: groups, body: `{"groupNames":["a"],"groupIds":["` + GroupAgents + `"]}`, status: 400, code: "ADMIN-400-24", validRequest: true},
		{name: "groups limit 101", method: post, op: groups, body: `{"limit":101}`, status: 400, code: "ADMIN-400-24", validRequest: true},
		{name: "groups bad cursor", method: post, op: groups, body: `{"cursor":"bogus"}`, status: 400, code: "ADMIN-400-1", validRequest: true},
		{name: "groups bad json", method: post, op: groups, body: `{`, status: 400, code: "ADMIN-400-24"},
		{name: "groups unknown directory", method: post, op: groups, params: nodir, status: 404, code: "ADMIN-404-1", validRequest: true},
		{name: "groups other org", method: post, op: groups, params: other, status: 404, code: "ADMIN-404-2", validRequest: true},
		{name: "groups no key", method: post, op: groups, key: keyNone, status: 401, code: "ADMIN-401-2"},

		// §13 GET groups/{groupId}.
		{name: "group", method: get, op: group, params: grp(GroupAgents), status: 200, validRequest: true},
		{name: "group synced", method: get, op: group, params: with(grp(GroupEngineering), "directoryId", "-"), status: 200, validRequest: true},
		{name: "group unknown", method: get, op: group, params: grp("nope"), status: 404, code: "ADMIN-404-10", validRequest: true},
		{name: "group unknown directory", method: get, op: group, params: with(grp(GroupAgents), "directoryId", "nope"), status: 404, code: "ADMIN-404-1", validRequest: true},
		{name: "group other org", method: get, op: group, params: with(grp(GroupAgents), "orgId", "other-org"), status: 404, code: "ADMIN-404-2", validRequest: true},
		{name: "group no key", method: get, op: group, params: grp(GroupAgents), key: keyNone, status: 401, code: "ADMIN-401-2"},

		// §7 GET groups/{groupId}/role-assignments.
		{name: "group roles default group", method: get, op: groupRoles, params: grp(GroupSoftwareUsers), status: 200, validRequest: true},
		{name: "group roles two products", method: get, op: groupRoles, params: grp(GroupJiraAdmins), status: 200, validRequest: true},
		{name: "group roles none", method: get, op: groupRoles, params: grp(GroupAllStaff), status: 200, validRequest: true},
		{name: "group roles filtered", method: get, op: groupRoles, params: grp(GroupJiraAdmins), query: q("resourceOwners", JiraServiceDesk, "roleIds", "atlassian/admin", "limit", "1"), status: 200, validRequest: true},
		{name: "group roles cursor discards the rest", method: get, op: groupRoles, params: grp(GroupJiraAdmins), query: q("cursor", tok(cursorGroupRoles, 1, 1, roleFilters{}), "limit", "500"), status: 200},
		{name: "group roles limit 101", method: get, op: groupRoles, params: grp(GroupJiraAdmins), query: q("limit", "101"), status: 400, code: "ADMIN-400-4"},
		{name: "group roles 11 resources", method: get, op: groupRoles, params: grp(GroupJiraAdmins), query: eleven, status: 400, code: "ADMIN-400-4"},
		{name: "group roles bad cursor", method: get, op: groupRoles, params: grp(GroupJiraAdmins), query: q("cursor", "bogus"), status: 400, code: "ADMIN-400-1", validRequest: true},
		{name: "group roles unknown group", method: get, op: groupRoles, params: grp("nope"), status: 404, code: "ADMIN-404-10", validRequest: true},
		{name: "group roles unknown directory", method: get, op: groupRoles, params: with(grp(GroupAgents), "directoryId", "nope"), status: 404, code: "ADMIN-404-1", validRequest: true},
		{name: "group roles other org", method: get, op: groupRoles, params: with(grp(GroupAgents), "orgId", "other-org"), status: 404, code: "ADMIN-404-2", validRequest: true},
		{name: "group roles no key", method: get, op: groupRoles, params: grp(GroupAgents), key: keyNone, status: 401, code: "ADMIN-401-2"},

		// §10 POST memberships.
		{name: "add", method: post, op: add, params: grp(GroupContractors), body: `{"accountId":"` + chen + `"}`, status: 204, validRequest: true},
		{name: "add existing member", method: post, op: add, params: grp(GroupAllStaff), body: `{"accountId":"` + bob + `"}`, status: 204, validRequest: true},
		{name: "add no account", method: post, op: add, params: grp(GroupContractors), body: `{}`, status: 400, code: "ADMIN-400-24", validRequest: true},
		{name: "add bad json", method: post, op: add, params: grp(GroupContractors), body: `{"accountId":1}`, status: 400, code: "ADMIN-400-24"},
		{name: "add synced", method: post, op: add, params: grp(GroupEngineering), body: `{"accountId":"` + dana + `"}`, status: 403, code: "ADMIN-403-5", validRequest: true},
		{name: "add unknown group", method: post, op: add, params: grp("nope"), body: `{"accountId":"` + dana + `"}`, status: 404, code: "ADMIN-404-10", validRequest: true},
		{name: "add unknown user", method: post, op: add, params: grp(GroupAllStaff), body: `{"accountId":"nobody"}`, status: 404, code: "ADMIN-404-8", validRequest: true},
		{name: "add customer", method: post, op: add, params: grp(GroupAllStaff), body: `{"accountId":"` + portal + `"}`, status: 404, code: "ADMIN-404-8", validRequest: true},
		{name: "add unknown directory", method: post, op: add, params: with(grp(GroupAllStaff), "directoryId", "nope"), body: `{"accountId":"` + dana + `"}`, status: 404, code: "ADMIN-404-1", validRequest: true},
		{name: "add other org", method: post, op: add, params: with(grp(GroupAllStaff), "orgId", "other-org"), body: `{"accountId":"` + dana + `"}`, status: 404, code: "ADMIN-404-2", validRequest: true},
		{name: "add beyond seats", method: post, op: add, params: grp(GroupAgents), body: `{"accountId":"` + grace + `"}`, setup: agentsFull, status: 409, code: "ADMIN-409-3", validRequest: true},
		{name: "add no key", method: post, op: add, params: grp(GroupAllStaff), body: `{"accountId":"` + dana + `"}`, key: keyNone, status: 401, code: "ADMIN-401-2"},

		// §11 DELETE memberships/{accountId}.
		{name: "remove", method: del, op: remove, params: both(GroupAllStaff, dana), status: 204, validRequest: true},
		{name: "remove non-member", method: del, op: remove, params: both(GroupAgents, bob), status: 204, validRequest: true},
		{name: "remove synced", method: del, op: remove, params: both(GroupEngineering, bob), status: 403, code: "ADMIN-403-5", validRequest: true},
		{name: "remove unknown group", method: del, op: remove, params: both("nope", bob), status: 404, code: "ADMIN-404-10", validRequest: true},
		{name: "remove unknown user", method: del, op: remove, params: both(GroupAllStaff, "nobody"), status: 404, code: "ADMIN-404-8", validRequest: true},
		{name: "remove unknown directory", method: del, op: remove, params: with(both(GroupAllStaff, bob), "directoryId", "nope"), status: 404, code: "ADMIN-404-1", validRequest: true},
		{name: "remove no key", method: del, op: remove, params: both(GroupAllStaff, bob), key: keyNone, status: 401, code: "ADMIN-401-2"},

		// §14 GET last-active-dates.
		{name: "last active", method: get, op: lastActive, params: acct(alice), status: 200, validRequest: true},
		{name: "last active nothing known", method: get, op: lastActive, params: acct(bob), status: 200, validRequest: true},
		{name: "last active every product", method: get, op: lastActive, params: acct(grace), status: 200, validRequest: true,
			scenario: func(sc *Scenario) {
				at := time.Date(2025, 5, 4, 3, 2, 1, 0, time.UTC)
				setUser(sc, grace, func(u *User) {
					u.LastActive = map[string]time.Time{JiraSoftware: at, JiraServiceDesk: at, JiraProductDisco: at, JiraCore: at, Confluence: at}
				})
			},
			check: func(t *testing.T, _ *testSite, b []byte) {
				var la docLastActive
				strictDecode(t, b, &la)
				var keys []string
				for _, p := range la.Data.ProductAccess {
					keys = append(keys, p.Key)
				}
				if !slices.Equal(keys, []string{"jira-software", "jira-service-desk", "jira-product-discovery", "jira-core", "confluence"}) || la.Data.AddedToOrg != nil {
					t.Fatalf("keys %q, added %v", keys, la.Data.AddedToOrg)
				}
			}},
		{name: "last active bad cursor", method: get, op: lastActive, params: acct(alice), query: q("cursor", "bogus"), status: 400, code: "ADMIN-400-1", validRequest: true},
		{name: "last active unknown user", method: get, op: lastActive, params: acct("nobody"), status: 404, code: "ADMIN-404-8", validRequest: true},
		{name: "last active other org", method: get, op: lastActive, params: with(acct(alice), "orgId", "other-org"), status: 404, code: "ADMIN-404-2", validRequest: true},
		{name: "last active no key", method: get, op: lastActive, params: acct(alice), key: keyNone, status: 401, code: "401"},
		{name: "last active wrong key", method: get, op: lastActive, params: acct(alice), key: keyWrong, status: 401, code: "401"},

		// §15 GET events-stream.
		{name: "events empty", method: get, op: events, status: 200, validRequest: true},
		{name: "events every actor", method: get, op: events, setup: auditTrail, status: 200, validRequest: true,
			check: func(t *testing.T, ts *testSite, b []byte) {
				var p docEvents
				strictDecode(t, b, &p)
				actors := map[string]bool{}
				for _, e := range p.Data {
					actors[e.Attributes.Actor.ID] = true
					if e.Attributes.ProcessedAt == "" || e.Attributes.Actor.Links.Self == "" || e.Message.Content == "" {
						t.Errorf("event %+v", e)
					}
				}
				if len(actors) != 3 || p.Links.Next != nil || p.Meta.Next != nil {
					t.Fatalf("actors %v, links %+v, meta %+v", actors, p.Links, p.Meta)
				}
			}},
		{name: "events first of many", method: get, op: events, setup: auditTrail, query: q("limit", "1", "sortOrder", "desc"), status: 200, validRequest: true},
		{name: "events from to", method: get, op: events, setup: auditTrail, query: q("from", "0", "to", strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10), "limit", "500"), status: 200, validRequest: true},
		{name: "events cursor discards the rest", method: get, op: events, setup: auditTrail, query: q("cursor", tok(cursorEvents, 2, 1, eventsWalk{SortOrder: "asc"}), "limit", "0", "from", "x", "sortOrder", "up"), status: 200},
		{name: "events limit 0", method: get, op: events, query: q("limit", "0"), status: 400, code: "ADMIN-400-4"},
		{name: "events limit 501", method: get, op: events, query: q("limit", "501"), status: 400, code: "ADMIN-400-4"},
		{name: "events bad sortOrder", method: get, op: events, query: q("sortOrder", "up"), status: 400, code: "ADMIN-400-4"},
		{name: "events bad from", method: get, op: events, query: q("from", "yesterday"), status: 400, code: "ADMIN-400-3", validRequest: true},
		{name: "events bad cursor", method: get, op: events, query: q("cursor", "bogus"), status: 400, code: "ADMIN-400-1", validRequest: true},
		{name: "events other org", method: get, op: events, params: other, status: 404, code: "ADMIN-404-2", validRequest: true},
		{name: "events no key", method: get, op: events, key: keyNone, status: 401, code: "401"},

		// §9 GET service-accounts.
		{name: "service accounts", method: get, op: service, status: 200, validRequest: true},
		{name: "service accounts ignore parameters", method: get, op: service, query: q("limit", "1", "foo", "bar"), status: 200,
			check: func(t *testing.T, _ *testSite, b []byte) {
				var p docServiceAccounts
				strictDecode(t, b, &p)
				if len(p.Items) != 1 || p.Total != 1 {
					t.Fatalf("page %+v", p)
				}
			}},
		{name: "service accounts first page", method: get, op: service, scenario: manyServiceAccounts(120), status: 200, validRequest: true,
			check: func(t *testing.T, _ *testSite, b []byte) {
				var p docServiceAccounts
				strictDecode(t, b, &p)
				if len(p.Items) != serviceAccountsPage || p.Total != 121 || p.Links.Next == "" || p.Links.Prev != "" {
					t.Fatalf("page of %d, total %v, links %+v", len(p.Items), p.Total, p.Links)
				}
			}},
		{name: "service accounts last page", method: get, op: service, scenario: manyServiceAccounts(120), query: q("cursor", tok(cursorService, serviceAccountsPage, 100, nil)), status: 200},
		{name: "service accounts bad cursor", method: get, op: service, query: q("cursor", "bogus"), status: 400, code: "ADMIN-400-1"},
		{name: "service accounts other org", method: get, op: service, params: other, status: 404, code: "ADMIN-404-2", validRequest: true},
		{name: "service accounts no key", method: get, op: service, key: keyNone, status: 401, code: "ADMIN-401-2"},
		{name: "service accounts wrong key", method: get, op: service, key: keyWrong, status: 401, code: "ADMIN-401-2"},
	}
}

// TestOrgContractRateLimited: with a rate limit, every operation's 429
// follows the schema (or its family's envelope where none is documented),
// with the code of its family and the documented X-RateLimit-* headers;
// the reset is when a token is due again.
func TestOrgContractRateLimited(t *testing.T) {
	ct := loadOrgContract(t)
	done := map[string]bool{}
	for _, c := range orgContractCases() {
		key := c.method + " " + c.op
		if done[key] || c.status >= 300 || c.key != "" {
			continue
		}
		done[key] = true
		t.Run(key, func(t *testing.T) {
			sc := orgScenario()
			if c.scenario != nil {
				c.scenario(&sc)
			}
			now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
			ts := newTestSite(t, sc, Options{OrgRateLimit: 2, Now: func() time.Time { return now }})
			if c.setup != nil {
				c.setup(ts)
			}
			for range 2 { // the bucket holds one second: two requests
				if res := ts.do(orgCred(""), http.MethodGet, "/admin/v1/orgs", "", ""); res.status != http.StatusOK {
					t.Fatalf("within the limit: %d %s", res.status, res.body)
				}
			}
			res := ts.do(orgCred(""), c.method, c.path(), c.query, c.body)
			if res.status != http.StatusTooManyRequests {
				t.Fatalf("over the limit: %d %s", res.status, res.body)
			}
			limited := c
			limited.status, limited.code = http.StatusTooManyRequests, "ADMIN-429-1"
			if orgEnvelope(c.op, http.StatusTooManyRequests) == "ProxyError" {
				limited.code = "429"
			}
			ct.check(t, limited, res)
			h := res.header
			if h.Get("X-RateLimit-Limit") != "2" || h.Get("X-RateLimit-Remaining") != "0" ||
				h.Get("X-RateLimit-Reset") != now.Add(time.Second).Format(time.RFC3339) || h.Get("Retry-After") != "" {
				t.Fatalf("headers %v", h)
			}
			now = now.Add(500 * time.Millisecond) // one token is due again
			if res := ts.do(orgCred(""), c.method, c.path(), c.query, c.body); res.status != c.status {
				t.Fatalf("after the reset: %d, want %d; %s", res.status, c.status, res.body)
			}
		})
	}
	if len(done) != len(orgImplementedOperations()) {
		t.Fatalf("%d of %d operations checked", len(done), len(orgImplementedOperations()))
	}
}
