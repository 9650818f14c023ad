package atlassian

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of Options (billing-model.md §9's backoff guidance: honour
// Retry-After, else 2, 4, 8, 16 s with jitter ×0.7–1.3, at most 4 retries).
const (
	DefaultMaxRetries   = 4
	DefaultBackoffBase  = 2 * time.Second
	DefaultMaxInFlight  = 8
	DefaultMaxBodyBytes = 32 << 20
	// DefaultMaxWait is the longest single wait the client sleeps through.
	// A burst refusal asks for about a second and a quota refusal up to an
	// hour; the hour is better spent by the caller (a scan records where it
	// stopped and resumes after the reset) than by a goroutine asleep.
	DefaultMaxWait = 5 * time.Minute
	// DefaultAttemptTimeout bounds one attempt of a call: connecting,
	// the headers and the whole body. Atlassian answers its largest pages
	// in seconds; a server that has sent nothing useful in this time (or
	// drips its answer a byte at a time) is not going to.
	DefaultAttemptTimeout = 30 * time.Second
	// DefaultCallTimeout bounds a call's attempts and the backoffs between
	// them, so that a scan gives up on a dead or dripping server in well
	// under 90 seconds instead of four retries of a minute each. Waits a
	// 429 asks for are not counted: they are the server's schedule, and
	// MaxWait bounds them.
	DefaultCallTimeout = 75 * time.Second
	// DefaultMaxListItems bounds the entries one list walk may collect, so
	// a server that never stops handing out new entries cannot grow a
	// scan without bound. Atlassian's largest site holds 150,000 licensed
	// users; a million leaves room for JSM customers and a whole org's
	// directory.
	DefaultMaxListItems = 1_000_000
	// maxRedirects is how many same-origin redirects one attempt follows.
	maxRedirects = 5
)

// Options tune a Client; the zero value gives the defaults above.
type Options struct {
	// MaxInFlight caps concurrent requests of this client; 0: DefaultMaxInFlight.
	MaxInFlight int
	// MaxRetries is how often one call is re-sent after a 429, a 5xx or a
	// transport error; 0: DefaultMaxRetries, negative: never.
	MaxRetries int
	// BackoffBase is the first backoff; each retry doubles it.
	BackoffBase time.Duration
	// MaxWait caps one wait (a backoff, a Retry-After or a client-wide
	// pause); a longer one ends the call with a *RateLimitError (or, for a
	// 5xx, its *APIError) instead.
	MaxWait time.Duration
	// PageSize caps the page size asked for; 0 asks for each endpoint's
	// largest. Smaller pages cost more calls: this is for tests and for a
	// server that refuses what it used to accept.
	PageSize int
	// MaxBodyBytes caps a decoded response body; 0: DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// AttemptTimeout and CallTimeout bound one attempt and one call (all
	// its attempts and backoffs); 0: the defaults above.
	AttemptTimeout time.Duration
	CallTimeout    time.Duration
	// MaxListItems bounds one list walk; 0: DefaultMaxListItems.
	MaxListItems int
	// UserAgent is sent with every request; "": "seatlens".
	UserAgent string
	// Sleep waits for d or until ctx ends; nil: a timer. Now is the clock
	// Retry-After dates and pauses are measured with; nil: time.Now.
	// Tests inject both to run rate-limit schedules without sleeping.
	Sleep func(ctx context.Context, d time.Duration) error
	Now   func() time.Time
	// Budget, when set, meters every call in points under BudgetKey (the
	// tenant): app traffic only (see Budget).
	Budget    Budget
	BudgetKey string
	// Observer, when set, hears of every request sent and every wait
	// (metrics).
	Observer Observer
	// Pacer, when set, spaces calls of each Jira endpoint to stay under
	// Atlassian's burst limits (pace.go) rather than meet their 429s.
	Pacer *Pacer
}

// Client calls one Atlassian base URL (a Jira site, the api.atlassian.com
// mount of a Forge app, or the Organizations API) with one credential. It
// is safe for concurrent use: every call shares the in-flight limit, the
// rate-limit pause and the counters.
type Client struct {
	hc        *http.Client
	base      string   // scheme://host[/path], no trailing slash
	baseURL   *url.URL // base, parsed
	auth      Authorizer
	sem       chan struct{}
	retries   int
	backoff   time.Duration
	maxWait   time.Duration
	pageSize  int
	maxBody   int64
	attempt   time.Duration
	call      time.Duration
	maxItems  int
	userAgent string
	sleep     func(context.Context, time.Duration) error
	now       func() time.Time
	jitter    func() float64 // [0,1); tests pin it
	budget    Budget
	budgetKey string
	pacer     *Pacer // nil: unpaced
	observer  Observer

	mu          sync.Mutex
	pausedUntil time.Time // no request leaves before this (a quota 429)
	pauseReason string
	stats       map[string]*OpStats
}

// New builds a client for baseURL. hc nil gets http.DefaultTransport;
// auth nil leaves authentication to hc's transport (the Connect
// SigningTransport). The client follows redirects only within baseURL's
// scheme, host and port, whatever hc says: a credential is never sent
// anywhere else.
func New(hc *http.Client, baseURL string, auth Authorizer, o Options) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, errors.New("atlassian: base URL must be an absolute http(s) URL without query, fragment or user info")
	}
	if hc == nil {
		hc = &http.Client{}
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	switch {
	case o.MaxRetries == 0:
		o.MaxRetries = DefaultMaxRetries
	case o.MaxRetries < 0:
		o.MaxRetries = 0
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = DefaultBackoffBase
	}
	if o.MaxWait <= 0 {
		o.MaxWait = DefaultMaxWait
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = DefaultAttemptTimeout
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.MaxListItems <= 0 {
		o.MaxListItems = DefaultMaxListItems
	}
	if o.UserAgent == "" {
		o.UserAgent = "seatlens"
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	base := strings.TrimSuffix(u.String(), "/")
	parsed, _ := url.Parse(base)
	c := &Client{
		base: base, baseURL: parsed, auth: auth,
		sem: make(chan struct{}, o.MaxInFlight), retries: o.MaxRetries, backoff: o.BackoffBase,
		maxWait: o.MaxWait, pageSize: o.PageSize, maxBody: o.MaxBodyBytes,
		attempt: o.AttemptTimeout, call: o.CallTimeout, maxItems: o.MaxListItems, userAgent: o.UserAgent,
		sleep: o.Sleep, now: o.Now, jitter: rand.Float64, stats: map[string]*OpStats{},
		budget: o.Budget, budgetKey: o.BudgetKey, pacer: o.Pacer, observer: o.Observer,
	}
	own := *hc // the caller's client keeps its own redirect policy
	own.CheckRedirect = c.checkRedirect
	c.hc = &own
	return c, nil
}

// sameOrigin reports whether u is on the client's scheme, host and port,
// under its base path.
func (c *Client) sameOrigin(u *url.URL) bool {
	if !strings.EqualFold(u.Scheme, c.baseURL.Scheme) || !strings.EqualFold(u.Host, c.baseURL.Host) || u.User != nil {
		return false
	}
	p := u.EscapedPath()
	return c.baseURL.Path == "" || p == c.baseURL.Path || strings.HasPrefix(p, c.baseURL.Path+"/")
}

// checkRedirect follows a redirect only to the client's own origin: the
// credential on the request is for that origin alone (http.Client would
// forward it to a subdomain, and the Connect transport refuses any other
// host with a message about signing, which says nothing of a redirect).
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return &RedirectError{To: redactURL(req.URL), Reason: "more than " + strconv.Itoa(maxRedirects) + " redirects"}
	}
	if !c.sameOrigin(req.URL) {
		return &RedirectError{To: redactURL(req.URL), Reason: "it is not " + c.base + ", so no credential was sent there"}
	}
	return nil
}

