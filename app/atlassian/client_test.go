package atlassian

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// These tests use small httptest handlers for what the simulated site
// cannot be made to answer on demand: particular headers, exact failure
// sequences, hung connections.

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// script answers the i-th request (0-based) to a path with steps[i], and
// the last step for every later one.
type script struct {
	mu    sync.Mutex
	calls map[string]int
	steps map[string][]func(w http.ResponseWriter, r *http.Request)
	log   []string
}

func newScript() *script {
	return &script{calls: map[string]int{}, steps: map[string][]func(http.ResponseWriter, *http.Request){}}
}

func (s *script) on(path string, steps ...func(w http.ResponseWriter, r *http.Request)) *script {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.steps[path] = steps
	return s
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	i := s.calls[r.URL.Path]
	s.calls[r.URL.Path]++
	s.log = append(s.log, r.Method+" "+r.URL.Path)
	steps := s.steps[r.URL.Path]
	s.mu.Unlock()
	if len(steps) == 0 {
		http.NotFound(w, r)
		return
	}
	steps[min(i, len(steps)-1)](w, r)
}

func (s *script) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[path]
}

func (s *script) Log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.log...)
}

func ok(body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	}
}

func status(code int, headers map[string]string, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

// hangUp closes the connection without an answer: a transport error.
func hangUp(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

const jiraTooMany = `{"errorMessages":["Rate limit exceeded."],"errors":{}}`

func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}

// clientAt builds a client of base with a fake clock and a sleep log that
// advances it.
func clientAt(t *testing.T, base string, o Options) (*Client, *sleepLog, *fakeClock) {
	t.Helper()
	clk := newFakeClock(t0)
	sl := &sleepLog{clock: clk}
	o.Now, o.Sleep = clk.Now, sl.Sleep
	return mustClient(t, base, Bearer("k"), o), sl, clk
}

func get(ctx context.Context, c *Client, path string) error {
	return c.do(ctx, request{op: "test", method: http.MethodGet, path: path, idempotent: true}, &json.RawMessage{})
}

func TestRetryAfterSecondsIsTheMinimumWait(t *testing.T) {
	s := newScript().on("/a",
		status(429, map[string]string{"Retry-After": "7", "RateLimit-Reason": "jira-burst-based"}, jiraTooMany),
		ok(`{}`))
	c, sl, _ := clientAt(t, serve(t, s), Options{})
	if err := get(context.Background(), c, "/a"); err != nil {
		t.Fatal(err)
	}
	w := sl.Waits()
	if len(w) != 1 || w[0] < 7*time.Second {
		t.Fatalf("waits %v, want one of at least 7s", w)
	}
	st := c.Stats().ByOp["test"]
	if st.Calls != 2 || st.Retries != 1 || st.RateLimited != 1 || st.Waited != w[0] {
		t.Fatalf("stats %+v", st)
	}
}

func TestRetryAfterHTTPDateAndResetHeader(t *testing.T) {
	s := newScript().
		on("/date", status(429, map[string]string{"Retry-After": t0.Add(90 * time.Second).Format(http.TimeFormat)}, jiraTooMany), ok(`{}`)).
		on("/reset", status(429, map[string]string{"X-RateLimit-Reset": t0.Add(45 * time.Second).Format(time.RFC3339)}, jiraTooMany), ok(`{}`))
	c, sl, clk := clientAt(t, serve(t, s), Options{})
	if err := get(context.Background(), c, "/date"); err != nil {
		t.Fatal(err)
	}
	if w := sl.Waits(); len(w) != 1 || w[0] != 90*time.Second {
		t.Fatalf("HTTP-date Retry-After: waits %v, want [1m30s]", w)
	}
	// The reset is absolute: measured from the clock, now 90 s later.
	s.on("/reset", status(429, map[string]string{"X-RateLimit-Reset": clk.Now().Add(45 * time.Second).Format(time.RFC3339)}, jiraTooMany), ok(`{}`))
	if err := get(context.Background(), c, "/reset"); err != nil {
		t.Fatal(err)
	}
	if w := sl.Waits(); len(w) != 2 || w[1] != 45*time.Second {
		t.Fatalf("X-RateLimit-Reset without Retry-After: waits %v, want 45s second", w)
	}
}

func TestBackoffScheduleAndJitter(t *testing.T) {
	for _, tc := range []struct {
		jitter float64
		want   []time.Duration
	}{
		{0, []time.Duration{1400 * time.Millisecond, 2800 * time.Millisecond, 5600 * time.Millisecond, 11200 * time.Millisecond}},
		{0.5, []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second}},
		{0.999999, []time.Duration{2600 * time.Millisecond, 5200 * time.Millisecond, 10400 * time.Millisecond, 20800 * time.Millisecond}},
	} {
		s := newScript().on("/a", status(502, nil, ``), status(504, nil, ``), status(500, nil, ``), status(503, nil, ``), ok(`{}`))
		c, sl, _ := clientAt(t, serve(t, s), Options{})
		c.jitter = func() float64 { return tc.jitter }
		if err := get(context.Background(), c, "/a"); err != nil {
			t.Fatal(err)
		}
		w := sl.Waits()
		if len(w) != len(tc.want) {
			t.Fatalf("jitter %v: waits %v", tc.jitter, w)
		}
		for i := range w {
			if d := w[i] - tc.want[i]; d < -time.Millisecond || d > time.Millisecond {
				t.Fatalf("jitter %v: waits %v, want %v", tc.jitter, w, tc.want)
			}
		}
		if st := c.Stats().Total; st.Calls != 5 || st.ServerErrors != 4 || st.Retries != 4 {
			t.Fatalf("stats %+v", st)
		}
	}
}

