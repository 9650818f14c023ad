package sitesim

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// credOp is one operation of the credential table, with a request that
// succeeds for a credential allowed to call it (on a fresh default site).
type credOp struct {
	key                       string // "METHOD /openapi/path"
	method, path, query, body string
}

func credOps() []credOp {
	return []credOp{
		{"GET /rest/api/3/applicationrole", "GET", "/rest/api/3/applicationrole", "", ""},
		{"GET /rest/api/3/applicationrole/{key}", "GET", "/rest/api/3/applicationrole/" + JiraSoftware, "", ""},
		{"GET /rest/api/3/users/search", "GET", "/rest/api/3/users/search", "", ""},
		{"GET /rest/api/3/group/bulk", "GET", "/rest/api/3/group/bulk", q("accessType", "user", "applicationKey", JiraSoftware), ""},
		{"GET /rest/api/3/group/member", "GET", "/rest/api/3/group/member", q("groupId", GroupSoftwareUsers), ""},
		{"GET /rest/api/3/user", "GET", "/rest/api/3/user", q("accountId", bob, "expand", "groups,applicationRoles"), ""},
		{"GET /rest/api/3/user/groups", "GET", "/rest/api/3/user/groups", q("accountId", bob), ""},
		{"GET /rest/api/3/user/search", "GET", "/rest/api/3/user/search", q("query", "bob"), ""},
		{"GET /rest/api/3/myself", "GET", "/rest/api/3/myself", "", ""},
		{"POST /rest/api/3/permissions/check", "POST", "/rest/api/3/permissions/check", "", `{"globalPermissions":["USER_PICKER"]}`},
		{"GET /rest/api/3/instance/license", "GET", "/rest/api/3/instance/license", "", ""},
		{"GET /rest/api/3/license/approximateLicenseCount", "GET", "/rest/api/3/license/approximateLicenseCount", "", ""},
		{"GET /rest/api/3/license/approximateLicenseCount/product/{applicationKey}", "GET", "/rest/api/3/license/approximateLicenseCount/product/" + JiraSoftware, "", ""},
		{"DELETE /rest/api/3/group/user", "DELETE", "/rest/api/3/group/user", q("groupId", GroupAllStaff, "accountId", bob), ""},
		{"POST /rest/api/3/group/user", "POST", "/rest/api/3/group/user", q("groupId", GroupAllStaff), `{"accountId":"` + chen + `"}`},
	}
}

// ok is the success status of an operation.
func (o credOp) ok() int {
	if o.method == http.MethodPost && strings.HasSuffix(o.path, "/group/user") {
		return http.StatusCreated
	}
	return http.StatusOK
}

// credRow is one credential of DESIGN.md §4's table and what it gets.
type credRow struct {
	cred    cred
	install []string // Connect descriptor scopes to install the app with
	// want maps an operation to its status; ops absent get def (0: the
	// operation's success status).
	want map[string]int
	def  int
}

