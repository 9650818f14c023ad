package atlassian

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestAnswersThatCannotBeUsed: every answer a walk could mistake for a
// shorter list is an error naming the operation and the field; fields the
// client does not read never matter.
func TestAnswersThatCannotBeUsed(t *testing.T) {
	ctx := context.Background()
	workspaces := "/admin/v2/orgs/o/workspaces"
	for _, tc := range []struct {
		name, body string
		want       string // "" : decodes
	}{
		{"documented shape, every unused field odd", `{"data":[{"id":"ari:cloud:jira-software::site/1","type":{"weird":1},
			"attributes":{"name":7,"typeKey":"jira-software","status":"online","hostUrl":"https://a.atlassian.net","sandbox":{"type":"CHILD"},
			"capacity":null,"createdAt":[1],"usage":"lots","future":{"x":[null]}},"links":{"self":5},"relationships":{}}],
			"links":{"self":"u","prev":null,"next":null},"meta":{"pageSize":"twenty"}}`, ""},
		{"sandbox a bool, as the sim once sent", `{"data":[{"id":"w","attributes":{"sandbox":false,"hostUrl":"https://a"}}]}`, ""},
		{"a used field of the wrong type", `{"data":[{"id":"w1","attributes":{}},{"id":"w2","attributes":{"capacity":"100"}}]}`,
			"POST /admin/v2/orgs/o/workspaces (org.searchWorkspaces): 200 answer: data[1].attributes.capacity is a string, not a whole number"},
		{"a capacity that is not whole", `{"data":[{"id":"w1","attributes":{"capacity":1.5}}]}`,
			"data[0].attributes.capacity is a number 1.5, not a whole number"},
		{"an entry without its id", `{"data":[{"id":"w1"},{"attributes":{}}]}`, "data[1].id is missing"},
		{"data null", `{"data":null,"links":{}}`, "data is missing or null, where a list was expected"},
		{"data missing", `{"links":{"next":null}}`, "data is missing or null, where a list was expected"},
		{"data an object", `{"data":{"id":"w"}}`, "data is an object, not a list"},
		{"null", `null`, "the answer is null, where an object was expected"},
		{"empty", ``, "the answer is empty, where JSON was expected"},
		{"not JSON", `<html>oops</html>`, "the answer is not valid JSON"},
		{"a link that is a number", `{"data":[{"id":"w"}],"links":{"next":5}}`, "links.next is a number, not a string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScript().on(workspaces, ok(tc.body))
			c := mustClient(t, serve(t, s), nil, Options{})
			ws, err := c.Workspaces(ctx, "o")
			if tc.want == "" {
				if err != nil || len(ws) == 0 {
					t.Fatalf("workspaces %+v, %v", ws, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v\nwant %q", err, tc.want)
			}
			if n := s.count(workspaces); n != 1 {
				t.Errorf("%d calls: a malformed answer is not retried", n)
			}
		})
	}
}

// TestPageBounds: a page longer than any page may be, and a walk that
// never stops bringing new entries, end with an error long before memory
// runs out.
func TestPageBounds(t *testing.T) {
	ctx := context.Background()
	var b strings.Builder
	b.WriteString(`[`)
	for i := range maxPageItems + 1 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"accountId":"a%d"}`, i)
	}
	b.WriteString(`]`)
	s := newScript().on("/rest/api/3/users/search", ok(b.String()))
	_, err := mustClient(t, serve(t, s), nil, Options{}).AllUsers(ctx)
	if err == nil || !strings.Contains(err.Error(), "holds more than 5000 entries") {
		t.Fatalf("a page of %d: %v", maxPageItems+1, err)
	}

	var n atomic.Int64
	endless := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		ok(fmt.Sprintf(`{"data":[{"accountId":"u%d-1"},{"accountId":"u%d-2"}],"links":{"next":"c%d"}}`, i, i, i))(w, r)
	})
	c := mustClient(t, serve(t, endless), nil, Options{MaxListItems: 50})
	err = c.SearchUsers(ctx, "o", DirectoryAll, UserSearch{}, func([]OrgUser) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "goes on past 50 entries") || n.Load() > 26 {
		t.Fatalf("endless new accounts: %v after %d pages", err, n.Load())
	}
}

// TestWorkspacesCursorOnly: page 2 on is asked with the cursor alone, taken
// from the next link whether it is a token or a URL.
func TestWorkspacesCursorOnly(t *testing.T) {
	var bodies []string
	s := newScript().on("/admin/v2/orgs/o/workspaces", func(w http.ResponseWriter, r *http.Request) {
		var sb strings.Builder
		_, _ = fmt.Fprint(&sb, r.Body)
		buf := make([]byte, 256)
		k, _ := r.Body.Read(buf)
		bodies = append(bodies, string(buf[:k]))
		switch len(bodies) {
		case 1:
			ok(`{"data":[{"id":"w1"}],"links":{"next":"http://`+r.Host+`/admin/v2/orgs/o/workspaces?cursor=T2"}}`)(w, r)
		case 2:
			ok(`{"data":[{"id":"w2"}],"links":{"next":"T3"}}`)(w, r)
		default:
			ok(`{"data":[{"id":"w3"}],"links":{"self":"x"}}`)(w, r)
		}
	})
	ws, err := mustClient(t, serve(t, s), nil, Options{}).Workspaces(context.Background(), "o")
	if err != nil || len(ws) != 3 {
		t.Fatalf("workspaces %v, %v", ws, err)
	}
	if got := strings.Join(bodies, " "); got != `{"limit":1000} {"cursor":"T2"} {"cursor":"T3"}` {
		t.Fatalf("bodies %s", got)
	}
}

// TestServiceAccountsAskedBare: the documented request has no parameter;
// a URL next link is followed as given.
func TestServiceAccountsAskedBare(t *testing.T) {
	var queries []string
	s := newScript().on("/admin/api-access/v1/orgs/o/service-accounts", func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		if r.URL.Query().Get("page") == "" {
			ok(`{"items":[{"atlassianId":"s1","updatedAt":1764642980899}],"links":{"next":"/admin/api-access/v1/orgs/o/service-accounts?page=2"},"total":2}`)(w, r)
			return
		}
		ok(`{"items":[{"atlassianId":"s2"}],"links":{},"total":2}`)(w, r)
	})
	sas, err := mustClient(t, serve(t, s), nil, Options{}).ServiceAccounts(context.Background(), "o")
	if err != nil || len(sas) != 2 || strings.Join(queries, "|") != "|page=2" {
		t.Fatalf("service accounts %v, %v; queries %q", sas, err, queries)
	}
}

// TestCallsGiveUpInTime: a server that never answers, or drips, costs a
// call at most its CallTimeout, whatever the retries allow.
func TestCallsGiveUpInTime(t *testing.T) {
	silent := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	drip := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`[{"accountId":`))
		w.(http.Flusher).Flush()
		for range 100 {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
			w.Write([]byte(" "))
			w.(http.Flusher).Flush()
		}
	})
	for name, h := range map[string]http.Handler{"silent": silent, "drip": drip} {
		t.Run(name, func(t *testing.T) {
			o := Options{AttemptTimeout: 200 * time.Millisecond, CallTimeout: 700 * time.Millisecond, BackoffBase: 10 * time.Millisecond,
				Sleep: sleepCtx, MaxRetries: 100}
			c := mustClient(t, serve(t, h), nil, o)
			began := time.Now()
			_, err := c.AllUsers(context.Background())
			took := time.Since(began)
			var gu *GiveUpError
			if !errors.Is(err, ErrTimeout) || !errors.As(err, &gu) || gu.Attempts < 3 {
				t.Fatalf("error %v", err)
			}
			if took > 900*time.Millisecond {
				t.Fatalf("gave up after %s, budget 700ms", took)
			}
			if !strings.Contains(err.Error(), "no complete answer within") || !strings.Contains(err.Error(), "gave up after") {
				t.Fatalf("message %q", err)
			}
		})
	}
	if DefaultCallTimeout+DefaultAttemptTimeout/10 > 85*time.Second {
		t.Fatalf("the defaults let a call run %s: over the 90 s a scan may take to give up", DefaultCallTimeout)
	}
}

// TestRedirects: a redirect within the base URL is followed with the
// credential; one to another host is refused before anything is sent there.
func TestRedirects(t *testing.T) {
	var foreign atomic.Int32
	other := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		foreign.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	var auth []string
	s := newScript().
		on("/rest/api/3/myself", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/rest/api/3/myself2", http.StatusFound)
		}).
		on("/rest/api/3/myself2", func(w http.ResponseWriter, r *http.Request) {
			auth = append(auth, r.Header.Get("Authorization"))
			ok(`{"accountId":"me"}`)(w, r)
		}).
		on("/rest/api/3/user", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other+"/rest/api/3/user", http.StatusTemporaryRedirect)
		})
	c := mustClient(t, serve(t, s), Basic("a@b.c", "tok"), Options{})
	me, err := c.Myself(context.Background())
	if err != nil || me.AccountID != "me" || len(auth) != 1 || !strings.HasPrefix(auth[0], "Basic ") {
		t.Fatalf("same-origin redirect: %+v %v, auth %q", me, err, auth)
	}
	_, err = c.User(context.Background(), "x")
	if !errors.Is(err, ErrRedirect) || errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "not followed") ||
		strings.Contains(err.Error(), "tok") || foreign.Load() != 0 {
		t.Fatalf("cross-host redirect: %v (%d requests reached the other host)", err, foreign.Load())
	}
}

// TestOrgAPIErrorEnvelopes: the bare application error of workspaces, the
// gateway's ProxyError and NoPermsError all give their words.
func TestOrgAPIErrorEnvelopes(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		line, code string
	}{
		{"bare application error", `{"id":"e1","status":"404","code":"ADMIN-404-2","title":"Not Found","detail":"Organization o was not found."}`, 404,
			"404 Not Found: Organization o was not found. (ADMIN-404-2)", "ADMIN-404-2"},
		{"proxy error", `{"code":401,"message":"Unauthorized"}`, 401, "401 Unauthorized: Unauthorized", "401"},
		{"no perms", `{"timestamp":"2026-01-01T00:00:00Z","path":"/x","status":403,"error":"Forbidden","message":"Access denied","requestId":"r"}`, 403,
			"403 Forbidden: Access denied", ""},
		{"a field of an odd type", `{"errors":"not a list","errorMessages":["still read"]}`, 400, "400 Bad Request: still read", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScript().on("/admin/v2/orgs/o/workspaces", status(tc.status, nil, tc.body))
			_, err := mustClient(t, serve(t, s), nil, Options{}).Workspaces(context.Background(), "o")
			var ae *APIError
			if !errors.As(err, &ae) || !strings.HasSuffix(err.Error(), tc.line) || ae.Code != tc.code {
				t.Fatalf("error %v (code %q), want …%q", err, ae.Code, tc.line)
			}
		})
	}
}

// TestOrgAPIProxy429PausesTheClient: a v1 429 answered as the gateway's
// ProxyError pauses every call of the client until the reset, as the
// documented ADMIN-429-1 does.
func TestOrgAPIProxy429PausesTheClient(t *testing.T) {
	reset := t0.Add(20 * time.Second)
	s := newScript().on("/admin/v1/orgs", status(429, map[string]string{"X-RateLimit-Reset": fmt.Sprint(reset.Unix())}, `{"code":429,"message":"Too Many Requests"}`),
		ok(`{"data":[{"id":"o"}]}`))
	c, sl, _ := clientAt(t, serve(t, s), Options{})
	if _, err := c.Orgs(context.Background()); err != nil {
		t.Fatal(err)
	}
	if until, _ := c.pauseState(); !until.Equal(reset) {
		t.Fatalf("pause until %v, want %v (waits %v)", until, reset, sl.Waits())
	}
}

func TestParseReset(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	in := now.Add(30 * time.Second)
	for v, want := range map[string]time.Time{
		in.Format(time.RFC3339):          in,
		fmt.Sprint(in.Unix()):            in,
		fmt.Sprint(in.UnixMilli()):       in,
		in.Format(http.TimeFormat):       in,
		"30":                             {},
		"soon":                           {},
		now.Add(48 * time.Hour).String(): {},
		fmt.Sprint(now.Add(48 * time.Hour).Unix()): {},
	} {
		if got := parseReset(v, now); !got.Equal(want) {
			t.Errorf("parseReset(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain name":                      "plain name",
		"  two\nlines\r\n":                "two lines",
		"red\x1b[31m text\x1b[0m":         "red [31m text [0m",
		"bell\x07 and \u009b C1":          "bell and C1",
		"right\u202eto left\u200b hidden": "rightto left hidden",
		"bad \xff byte":                   "bad \ufffd byte",
		"tab\tand  spaces":                "tab and spaces",
		"Zoë 山田":                          "Zoë 山田",
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}
