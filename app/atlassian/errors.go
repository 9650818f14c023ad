package atlassian

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel kinds an *APIError matches with errors.Is, so a caller can say
// "bad credentials" or "not found" without looking at status codes.
var (
	ErrUnauthorized = errors.New("atlassian: unauthorized") // 401: credential missing, wrong or expired
	ErrForbidden    = errors.New("atlassian: forbidden")    // 403: credential valid but not allowed
	ErrNotFound     = errors.New("atlassian: not found")    // 404
	ErrRateLimited  = errors.New("atlassian: rate limited") // 429, or a wait beyond Options.MaxWait
	ErrUnavailable  = errors.New("atlassian: unavailable")  // 5xx after the retries the call allowed
	ErrTimeout      = errors.New("atlassian: timed out")    // no complete answer within the attempt's time
	ErrRedirect     = errors.New("atlassian: redirect refused")
	errBodyTooLarge = errors.New("response body over limit") // wrapped with the limit
)

// TimeoutError is an attempt that got no complete answer in its time: a
// server that does not answer, or answers a byte at a time.
type TimeoutError struct {
	After time.Duration
	Stage string // what did not arrive: "an answer", "the whole answer"
}

func (e *TimeoutError) Error() string {
	return "no complete answer within " + e.After.Round(time.Second/10).String() + " (" + e.Stage + " did not arrive in time)"
}

// Is matches ErrTimeout.
func (e *TimeoutError) Is(target error) bool { return target == ErrTimeout }

// Timeout reports true, as net.Error's timeouts do.
func (e *TimeoutError) Timeout() bool { return true }

// RedirectError is a redirect the client would not follow.
type RedirectError struct {
	To     string // the target's scheme, host and path
	Reason string
}

func (e *RedirectError) Error() string {
	return "the server redirected to " + describe(e.To) + "; not followed: " + e.Reason
}

// Is matches ErrRedirect.
func (e *RedirectError) Is(target error) bool { return target == ErrRedirect }

// GiveUpError is a call whose attempts and backoffs used up its time
// (Options.CallTimeout) before it succeeded; Err is the last failure.
type GiveUpError struct {
	Err      error
	After    time.Duration
	Attempts int
}

func (e *GiveUpError) Error() string {
	return e.Err.Error() + " (gave up after " + e.After.String() + " and " + strconv.Itoa(e.Attempts) + " attempts)"
}

func (e *GiveUpError) Unwrap() error { return e.Err }

// maxErrorBody is how much of an error answer is kept raw; Atlassian's
// error bodies are small, and an HTML error page from a proxy is noise.
const maxErrorBody = 4 << 10

