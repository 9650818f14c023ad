package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/billing/billingtest"
)

// The misbehaving sites of issue 13: the simulated fixture site behind a
// wrapper that breaks one thing the way a real server (or something in
// front of it) could. Each case runs `seatlens scan` as a new user would and
// requires either exit 1 with one clean line within its time bound, or,
// where the oddity is harmless, the complete golden findings. The heap is
// sampled throughout: no answer may grow a scan without bound.

// edit rewrites the JSON the simulated site answers to requests match
// selects; before, when set, changes the request first.
type edit struct {
	match  func(r *http.Request) bool
	before func(r *http.Request)
	after  func(r *http.Request, v any) any // nil: the body as it is
	raw    func(w http.ResponseWriter, r *http.Request, body []byte) bool
}

func misbehaving(edits ...edit) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for _, e := range edits {
				if !e.match(r) {
					continue
				}
				if e.before != nil {
					e.before(r)
				}
				rec := httptest.NewRecorder()
				next.ServeHTTP(rec, r)
				body := rec.Body.Bytes()
				if e.after != nil && rec.Code < 300 {
					var v any
					if err := json.Unmarshal(body, &v); err == nil {
						body, _ = json.Marshal(e.after(r, v))
					}
				}
				if e.raw != nil && e.raw(w, r, body) {
					return
				}
				for k, vs := range rec.Header() {
					if k != "Content-Length" {
						w.Header()[k] = vs
					}
				}
				w.WriteHeader(rec.Code)
				w.Write(body)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func onPath(method, path string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		return r.Method == method && (r.URL.Path == path || strings.HasSuffix(path, "*") && strings.HasPrefix(r.URL.Path, strings.TrimSuffix(path, "*")))
	}
}

// setQuery changes a query parameter before the site sees the request.
func setQuery(name, value string) func(*http.Request) {
	return func(r *http.Request) {
		q := r.URL.Query()
		q.Set(name, value)
		r.URL.RawQuery = q.Encode()
	}
}

// bodyCursor clears the cursor of a POST search, so every page is the first.
func bodyCursor(r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var m map[string]any
	if json.Unmarshal(b, &m) == nil {
		delete(m, "cursor")
		b, _ = json.Marshal(m)
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.ContentLength = int64(len(b))
}

func setField(key string, value any) func(*http.Request, any) any {
	return func(_ *http.Request, v any) any {
		if m, ok := v.(map[string]any); ok {
			if value == nil {
				m[key] = nil
			} else if value == deleteField {
				delete(m, key)
			} else {
				m[key] = value
			}
		}
		return v
	}
}

var deleteField = &struct{ x int }{}

// heapWatch samples the heap in use until stopped and returns its peak.
func heapWatch() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak.Load()
	}
}

const maxHeap = 500 << 20

// misbehaviour is one case: a broken site, and what the scan must say.
type misbehaviour struct {
	name  string
	keyed bool
	wrap  func(http.Handler) http.Handler
	want  string        // a part of the one line; "" means the scan succeeds with the golden findings
	bound time.Duration // the scan ends within this
}

