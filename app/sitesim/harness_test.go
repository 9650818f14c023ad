package sitesim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	seatlens "github.com/seatlens/seatlens"
	"github.com/seatlens/seatlens/app/connect/qsh"
	"github.com/seatlens/seatlens/descriptor"
)

// Accounts of the default scenario the tests talk about.
const (
	alice   = "5b10a2844c20165700ede201" // site admin, API-token user
	bob     = "5b10a2844c20165700ede202"
	chen    = "5b10a2844c20165700ede203"
	dana    = "5b10a2844c20165700ede204"
	emile   = "5b10a2844c20165700ede205" // e-mail hidden
	frank   = "5b10a2844c20165700ede206" // inactive
	autoApp = "5b10a2844c20165700ede207" // app account
	portal  = "5b10a2844c20165700ede208" // JSM customer
	grace   = "5b10a2844c20165700ede209"
)

// The Connect app the tests install, and the Forge app's account.
const (
	testAppKey       = "com.seatlens.test"
	testSecret       = "shared-secret-for-tests-0123456789abcdef"
	testAppAccount   = "557058:0a1b2c3d-0000-4000-8000-00000000c0de"
	testForgeKey     = "ari:cloud:ecosystem::app/00000000-0000-0000-0000-000000000000"
	testForgeAccount = "557058:0a1b2c3d-0000-4000-8000-00000000f04e"
)

// testSite is a simulated site served on loopback for one test.
type testSite struct {
	t   *testing.T
	srv *Server
	ts  *httptest.Server
}

func newTestSite(t *testing.T, sc Scenario, o Options) *testSite {
	t.Helper()
	site, err := NewSite(sc)
	if err != nil {
		t.Fatal(err)
	}
	if o.AdminEmail == "" {
		o.AdminEmail, o.AdminToken = DefaultAdminEmail, DefaultAdminToken
	}
	srv, err := New(site, o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &testSite{t: t, srv: srv, ts: ts}
}

// defaultSite is the default scenario with the default modes.
func defaultSite(t *testing.T) *testSite {
	return newTestSite(t, DefaultScenario(), Options{})
}

// cred is how a test request authenticates.
type cred struct {
	name string
	api  bool // send to the api mount (bearer tokens) instead of the site mount
	// auth returns the Authorization header for a prepared request; ""
	// sends none.
	auth func(ts *testSite, r *http.Request) string
}

func basicCred() cred {
	return cred{name: "basic", auth: func(*testSite, *http.Request) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(DefaultAdminEmail+":"+DefaultAdminToken))
	}}
}

func noCred() cred {
	return cred{name: "none", auth: func(*testSite, *http.Request) string { return "" }}
}

// connectJWT signs r as the app would (connect-protocol.md: HS256, iss =
// app key, qsh over the request with the context path removed).
type connectJWT struct {
	key, secret string
	iat, exp    time.Time
	qsh         string // "" computes the right one
}

func (j connectJWT) sign(ts *testSite, r *http.Request) string {
	h := j.qsh
	if h == "" {
		h = qsh.Of(r.Method, r.URL.EscapedPath(), r.URL.RawQuery, ts.srv.opts.ContextPath)
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": j.key, "iat": j.iat.Unix(), "exp": j.exp.Unix(), "qsh": h,
	}).SignedString([]byte(j.secret))
	if err != nil {
		ts.t.Fatal(err)
	}
	return "JWT " + tok
}

func connectCred(name string, mutate func(*connectJWT)) cred {
	return cred{name: name, auth: func(ts *testSite, r *http.Request) string {
		now := time.Now()
		j := connectJWT{key: testAppKey, secret: testSecret, iat: now, exp: now.Add(180 * time.Second)}
		if mutate != nil {
			mutate(&j)
		}
		return j.sign(ts, r)
	}}
}

// installConnectApp registers the test Connect app with scopes.
func (ts *testSite) installConnectApp(scopes ...string) {
	ts.srv.RegisterConnectApp(ConnectApp{Key: testAppKey, ClientKey: "client-key-test", SharedSecret: testSecret,
		Scopes: scopes, AccountID: testAppAccount})
}