// ErrorDetail is one entry of the Organizations API's error list
// (billing-model.md §7.1).
type ErrorDetail struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Code   string `json:"code"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

// APIError is a non-2xx answer from Atlassian.
type APIError struct {
	Op         string // operation, e.g. "getUsersFromGroup" or "org.searchUsers"
	Method     string
	Path       string // path relative to the base URL, without the query
	StatusCode int

	// Jira's ErrorCollection: {"errorMessages":[…],"errors":{field: msg}}.
	// A bare {"code","message"} (the API gateway's) lands in Messages too.
	Messages    []string
	FieldErrors map[string]string
	// The Organizations API's {"errors":[{id,status,code,title,detail}]}.
	Details []ErrorDetail
	// Code is the gateway's or the first Org API error's code
	// (e.g. "ADMIN-404-8"), when one was given.
	Code string

	Body string // raw answer, at most 4 KiB

	RetryAfter      time.Duration // Retry-After, when given
	RateLimitReason string        // RateLimit-Reason, when given
	RateLimitReset  time.Time     // X-RateLimit-Reset, when given
}

// Error is one line: "atlassian: GET /path: 401 Unauthorized: message".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("atlassian: ")
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.Path)
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteByte(' ')
		b.WriteString(t)
	}
	if m := e.Message(); m != "" {
		b.WriteString(": ")
		b.WriteString(m)
	}
	return b.String()
}

// Message is Atlassian's explanation, flattened to one line.
func (e *APIError) Message() string {
	var parts []string
	parts = append(parts, e.Messages...)
	keys := make([]string, 0, len(e.FieldErrors))
	for k := range e.FieldErrors {
		keys = append(keys, k)
	}
	slices.Sort(keys) // map order would make the line differ run to run
	for _, k := range keys {
		parts = append(parts, k+": "+e.FieldErrors[k])
	}
	for _, d := range e.Details {
		m := d.Detail
		if m == "" {
			m = d.Title
		}
		if d.Code != "" {
			m += " (" + d.Code + ")"
		}
		parts = append(parts, strings.TrimSpace(m))
	}
	msg := strings.Join(slices.DeleteFunc(parts, func(s string) bool { return strings.TrimSpace(s) == "" }), "; ")
	msg = Printable(msg) // one line, whatever the server sent
	const maxMsg = 512
	if len(msg) > maxMsg {
		msg = truncateUTF8(msg, maxMsg) + "…"
	}
	return msg
}

// Is matches the sentinel kinds.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrUnavailable:
		return e.StatusCode >= 500
	}
	return false
}

// RateLimitError says a call would have to wait longer than
// Options.MaxWait: the client returns instead of sleeping for up to an
// hour, so a scan can record where it stopped and resume after the reset.
type RateLimitError struct {
	Op, Method, Path string
	Reason           string        // RateLimit-Reason (or the Org API code) of the 429 behind it
	RetryAt          time.Time     // when calls may resume
	Wait             time.Duration // how long the call would have waited
	// Err is the 429 this call received; nil when the call was held back
	// by a pause another call's 429 started.
	Err *APIError
}

func (e *RateLimitError) Error() string {
	reason := e.Reason
	if reason == "" {
		reason = "no reason given"
	}
	return fmt.Sprintf("atlassian: %s %s: rate limited (%s) until %s; not waiting %s",
		e.Method, e.Path, reason, e.RetryAt.UTC().Format(time.RFC3339), e.Wait.Round(time.Second))
}

// Is matches ErrRateLimited.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// Unwrap gives the 429 behind the error, when this call received one.
func (e *RateLimitError) Unwrap() error {
	if e.Err == nil {
		return nil
	}
	return e.Err
}

// flexString decodes a JSON string or number (the Org API writes its
// status as "401"; gateways write codes as numbers).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || bytes.Equal(b, []byte("null")):
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	default:
		*f = flexString(b) // a number or literal, kept as written
	}
	return nil
}

// parseErrorBody fills e from an error answer; what it cannot parse stays
// in e.Body only. Atlassian answers errors in several envelopes
// (https://dac-static.atlassian.com/cloud/admin/organization/swagger.v3.json):
// Jira's {"errorMessages":[…],"errors":{field: msg}}; the Organizations
// API's {"errors":[{id,status,code,title,detail}]}, or the same object
// bare (workspaces); the gateway's ProxyError {"code": 401, "message"};
// and NoPermsError {"status": 403, "error", "message", …}.
func (e *APIError) parseErrorBody(body []byte) {
	e.Body = truncateUTF8(string(body), maxErrorBody)
	var raw struct {
		ErrorMessages []flexString    `json:"errorMessages"`
		Errors        json.RawMessage `json:"errors"`
		Code          flexString      `json:"code"`
		Message       flexString      `json:"message"`
		Error         flexString      `json:"error"`
		// A bare application error.
		ID     flexString `json:"id"`
		Title  flexString `json:"title"`
		Detail flexString `json:"detail"`
	}
	// A field of an unexpected type fails only that field: whatever else
	// decoded still explains the error.
	_ = json.Unmarshal(body, &raw)
	for _, m := range raw.ErrorMessages {
		e.Messages = append(e.Messages, string(m))
	}
	if errs := bytes.TrimSpace(raw.Errors); len(errs) > 0 {
		switch errs[0] {
		case '{': // Jira: field → message
			var fields map[string]flexString
			if json.Unmarshal(errs, &fields) == nil && len(fields) > 0 {
				e.FieldErrors = make(map[string]string, len(fields))
				for k, v := range fields {
					e.FieldErrors[k] = string(v)
				}
			}
		case '[': // Organizations API
			var items []struct {
				ID     flexString `json:"id"`
				Status flexString `json:"status"`
				Code   flexString `json:"code"`
				Title  flexString `json:"title"`
				Detail flexString `json:"detail"`
			}
			if json.Unmarshal(errs, &items) == nil {
				for _, it := range items {
					e.Details = append(e.Details, ErrorDetail{ID: string(it.ID), Status: string(it.Status),
						Code: string(it.Code), Title: string(it.Title), Detail: string(it.Detail)})
				}
			}
		}
	}
	if raw.Title != "" || raw.Detail != "" {
		e.Details = append(e.Details, ErrorDetail{ID: string(raw.ID), Code: string(raw.Code),
			Title: string(raw.Title), Detail: string(raw.Detail)})
	} else if raw.Message != "" {
		e.Messages = append(e.Messages, string(raw.Message))
	} else if raw.Error != "" {
		e.Messages = append(e.Messages, string(raw.Error))
	}
	e.Code = string(raw.Code)
	if e.Code == "" && len(e.Details) > 0 {
		e.Code = e.Details[0].Code
	}
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
