package sitesim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// implementedOperations is the list of Jira operations the site serves.
// TestRegisteredOperations holds the mux to it, and TestContract demands a
// case for each, so a route added without a contract case fails.
func implementedOperations() []string {
	return []string{
		"DELETE /rest/api/3/group/user",
		"GET /rest/api/3/applicationrole",
		"GET /rest/api/3/applicationrole/{key}",
		"GET /rest/api/3/group/bulk",
		"GET /rest/api/3/group/member",
		"GET /rest/api/3/instance/license",
		"GET /rest/api/3/license/approximateLicenseCount",
		"GET /rest/api/3/license/approximateLicenseCount/product/{applicationKey}",
		"GET /rest/api/3/myself",
		"GET /rest/api/3/user",
		"GET /rest/api/3/user/groups",
		"GET /rest/api/3/user/search",
		"GET /rest/api/3/users/search",
		"POST /rest/api/3/group/user",
		"POST /rest/api/3/permissions/check",
	}
}

func TestRegisteredOperations(t *testing.T) {
	got := defaultSite(t).srv.registeredOperations()
	if !slices.Equal(got, implementedOperations()) {
		t.Fatalf("registered operations\n got %q\nwant %q", got, implementedOperations())
	}
}

// contractCase is one request of the contract test.
type contractCase struct {
	name         string
	method, op   string            // the OpenAPI path
	params       map[string]string // path parameters
	query, body  string
	cred         func() cred // nil: Basic
	modes        *Modes
	setup        func(ts *testSite)
	status       int
	validRequest bool // the request itself follows the OpenAPI
}

func (c contractCase) path() string {
	p := c.op
	for k, v := range c.params {
		p = strings.ReplaceAll(p, "{"+k+"}", url.PathEscape(v))
	}
	return p
}