func TestRetriesRunOut(t *testing.T) {
	s := newScript().on("/a", status(500, nil, `{"errorMessages":["boom"],"errors":{}}`))
	c, _, _ := clientAt(t, serve(t, s), Options{})
	err := get(context.Background(), c, "/a")
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 500 || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err %v", err)
	}
	if n := s.count("/a"); n != 1+DefaultMaxRetries {
		t.Fatalf("%d calls, want %d", n, 1+DefaultMaxRetries)
	}
	c2, _, _ := clientAt(t, serve(t, s), Options{MaxRetries: -1})
	_ = get(context.Background(), c2, "/a")
	if st := c2.Stats().Total; st.Calls != 1 {
		t.Fatalf("MaxRetries -1 sent %d calls", st.Calls)
	}
}

// TestNonIdempotentCallsAreNotRetriedAfter5xx: a membership change whose
// answer was a 5xx or lost may have happened; sending it again could act
// twice, so the client reports the failure instead.
func TestNonIdempotentCallsAreNotRetriedAfter5xx(t *testing.T) {
	s := newScript().
		on("/rest/api/3/group/user", status(503, map[string]string{"Retry-After": "1"}, `{"errorMessages":["down"],"errors":{}}`)).
		on("/admin/v2/orgs/o/directories/d/groups/g/memberships", hangUp, ok(`{}`)).
		on("/read", hangUp, ok(`{}`))
	c, sl, _ := clientAt(t, serve(t, s), Options{})
	ctx := context.Background()

	err := c.RemoveGroupMember(ctx, "g", "5b10:a")
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("DELETE after a 503: %v", err)
	}
	err = c.AddGroupMember(ctx, "g", "5b10:a")
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("POST after a 503: %v", err)
	}
	if n := s.count("/rest/api/3/group/user"); n != 2 {
		t.Fatalf("group/user got %d requests, want one per call", n)
	}
	if err := c.AddMembership(ctx, "o", "d", "g", "5b10:a"); err == nil || !strings.Contains(err.Error(), "POST /admin/v2/orgs/o/directories/d/groups/g/memberships") {
		t.Fatalf("POST membership over a dropped connection: %v", err)
	}
	if n := s.count("/admin/v2/orgs/o/directories/d/groups/g/memberships"); n != 1 {
		t.Fatalf("membership POST sent %d times after a transport error", n)
	}
	if len(sl.Waits()) != 0 {
		t.Fatalf("non-idempotent calls waited %v", sl.Waits())
	}
	// The same transport error on a read is retried.
	if err := get(ctx, c, "/read"); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats().ByOp["test"]; st.Calls != 2 || st.TransportErrors != 1 {
		t.Fatalf("GET after a dropped connection: %+v", st)
	}
}

