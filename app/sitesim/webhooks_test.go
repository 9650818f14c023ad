package sitesim

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/seatlens/seatlens/app/connect/qsh"
)

// hookApp is a stand-in app that subscribes to the user webhooks (or
// not), takes the shared secret from its installed callback and checks
// each delivery's HS256 JWT and qsh the way a Connect app must.
type hookApp struct {
	t      *testing.T
	ts     *httptest.Server
	base   string
	status int // the webhook answer

	mu       sync.Mutex
	secret   string
	key      string // clientKey
	bodies   []webhookBody
	attempts int
	bad      []string
}

func newHookApp(t *testing.T, key string, subscribe bool, status int) *hookApp {
	a := &hookApp{t: t, status: status}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /app/atlassian-connect.json", func(w http.ResponseWriter, r *http.Request) {
		d := map[string]any{"key": key, "baseUrl": a.base,
			"lifecycle": map[string]string{"installed": "/installed"}, "scopes": []string{"READ"}}
		if subscribe {
			d["modules"] = map[string]any{"webhooks": []map[string]string{
				{"event": "user_created", "url": "/hooks/user_created"},
				{"event": "user_updated", "url": "/hooks/user_updated"},
				{"event": "user_deleted", "url": "/hooks/user_deleted"},
			}}
		}
		json.NewEncoder(w).Encode(d)
	})
	mux.HandleFunc("POST /app/installed", func(w http.ResponseWriter, r *http.Request) {
		var p lifecyclePayload
		json.NewDecoder(r.Body).Decode(&p)
		a.mu.Lock()
		a.secret, a.key = p.SharedSecret, p.ClientKey
		a.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /app/hooks/{event}", a.webhook)
	a.ts = httptest.NewServer(mux)
	t.Cleanup(a.ts.Close)
	a.base = a.ts.URL + "/app" // a base path: the qsh is relative to it
	return a
}

func (a *hookApp) webhook(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.attempts++
	fail := func(msg string) { a.bad = append(a.bad, msg); w.WriteHeader(http.StatusUnauthorized) }
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "JWT ")
	if !ok || r.Header.Get("Content-Type") != "application/json" {
		fail("no JWT or not JSON")
		return
	}
	var claims struct {
		jwt.RegisteredClaims
		QSH string `json:"qsh"`
	}
	_, err := jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return []byte(a.secret), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuedAt(), jwt.WithExpirationRequired(), jwt.WithIssuer(a.key))
	if err != nil {
		fail("jwt: " + err.Error())
		return
	}
	if ttl := claims.ExpiresAt.Sub(claims.IssuedAt.Time); ttl != 180*time.Second {
		fail("ttl " + ttl.String())
		return
	}
	if want := qsh.Of(http.MethodPost, r.URL.EscapedPath(), r.URL.RawQuery, "/app"); claims.QSH != want {
		fail("qsh " + claims.QSH + " want " + want)
		return
	}
	var b webhookBody
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &b); err != nil || b.WebhookEvent != r.PathValue("event") || b.Timestamp == 0 {
		fail("body " + string(body))
		return
	}
	if a.status != http.StatusNoContent {
		w.WriteHeader(a.status)
		return
	}
	a.bodies = append(a.bodies, b)
	w.WriteHeader(http.StatusNoContent)
}

func (a *hookApp) got() ([]webhookBody, int, []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]webhookBody(nil), a.bodies...), a.attempts, append([]string(nil), a.bad...)
}

func (ts *testSite) install(a *hookApp) {
	ts.t.Helper()
	if _, err := ts.srv.Install(context.Background(), ts.ts.URL, a.base, ""); err != nil {
		ts.t.Fatal(err)
	}
}

func (ts *testSite) flush() {
	ts.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.srv.FlushWebhooks(ctx); err != nil {
		ts.t.Fatal(err)
	}
}