func contractCases() []contractCase {
	const (
		roles   = "/rest/api/3/applicationrole"
		role    = "/rest/api/3/applicationrole/{key}"
		bulk    = "/rest/api/3/group/bulk"
		member  = "/rest/api/3/group/member"
		guser   = "/rest/api/3/group/user"
		users   = "/rest/api/3/users/search"
		user    = "/rest/api/3/user"
		ugroups = "/rest/api/3/user/groups"
		search  = "/rest/api/3/user/search"
		myself  = "/rest/api/3/myself"
		lic     = "/rest/api/3/instance/license"
		approx  = "/rest/api/3/license/approximateLicenseCount"
		approxP = "/rest/api/3/license/approximateLicenseCount/product/{applicationKey}"
		perms   = "/rest/api/3/permissions/check"
	)
	get, post, del := http.MethodGet, http.MethodPost, http.MethodDelete
	none := func() cred { return noCred() }
	connect := func() cred { return connectCred("connect", nil) }
	agentsFull := func(ts *testSite) { // jira-servicedesk at its 3 seats
		ts.srv.site.mu.Lock()
		defer ts.srv.site.mu.Unlock()
		ts.srv.site.members[GroupAgents][bob] = true
	}
	undone := &Modes{SyncedRemoval: SyncedRemovalUndone}
	return []contractCase{
		{name: "roles", method: get, op: roles, status: 200, validRequest: true},
		{name: "roles anonymous", method: get, op: roles, cred: none, status: 401},
		{name: "roles connect", method: get, op: roles, cred: connect, status: 403},
		{name: "role software", method: get, op: role, params: map[string]string{"key": JiraSoftware}, status: 200, validRequest: true},
		{name: "role core unlimited", method: get, op: role, params: map[string]string{"key": JiraCore}, status: 200, validRequest: true},
		{name: "role unknown", method: get, op: role, params: map[string]string{"key": "jira-nope"}, status: 404, validRequest: true},
		{name: "role anonymous", method: get, op: role, params: map[string]string{"key": JiraSoftware}, cred: none, status: 401},

		{name: "bulk all", method: get, op: bulk, status: 200, validRequest: true},
		{name: "bulk user software", method: get, op: bulk, query: q("accessType", "user", "applicationKey", JiraSoftware), status: 200, validRequest: true},
		{name: "bulk site-admin", method: get, op: bulk, query: q("accessType", "site-admin"), status: 200, validRequest: true},
		{name: "bulk admin", method: get, op: bulk, query: q("accessType", "admin"), status: 200, validRequest: true},
		{name: "bulk core only", method: get, op: bulk, query: q("applicationKey", JiraCore), status: 200, validRequest: true},
		{name: "bulk by id and name", method: get, op: bulk, query: q("groupId", GroupAgents, "groupId", GroupDiscovery, "groupName", "all-staff"), status: 200, validRequest: true},
		{name: "bulk paged", method: get, op: bulk, query: q("startAt", "2", "maxResults", "2"), status: 200, validRequest: true},
		{name: "bulk bad accessType", method: get, op: bulk, query: q("accessType", "owner"), status: 400, validRequest: true},
		{name: "bulk bad applicationKey", method: get, op: bulk, query: q("applicationKey", "confluence"), status: 400, validRequest: true},
		{name: "bulk bad maxResults", method: get, op: bulk, query: q("maxResults", "ten"), status: 400},
		{name: "bulk anonymous", method: get, op: bulk, cred: none, status: 401},
		{name: "bulk connect read", method: get, op: bulk, cred: connect, setup: func(ts *testSite) { ts.installConnectApp("READ") }, status: 403},

		{name: "member by id", method: get, op: member, query: q("groupId", GroupSoftwareUsers), status: 200, validRequest: true},
		{name: "member by name", method: get, op: member, query: q("groupname", "jira-software-users"), status: 200, validRequest: true},
		{name: "member inactive", method: get, op: member, query: q("groupId", GroupSoftwareUsers, "includeInactiveUsers", "true"), status: 200, validRequest: true},
		{name: "member paged", method: get, op: member, query: q("groupId", GroupSoftwareUsers, "startAt", "1", "maxResults", "2"), status: 200, validRequest: true},
		{name: "member past end", method: get, op: member, query: q("groupId", GroupSoftwareUsers, "startAt", "99"), status: 200, validRequest: true},
		{name: "member both refs", method: get, op: member, query: q("groupId", GroupSoftwareUsers, "groupname", "jira-software-users"), status: 400, validRequest: true},
		{name: "member no ref", method: get, op: member, status: 400, validRequest: true},
		{name: "member unknown", method: get, op: member, query: q("groupId", "no-such-group"), status: 404, validRequest: true},
		{name: "member bad bool", method: get, op: member, query: q("groupId", GroupAgents, "includeInactiveUsers", "maybe"), status: 400},
		{name: "member anonymous", method: get, op: member, query: q("groupId", GroupAgents), cred: none, status: 401},

		{name: "add by id", method: post, op: guser, query: q("groupId", GroupAllStaff), body: `{"accountId":"` + chen + `"}`, status: 201, validRequest: true},
		{name: "add by name", method: post, op: guser, query: q("groupname", "all-staff"), body: `{"accountId":"` + grace + `"}`, status: 201, validRequest: true},
		{name: "add no group", method: post, op: guser, body: `{"accountId":"` + chen + `"}`, status: 400, validRequest: true},
		{name: "add both refs", method: post, op: guser, query: q("groupId", GroupAllStaff, "groupname", "all-staff"), body: `{"accountId":"` + chen + `"}`, status: 400, validRequest: true},
		{name: "add no account", method: post, op: guser, query: q("groupId", GroupAllStaff), body: `{}`, status: 400, validRequest: true},
		{name: "add bad json", method: post, op: guser, query: q("groupId", GroupAllStaff), body: `{"accountId":`, status: 400},
		{name: "add unknown group", method: post, op: guser, query: q("groupId", "no-such-group"), body: `{"accountId":"` + chen + `"}`, status: 404, validRequest: true},
		{name: "add unknown user", method: post, op: guser, query: q("groupId", GroupAllStaff), body: `{"accountId":"nobody"}`, status: 404, validRequest: true},
		{name: "add synced", method: post, op: guser, query: q("groupId", GroupEngineering), body: `{"accountId":"` + grace + `"}`, status: 400, validRequest: true},
		{name: "add already member", method: post, op: guser, query: q("groupId", GroupAllStaff), body: `{"accountId":"` + bob + `"}`, status: 400, validRequest: true},
		{name: "add customer", method: post, op: guser, query: q("groupId", GroupAllStaff), body: `{"accountId":"` + portal + `"}`, status: 400, validRequest: true},
		{name: "add beyond seats", method: post, op: guser, query: q("groupId", GroupAgents), body: `{"accountId":"` + chen + `"}`, setup: agentsFull, status: 400, validRequest: true},
		{name: "add anonymous", method: post, op: guser, query: q("groupId", GroupAllStaff), body: `{"accountId":"` + chen + `"}`, cred: none, status: 401},
		{name: "add connect", method: post, op: guser, query: q("groupId", GroupAllStaff), body: `{"accountId":"` + chen + `"}`, cred: connect, status: 403},

		{name: "remove", method: del, op: guser, query: q("groupId", GroupSoftwareUsers, "accountId", grace), status: 200, validRequest: true},
		{name: "remove by name", method: del, op: guser, query: q("groupname", "all-staff", "accountId", bob), status: 200, validRequest: true},
		{name: "remove synced refused", method: del, op: guser, query: q("groupId", GroupEngineering, "accountId", bob), status: 400, validRequest: true},
		{name: "remove synced undone", method: del, op: guser, query: q("groupId", GroupEngineering, "accountId", bob), modes: undone, status: 200, validRequest: true},
		{name: "remove non-member", method: del, op: guser, query: q("groupId", GroupAgents, "accountId", bob), status: 400, validRequest: true},
		{name: "remove no account", method: del, op: guser, query: q("groupId", GroupAgents), status: 400},
		{name: "remove no group", method: del, op: guser, query: q("accountId", bob), status: 400, validRequest: true},
		{name: "remove unknown group", method: del, op: guser, query: q("groupId", "no-such-group", "accountId", bob), status: 404, validRequest: true},
		{name: "remove unknown user", method: del, op: guser, query: q("groupId", GroupAgents, "accountId", "nobody"), status: 404, validRequest: true},
		{name: "remove anonymous", method: del, op: guser, query: q("groupId", GroupAgents, "accountId", dana), cred: none, status: 401},

		{name: "users", method: get, op: users, status: 200, validRequest: true},
		{name: "users paged", method: get, op: users, query: q("startAt", "3", "maxResults", "2"), status: 200, validRequest: true},
		{name: "users bad maxResults", method: get, op: users, query: q("maxResults", "-1"), status: 400, validRequest: true},
		{name: "users anonymous", method: get, op: users, cred: none, status: 401},
		{name: "users connect", method: get, op: users, cred: connect, status: 403},

		{name: "user", method: get, op: user, query: q("accountId", alice), status: 200, validRequest: true},
		{name: "user expanded", method: get, op: user, query: q("accountId", alice, "expand", "groups,applicationRoles"), status: 200, validRequest: true},
		{name: "user app", method: get, op: user, query: q("accountId", autoApp), status: 200, validRequest: true},
		{name: "user hidden email", method: get, op: user, query: q("accountId", emile, "expand", "groups"), status: 200, validRequest: true},
		{name: "user customer", method: get, op: user, query: q("accountId", portal), status: 200, validRequest: true},
		{name: "user unknown", method: get, op: user, query: q("accountId", "nobody"), status: 404, validRequest: true},
		{name: "user no account", method: get, op: user, status: 400, validRequest: true},
		{name: "user anonymous", method: get, op: user, query: q("accountId", alice), cred: none, status: 401},

		{name: "user groups", method: get, op: ugroups, query: q("accountId", alice), status: 200, validRequest: true},
		{name: "user groups none", method: get, op: ugroups, query: q("accountId", portal), status: 200, validRequest: true},
		{name: "user groups unknown", method: get, op: ugroups, query: q("accountId", "nobody"), status: 404, validRequest: true},
		{name: "user groups no account", method: get, op: ugroups, status: 400},
		{name: "user groups anonymous", method: get, op: ugroups, query: q("accountId", alice), cred: none, status: 401},

		{name: "search query", method: get, op: search, query: q("query", "a"), status: 200, validRequest: true},
		{name: "search email", method: get, op: search, query: q("query", "SEATLENS-SIM"), status: 200, validRequest: true},
		{name: "search account", method: get, op: search, query: q("accountId", bob), status: 200, validRequest: true},
		{name: "search nothing", method: get, op: search, query: q("query", "zzz"), status: 200, validRequest: true},
		{name: "search property", method: get, op: search, query: q("property", "seatlens.tier=gold"), status: 200, validRequest: true},
		{name: "search no criteria", method: get, op: search, status: 400, validRequest: true},
		{name: "search query and account", method: get, op: search, query: q("query", "a", "accountId", bob), status: 400, validRequest: true},
		{name: "search bad property", method: get, op: search, query: q("property", "tier"), status: 400, validRequest: true},
		{name: "search anonymous", method: get, op: search, query: q("query", "a"), cred: none, status: 401},

		{name: "myself", method: get, op: myself, status: 200, validRequest: true},
		{name: "myself expanded", method: get, op: myself, query: q("expand", "groups,applicationRoles"), status: 200, validRequest: true},
		{name: "myself connect app", method: get, op: myself, cred: connect, status: 200, validRequest: true},
		{name: "myself anonymous", method: get, op: myself, cred: none, status: 401},

		{name: "license", method: get, op: lic, status: 200, validRequest: true},
		{name: "license anonymous", method: get, op: lic, cred: none, status: 401},

		{name: "approx", method: get, op: approx, status: 200, validRequest: true},
		{name: "approx anonymous", method: get, op: approx, cred: none, status: 401},
		{name: "approx connect", method: get, op: approx, cred: connect, status: 403},
		{name: "approx software", method: get, op: approxP, params: map[string]string{"applicationKey": JiraSoftware}, status: 200, validRequest: true},
		{name: "approx core", method: get, op: approxP, params: map[string]string{"applicationKey": JiraCore}, status: 200, validRequest: true},
		{name: "approx unknown", method: get, op: approxP, params: map[string]string{"applicationKey": "jira-nope"}, status: 404},
		{name: "approx product anonymous", method: get, op: approxP, params: map[string]string{"applicationKey": JiraSoftware}, cred: none, status: 401},
		{name: "approx product connect", method: get, op: approxP, params: map[string]string{"applicationKey": JiraSoftware}, cred: connect, status: 403},

		{name: "perms self", method: post, op: perms, body: `{"globalPermissions":["ADMINISTER","USER_PICKER","SYSTEM_ADMIN"]}`, status: 200, validRequest: true},
		{name: "perms other", method: post, op: perms, body: `{"accountId":"` + bob + `","globalPermissions":["ADMINISTER","USER_PICKER"]}`, status: 200, validRequest: true},
		{name: "perms project", method: post, op: perms, body: `{"globalPermissions":["ADMINISTER"],"projectPermissions":[{"permissions":["EDIT_ISSUES"],"projects":[10001],"issues":[10010]}]}`, status: 200, validRequest: true},
		{name: "perms connect app", method: post, op: perms, body: `{"globalPermissions":["ADMINISTER","USER_PICKER"]}`, cred: connect, status: 200, validRequest: true},
		{name: "perms unknown permission", method: post, op: perms, body: `{"globalPermissions":["PERMISSION_123"]}`, status: 400, validRequest: true},
		{name: "perms project without permission", method: post, op: perms, body: `{"projectPermissions":[{"permissions":[],"projects":[10001]}]}`, status: 400, validRequest: true},
		{name: "perms unknown account", method: post, op: perms, body: `{"accountId":"nobody","globalPermissions":["ADMINISTER"]}`, status: 400, validRequest: true},
		{name: "perms bad json", method: post, op: perms, body: `[`, status: 400},
		{name: "perms anonymous", method: post, op: perms, body: `{"globalPermissions":["ADMINISTER"]}`, cred: none, status: 401},
	}
}