// TestTooManyRequestsIsRetriedEvenForAWrite: a 429 is refused before any
// work, so retrying a removal cannot remove twice.
func TestTooManyRequestsIsRetriedEvenForAWrite(t *testing.T) {
	s := newScript().on("/rest/api/3/group/user",
		status(429, map[string]string{"Retry-After": "3", "RateLimit-Reason": "jira-burst-based"}, jiraTooMany), ok(``))
	c, sl, _ := clientAt(t, serve(t, s), Options{})
	if err := c.RemoveGroupMember(context.Background(), "g", "a"); err != nil {
		t.Fatal(err)
	}
	if s.count("/rest/api/3/group/user") != 2 || len(sl.Waits()) != 1 || sl.Waits()[0] < 3*time.Second {
		t.Fatalf("calls %d waits %v", s.count("/rest/api/3/group/user"), sl.Waits())
	}
}

// TestQuotaReasonPausesEveryCall: while one call waits out a quota 429,
// a second call of the same client waits for the reset before sending.
func TestQuotaReasonPausesEveryCall(t *testing.T) {
	for _, tc := range []struct {
		name    string
		refusal func(http.ResponseWriter, *http.Request)
		pauses  bool
	}{
		{"jira global quota", status(429, map[string]string{"Retry-After": "30", "RateLimit-Reason": "jira-quota-global-based"}, jiraTooMany), true},
		{"jira tenant quota", status(429, map[string]string{"Retry-After": "30", "RateLimit-Reason": "jira-quota-tenant-based"}, jiraTooMany), true},
		{"org API ADMIN-429-1", status(429, map[string]string{"X-RateLimit-Reset": t0.Add(30 * time.Second).Format(time.RFC3339)},
			`{"errors":[{"id":"x","status":"429","code":"ADMIN-429-1","title":"Too Many Requests","detail":"Rate limit exceeded"}]}`), true},
		{"jira burst", status(429, map[string]string{"Retry-After": "30", "RateLimit-Reason": "jira-burst-based"}, jiraTooMany), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScript().on("/a", tc.refusal, ok(`{}`)).on("/b", ok(`{}`))
			c, sl, _ := clientAt(t, serve(t, s), Options{})
			type who struct{}
			var bWaits []time.Duration
			var bErr error
			sl.before = func(ctx context.Context, d time.Duration) {
				if ctx.Value(who{}) == "b" {
					bWaits = append(bWaits, d)
					return
				}
				// Call A is waiting: start B now, from another goroutine.
				done := make(chan struct{})
				go func() {
					defer close(done)
					bErr = get(context.WithValue(context.Background(), who{}, "b"), c, "/b")
				}()
				<-done
			}
			if err := get(context.Background(), c, "/a"); err != nil {
				t.Fatal(err)
			}
			if bErr != nil {
				t.Fatal(bErr)
			}
			log := s.Log()
			if tc.pauses {
				if len(bWaits) != 1 || bWaits[0] != 30*time.Second {
					t.Fatalf("B waited %v, want the 30 s until the reset", bWaits)
				}
			} else if len(bWaits) != 0 {
				t.Fatalf("a burst refusal delayed another call by %v", bWaits)
			}
			if strings.Join(log, ",") != "GET /a,GET /b,GET /a" {
				t.Fatalf("requests %v", log)
			}
		})
	}
}

// TestWaitBeyondMaxWait: an hour-long quota wait is returned as a typed
// error at once, and later calls fail fast without reaching the server.
func TestWaitBeyondMaxWait(t *testing.T) {
	s := newScript().on("/a", status(429, map[string]string{"Retry-After": "3600", "RateLimit-Reason": "jira-quota-global-based",
		"X-RateLimit-Reset": t0.Add(time.Hour).Format(time.RFC3339)}, jiraTooMany)).on("/b", ok(`{}`))
	c, sl, _ := clientAt(t, serve(t, s), Options{MaxWait: 10 * time.Minute})
	err := get(context.Background(), c, "/a")
	var rl *RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, ErrRateLimited) || rl.Reason != "jira-quota-global-based" || rl.Wait < time.Hour || rl.Err == nil {
		t.Fatalf("err %#v", err)
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 429 || ae.RetryAfter != time.Hour {
		t.Fatalf("the 429 is not reachable from %v", err)
	}
	err = get(context.Background(), c, "/b")
	if !errors.As(err, &rl) || rl.Err != nil || !rl.RetryAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("second call during the pause: %v", err)
	}
	if s.count("/b") != 0 || len(sl.Waits()) != 0 {
		t.Fatalf("/b reached %d times, waits %v", s.count("/b"), sl.Waits())
	}
	if !strings.Contains(err.Error(), "rate limited (jira-quota-global-based) until 2026-11-26T11:00:00Z") {
		t.Fatalf("message %q", err)
	}
}