func credRows(contextPath string) []credRow {
	connectScopes := []string{"READ", "WRITE", "ADMIN", "ACCESS_EMAIL_ADDRESSES"}
	// Connect: INACCESSIBLE operations are Jira's 403, whatever the scopes.
	inaccessible := map[string]int{
		"GET /rest/api/3/applicationrole":                                          403,
		"GET /rest/api/3/applicationrole/{key}":                                    403,
		"GET /rest/api/3/users/search":                                             403,
		"GET /rest/api/3/license/approximateLicenseCount":                          403,
		"GET /rest/api/3/license/approximateLicenseCount/product/{applicationKey}": 403,
		"DELETE /rest/api/3/group/user":                                            403,
		"POST /rest/api/3/group/user":                                              403,
	}
	readOnly := map[string]int{"GET /rest/api/3/group/bulk": 403, "GET /rest/api/3/group/member": 403}
	for k, v := range inaccessible {
		readOnly[k] = v
	}
	forge := func(s func(t *testing.T) []string, ttl time.Duration, api bool, name string) cred {
		return forgeCred(name, api, s, ttl)
	}
	noAvatar := func(t *testing.T) []string { return without(forgeScopes(t), "read:avatar:jira") }
	rows := []credRow{
		{cred: basicCred()},
		{cred: noCred(), def: 401},
		{cred: cred{name: "basic-wrong-token", auth: func(*testSite, *http.Request) string {
			return "Basic " + b64(DefaultAdminEmail+":not-the-token")
		}}, def: 401},
		{cred: connectCred("connect", nil), install: connectScopes, want: inaccessible},
		{cred: connectCred("connect-read", nil), install: []string{"READ"}, want: readOnly},
		{cred: connectCred("connect-wrong-qsh", func(j *connectJWT) { j.qsh = strings.Repeat("0", 64) }), install: connectScopes, def: 401},
		{cred: connectCred("connect-wrong-secret", func(j *connectJWT) { j.secret = "another-secret-0123456789abcdef" }), install: connectScopes, def: 401},
		{cred: connectCred("connect-expired", func(j *connectJWT) {
			j.iat, j.exp = time.Now().Add(-10*time.Minute), time.Now().Add(-7*time.Minute)
		}), install: connectScopes, def: 401},
		{cred: connectCred("connect-unknown-app", func(j *connectJWT) { j.key = "com.example.other" }), install: connectScopes, def: 401},
		{cred: func() cred { c := connectCred("connect-on-api-mount", nil); c.api = true; return c }(), install: connectScopes, def: 401},
		{cred: forge(forgeScopes, time.Hour, true, "forge")},
		{cred: forge(forgeScopes, time.Hour, false, "forge-on-site-mount"), def: 401},
		{cred: forge(forgeScopes, -time.Second, true, "forge-expired"), def: 401},
		{cred: forge(noAvatar, time.Hour, true, "forge-without-read:avatar:jira"), want: map[string]int{
			"GET /rest/api/3/group/member": 401, // classic manage:jira-configuration not held either
			"POST /rest/api/3/group/user":  401,
		}},
	}
	if contextPath != "" {
		// A JWT whose qsh covers the context path was computed the wrong
		// way: the product strips it before hashing.
		rows = append(rows, credRow{cred: qshOverContextPath(), install: connectScopes, def: 401})
	}
	return rows
}

// TestCredentialTable runs DESIGN.md §4's table over every operation, on a
// site at the root and on one under the context path /wiki.
func TestCredentialTable(t *testing.T) {
	var keys []string
	for _, op := range credOps() {
		keys = append(keys, op.key)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, implementedOperations()) {
		t.Fatalf("the credential table covers %q, the site serves %q", keys, implementedOperations())
	}
	for _, ctxPath := range []string{"", "/wiki"} {
		t.Run("context="+ctxPath, func(t *testing.T) {
			for _, row := range credRows(ctxPath) {
				for _, op := range credOps() {
					t.Run(row.cred.name+"/"+op.key, func(t *testing.T) {
						ts := newTestSite(t, DefaultScenario(), Options{ContextPath: ctxPath})
						if row.install != nil {
							ts.installConnectApp(row.install...)
						}
						c := row.cred
						want := row.def
						if w, ok := row.want[op.key]; ok {
							want = w
						}
						if want == 0 {
							want = op.ok()
						}
						res := ts.do(c, op.method, op.path, op.query, op.body)
						if res.status != want {
							t.Fatalf("%s %s as %s = %d %s, want %d", op.method, op.path, c.name, res.status, res.body, want)
						}
						checkRefusalBody(t, c, res)
					})
				}
			}
		})
	}
}

// qshOverContextPath signs with a qsh over the full path, /wiki included.
func qshOverContextPath() cred {
	return cred{name: "connect-qsh-over-context-path", auth: func(ts *testSite, r *http.Request) string {
		now := time.Now()
		j := connectJWT{key: testAppKey, secret: testSecret, iat: now, exp: now.Add(180 * time.Second)}
		j.qsh = qshOf(r.Method, r.URL.EscapedPath(), r.URL.RawQuery, "")
		return j.sign(ts, r)
	}}
}

// checkRefusalBody checks who answered a refusal: the api.atlassian.com
// gateway answers bearer tokens with {"code","message"}, Jira everything
// else with its ErrorCollection envelope.
func checkRefusalBody(t *testing.T, c cred, res response) {
	t.Helper()
	if res.status < 400 {
		return
	}
	var body map[string]any
	if err := json.Unmarshal(res.body, &body); err != nil {
		t.Fatalf("refusal body is not JSON: %q", res.body)
	}
	if strings.HasPrefix(c.name, "forge") && c.api {
		if body["code"] != float64(401) || body["message"] == nil {
			t.Fatalf("gateway body %s", res.body)
		}
		if strings.Contains(c.name, "without") && !strings.Contains(body["message"].(string), "scope does not match") {
			t.Fatalf("scope refusal body %s", res.body)
		}
		return
	}
	if _, ok := body["errorMessages"]; !ok {
		t.Fatalf("Jira refusal without errorMessages: %s", res.body)
	}
}