// redactURL keeps a URL's scheme, host and path: its query may carry a
// token.
func redactURL(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// BaseURL is the URL the client was built for, without a trailing slash.
func (c *Client) BaseURL() string { return c.base }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// request is one logical call; the client may send it several times.
type request struct {
	op     string // name in the counters and errors
	method string
	path   string // escaped, relative to the base URL
	query  url.Values
	body   any // JSON-encoded when non-nil
	// idempotent calls are retried after a 5xx or a transport error. A
	// membership change is not: the first attempt may have been applied,
	// and the review trail must never record a removal twice.
	idempotent bool
	// stream marks a list that ends at an empty page even when that page
	// has a next link: the cursor an event stream keeps for the next poll.
	stream bool
	// answer, when set, receives the successful answer's status and
	// headers; a 204 then needs no body.
	answer *answer
}

// answer is what a caller keeps of a successful response besides its body.
type answer struct {
	status int
	header http.Header
}

// do runs r until it succeeds, fails for good or runs out of retries or
// time, and decodes a 2xx body into out (nil discards it).
func (c *Client) do(ctx context.Context, r request, out any) error {
	var body []byte
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return fmt.Errorf("atlassian: %s %s: encode body: %w", r.method, r.path, err)
		}
		body = b
	}
	var (
		resumeAt time.Time     // the call already slept until here
		spent    time.Duration // attempts and backoffs so far: the call's budget
	)
	for attempt := 0; ; attempt++ {
		if err := c.admit(ctx, r, &resumeAt); err != nil {
			return err
		}
		if c.pacer != nil {
			if d := c.pacer.delay(c.now(), r.method, r.path); d > 0 {
				if err := c.sleep(ctx, d); err != nil {
					return fmt.Errorf("atlassian: %s %s: pacing: %w", r.method, r.path, err)
				}
			}
		}
		reserved := 0
		if c.budget != nil {
			reserved = estimatePoints(r.op, r.query)
			if err := c.budget.Reserve(ctx, c.budgetKey, reserved); err != nil {
				return fmt.Errorf("atlassian: %s %s: waiting for rate-limit points: %w", r.method, r.path, err)
			}
		}
		began := time.Now()
		res := c.send(ctx, r, body, out, min(c.attempt, c.call-spent))
		spent += time.Since(began)
		if c.budget != nil {
			c.budget.Settle(c.budgetKey, res.points-reserved)
		}
		c.count(r.op, attempt > 0, res)
		if res.err == nil && res.api == nil {
			return nil
		}
		wait, err := c.retryPlan(ctx, r, attempt, res)
		if err != nil {
			return err
		}
		if !res.rateLimited() {
			// Only a 429's wait is the server's schedule; every other wait
			// spends the call's budget, and one that would overrun it ends
			// the call with the failure that caused it.
			if c.call-(spent+wait) < c.attempt/10 {
				return &GiveUpError{Err: res.failure(), After: (spent + wait).Round(time.Second), Attempts: attempt + 1}
			}
			spent += wait
		}
		c.addWait(r.op, wait)
		resumeAt = c.now().Add(wait)
		if err := c.sleep(ctx, wait); err != nil {
			return fmt.Errorf("atlassian: %s %s: waiting to retry: %w", r.method, r.path, err)
		}
	}
}