// contract validates answers against the embedded OpenAPI.
type contract struct {
	doc  *openapi3.T
	opts *openapi3filter.Options
}

func loadContract(t *testing.T) *contract {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	// format "uri" must be an absolute URL: self and nextPage links are
	// followed by clients, so a relative or empty one is a bug.
	uri := openapi3.NewCallbackValidator(func(s string) error {
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("not an absolute URI: %q", s)
		}
		return nil
	})
	return &contract{doc: doc, opts: &openapi3filter.Options{
		IncludeResponseStatus: true, MultiError: true,
		AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidator("uri", uri)},
	}}
}

func (ct *contract) route(t *testing.T, method, path string) *routers.Route {
	t.Helper()
	pi := ct.doc.Paths.Value(path)
	if pi == nil || pi.GetOperation(method) == nil {
		t.Fatalf("%s %s is not in the OpenAPI", method, path)
	}
	return &routers.Route{Spec: ct.doc, Path: path, PathItem: pi, Method: method, Operation: pi.GetOperation(method)}
}

// check validates one answer: a documented status with its schema, or a
// deviation unconfirmed.go names, whose envelope alone is checked.
func (ct *contract) check(t *testing.T, c contractCase, res response) {
	t.Helper()
	ctx := context.Background()
	route := ct.route(t, c.method, c.op)
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	target := "http://site.invalid" + c.path()
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
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: c.params, Route: route, Options: ct.opts}
	if c.validRequest {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			t.Errorf("the test's request does not follow the OpenAPI: %v", err)
		}
	}
	if reason := specDeviation(c.method, c.op, res.status); reason != "" {
		t.Logf("deviation (%s): envelope only", reason)
		ct.envelope(t, res)
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
		t.Fatalf("response does not match the OpenAPI: %v\nbody: %s", err, res.body)
	}
	if mt := route.Operation.Responses.Status(res.status).Value.Content.Get("application/json"); mt == nil || mt.Schema == nil {
		// No schema documented: an error must still be Jira's envelope,
		// and a success (DELETE group/user's 200) must have no body.
		if res.status >= 400 {
			ct.envelope(t, res)
		} else if len(res.body) != 0 {
			t.Fatalf("status %d documents no body, got %s", res.status, res.body)
		}
	}
}

