package connect

import (
	"errors"
	"mime"
	"net/http"
	"strings"
)

// Reasons given to clients. They name what failed, never the token.
var (
	errNoToken        = errors.New("missing JWT: send it as ?jwt=, a jwt form field or an Authorization: JWT header")
	errAmbiguousToken = errors.New("JWT given more than once (query, form or header): send exactly one")
)

// maxTokenLen bounds what is parsed at all; real Connect tokens are well
// under 2 KiB.
const maxTokenLen = 8 << 10

// ExtractToken finds the Connect JWT of a request: query parameter "jwt",
// form field "jwt" of a POST/PUT form body, or "Authorization: JWT <token>"
// (ACE's extractJwtFromRequest). More than one place is refused, so that a
// proxy or a client cannot make two parts of the stack see two tokens.
func ExtractToken(r *http.Request) (string, error) {
	var found []string
	if r.URL.RawQuery != "" {
		// Parsed in full: "jwt" may arrive percent-encoded.
		if q := r.URL.Query()["jwt"]; len(q) > 0 {
			found = append(found, q...)
		}
	}
	if isForm(r) {
		if err := r.ParseForm(); err == nil {
			if f := r.PostForm["jwt"]; len(f) > 0 {
				found = append(found, f...)
			}
		}
	}
	for _, h := range r.Header.Values("Authorization") {
		if t, ok := cutScheme(h, "JWT"); ok {
			found = append(found, t)
		}
	}
	switch {
	case len(found) == 0:
		return "", errNoToken
	case len(found) > 1:
		return "", errAmbiguousToken
	case found[0] == "" || len(found[0]) > maxTokenLen:
		return "", errNoToken
	}
	return found[0], nil
}

func isForm(r *http.Request) bool {
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// cutScheme returns the credentials of an Authorization header value with
// the given scheme (compared case-insensitively).
func cutScheme(h, scheme string) (string, bool) {
	if len(h) <= len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) || h[len(scheme)] != ' ' {
		return "", false
	}
	return strings.TrimSpace(h[len(scheme)+1:]), true
}