// retryPlan decides whether a failed attempt is retried and after how
// long; a non-nil error ends the call.
func (c *Client) retryPlan(ctx context.Context, r request, attempt int, res result) (time.Duration, error) {
	last := attempt >= c.retries
	if res.err != nil {
		if ctx.Err() != nil || !res.transient || !r.idempotent || last {
			return 0, res.err
		}
		return c.backoffFor(attempt), nil
	}
	e := res.api
	switch {
	case e.StatusCode == http.StatusTooManyRequests:
		// Retried whatever the method: a 429 is refused before any work,
		// so even a membership change cannot have happened.
		hint := c.hintOf(e)
		backoff := c.backoffFor(attempt)
		if quotaRefusal(e) {
			pause := hint
			if pause <= 0 {
				pause = backoff
			}
			c.pause(c.now().Add(pause), reasonOf(e))
			if c.budget != nil {
				c.budget.Exhausted(c.now().Add(pause))
			}
		}
		if last {
			return 0, e
		}
		wait := max(hint, backoff)
		if wait > c.maxWait {
			return 0, &RateLimitError{Op: r.op, Method: r.method, Path: r.path, Reason: reasonOf(e),
				RetryAt: c.now().Add(wait), Wait: wait, Err: e}
		}
		return wait, nil
	case retryableStatus(e.StatusCode):
		if !r.idempotent || last {
			return 0, e
		}
		wait := c.backoffFor(attempt)
		if e.StatusCode == http.StatusServiceUnavailable {
			wait = max(wait, e.RetryAfter)
		}
		if wait > c.maxWait {
			return 0, e
		}
		return wait, nil
	}
	return 0, e
}

