package app

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/rs/zerolog"

	"github.com/seatlens/seatlens/app/atlassian"
	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/config"
	"github.com/seatlens/seatlens/app/connect/connecttest"
	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/app/sitesim"
	"github.com/seatlens/seatlens/descriptor"
	"github.com/seatlens/seatlens/store/storetest"
)

// scanPair is the real app on loopback with the simulated site as both
// its Jira and its Organizations API.
type scanPair struct {
	*simPair
	logs *syncBuffer
	inst sitesim.Installation
	// refusing makes the site answer every Atlassian call 400 (its admin
	// routes aside): an Atlassian that refuses, and is not retried.
	refusing atomic.Bool
}

func newScanPair(t testing.TB, withForge bool) *scanPair {
	t.Helper()
	return newScanPairWith(t, sitesim.DefaultScenario(), sitesim.Options{}, withForge, config.DefaultPointsPerHour)
}

// newScanPairWith serves the app and one simulated site (of sc, with o's
// faults and limits) on loopback and installs the app into the site.
func newScanPairWith(t testing.TB, sc sitesim.Scenario, o sitesim.Options, withForge bool, pool int) *scanPair {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &scanPair{simPair: &simPair{st: storetest.Open(t), appBase: "http://" + ln.Addr().String()}, logs: &syncBuffer{}}
	site, err := sitesim.NewSite(sc)
	if err != nil {
		t.Fatal(err)
	}
	// The API token too: the CLI's scans of the same site compare with the app's.
	o.ForgeScopes, o.ForgeUserEventsPath = appForgeScopes(t), descriptor.ForgeUserEvents.Path
	o.AdminEmail, o.AdminToken = sitesim.DefaultAdminEmail, sitesim.DefaultAdminToken
	if p.site, err = sitesim.New(site, o); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.refusing.Load() && !strings.HasPrefix(r.URL.Path, "/sim/") {
			http.Error(w, `{"errorMessages":["refused by the test"]}`, http.StatusBadRequest)
			return
		}
		p.site.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	p.siteURL = ts.URL
	cfg := config.Serve{
		Addr: ln.Addr().String(), BaseURL: p.appBase, DataDir: t.TempDir(),
		LogFormat: "json", LogLevel: "debug", ClockSkew: 30 * time.Second,
		UninstallGrace: 30 * 24 * time.Hour, BodyLimit: 1 << 20, ForgeAppID: simForgeAppID,
		InstallKeysURL: sitesim.InstallKeysURL(p.siteURL), ForgeJWKSURL: sitesim.JWKSURL(p.siteURL),
		OrgAPIURL: p.siteURL, KeepScans: 3, ScanWorkers: 2, PointsPerHour: pool,
	}
	if p.app, err = New(cfg, Deps{Store: p.st, Logger: zerolog.New(p.logs)}); err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: p.app.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); hs.Close() })
	if err := p.app.scans.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.app.executor.Start(ctx); err != nil {
		t.Fatal(err)
	}
	forgeID := ""
	if withForge {
		forgeID = simForgeAppID
	}
	if p.inst, err = p.site.Install(context.Background(), p.siteURL, p.appBase, forgeID); err != nil {
		t.Fatal(err)
	}
	return p
}

// call sends an API request with a context token of accountID.
func (p *scanPair) call(t *testing.T, method, path, accountID, body string) (int, []byte) {
	t.Helper()
	claims := connecttest.ContextClaims(p.inst.ClientKey, time.Now())
	claims.Subject = accountID
	token := connecttest.Sign(t, jwt.SigningMethodHS256, []byte(p.inst.SharedSecret), claims, nil)
	return p.send(t, method, path, "JWT "+token, body)
}