// TestCancellationInterruptsWaits uses the real sleep: a wait of an hour
// must end as soon as the context does.
func TestCancellationInterruptsWaits(t *testing.T) {
	s := newScript().
		on("/a", status(429, map[string]string{"Retry-After": "3000", "RateLimit-Reason": "jira-quota-global-based"}, jiraTooMany)).
		on("/b", ok(`{}`))
	waiting := make(chan struct{}, 4)
	c, err := New(nil, serve(t, s), nil, Options{MaxWait: 2 * time.Hour, Sleep: func(ctx context.Context, d time.Duration) error {
		waiting <- struct{}{}
		return sleepCtx(ctx, d)
	}})
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, run func(ctx context.Context) error) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- run(ctx) }()
		select {
		case <-waiting:
		case err := <-done:
			t.Fatalf("%s: returned %v without waiting", name, err)
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: never started waiting", name)
		}
		start := time.Now()
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("%s: %v, want context.Canceled", name, err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Fatalf("%s: returned %v after cancel", name, d)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: still waiting 30 s after cancel", name)
		}
	}
	check("own Retry-After", func(ctx context.Context) error { return get(ctx, c, "/a") })
	// The 429 above paused the client: another call now waits for the reset.
	check("client-wide pause", func(ctx context.Context) error { return get(ctx, c, "/b") })
	if s.count("/b") != 0 {
		t.Fatal("/b was sent during the pause")
	}
}