// forgeScopes are the scopes of the app's manifest, from the real
// descriptor template, so the test follows what the app asks Atlassian for.
func forgeScopes(t *testing.T) []string {
	t.Helper()
	tpl, err := descriptor.Parse(seatlens.DescriptorTemplate)
	if err != nil {
		t.Fatal(err)
	}
	d := tpl.Descriptor()
	return d.ForgeScopes()
}

func without(list []string, drop string) []string {
	var out []string
	for _, s := range list {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}

// forgeCred issues a Forge app token on first use and sends it as Bearer.
func forgeCred(name string, api bool, scopes func(t *testing.T) []string, ttl time.Duration) cred {
	return cred{name: name, api: api, auth: func(ts *testSite, r *http.Request) string {
		return "Bearer " + ts.srv.IssueAppToken(testForgeKey, testForgeAccount, scopes(ts.t), ttl)
	}}
}

// response is an answer the tests inspect.
type response struct {
	status int
	header http.Header
	body   []byte
	req    *http.Request
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%s %s: body %q: %v", r.req.Method, r.req.URL, r.body, err)
	}
}

// do sends one request: path is the operation path with parameters filled
// in, query already encoded (so tests control parameter order), body
// sent as JSON when non-empty.
func (ts *testSite) do(c cred, method, path, query, body string) response {
	ts.t.Helper()
	base := ts.ts.URL + ts.srv.opts.ContextPath
	if c.api {
		base = ts.ts.URL + ts.srv.APIBasePath()
	}
	u := base + path
	if query != "" {
		u += "?" + query
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		ts.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if h := c.auth(ts, req); h != "" {
		req.Header.Set("Authorization", h)
	}
	res, err := ts.ts.Client().Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		ts.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: bytes.TrimSpace(b), req: req}
}

// get is do for a GET with Basic auth, failing unless the status is want.
func (ts *testSite) get(path, query string, want int, v any) response {
	ts.t.Helper()
	r := ts.do(basicCred(), http.MethodGet, path, query, "")
	if r.status != want {
		ts.t.Fatalf("GET %s?%s = %d %s, want %d", path, query, r.status, r.body, want)
	}
	if v != nil {
		r.json(ts.t, v)
	}
	return r
}

// q encodes alternating name, value pairs in the given order.
func q(pairs ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(pairs[i]) + "=" + url.QueryEscape(pairs[i+1]))
	}
	return b.String()
}

// Decoded beans, for assertions.
type (
	tUser struct {
		Self         string `json:"self"`
		AccountID    string `json:"accountId"`
		AccountType  string `json:"accountType"`
		Active       bool   `json:"active"`
		DisplayName  string `json:"displayName"`
		EmailAddress string `json:"emailAddress"`
		Groups       *struct {
			Size  int          `json:"size"`
			Items []tGroupName `json:"items"`
		} `json:"groups"`
		ApplicationRoles *struct {
			Size  int `json:"size"`
			Items []struct {
				Key string `json:"key"`
			} `json:"items"`
		} `json:"applicationRoles"`
	}
	tMemberPage struct {
		Self       string  `json:"self"`
		NextPage   *string `json:"nextPage"`
		MaxResults int     `json:"maxResults"`
		StartAt    int     `json:"startAt"`
		Total      int     `json:"total"`
		IsLast     bool    `json:"isLast"`
		Values     []tUser `json:"values"`
	}
	tRole struct {
		Key            string   `json:"key"`
		Groups         []string `json:"groups"`
		DefaultGroups  []string `json:"defaultGroups"`
		NumberOfSeats  int      `json:"numberOfSeats"`
		RemainingSeats int      `json:"remainingSeats"`
		UserCount      int      `json:"userCount"`
	}
	tGroupName struct {
		GroupID string `json:"groupId"`
		Name    string `json:"name"`
	}
	tError struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
	}
)

// members returns the account IDs of a group/member page.
func (p tMemberPage) members() []string {
	var out []string
	for _, u := range p.Values {
		out = append(out, u.AccountID)
	}
	return out
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// qshOf is qsh.Of, for tests that must compute a wrong one on purpose.
func qshOf(method, path, query, contextPath string) string {
	return qsh.Of(method, path, query, contextPath)
}