func (p *scanPair) send(t *testing.T, method, path, auth, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, p.appBase+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

const simAdmin = "5b10a2844c20165700ede201" // the fixture's site admin

// scanNow queues a scan through the API (or joins the one queued) and
// waits for it to end.
func (p *scanPair) scanNow(t *testing.T) scan.Record {
	t.Helper()
	return p.scanAs(t, simAdmin)
}

// scanAs is scanNow as another admin.
func (p *scanPair) scanAs(t *testing.T, admin string) scan.Record {
	t.Helper()
	posted, body := p.call(t, "POST", "/api/v1/scans", admin, "")
	var rec scan.Record
	if posted != http.StatusAccepted && posted != http.StatusConflict {
		t.Fatalf("POST scans: %d %s", posted, body)
	}
	var id struct {
		ID string `json:"id"`
	}
	json.Unmarshal(body, &id)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		code, body := p.call(t, "GET", "/api/v1/scans/"+id.ID, admin, "")
		if code != http.StatusOK {
			t.Fatalf("GET scan %s: %d %s", id.ID, code, body)
		}
		if err := json.Unmarshal(body, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.State == scan.StateDone || rec.State == scan.StateFailed {
			if posted == http.StatusConflict {
				return p.scanAs(t, admin) // that was the install's scan; the one asked for follows
			}
			return rec
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("scan %s did not end: %+v", id.ID, rec)
	return rec
}

func (p *scanPair) findings(t *testing.T, id string) *billing.Findings {
	t.Helper()
	code, body := p.call(t, "GET", "/api/v1/scans/"+id+"/findings.json", simAdmin, "")
	if code != http.StatusOK {
		t.Fatalf("findings.json: %d %s", code, body)
	}
	var f billing.Findings
	if err := json.Unmarshal(body, &f); err != nil {
		t.Fatal(err)
	}
	return &f
}

// cliFindings scans the same site as `seatlens scan` does: an API token,
// and the org key when keyed.
func cliFindings(t *testing.T, siteURL string, keyed bool) *billing.Findings {
	t.Helper()
	jira, err := atlassian.New(nil, siteURL, atlassian.Basic(sitesim.DefaultAdminEmail, sitesim.DefaultAdminToken), atlassian.Options{})
	if err != nil {
		t.Fatal(err)
	}
	job := scan.Job{Source: scan.Source{SiteURL: siteURL, Jira: jira, JiraAdmin: jira}, Settings: billing.Settings{}.WithDefaults()}
	if keyed {
		if job.Source.Org, err = atlassian.New(nil, siteURL, atlassian.Bearer(sitesim.DefaultOrgKey), atlassian.Options{}); err != nil {
			t.Fatal(err)
		}
		job.Source.OrgID = sitesim.DefaultOrgID
	}
	res, err := scan.Run(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	return res.Findings
}

// sameFindings compares two findings documents but for what differs by
// design: when they were made and the credential names.
func sameFindings(t *testing.T, app, cli *billing.Findings) {
	t.Helper()
	norm := func(f *billing.Findings) string {
		c := *f
		c.ScannedAt, c.Credentials, c.Sources.Credentials = time.Time{}, nil, nil
		if c.Sources.Activity != nil {
			a := *c.Sources.Activity
			a.AsOf = time.Time{}
			c.Sources.Activity = &a
		}
		b, _ := json.MarshalIndent(c, "", " ")
		return string(b)
	}
	a, b := norm(app), norm(cli)
	if a == b {
		return
	}
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			t.Fatalf("the app's findings differ from the CLI's at line %d:\napp %s\ncli %s", i+1, al[i], bl[i])
		}
	}
	t.Fatalf("the app's findings differ from the CLI's in length: %d vs %d lines", len(al), len(bl))
}

// TestAppScansEachCredentialMix: the installed app scans its tenant with
// what it holds, chooses the credential per call, and with the reach of
// an API token (Connect + Forge app token) or of an API token and an org
// key finds exactly what `seatlens scan` finds.
func TestAppScansEachCredentialMix(t *testing.T) {
	if testing.Short() {
		t.Skip("scans the simulated site several times")
	}
	t.Run("connect only", func(t *testing.T) {
		p := newScanPair(t, false)
		rec := p.scanNow(t)
		if rec.State != scan.StateDone {
			t.Fatalf("scan %+v", rec)
		}
		f := p.findings(t, rec.ID)
		if strings.Join(f.Sources.Credentials, ",") != billing.CredentialConnectJWT {
			t.Errorf("credentials %v", f.Sources.Credentials)
		}
		if strings.Join(f.Sources.Unknown, ",") != "default-groups,seat-limits" || f.Sources.DefaultGroups {
			t.Errorf("sources %+v: want default groups and seat limits unknown", f.Sources)
		}
		if f.Totals.BillableSeats == 0 {
			t.Error("no billable seat found")
		}
		// Only what a Connect JWT may call was called.
		u := p.site.Usage()
		for k, c := range u.By {
			if k.Credential == sitesim.CredConnect && (k.Operation == "getAllApplicationRoles" || k.Operation == "getAllUsersDefault" || k.Operation == "getAllUsers") {
				t.Errorf("%s called with a Connect JWT %d times", k.Operation, c.Calls)
			}
		}
		if u.Credential(sitesim.CredConnect).Calls == 0 {
			t.Error("no call signed as the Connect app")
		}
	})
	t.Run("connect and app token = API token", func(t *testing.T) {
		p := newScanPair(t, true)
		rec := p.scanNow(t)
		if rec.State != scan.StateDone {
			t.Fatalf("scan %+v", rec)
		}
		f := p.findings(t, rec.ID)
		if strings.Join(f.Sources.Credentials, ",") != "connect-jwt,forge-app-token" || len(f.Sources.Unknown) != 0 {
			t.Errorf("sources %+v", f.Sources)
		}
		sameFindings(t, f, cliFindings(t, p.siteURL, false))
	})
	t.Run("connect, app token and org key = API token and org key", func(t *testing.T) {
		p := newScanPair(t, true)
		code, body := p.call(t, "PUT", "/api/v1/org-key", simAdmin, `{"orgId":"`+sitesim.DefaultOrgID+`","key":"`+sitesim.DefaultOrgKey+`"}`)
		if code != http.StatusOK || strings.Contains(string(body), sitesim.DefaultOrgKey) {
			t.Fatalf("PUT org-key: %d %s", code, body)
		}
		rec := p.scanNow(t)
		if rec.State != scan.StateDone {
			t.Fatalf("scan %+v", rec)
		}
		f := p.findings(t, rec.ID)
		if strings.Join(f.Sources.Credentials, ",") != "connect-jwt,forge-app-token,org-key" || !f.Sources.OrgAPI {
			t.Errorf("sources %+v", f.Sources)
		}
		sameFindings(t, f, cliFindings(t, p.siteURL, true))
		if strings.Contains(p.logs.String(), sitesim.DefaultOrgKey) {
			t.Error("the org key is in the logs")
		}
	})
	t.Run("connect and org key", func(t *testing.T) {
		p := newScanPair(t, false)
		if code, body := p.call(t, "PUT", "/api/v1/org-key", simAdmin, `{"orgId":"`+sitesim.DefaultOrgID+`","key":"`+sitesim.DefaultOrgKey+`"}`); code != http.StatusOK {
			t.Fatalf("PUT org-key: %d %s", code, body)
		}
		rec := p.scanNow(t)
		if rec.State != scan.StateDone {
			t.Fatalf("scan %+v", rec)
		}
		f := p.findings(t, rec.ID)
		if strings.Join(f.Sources.Unknown, ",") != billing.UnknownAccountsOutsideDirectory || !f.Sources.OrgAPI {
			t.Errorf("sources %+v", f.Sources)
		}
		// Everyone the directory lists is there, with the same seats as
		// the CLI finds for them.
		cli := cliFindings(t, p.siteURL, true)
		got := map[string]billing.UserFindings{}
		for _, u := range f.Users {
			got[u.AccountID] = u
		}
		for _, u := range cli.Users {
			if u.AccountType != "atlassian" {
				continue
			}
			if g, ok := got[u.AccountID]; !ok || len(g.Seats) != len(u.Seats) {
				t.Errorf("%s: app %d seats, CLI %d", u.AccountID, len(g.Seats), len(u.Seats))
			}
		}
	})
}

// TestAPIFoundation: authentication, the admin check, the error format and
// each route of the API's foundation, through the real router.
func TestAPIFoundation(t *testing.T) {
	if testing.Short() {
		t.Skip("scans the simulated site")
	}
	p := newScanPair(t, true)
	errCode := func(body []byte) string {
		var e struct{ Code, Message string }
		if json.Unmarshal(body, &e) != nil || e.Message == "" {
			return "(not an error body: " + string(body) + ")"
		}
		return e.Code
	}

	// Who may call.
	if code, body := p.send(t, "GET", "/api/v1/status", "", ""); code != http.StatusUnauthorized || errCode(body) != "unauthenticated" {
		t.Errorf("no token: %d %s", code, body)
	}
	pageToken := connecttest.Sign(t, jwt.SigningMethodHS256, []byte(p.inst.SharedSecret),
		connecttest.RequestClaims(p.inst.ClientKey, "GET", "/api/v1/status", "", time.Now()), nil)
	if code, body := p.send(t, "GET", "/api/v1/status", "JWT "+pageToken, ""); code != http.StatusUnauthorized || errCode(body) != "unauthenticated" {
		t.Errorf("a qsh-bound token: %d %s", code, body)
	}
	const bob = "5b10a2844c20165700ede202" // a user, not an admin
	if code, body := p.call(t, "GET", "/api/v1/status", bob, ""); code != http.StatusForbidden || errCode(body) != "not-admin" {
		t.Errorf("non-admin: %d %s", code, body)
	}
	before := p.site.Usage().Operation("getBulkPermissions").Calls
	for range 3 {
		if code, body := p.call(t, "GET", "/api/v1/status", simAdmin, ""); code != http.StatusOK {
			t.Fatalf("admin: %d %s", code, body)
		}
	}
	if n := p.site.Usage().Operation("getBulkPermissions").Calls - before; n > 1 {
		t.Errorf("%d permission checks for one admin within a minute; want them cached", n)
	}

	// Scans: the unknown, then one to completion; the install queued one too.
	if code, body := p.call(t, "GET", "/api/v1/scans/999", simAdmin, ""); code != http.StatusNotFound || errCode(body) != "no-scan" {
		t.Errorf("unknown scan: %d %s", code, body)
	}
	rec := p.scanNow(t)
	if rec.State != scan.StateDone || rec.Calls == 0 || rec.Totals == nil || rec.StartedAt == nil || rec.EndedAt == nil {
		t.Fatalf("scan %+v", rec)
	}
	code, body := p.call(t, "GET", "/api/v1/scans/latest", simAdmin, "")
	var latest scan.Record
	if json.Unmarshal(body, &latest); code != http.StatusOK || latest.ID != rec.ID {
		t.Errorf("latest: %d %s, want scan %s", code, body, rec.ID)
	}
	code, body = p.call(t, "GET", "/api/v1/scans", simAdmin, "")
	var list struct{ Scans []scan.Record }
	if json.Unmarshal(body, &list); code != http.StatusOK || len(list.Scans) < 2 || list.Scans[0].ID != rec.ID {
		t.Errorf("list: %d %s", code, body)
	}
	for _, f := range []struct{ path, ctype, has string }{
		{"findings.csv", "text/csv", "accountId,displayName"},
		{"report.html", "text/html", "<html"},
		{"findings.json", "application/json", `"schemaVersion"`},
	} {
		req, _ := http.NewRequest("GET", p.appBase+"/api/v1/scans/latest/"+f.path, nil)
		claims := connecttest.ContextClaims(p.inst.ClientKey, time.Now())
		claims.Subject = simAdmin
		req.Header.Set("Authorization", "JWT "+connecttest.Sign(t, jwt.SigningMethodHS256, []byte(p.inst.SharedSecret), claims, nil))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), f.ctype) || !strings.Contains(string(b), f.has) {
			t.Errorf("%s: %d %q %.80s", f.path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
	}

	// Status: credentials and the latest scan, never a secret.
	code, body = p.call(t, "GET", "/api/v1/status", simAdmin, "")
	var st struct {
		Connect       bool
		ForgeAppToken struct{ Present bool }
		OrgKey        struct{ Present bool }
		LatestScan    *scan.Record
	}
	if json.Unmarshal(body, &st); code != http.StatusOK || !st.Connect || !st.ForgeAppToken.Present || st.OrgKey.Present || st.LatestScan == nil {
		t.Errorf("status: %d %s", code, body)
	}
	if strings.Contains(string(body), p.inst.AppToken) {
		t.Error("status shows the app token")
	}

	// Settings: the defaults, a bad field named, a good document stored whole.
	code, body = p.call(t, "GET", "/api/v1/settings", simAdmin, "")
	if code != http.StatusOK || !strings.Contains(string(body), `"inactiveDays":90`) || !strings.Contains(string(body), `"schedule":"daily"`) {
		t.Errorf("settings: %d %s", code, body)
	}
	for _, bad := range []struct{ body, field string }{
		{`{"inactiveDays":0.5}`, "inactiveDays"},
		{`{"inactiveDays":5000}`, "inactiveDays"},
		{`{"schedule":"hourly"}`, "schedule"},
		{`{"colour":"red"}`, "colour"},
		{`not json`, "settings"},
	} {
		code, body := p.call(t, "PUT", "/api/v1/settings", simAdmin, bad.body)
		if code != http.StatusBadRequest || errCode(body) != "bad-request" || !strings.Contains(string(body), bad.field) {
			t.Errorf("PUT settings %s: %d %s, want 400 naming %s", bad.body, code, body, bad.field)
		}
	}
	good := `{"inactiveDays":30,"seatPrices":{"jira-software":8.6},"schedule":"weekly","approvers":["` + simAdmin + `"]}`
	if code, body := p.call(t, "PUT", "/api/v1/settings", simAdmin, good); code != http.StatusOK || !strings.Contains(string(body), `"inactiveDays":30`) {
		t.Errorf("PUT settings: %d %s", code, body)
	}
	if _, body := p.call(t, "GET", "/api/v1/settings", simAdmin, ""); !strings.Contains(string(body), `"schedule":"weekly"`) {
		t.Errorf("settings after PUT: %s", body)
	}

	// The org key: checked before it is stored, refused in Atlassian's words.
	for _, bad := range []struct {
		body string
		code int
		err  string
	}{
		{`{"orgId":"` + sitesim.DefaultOrgID + `","key":"not-the-key"}`, http.StatusUnprocessableEntity, "org-key-refused"},
		{`{"orgId":"another-org","key":"` + sitesim.DefaultOrgKey + `"}`, http.StatusUnprocessableEntity, "org-key-refused"},
		{`{"orgId":"../x","key":"k"}`, http.StatusBadRequest, "bad-request"},
		{`{"orgId":"o"}`, http.StatusBadRequest, "bad-request"},
	} {
		code, body := p.call(t, "PUT", "/api/v1/org-key", simAdmin, bad.body)
		if code != bad.code || errCode(body) != bad.err {
			t.Errorf("PUT org-key %s: %d %s", bad.body, code, body)
		}
	}
	if _, body := p.call(t, "GET", "/api/v1/status", simAdmin, ""); strings.Contains(string(body), `"present":true,"orgId"`) {
		t.Errorf("a refused key was stored: %s", body)
	}
	if code, _ := p.call(t, "PUT", "/api/v1/org-key", simAdmin, `{"orgId":"`+sitesim.DefaultOrgID+`","key":"`+sitesim.DefaultOrgKey+`"}`); code != http.StatusOK {
		t.Fatalf("PUT org-key: %d", code)
	}
	// An expiry stated a fortnight out is warned about; one beyond a year is refused.
	soon := time.Now().Add(14 * 24 * time.Hour).Format(time.DateOnly)
	code, body = p.call(t, "PUT", "/api/v1/org-key", simAdmin, `{"orgId":"`+sitesim.DefaultOrgID+`","key":"`+sitesim.DefaultOrgKey+`","expiresAt":"`+soon+`"}`)
	if code != http.StatusOK || !strings.Contains(string(body), `"expiresSoon":true`) || !strings.Contains(string(body), `"expiryStated":true`) {
		t.Errorf("a key expiring soon: %d %s", code, body)
	}
	if _, body := p.call(t, "GET", "/api/v1/status", simAdmin, ""); !strings.Contains(string(body), `"expiresSoon":true`) {
		t.Errorf("status does not warn of the expiry: %s", body)
	}
	late := time.Now().Add(400 * 24 * time.Hour).Format(time.DateOnly)
	if code, body := p.call(t, "PUT", "/api/v1/org-key", simAdmin, `{"orgId":"`+sitesim.DefaultOrgID+`","key":"`+sitesim.DefaultOrgKey+`","expiresAt":"`+late+`"}`); code != http.StatusBadRequest || !strings.Contains(string(body), "expiresAt") {
		t.Errorf("an expiry beyond a year: %d %s", code, body)
	}
	if code, _ := p.call(t, "DELETE", "/api/v1/org-key", simAdmin, ""); code != http.StatusNoContent {
		t.Errorf("DELETE org-key: %d", code)
	}

	// The admin CSV: the date is required; a good file is kept.
	csv := "User id,User name,email,User status,Added to org,Org role,Last seen in Jira\n" +
		"5b10a2844c20165700ede202,Bob Builder,bob@seatlens-sim.example,Active,10 Jan 2024,Basic,20 Nov 2026\n"
	if code, body := p.call(t, "POST", "/api/v1/activity-csv", simAdmin, csv); code != http.StatusBadRequest || !strings.Contains(string(body), "date") {
		t.Errorf("CSV without a date: %d %s", code, body)
	}
	if code, body := p.call(t, "POST", "/api/v1/activity-csv?date=2026-11-30", simAdmin, csv); code != http.StatusOK || !strings.Contains(string(body), `"accounts":1`) {
		t.Errorf("CSV: %d %s", code, body)
	}

	// A Forge UI invocation of an admin, and of a user.
	for _, who := range []struct {
		account string
		code    int
	}{{simAdmin, http.StatusOK}, {bob, http.StatusForbidden}} {
		fit, err := p.site.UIInvocationToken(p.inst, simForgeAppID, who.account)
		if err != nil {
			t.Fatal(err)
		}
		if code, body := p.send(t, "GET", "/api/v1/scans/latest", "Bearer "+fit, ""); code != who.code {
			t.Errorf("FIT of %s: %d %s, want %d", who.account, code, body, who.code)
		}
	}

	for _, secret := range []string{sitesim.DefaultOrgKey, p.inst.AppToken, p.inst.SharedSecret} {
		if strings.Contains(p.logs.String(), secret) {
			t.Errorf("a secret is in the logs: %.12s…", secret)
		}
	}
}

// TestBrowseAPI: the seats table, one user and the diff of two scans,
// through the real router.
func TestBrowseAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("scans the simulated site")
	}
	// A slow site: its first scan is still running when the table is asked for.
	p := newScanPairWith(t, sitesim.DefaultScenario(), sitesim.Options{Faults: sitesim.Faults{Latency: 150 * time.Millisecond}}, true, config.DefaultPointsPerHour)
	for _, path := range []string{"/api/v1/seats", "/api/v1/users/" + simAdmin} {
		if code, body := p.call(t, "GET", path, simAdmin, ""); code != http.StatusNotFound || !strings.Contains(string(body), `"no-scan"`) {
			t.Errorf("%s before a scan: %d %s", path, code, body)
		}
	}
	first := p.scanNow(t)
	f := p.findings(t, first.ID)

	var page struct {
		Scan  string
		Total int
		Next  string
		Seats []struct {
			AccountID, DisplayName, Product, Verdict string
		}
	}
	code, body := p.call(t, "GET", "/api/v1/seats?limit=3&sort=name", simAdmin, "")
	if json.Unmarshal(body, &page); code != http.StatusOK || page.Scan != first.ID || len(page.Seats) != 3 || page.Next == "" || page.Total != f.Totals.Seats {
		t.Fatalf("seats: %d %s; want 3 of %d seats and a next cursor", code, body, f.Totals.Seats)
	}
	seen := len(page.Seats)
	for page.Next != "" {
		code, body = p.call(t, "GET", "/api/v1/seats?limit=3&sort=name&cursor="+page.Next, simAdmin, "")
		next := page.Next
		page.Next = ""
		if json.Unmarshal(body, &page); code != http.StatusOK || page.Next == next {
			t.Fatalf("next page: %d %s", code, body)
		}
		seen += len(page.Seats)
	}
	if seen != f.Totals.Seats {
		t.Fatalf("paged through %d seats, the findings hold %d", seen, f.Totals.Seats)
	}
	code, body = p.call(t, "GET", "/api/v1/seats?verdict=review&product=jira-software", simAdmin, "")
	if json.Unmarshal(body, &page); code != http.StatusOK || page.Total == 0 {
		t.Fatalf("filtered: %d %s", code, body)
	}
	for _, s := range page.Seats {
		if s.Verdict != "review" || s.Product != "jira-software" {
			t.Fatalf("filter let through %+v", s)
		}
	}
	for _, bad := range []string{"sort=colour", "limit=0x", "verdict=maybe", "billable=yes", "cursor=abc", "inactive=-3"} {
		code, body := p.call(t, "GET", "/api/v1/seats?"+bad, simAdmin, "")
		param := strings.SplitN(bad, "=", 2)[0]
		if code != http.StatusBadRequest || !strings.Contains(string(body), param) {
			t.Errorf("%s: %d %s, want 400 naming %s", bad, code, body, param)
		}
	}

	code, body = p.call(t, "GET", "/api/v1/users/5b10a2844c20165700ede202", simAdmin, "")
	var u billing.UserFindings
	if json.Unmarshal(body, &u); code != http.StatusOK || u.DisplayName != "Bob Builder" || len(u.Seats) == 0 || len(u.Seats[0].Paths) == 0 {
		t.Fatalf("user: %d %s", code, body)
	}
	if code, body := p.call(t, "GET", "/api/v1/users/nobody", simAdmin, ""); code != http.StatusNotFound || !strings.Contains(string(body), `"not-found"`) {
		t.Errorf("unknown user: %d %s", code, body)
	}

	// A second scan after Dana leaves her only product group: the diff shows her seat gone.
	req, _ := http.NewRequest("DELETE", p.siteURL+"/sim/admin/groups/6c1a0f5e-0002-4000-8000-000000000002/members/5b10a2844c20165700ede204", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("removing Dana from jira-servicemanagement-users: %v %v", resp, err)
	}
	second := p.scanNow(t)
	code, body = p.call(t, "GET", "/api/v1/scans/"+second.ID+"/diff?from="+first.ID, simAdmin, "")
	if code != http.StatusOK {
		t.Fatalf("diff: %d %s", code, body)
	}
	var d struct {
		Added, Removed []struct{ AccountID, Product string }
		Changed        []struct{ AccountID, Product, From, To string }
	}
	json.Unmarshal(body, &d)
	gone := slices.ContainsFunc(d.Removed, func(s struct{ AccountID, Product string }) bool {
		return s.AccountID == "5b10a2844c20165700ede204" && s.Product == "jira-servicedesk"
	})
	if !gone || len(d.Added) != 0 {
		t.Errorf("the diff does not show Dana's seat gone (and only that): %s", body)
	}
	if code, _ := p.call(t, "GET", "/api/v1/scans/"+second.ID+"/diff", simAdmin, ""); code != http.StatusBadRequest {
		t.Errorf("diff without from: %d", code)
	}
	if code, _ := p.call(t, "GET", "/api/v1/scans/"+second.ID+"/diff?from=999", simAdmin, ""); code != http.StatusNotFound {
		t.Errorf("diff from an unknown scan: %d", code)
	}
}