func TestCancellationWhileQueuedForASlot(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	s := newScript().on("/slow", func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		ok(`{}`)(w, r)
	})
	c := mustClient(t, serve(t, s), nil, Options{MaxInFlight: 1})
	first := make(chan error, 1)
	go func() { first <- get(context.Background(), c, "/slow") }()
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the first call never reached the server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := get(ctx, c, "/slow"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("queued call: %v", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if n := s.count("/slow"); n != 1 {
		t.Fatalf("the queued call was sent (%d requests)", n)
	}
}

// TestInFlightBound: with MaxInFlight 3 and 24 concurrent calls, the
// server sees exactly 3 at a time. The handler holds each request until 3
// are in, so the bound is reached however slowly the goroutines start.
func TestInFlightBound(t *testing.T) {
	const bound, calls = 3, 24
	var mu sync.Mutex
	cur, peak := 0, 0
	full := make(chan struct{})
	var once sync.Once
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		cur++
		peak = max(peak, cur)
		if cur == bound {
			once.Do(func() { close(full) })
		}
		mu.Unlock()
		select {
		case <-full:
		case <-time.After(10 * time.Second): // never hang the suite
		}
		mu.Lock()
		cur--
		mu.Unlock()
		ok(`{}`)(w, r)
	})
	c := mustClient(t, serve(t, h), nil, Options{MaxInFlight: bound})
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range calls {
		wg.Go(func() {
			if get(context.Background(), c, "/x") != nil {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if failed.Load() != 0 || peak != bound {
		t.Fatalf("peak in flight %d (bound %d), %d failed", peak, bound, failed.Load())
	}
}

func TestErrorBodies(t *testing.T) {
	long := strings.Repeat("é", 5000)
	cases := []struct {
		name, body string
		status     int
		line       string
		code       string
	}{
		{"jira envelope", `{"errorMessages":["Client must be authenticated to access this resource."],"errors":{}}`, 401,
			"atlassian: GET /rest/api/3/group/member: 401 Unauthorized: Client must be authenticated to access this resource.", ""},
		{"jira field errors", `{"errorMessages":[],"errors":{"groupId":"required","accountId":"bad"}}`, 400,
			"atlassian: GET /rest/api/3/group/member: 400 Bad Request: accountId: bad; groupId: required", ""},
		{"org envelope", `{"errors":[{"id":"e1","status":"404","code":"ADMIN-404-8","title":"Not Found","detail":"User x was not found."}]}`, 404,
			"atlassian: GET /rest/api/3/group/member: 404 Not Found: User x was not found. (ADMIN-404-8)", "ADMIN-404-8"},
		{"org numeric status", `{"errors":[{"id":"e1","status":403,"code":"ADMIN-403-5","title":"Forbidden"}]}`, 403,
			"atlassian: GET /rest/api/3/group/member: 403 Forbidden: Forbidden (ADMIN-403-5)", "ADMIN-403-5"},
		{"gateway", `{"code":401,"message":"Unauthorized; scope does not match"}`, 401,
			"atlassian: GET /rest/api/3/group/member: 401 Unauthorized: Unauthorized; scope does not match", "401"},
		{"html", "<html>\n<body>Bad gateway</body></html>", 400,
			"atlassian: GET /rest/api/3/group/member: 400 Bad Request", ""},
		{"multi-line message", `{"errorMessages":["line one\nline two"]}`, 409,
			"atlassian: GET /rest/api/3/group/member: 409 Conflict: line one line two", ""},
		{"long", `{"errorMessages":["` + long + `"]}`, 400, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newScript().on("/rest/api/3/group/member", status(tc.status, nil, tc.body))
			c := mustClient(t, serve(t, s), nil, Options{})
			_, err := c.GroupMembers(context.Background(), "g")
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err %v", err)
			}
			if tc.line != "" && err.Error() != tc.line {
				t.Fatalf("Error()\n got %q\nwant %q", err.Error(), tc.line)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("Error() spans lines: %q", err.Error())
			}
			if ae.Code != tc.code || ae.Op != "getUsersFromGroup" || ae.Method != "GET" || ae.Path != "/rest/api/3/group/member" {
				t.Fatalf("%+v", ae)
			}
			if len(ae.Body) > maxErrorBody || !strings.HasPrefix(tc.body, ae.Body) {
				t.Fatalf("raw body kept: %d bytes", len(ae.Body))
			}
			if tc.name == "long" && len(err.Error()) > 700 {
				t.Fatalf("Error() is %d bytes", len(err.Error()))
			}
		})
	}
	for status, kind := range map[int]error{401: ErrUnauthorized, 403: ErrForbidden, 404: ErrNotFound, 429: ErrRateLimited, 502: ErrUnavailable} {
		e := &APIError{StatusCode: status}
		for _, other := range []error{ErrUnauthorized, ErrForbidden, ErrNotFound, ErrRateLimited, ErrUnavailable} {
			if errors.Is(e, other) != (other == kind) {
				t.Errorf("status %d: errors.Is(%v) = %v", status, other, !(other == kind))
			}
		}
	}
}

func TestBodyLimitAndClosing(t *testing.T) {
	big := `[` + strings.Repeat(`{"accountId":"x"},`, 200) + `{"accountId":"y"}]`
	s := newScript().
		on("/rest/api/3/users/search", ok(big)).
		on("/fail", status(500, nil, strings.Repeat("x", 1<<20)), ok(`{}`)).
		on("/ok", ok(`{}`))
	var open atomic.Int32
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err == nil {
			open.Add(1)
			resp.Body = &closeCounter{ReadCloser: resp.Body, open: &open}
		}
		return resp, err
	})}
	c, err := New(hc, serve(t, s), nil, Options{MaxBodyBytes: 1024, Sleep: (&sleepLog{}).Sleep})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.AllUsers(context.Background())
	if err == nil || !strings.Contains(err.Error(), "response body over limit (1024 bytes)") {
		t.Fatalf("oversized body: %v", err)
	}
	if st := c.Stats().ByOp["getAllUsers"]; st.Calls != 1 {
		t.Fatalf("an oversized body was retried: %+v", st)
	}
	if err := get(context.Background(), c, "/fail"); err != nil {
		t.Fatal(err)
	}
	if err := get(context.Background(), c, "/ok"); err != nil {
		t.Fatal(err)
	}
	if n := open.Load(); n != 0 {
		t.Fatalf("%d response bodies left open", n)
	}
}

type closeCounter struct {
	io.ReadCloser
	open *atomic.Int32
	once sync.Once
}

func (c *closeCounter) Close() error {
	c.once.Do(func() { c.open.Add(-1) })
	return c.ReadCloser.Close()
}

func TestTransportErrorNamesThePathOnly(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	base := ts.URL
	ts.Close() // nothing listens any more
	c := mustClient(t, base, Bearer("secret-key"), Options{MaxRetries: -1})
	_, err := c.User(context.Background(), "5b10:abc")
	if err == nil {
		t.Fatal("no error from a closed server")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "atlassian: GET /rest/api/3/user: ") || strings.Contains(msg, "accountId") || strings.Contains(msg, "secret-key") {
		t.Fatalf("transport error %q", msg)
	}
}