func runMisbehaviour(t *testing.T, tc misbehaviour) {
	t.Helper()
	ts := fixtureSite(t, tc.wrap)
	settings := fixtureSettingsFile(t)
	args := append(credentials(ts.URL), "--settings", settings)
	golden := "fixture-keyless.golden.json"
	if tc.keyed {
		args = append(args, orgFlags(ts.URL)...)
		golden = "fixture-org.golden.json"
	} else {
		args = append(args, "--activity-csv", filepath.Join(fixtureDir, "activity.csv"), "--activity-csv-date", "2026-11-26")
	}
	out := filepath.Join(t.TempDir(), "findings.json")
	args = append(args, "--out", out)
	stop := heapWatch()
	began := time.Now()
	_, stderr, err := runScan(t, nil, args...)
	took := time.Since(began)
	peak := stop()
	if peak > maxHeap {
		t.Errorf("peak heap %d MB, over %d MB", peak>>20, maxHeap>>20)
	}
	if took > tc.bound {
		t.Errorf("took %s, bound %s", took.Round(time.Millisecond), tc.bound)
	}
	if tc.want == "" {
		if err != nil {
			t.Fatalf("the oddity is harmless, yet the scan failed: %v\n%s", err, stderr)
		}
		got, _ := os.ReadFile(out)
		var doc map[string]any
		if json.Unmarshal(got, &doc) != nil {
			t.Fatalf("no findings document: %.200s", got)
		}
		doc["site"] = map[string]any{"url": "https://fixture.atlassian.net"}
		norm, _ := json.MarshalIndent(doc, "", "  ")
		want, _ := os.ReadFile(filepath.Join(billingtest.GoldenDir(), golden))
		var wdoc map[string]any
		json.Unmarshal(want, &wdoc)
		wnorm, _ := json.MarshalIndent(wdoc, "", "  ")
		if !bytes.Equal(norm, wnorm) {
			t.Errorf("the findings differ from %s", golden)
		}
		return
	}
	if err == nil {
		t.Fatalf("the scan succeeded; want a failure with %q", tc.want)
	}
	if errors.Is(err, errUsage) {
		t.Fatalf("a usage error for a broken site: %v", err)
	}
	line := errorLine(err)
	if !strings.Contains(line, tc.want) {
		t.Errorf("line %q\nwant a part %q", line, tc.want)
	}
	if strings.ContainsFunc(line, func(r rune) bool { return r < ' ' || r == 0x7f || r >= 0x80 && r < 0xa0 }) {
		t.Errorf("control characters in %q", line)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed scan wrote %s", out)
	}
	t.Logf("%s (%s, peak heap %d MB)", line, took.Round(time.Millisecond), peak>>20)
}

