// Package atlassian talks to Atlassian Cloud as the app. This file holds
// the Connect signing transport for app → product calls
// (connect-protocol.md §4.1).
package atlassian

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/seatlens/seatlens/app/connect/qsh"
)

// TokenLifetime is how long an outbound token is valid: Atlassian's own
// framework uses three minutes.
const TokenLifetime = 180 * time.Second

// ErrForeignHost is returned for a request to anything but the tenant's own
// site: the shared secret must never sign a request another host could
// replay against the tenant.
var ErrForeignHost = errors.New("atlassian: refusing to sign a request outside the tenant's base URL")

// SigningTransport is an http.RoundTripper that signs every request with a
// Connect JWT for one tenant: iss = app key, qsh over the product path with
// the site's context path (such as /wiki) removed, exp = iat + 180 s,
// aud = [clientKey]. It refuses requests to any other scheme, host, port or
// path outside the base URL, which also stops a redirect from carrying the
// token elsewhere (http.Client sends redirects through the transport too).
type SigningTransport struct {
	appKey    string
	clientKey string
	secret    []byte
	base      *url.URL // tenant base URL; path without trailing "/"
	next      http.RoundTripper
	now       func() time.Time
}

// SigningConfig configures a SigningTransport.
type SigningConfig struct {
	AppKey       string
	ClientKey    string
	SharedSecret string
	BaseURL      string            // the tenant's baseUrl from the installed payload
	Next         http.RoundTripper // nil: http.DefaultTransport
	Now          func() time.Time  // nil: time.Now
}

// NewSigningTransport validates the configuration.
func NewSigningTransport(c SigningConfig) (*SigningTransport, error) {
	if c.AppKey == "" || c.ClientKey == "" {
		return nil, errors.New("atlassian: signing needs the app key and the tenant's clientKey")
	}
	if c.SharedSecret == "" {
		return nil, errors.New("atlassian: refusing to sign with an empty shared secret")
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("atlassian: tenant base URL %q is not an absolute http(s) URL", c.BaseURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	if c.Next == nil {
		c.Next = http.DefaultTransport
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &SigningTransport{
		appKey: c.AppKey, clientKey: c.ClientKey, secret: []byte(c.SharedSecret),
		base: u, next: c.Next, now: c.Now,
	}, nil
}

// RoundTrip signs a clone of req and passes it on.
func (t *SigningTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		defer req.Body.Close() // RoundTrip must close the body, even on error
	}
	if !t.sameSite(req.URL) || (req.Host != "" && !strings.EqualFold(req.Host, t.base.Host)) {
		return nil, fmt.Errorf("%w: %s://%s", ErrForeignHost, req.URL.Scheme, req.URL.Host)
	}
	token, err := t.Token(req.Method, req.URL)
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "JWT "+token)
	if r.Header.Get("User-Agent") == "" {
		r.Header.Set("User-Agent", "seatlens ("+t.appKey+")")
	}
	return t.next.RoundTrip(r)
}

func (t *SigningTransport) sameSite(u *url.URL) bool {
	if !strings.EqualFold(u.Scheme, t.base.Scheme) || !strings.EqualFold(u.Host, t.base.Host) || u.User != nil {
		return false
	}
	p := u.EscapedPath()
	return t.base.Path == "" || p == t.base.Path || strings.HasPrefix(p, t.base.Path+"/")
}

// outboundClaims keeps the claim order of Atlassian's own signer, so that
// a token is byte-for-byte what atlassian-jwt produces for the same input.
type outboundClaims struct {
	Iss string   `json:"iss"`
	Iat int64    `json:"iat"`
	Exp int64    `json:"exp"`
	QSH string   `json:"qsh"`
	Aud []string `json:"aud"`
}

// jwtHeader is atlassian-jwt's header, in its field order.
const jwtHeader = `{"typ":"JWT","alg":"HS256"}`

// Token returns the JWT for method and an absolute URL on the tenant's site.
func (t *SigningTransport) Token(method string, u *url.URL) (string, error) {
	now := t.now().Unix()
	c := outboundClaims{
		Iss: t.appKey, Iat: now, Exp: now + int64(TokenLifetime/time.Second),
		QSH: qsh.Of(method, u.EscapedPath(), u.RawQuery, t.base.Path),
		Aud: []string{t.clientKey},
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("atlassian: encode claims: %w", err)
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(jwtHeader)) + "." + enc.EncodeToString(payload)
	mac := hmac.New(sha256.New, t.secret)
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil)), nil
}