func TestNextOf(t *testing.T) {
	c := mustClient(t, "https://api.atlassian.com", nil, Options{})
	str := func(s string) *string { return &s }
	r := request{op: "org.x", method: "GET", path: "/admin/v1/orgs"}
	for _, tc := range []struct {
		next   *string
		more   bool
		cursor string
		url    string
		err    string
	}{
		{next: nil},
		{next: str("  ")},
		{next: str("b2Zmc2V0OjUw"), more: true, cursor: "b2Zmc2V0OjUw"},
		{next: str("https://api.atlassian.com/admin/v1/orgs/o/users?cursor=abc%3D%3D&limit=5"), more: true,
			url: "https://api.atlassian.com/admin/v1/orgs/o/users?cursor=abc%3D%3D&limit=5"},
		{next: str("/admin/v1/orgs/o/users?cursor=xyz"), more: true, url: "https://api.atlassian.com/admin/v1/orgs/o/users?cursor=xyz"},
		{next: str("https://evil.example/admin/v1/orgs?cursor=1"), err: "not followed"},
		{next: str("http://api.atlassian.com/admin/v1/orgs?cursor=1"), err: "not followed"},
		{next: str("tok\x1b[2Jen"), err: "neither a cursor nor a URL"},
	} {
		n, more, err := c.nextOf(r, tc.next)
		got := ""
		if n.url != nil {
			got = n.url.String()
		}
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) || strings.ContainsRune(err.Error(), 0x1b) {
				t.Errorf("nextOf(%q) = %v, want an error with %q", *tc.next, err, tc.err)
			}
		case err != nil || more != tc.more || n.cursor != tc.cursor || got != tc.url:
			t.Errorf("nextOf(%v) = %q %q %v %v; want %q %q %v", tc.next, n.cursor, got, more, err, tc.cursor, tc.url, tc.more)
		}
	}
}

// TestCursorPagingFollowsV1URLsAndStopsOnARepeat: links.next as a full URL
// is followed as given; a server handing back the page or the link it gave
// before ends the walk with an error instead of looping.
func TestCursorPagingFollowsV1URLsAndStopsOnARepeat(t *testing.T) {
	var queries []string
	var mu sync.Mutex
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.URL.RawQuery)
		mu.Unlock()
		switch r.URL.Query().Get("cursor") {
		case "":
			ok(`{"data":[{"id":"o1"}],"links":{"next":"http://`+r.Host+`/admin/v1/orgs?cursor=p2&extra=kept"}}`)(w, r)
		case "p2":
			ok(`{"data":[{"id":"o2"}],"links":{"next":"p3"}}`)(w, r)
		case "p3":
			ok(`{"data":[{"id":"o3"}],"links":{"next":null}}`)(w, r)
		}
	})
	orgs, err := mustClient(t, serve(t, h), nil, Options{}).Orgs(context.Background())
	if err != nil || len(orgs) != 3 || orgs[2].ID != "o3" {
		t.Fatalf("orgs %v, %v", orgs, err)
	}
	if strings.Join(queries, " ") != "cursor=p2&extra=kept cursor=p3" && !strings.Contains(strings.Join(queries, " "), "extra=kept") {
		t.Errorf("queries %q: the URL was not followed as given", queries)
	}
	same := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok(`{"data":[{"directoryId":"d"}],"links":{"next":"same"}}`)(w, r)
	}))
	if _, err := mustClient(t, same, nil, Options{}).Directories(context.Background(), "o"); err == nil || !strings.Contains(err.Error(), "brought no entry not seen before") {
		t.Fatalf("a page repeated: %v", err)
	}
	var n atomic.Int32
	loop := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok(fmt.Sprintf(`{"data":[{"directoryId":"d%d"}],"links":{"next":"same"}}`, n.Add(1)))(w, r)
	}))
	if _, err := mustClient(t, loop, nil, Options{}).Directories(context.Background(), "o"); err == nil || !strings.Contains(err.Error(), "repeats an earlier page's link") {
		t.Fatalf("a link repeated: %v", err)
	}
}