// envelope checks Jira's ErrorCollection: both keys present, shaped as the
// OpenAPI's ErrorCollection schema says.
func (ct *contract) envelope(t *testing.T, res response) {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(res.body, &v); err != nil {
		t.Fatalf("error body is not JSON: %q", res.body)
	}
	if _, ok := v["errorMessages"]; !ok {
		t.Fatalf("error body lacks errorMessages: %s", res.body)
	}
	if _, ok := v["errors"]; !ok {
		t.Fatalf("error body lacks errors: %s", res.body)
	}
	var generic any
	_ = json.Unmarshal(res.body, &generic)
	if err := ct.doc.Components.Schemas["ErrorCollection"].Value.VisitJSON(generic, openapi3.VisitAsResponse()); err != nil {
		t.Fatalf("error body is not an ErrorCollection: %v\n%s", err, res.body)
	}
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error Content-Type %q", ct)
	}
}

func TestContract(t *testing.T) {
	ct := loadContract(t)
	covered := map[string]bool{}
	for _, c := range contractCases() {
		t.Run(c.name, func(t *testing.T) {
			o := Options{}
			if c.modes != nil {
				o.Modes = *c.modes
			}
			ts := newTestSite(t, DefaultScenario(), o)
			ts.installConnectApp("READ", "WRITE", "ADMIN", "ACCESS_EMAIL_ADDRESSES")
			if c.setup != nil {
				c.setup(ts)
			}
			cr := basicCred()
			if c.cred != nil {
				cr = c.cred()
			}
			res := ts.do(cr, c.method, c.path(), c.query, c.body)
			if res.status != c.status {
				t.Fatalf("status %d, want %d; body %s", res.status, c.status, res.body)
			}
			ct.check(t, c, res)
		})
		if c.status < 300 {
			covered[c.method+" "+c.op] = true
		}
	}
	for _, op := range implementedOperations() {
		if !covered[op] {
			t.Errorf("%s has no successful contract case", op)
		}
	}
}