func (ts *testSite) admin(method, path, body string) (int, string) {
	ts.t.Helper()
	req, err := http.NewRequest(method, ts.ts.URL+path, strings.NewReader(body))
	if err != nil {
		ts.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func wantDeliveries(t *testing.T, a *hookApp, event string, ids ...string) {
	t.Helper()
	bodies, _, bad := a.got()
	if len(bad) > 0 {
		t.Fatalf("app refused deliveries: %v", bad)
	}
	if len(bodies) != len(ids) {
		t.Fatalf("got %d deliveries %+v, want %d", len(bodies), bodies, len(ids))
	}
	for i, id := range ids {
		if bodies[i].User.AccountID != id || bodies[i].WebhookEvent != event {
			t.Fatalf("delivery %d: %+v, want %s for %s", i, bodies[i], event, id)
		}
	}
}

// TestWebhookOnMembershipChange: a membership change through the admin
// API and through product REST each send one signed user_updated to the
// subscribed app and none to an app without webhooks.
func TestWebhookOnMembershipChange(t *testing.T) {
	ts := defaultSite(t)
	sub := newHookApp(t, "io.test.hooks", true, http.StatusNoContent)
	quiet := newHookApp(t, "io.test.quiet", false, http.StatusNoContent)
	ts.install(sub)
	ts.install(quiet)

	if code, body := ts.admin(http.MethodPost, "/sim/admin/groups/"+GroupAllStaff+"/members", `{"accountId":"`+chen+`"}`); code != http.StatusNoContent {
		t.Fatalf("admin add: %d %s", code, body)
	}
	ts.flush()
	wantDeliveries(t, sub, webhookUserUpdated, chen)

	if res := ts.addMember(basicCred(), GroupAllStaff, grace); res.status != http.StatusCreated {
		t.Fatalf("REST add: %d %s", res.status, res.body)
	}
	ts.flush()
	wantDeliveries(t, sub, webhookUserUpdated, chen, grace)

	if code, body := ts.admin(http.MethodDelete, "/sim/admin/groups/"+GroupAllStaff+"/members/"+chen, ""); code != http.StatusNoContent {
		t.Fatalf("admin remove: %d %s", code, body)
	}
	ts.flush()
	wantDeliveries(t, sub, webhookUserUpdated, chen, grace, chen)

	if _, n, _ := quiet.got(); n != 0 {
		t.Fatalf("an app without webhooks got %d deliveries", n)
	}
	if ok, failed := ts.srv.WebhookDeliveries(); ok != 3 || failed != 0 {
		t.Fatalf("deliveries ok %d failed %d, want 3, 0", ok, failed)
	}
}

// TestWebhookUserLifecycle: creating a user sends one user_created (not a
// user_updated per group too); deactivating sends user_deleted.
func TestWebhookUserLifecycle(t *testing.T) {
	ts := defaultSite(t)
	a := newHookApp(t, "io.test.hooks", true, http.StatusNoContent)
	ts.install(a)
	code, body := ts.admin(http.MethodPost, "/sim/admin/users",
		`{"accountId":"557058:new","displayName":"Nina New","email":"nina@example.org","groups":["`+GroupAllStaff+`"],"products":["`+JiraSoftware+`"]}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	ts.flush()
	wantDeliveries(t, a, webhookUserCreated, "557058:new")
	var groups []string
	ts.srv.site.mu.RLock()
	for _, g := range ts.srv.site.groupsOf("557058:new") {
		groups = append(groups, g.ID)
	}
	ts.srv.site.mu.RUnlock()
	if len(groups) < 2 {
		t.Fatalf("new user in groups %v, want all-staff and the software default group", groups)
	}
	if code, _ := ts.admin(http.MethodDelete, "/sim/admin/users/557058:new", ""); code != http.StatusNoContent {
		t.Fatalf("deactivate: %d", code)
	}
	ts.flush()
	bodies, _, _ := a.got()
	if len(bodies) != 2 || bodies[1].WebhookEvent != webhookUserDeleted {
		t.Fatalf("after deactivation: %+v", bodies)
	}
}

// TestWebhookFailingAppRetried: an app answering 500 gets the first
// attempt and the retries, then the delivery is dropped and counted.
func TestWebhookFailingAppRetried(t *testing.T) {
	ts := defaultSite(t)
	a := newHookApp(t, "io.test.broken", true, http.StatusInternalServerError)
	ts.install(a)
	if res := ts.addMember(basicCred(), GroupAllStaff, grace); res.status != http.StatusCreated {
		t.Fatalf("REST add: %d %s", res.status, res.body)
	}
	ts.flush()
	_, attempts, bad := a.got()
	if len(bad) > 0 || attempts != 1+webhookRetryLimit {
		t.Fatalf("attempts %d (bad %v), want %d", attempts, bad, 1+webhookRetryLimit)
	}
	if ok, failed := ts.srv.WebhookDeliveries(); ok != 0 || failed != 1 {
		t.Fatalf("deliveries ok %d failed %d, want 0, 1", ok, failed)
	}
}

// TestWebhookSyncIdP: the identity provider's sync undoing a change sends
// user_updated too.
func TestWebhookSyncIdP(t *testing.T) {
	ts := newTestSite(t, DefaultScenario(), Options{Modes: Modes{SyncedRemoval: SyncedRemovalUndone}})
	a := newHookApp(t, "io.test.hooks", true, http.StatusNoContent)
	ts.install(a)
	if res := ts.removeMember(basicCred(), GroupEngineering, chen); res.status != http.StatusOK {
		t.Fatalf("remove from synced group: %d %s", res.status, res.body)
	}
	ts.srv.Site().SyncIdP()
	ts.flush()
	wantDeliveries(t, a, webhookUserUpdated, chen, chen)
}