func TestMisbehavingSites(t *testing.T) {
	pinScanClock(t)
	const quick = 20 * time.Second
	get, post := http.MethodGet, http.MethodPost
	users := "/admin/v2/orgs/*"
	cases := []misbehaviour{
		{name: "offset paging that never ends", wrap: misbehaving(edit{
			match: onPath(get, "/rest/api/3/group/member"), before: setQuery("startAt", "0"),
			after: func(r *http.Request, v any) any {
				m := v.(map[string]any)
				delete(m, "total")
				m["isLast"] = false
				return m
			}}), want: "brought no member not seen before", bound: quick},
		{name: "a bare list that never runs dry", keyed: true, wrap: misbehaving(edit{
			match: onPath(get, "/rest/api/3/users/search"), before: setQuery("startAt", "0")}),
			want: "the list never runs dry", bound: quick},
		{name: "a new cursor each time with the same accounts", keyed: true, wrap: misbehaving(edit{
			match: func(r *http.Request) bool {
				return r.Method == post && strings.HasSuffix(r.URL.Path, "/users/search")
			}, before: bodyCursor,
			after: func(_ *http.Request, v any) any {
				m := v.(map[string]any)
				m["links"] = map[string]any{"next": fmt.Sprintf("c%d", time.Now().UnixNano())}
				return m
			}}), want: "brought no entry not seen before", bound: quick},
		{name: "a total of 10^12 that isLast contradicts", wrap: misbehaving(edit{
			match: onPath(get, "/rest/api/3/group/member"), after: setField("total", 1e12)}), bound: quick},
		{name: "a total of 10^12 and no isLast", wrap: misbehaving(edit{
			match: onPath(get, "/rest/api/3/group/member"), after: func(_ *http.Request, v any) any {
				m := v.(map[string]any)
				m["total"] = 1e12
				delete(m, "isLast")
				return m
			}}), want: "brought no member not seen before", bound: quick},
		{name: "a total of -1", wrap: misbehaving(edit{
			match: onPath(get, "/rest/api/3/group/member"), after: setField("total", -1)}),
			want: `total is "-1": not a count of anything`, bound: quick},
		{name: "an empty body", wrap: misbehaving(edit{
			match: onPath(get, "/rest/api/3/applicationrole"),
			raw: func(w http.ResponseWriter, _ *http.Request, _ []byte) bool {
				w.WriteHeader(http.StatusOK)
				return true
			}}), want: "the answer is empty, where JSON was expected", bound: quick},
		{name: "null for a list", keyed: true, wrap: misbehaving(edit{
			match: onPath(get, "/rest/api/3/users/search"),
			raw: func(w http.ResponseWriter, _ *http.Request, _ []byte) bool {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte("null"))
				return true
			}}), want: "the answer is null, where a list was expected", bound: quick},
		{name: "data null in an Org API page", keyed: true, wrap: misbehaving(edit{
			match: func(r *http.Request) bool { return r.Method == post && strings.HasSuffix(r.URL.Path, "/groups/search") },
			after: setField("data", nil)}), want: "data is missing or null, where a list was expected", bound: quick},
		{name: "a next link to another host", keyed: true, wrap: misbehaving(edit{
			match: onPath(post, "/admin/v2/orgs/*"), after: func(r *http.Request, v any) any {
				if !strings.HasSuffix(r.URL.Path, "/workspaces") {
					return v
				}
				m := v.(map[string]any)
				m["links"] = map[string]any{"next": "https://elsewhere.example/admin/v2/orgs/o/workspaces?cursor=abc"}
				return m
			}}), want: "points to \"https://elsewhere.example/admin/v2/orgs/o/workspaces\", not to", bound: quick},
		{name: "a next link without a cursor", keyed: true, wrap: misbehaving(edit{
			match: onPath(post, users), after: func(r *http.Request, v any) any {
				if !strings.HasSuffix(r.URL.Path, "/workspaces") {
					return v
				}
				m := v.(map[string]any)
				m["links"] = map[string]any{"next": "http://" + r.Host + "/admin/v2/orgs/o/workspaces?page=2"}
				return m
			}}), want: "carries no cursor to send in the next search", bound: quick},
		{name: "a used field of the wrong type", keyed: true, wrap: misbehaving(edit{
			match: onPath(post, users), after: func(r *http.Request, v any) any {
				if !strings.HasSuffix(r.URL.Path, "/workspaces") {
					return v
				}
				for _, w := range v.(map[string]any)["data"].([]any) {
					w.(map[string]any)["attributes"].(map[string]any)["hostUrl"] = map[string]any{"href": "x"}
				}
				return v
			}}), want: "(org.searchWorkspaces): 200 answer: data[0].attributes.hostUrl is an object, not a string", bound: quick},
		{name: "unused fields of any type and unknown extras", keyed: true, wrap: misbehaving(edit{
			match: func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/admin/") },
			after: func(_ *http.Request, v any) any { return scramble(v) }}), bound: quick},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runMisbehaviour(t, tc) })
	}
}

// scramble adds an unknown field of every JSON type to every object, and
// turns the fields no scan reads into values of another type: none of it
// may fail a scan.
func scramble(v any) any {
	unused := map[string]bool{"nickname": true, "emailVerified": true, "mfaEnabled": true, "picture": true, "avatar": true,
		"description": true, "managementAccess": true, "realm": true, "regions": true, "sandbox": true, "usage": true,
		"createdAt": true, "icons": true, "labels": true, "self": true, "prev": true, "userDirectoryStatus": true,
		"resourceOwner": true, "forDeletion": true, "deactivatedOn": true, "membershipStatus": true, "managementSource": true}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if unused[k] {
				x[k] = []any{map[string]any{"was": e}, 7, "s", nil, true}
				continue
			}
			x[k] = scramble(e)
		}
		x["x-seatlens-unknown"] = map[string]any{"list": []any{1, "two", nil}, "flag": false, "n": 1.5}
		return x
	case []any:
		for i := range x {
			x[i] = scramble(x[i])
		}
	}
	return v
}