// TestOffsetPagingToleratesClampingAndMissingIsLast: the next startAt
// follows what was received, and total ends a walk without isLast.
func TestOffsetPagingToleratesClampingAndMissingIsLast(t *testing.T) {
	var mu sync.Mutex
	var starts []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := r.URL.Query().Get("startAt")
		mu.Lock()
		starts = append(starts, start)
		mu.Unlock()
		var vals []string
		n := 0
		fmt.Sscan(start, &n)
		for i := n; i < min(n+3, 7); i++ { // clamps every page to 3
			vals = append(vals, fmt.Sprintf(`{"groupId":"g%d","name":"n%d"}`, i, i))
		}
		ok(`{"startAt":`+start+`,"maxResults":3,"total":7,"values":[`+strings.Join(vals, ",")+`]}`)(w, r)
	})
	groups, err := mustClient(t, serve(t, h), nil, Options{}).GroupsBulk(context.Background(), GroupsBulkQuery{AccessType: AccessUser})
	if err != nil || len(groups) != 7 || groups[6].GroupID != "g6" {
		t.Fatalf("groups %v, %v", groups, err)
	}
	mu.Lock()
	if strings.Join(starts, ",") != "0,3,6" {
		t.Fatalf("startAt sequence %v", starts)
	}
	mu.Unlock()
	// Without a total, isLast alone ends the walk, even on a full page.
	noTotal := newScript().on("/rest/api/3/group/member",
		ok(`{"startAt":0,"maxResults":2,"isLast":false,"values":[{"accountId":"a"},{"accountId":"b"}]}`),
		ok(`{"startAt":2,"maxResults":2,"isLast":true,"values":[{"accountId":"c"},{"accountId":"d"}]}`),
		ok(`{"startAt":4,"maxResults":2,"isLast":true,"values":[]}`))
	members, err := mustClient(t, serve(t, noTotal), nil, Options{PageSize: 2}).GroupMembers(context.Background(), "g")
	if err != nil || len(members) != 4 || noTotal.count("/rest/api/3/group/member") != 2 {
		t.Fatalf("members %v (%d calls), %v", members, noTotal.count("/rest/api/3/group/member"), err)
	}
}

func TestAuthorizersKeepSecretsOut(t *testing.T) {
	b, bearer := Basic("admin@example.com", "tok-SECRET"), Bearer("key-SECRET")
	for _, v := range []any{b, bearer, struct{ A Authorizer }{b}, struct{ A Authorizer }{bearer}} {
		for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
			if s := fmt.Sprintf(f, v); strings.Contains(s, "SECRET") {
				t.Fatalf("%s prints the secret: %s", f, s)
			}
		}
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if err := b.Authorize(r); err != nil {
		t.Fatal(err)
	}
	if u, p, ok := r.BasicAuth(); !ok || u != "admin@example.com" || p != "tok-SECRET" {
		t.Fatalf("basic auth %q %q", u, p)
	}
	if err := bearer.Authorize(r); err != nil || r.Header.Get("Authorization") != "Bearer key-SECRET" {
		t.Fatalf("bearer: %v %q", err, r.Header.Get("Authorization"))
	}
	if Basic("", "x").Authorize(r) == nil || Bearer(" ").Authorize(r) == nil {
		t.Fatal("empty credentials accepted")
	}
}

func TestTimestamp(t *testing.T) {
	var v struct {
		A, B, C, D, E, F Timestamp
	}
	in := `{"A":"2025-06-01T12:00:00Z","B":"2024-05-01","C":1764642980899,"D":null,"E":"someday","F":0}`
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	if !v.A.Equal(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)) || !v.B.Equal(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)) ||
		v.C.UnixMilli() != 1764642980899 || !v.D.IsZero() || !v.E.IsZero() || v.E.Raw != "someday" || !v.F.IsZero() {
		t.Fatalf("%+v", v)
	}
	out, err := json.Marshal(v)
	if err != nil || !strings.Contains(string(out), `"A":"2025-06-01T12:00:00Z"`) || !strings.Contains(string(out), `"D":null`) || !strings.Contains(string(out), `"E":"someday"`) {
		t.Fatalf("%s %v", out, err)
	}
}

func TestNewRefusesBadBaseURLs(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "https://", "https://x/?q=1", "https://u:p@x", "/relative"} {
		if _, err := New(nil, u, nil, Options{}); err == nil {
			t.Errorf("New accepted %q", u)
		}
	}
	c, err := New(nil, "https://site.atlassian.net/", nil, Options{})
	if err != nil || c.BaseURL() != "https://site.atlassian.net" {
		t.Fatalf("%v %v", c, err)
	}
}