func retryableStatus(s int) bool {
	switch s {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// quotaRefusal: Jira's hourly quotas and the Org API's 429 deny every
// request until the reset ("Pause all API requests until the window
// resets", billing-model.md §9), so the whole client pauses; a burst or
// per-issue refusal only concerns the call that met it.
//
// The Organizations API documents its 429 only as "wait for the counter to
// reset" (https://developer.atlassian.com/cloud/admin/organization/rest/intro/)
// and answers it in two envelopes by version (a gateway ProxyError on v1,
// an errors list on v2), so any 429 under /admin pauses the client.
func quotaRefusal(e *APIError) bool {
	return strings.Contains(e.RateLimitReason, "-quota-") || e.Code == "ADMIN-429-1" ||
		strings.HasPrefix(e.RateLimitReason, "ADMIN-429") || strings.HasPrefix(e.Path, "/admin/")
}

func reasonOf(e *APIError) string {
	if e.RateLimitReason != "" {
		return e.RateLimitReason
	}
	return e.Code
}

// hintOf is the server's own wait: Retry-After, else X-RateLimit-Reset.
func (c *Client) hintOf(e *APIError) time.Duration {
	if e.RetryAfter > 0 {
		return e.RetryAfter
	}
	if !e.RateLimitReset.IsZero() {
		return max(0, e.RateLimitReset.Sub(c.now()))
	}
	return 0
}

// backoffFor is base × 2^attempt × a jitter of 0.7–1.3, so that clients
// refused together do not come back together.
func (c *Client) backoffFor(attempt int) time.Duration {
	d := c.backoff << min(attempt, 20)
	return time.Duration(float64(d) * (0.7 + 0.6*c.jitter()))
}

// admit waits out a client-wide pause and takes an in-flight slot.
func (c *Client) admit(ctx context.Context, r request, resumeAt *time.Time) error {
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("atlassian: %s %s: %w", r.method, r.path, err)
		}
		if err := c.waitPause(ctx, r, resumeAt); err != nil {
			return err
		}
		select {
		case c.sem <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("atlassian: %s %s: %w", r.method, r.path, ctx.Err())
		}
		// A pause may have begun while this call queued for the slot.
		if until, _ := c.pauseState(); !until.After(c.now()) || !until.After(*resumeAt) {
			return nil
		}
		<-c.sem
	}
}

// waitPause sleeps until a pause another call started is over. Each
// deadline is slept through once: with an injected clock that sleep does
// not advance, waiting again would never end.
func (c *Client) waitPause(ctx context.Context, r request, resumeAt *time.Time) error {
	for {
		until, reason := c.pauseState()
		now := c.now()
		if !until.After(now) || !until.After(*resumeAt) {
			return nil
		}
		d := until.Sub(now)
		if d > c.maxWait {
			return &RateLimitError{Op: r.op, Method: r.method, Path: r.path, Reason: reason, RetryAt: until, Wait: d}
		}
		c.addWait(r.op, d)
		if err := c.sleep(ctx, d); err != nil {
			return fmt.Errorf("atlassian: %s %s: waiting for the rate limit to reset: %w", r.method, r.path, err)
		}
		*resumeAt = until
	}
}

func (c *Client) pause(until time.Time, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if until.After(c.pausedUntil) {
		c.pausedUntil, c.pauseReason = until, reason
	}
}

func (c *Client) pauseState() (time.Time, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pausedUntil, c.pauseReason
}

// result is the outcome of one attempt.
type result struct {
	sent      bool      // the request reached the transport
	api       *APIError // non-2xx answer
	err       error     // anything else
	transient bool      // err may go away on a retry
	points    int       // what the call cost in points (with a Budget)
}

func (r result) rateLimited() bool {
	return r.api != nil && r.api.StatusCode == http.StatusTooManyRequests
}

func (r result) failure() error {
	if r.api != nil {
		return r.api
	}
	return r.err
}