// TestMisbehavingTransport: sites that drip, never answer, redirect, or
// put control characters into names and messages.
func TestMisbehavingTransport(t *testing.T) {
	pinScanClock(t)
	prevA, prevC := scanAttemptTimeout, scanCallTimeout
	scanAttemptTimeout, scanCallTimeout = time.Second, 3*time.Second
	t.Cleanup(func() { scanAttemptTimeout, scanCallTimeout = prevA, prevC })

	drip := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(rec.Code)
			for _, b := range rec.Body.Bytes() {
				if _, err := w.Write([]byte{b}); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-time.After(time.Second):
				case <-r.Context().Done():
					return
				}
			}
		})
	}
	silent := func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The server notices a client gone only once the body is read.
			io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-time.After(time.Minute):
			}
		})
	}
	var elsewhereHits atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhereHits.Add(1)
		http.Error(w, `{"errorMessages":["who are you"]}`, http.StatusUnauthorized)
	}))
	t.Cleanup(elsewhere.Close)
	redirect := misbehaving(edit{match: onPath(http.MethodGet, "/rest/api/3/myself"),
		raw: func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
			http.Redirect(w, r, elsewhere.URL+"/rest/api/3/myself", http.StatusFound)
			return true
		}})
	evil := "Dana\x1b[2J\x1b[31m\nseatlens: scan complete, 0 seats\u202e"
	named := misbehaving(
		edit{match: onPath(http.MethodGet, "/rest/api/3/group/bulk"), after: func(_ *http.Request, v any) any {
			for _, g := range v.(map[string]any)["values"].([]any) {
				if g := g.(map[string]any); g["groupId"] == "fx-g-contr" {
					g["name"] = evil
				}
			}
			return v
		}},
		edit{match: func(r *http.Request) bool {
			return r.URL.Path == "/rest/api/3/group/member" && r.URL.Query().Get("groupId") == "fx-g-contr"
		},
			raw: func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				w.Write([]byte(`{"errorMessages":["bad\u001b]8;;http://x\u0007link\r\nforged line"],"errors":{}}`))
				return true
			}})
	for _, tc := range []misbehaviour{
		{name: "a server that drips a byte a second", wrap: drip, want: "stopped answering, nothing was written", bound: 10 * time.Second},
		{name: "a server that never answers", keyed: true, wrap: silent, want: "no complete answer within 1s", bound: 10 * time.Second},
		{name: "a redirect to another host", wrap: redirect, want: "a redirect to another host was refused", bound: 10 * time.Second},
		{name: "control characters in names and messages", wrap: named, want: "scan incomplete, nothing was written: scan: list the members of group Dana [2J [31m seatlens: scan complete, 0 seats: atlassian: GET /rest/api/3/group/member: 400 Bad Request: bad ]8;;http://x link forged line", bound: 10 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) { runMisbehaviour(t, tc) })
	}
	if n := elsewhereHits.Load(); n != 0 {
		t.Errorf("the other host was called %d times: a redirect carried the request there", n)
	}
}

// TestDrippingSiteWithDefaults: with the timeouts a user gets, a site that
// drips its answers a byte a second is given up on within 90 seconds.
func TestDrippingSiteWithDefaults(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 30 s")
	}
	pinScanClock(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		for {
			if _, err := w.Write([]byte(" ")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-time.After(time.Second):
			case <-r.Context().Done():
				return
			}
		}
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	site := "http://" + l.Addr().String()
	began := time.Now()
	_, _, err = runScan(t, nil, credentials(site)...)
	took := time.Since(began)
	if err == nil || !strings.Contains(errorLine(err), "stopped answering") {
		t.Fatalf("error %v", err)
	}
	if took > 90*time.Second {
		t.Fatalf("gave up after %s", took)
	}
	t.Logf("%s after %s", errorLine(err), took.Round(time.Second))
}