// send makes one attempt within timeout (connecting, the headers and the
// whole body) and holds an in-flight slot (taken by admit) until the body
// is read, so the limit also bounds open connections.
func (c *Client) send(ctx context.Context, r request, body []byte, out any, timeout time.Duration) result {
	defer func() { <-c.sem }()
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	target := c.base + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, r.method, target, rd)
	if err != nil {
		return result{err: fmt.Errorf("atlassian: %s %s: build request: %w", r.method, r.path, err)}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.auth != nil {
		if err := c.auth.Authorize(req); err != nil {
			return result{err: fmt.Errorf("atlassian: %s %s: authorise: %w", r.method, r.path, err)}
		}
	}
	// timedOut: the attempt's own deadline passed while the call's context
	// is still alive, so the server, not the caller, is the cause.
	timedOut := func() bool { return actx.Err() != nil && ctx.Err() == nil }
	resp, err := c.hc.Do(req)
	if err != nil {
		// *url.Error repeats the full URL, query included; the path alone
		// says which call failed.
		cause := err
		var ue *url.Error
		if errors.As(err, &ue) {
			cause = ue.Err
		}
		var re *RedirectError
		switch {
		case errors.As(cause, &re):
			return result{sent: true, err: fmt.Errorf("atlassian: %s %s: %w", r.method, r.path, re)}
		case timedOut():
			cause = &TimeoutError{After: timeout, Stage: "an answer"}
		}
		return result{sent: true, err: fmt.Errorf("atlassian: %s %s: %w", r.method, r.path, cause),
			transient: !errors.Is(cause, ErrForeignHost)}
	}
	defer drainClose(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// A refused call costs its base point; a 429 costs none: it was
		// refused for want of points.
		pts := 1
		if resp.StatusCode == http.StatusTooManyRequests {
			pts = 0
		}
		return result{sent: true, api: c.apiError(r, resp), points: pts}
	}
	if r.answer != nil {
		r.answer.status, r.answer.header = resp.StatusCode, resp.Header.Clone()
		if resp.StatusCode == http.StatusNoContent {
			return result{sent: true, points: 1}
		}
	}
	if out == nil {
		return result{sent: true, points: 1}
	}
	raw, err := c.decode(resp.Body, out)
	pts := 1
	if c.budget != nil && raw != nil {
		pts = pointsOf(r.op, raw)
	}
	if err != nil {
		permanent := errors.Is(err, ErrMalformed) || errors.Is(err, errBodyTooLarge)
		if timedOut() {
			err, permanent = &TimeoutError{After: timeout, Stage: "the whole answer"}, false
		}
		return result{sent: true, err: fmt.Errorf("atlassian: %s %s (%s): %d answer: %w", r.method, r.path, r.op, resp.StatusCode, err),
			transient: !permanent, points: pts}
	}
	return result{sent: true, points: pts}
}

// decode reads one JSON value into out. An empty body, or null, where an
// answer was expected is malformed: decoding it would leave out as it
// was, and an empty page would end a walk as if it were the last.
func (c *Client) decode(body io.Reader, out any) (json.RawMessage, error) {
	lr := &limitedReader{r: body, left: c.maxBody}
	dec := json.NewDecoder(lr)
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		switch {
		case errors.Is(err, io.EOF):
			return nil, &ShapeError{Msg: "is empty, where JSON was expected"}
		case errors.Is(err, errBodyTooLarge):
			return nil, fmt.Errorf("%w (%d bytes)", err, c.maxBody)
		}
		return nil, shapeOf("", err)
	}
	if t := bytes.TrimSpace(raw); bytes.Equal(t, []byte("null")) {
		want := wantOf(reflect.TypeOf(out))
		if _, ok := out.(interface{ isList() }); ok {
			want = "a list"
		}
		return raw, &ShapeError{Msg: "is null, where " + want + " was expected"}
	}
	return raw, shapeOf("", json.Unmarshal(raw, out))
}

// apiError reads an error answer (its first 64 KiB: Atlassian's envelopes
// are small) and the rate-limit headers.
func (c *Client) apiError(r request, resp *http.Response) *APIError {
	e := &APIError{Op: r.op, Method: r.method, Path: r.path, StatusCode: resp.StatusCode,
		RateLimitReason: strings.TrimSpace(resp.Header.Get("RateLimit-Reason"))}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e.parseErrorBody(raw)
	e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.now())
	e.RateLimitReset = parseReset(resp.Header.Get("X-RateLimit-Reset"), c.now())
	return e
}

// parseReset reads X-RateLimit-Reset. Jira writes an RFC 3339 time; the
// Organizations API documents the header as a string of unstated format
// (https://developer.atlassian.com/cloud/admin/api-access/rest/api-group-service-account/),
// so epoch seconds, epoch milliseconds and an HTTP date are read too.
// Anything else, or a time more than a day away, is ignored (the backoff
// applies): an unreadable hint must not stop a scan.
func parseReset(v string, now time.Time) time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}
	}
	var t time.Time
	if p, err := time.Parse(time.RFC3339Nano, v); err == nil {
		t = p
	} else if p, err := http.ParseTime(v); err == nil {
		t = p
	} else if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		switch {
		case n > 1e11:
			t = time.UnixMilli(n)
		case n > 1e9:
			t = time.Unix(n, 0)
		default:
			return time.Time{} // a small number: seconds to wait? not documented; ignored
		}
	}
	if t.IsZero() || t.Sub(now) > 24*time.Hour {
		return time.Time{}
	}
	return t
}

// parseRetryAfter reads delta-seconds or an HTTP date (RFC 9110 §10.2.3).
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 || secs > 1e7 { // nonsense beyond ~4 months
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now))
	}
	return 0
}

// drainClose reads a little of what is left so the connection can be
// reused, then closes; a huge unread remainder is cheaper to drop.
func drainClose(b io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(b, 256<<10))
	_ = b.Close()
}

// limitedReader fails, rather than truncating silently, once a body goes
// past its limit: a cut-off page would otherwise decode as a short one.
type limitedReader struct {
	r    io.Reader
	left int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One probe byte tells a body of exactly the limit from a longer one.
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n > 0 {
			return 0, errBodyTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// OpStats count one operation's traffic.
type OpStats struct {
	Calls           int           // requests sent, retries included
	Retries         int           // requests that repeated an earlier attempt
	RateLimited     int           // 429 answers
	ServerErrors    int           // 5xx answers
	TransportErrors int           // no answer (connection, timeout, unreadable body)
	Waited          time.Duration // time asked of Sleep: backoffs and pauses
	Points          int           // what the calls cost in Atlassian's points (1 each without a Budget)
}

func (s *OpStats) add(o OpStats) {
	s.Calls += o.Calls
	s.Retries += o.Retries
	s.RateLimited += o.RateLimited
	s.ServerErrors += o.ServerErrors
	s.TransportErrors += o.TransportErrors
	s.Waited += o.Waited
	s.Points += o.Points
}

// Stats is a snapshot of a client's counters. Jira operations are named by
// their OpenAPI operationId (as sitesim's Usage names them), Organizations
// API ones "org.<name>", so a benchmark can set calls against a plan.
type Stats struct {
	Total OpStats
	ByOp  map[string]OpStats
}

// Stats returns the counters since New or ResetStats.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := Stats{ByOp: make(map[string]OpStats, len(c.stats))}
	for op, v := range c.stats {
		s.ByOp[op] = *v
		s.Total.add(*v)
	}
	return s
}

// ResetStats zeroes the counters (a benchmark measures one phase).
func (c *Client) ResetStats() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats = map[string]*OpStats{}
}

func (c *Client) opStats(op string) *OpStats {
	s := c.stats[op]
	if s == nil {
		s = &OpStats{}
		c.stats[op] = s
	}
	return s
}

// Observer hears of the client's calls: Call once per request sent, with
// the answer's status (0: no answer) and its cost in points; Wait for
// each backoff or rate-limit pause.
type Observer interface {
	Call(op string, status, points int)
	Wait(op string, d time.Duration)
}

func (c *Client) count(op string, retry bool, res result) {
	if !res.sent {
		return
	}
	if o := c.observer; o != nil {
		status := 0
		switch {
		case res.api != nil:
			status = res.api.StatusCode
		case res.err == nil:
			status = http.StatusOK
		}
		o.Call(op, status, res.points)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.opStats(op)
	s.Calls++
	s.Points += res.points
	if retry {
		s.Retries++
	}
	switch {
	case res.api != nil && res.api.StatusCode == http.StatusTooManyRequests:
		s.RateLimited++
	case res.api != nil && res.api.StatusCode >= 500:
		s.ServerErrors++
	case res.err != nil:
		s.TransportErrors++
	}
}

func (c *Client) addWait(op string, d time.Duration) {
	if o := c.observer; o != nil {
		o.Wait(op, d)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opStats(op).Waited += d
}
