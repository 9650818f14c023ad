package connect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/seatlens/seatlens/app/apperr"
	"github.com/seatlens/seatlens/app/connect/qsh"
)

// Tenant is what the verifier needs to know about an installation.
type Tenant struct {
	ClientKey    string
	SharedSecret string
	Installed    bool
}

// Tenants looks tenants up by clientKey. ok is false for an unknown tenant;
// err is for a failing store only.
type Tenants interface {
	LookupTenant(ctx context.Context, clientKey string) (t Tenant, ok bool, err error)
}

// Claims are the claims of a Connect JWT.
type Claims struct {
	jwt.RegisteredClaims
	QSH     string          `json:"qsh,omitempty"`
	Context json.RawMessage `json:"context,omitempty"`
}

// Verifier checks HS256 tokens Atlassian signs with a tenant's shared
// secret (iframes, webhooks, enabled/disabled, the panel's context tokens).
type Verifier struct {
	tenants  Tenants
	basePath string // path of the app's base URL, stripped before hashing
	parser   *jwt.Parser
}

// VerifierConfig configures a Verifier.
type VerifierConfig struct {
	Tenants   Tenants
	BasePath  string           // path of our base URL ("" or "/prefix")
	ClockSkew time.Duration    // leeway for exp, iat and nbf
	Now       func() time.Time // nil: time.Now
}

// NewVerifier builds a Verifier. A missing dependency is a start-up error.
func NewVerifier(c VerifierConfig) (*Verifier, error) {
	if c.Tenants == nil {
		return nil, errors.New("connect: verifier needs a tenant lookup")
	}
	if c.ClockSkew < 0 || c.ClockSkew > 10*time.Minute {
		return nil, fmt.Errorf("connect: clock skew %s out of range 0..10m", c.ClockSkew)
	}
	now := c.Now
	if now == nil {
		now = time.Now
	}
	return &Verifier{
		tenants:  c.Tenants,
		basePath: c.BasePath,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), // never none, RS*, HS384…
			jwt.WithExpirationRequired(),
			jwt.WithStrictDecoding(), // one token, one encoding: no padding-bit variants
			jwt.WithIssuedAt(),
			jwt.WithLeeway(c.ClockSkew),
			jwt.WithTimeFunc(now),
		),
	}, nil
}

// Verify authenticates r with token. allowContext admits context tokens
// (qsh "context-qsh"); it must be true only for the panel's own /api routes,
// because such a token is not bound to any URL.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, token string, allowContext bool) (Principal, error) {
	const op = "connect.verify"
	var (
		claims    Claims
		tenantErr error
	)
	_, err := v.parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		iss := claims.Issuer
		if iss == "" {
			tenantErr = apperr.E(op, apperr.Unauthorized, "JWT has no iss (clientKey)", nil)
			return nil, tenantErr
		}
		tenant, ok, err := v.tenants.LookupTenant(ctx, iss)
		switch {
		case err != nil:
			tenantErr = apperr.E(op, apperr.Unavailable, "tenant store unavailable", err)
		case !ok:
			tenantErr = apperr.E(op, apperr.Unauthorized, "JWT issuer is not an installed tenant", nil)
		case !tenant.Installed:
			tenantErr = apperr.E(op, apperr.Unauthorized, "the app is uninstalled for this tenant", nil)
		case tenant.SharedSecret == "":
			// golang-jwt would accept an HMAC with an empty key.
			tenantErr = apperr.E(op, apperr.Unauthorized, "tenant has no shared secret", nil)
		default:
			return []byte(tenant.SharedSecret), nil
		}
		return nil, tenantErr
	})
	if tenantErr != nil {
		return Principal{}, tenantErr
	}
	if err != nil {
		return Principal{}, apperr.E(op, apperr.Unauthorized, reason(err), err)
	}
	p := Principal{ClientKey: claims.Issuer, AccountID: claims.Subject, Kind: KindRequest}
	switch {
	case claims.QSH == "":
		return Principal{}, apperr.E(op, apperr.Unauthorized, "JWT has no qsh claim", nil)
	case claims.QSH == qsh.ContextQSH:
		if !allowContext {
			return Principal{}, apperr.E(op, apperr.Unauthorized, "context JWTs are accepted only on /api", nil)
		}
		p.Kind = KindContext
	case !MatchQSH(r, v.basePath, claims.QSH):
		return Principal{}, apperr.E(op, apperr.Unauthorized, "JWT qsh does not match this request", nil)
	}
	return p, nil
}

// MatchQSH reports whether want is the query string hash of r as received,
// with basePath (the path of the receiver's base URL) removed. It accepts
// the Java (product) and the Node (atlassian-jwt) ordering of parameter
// names, and for POST/PUT forms with an empty query the form parameters, as
// Atlassian's own verifier does.
func MatchQSH(r *http.Request, basePath, want string) bool {
	rawPath, rawQuery := requestTarget(r)
	if qsh.Hash(qsh.Canonical(r.Method, rawPath, rawQuery, basePath)) == want {
		return true
	}
	if qsh.Hash(qsh.CanonicalNodeOrder(r.Method, rawPath, rawQuery, basePath)) == want {
		return true
	}
	if rawQuery == "" && isForm(r) && r.ParseForm() == nil && len(r.PostForm) > 0 {
		return qsh.Hash(qsh.CanonicalForm(r.Method, rawPath, r.PostForm, basePath)) == want
	}
	return false
}

// requestTarget returns the path and query exactly as the client sent them.
func requestTarget(r *http.Request) (rawPath, rawQuery string) {
	if r.RequestURI != "" {
		return qsh.SplitRequestURI(r.RequestURI)
	}
	return r.URL.EscapedPath(), r.URL.RawQuery
}

// reason turns a golang-jwt error into a short client-facing reason.
func reason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "JWT is malformed"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid) && strings.Contains(err.Error(), "signing method"):
		// golang-jwt reports a method outside WithValidMethods this way.
		return "JWT algorithm is not acceptable here"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrSignatureInvalid):
		return "JWT signature is invalid"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "JWT algorithm or key is not acceptable"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "JWT lacks a required claim (exp)"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "JWT has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "JWT is not valid yet"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "JWT was issued in the future"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "JWT audience is not this app"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "JWT issuer is not acceptable"
	default:
		return "JWT is invalid"
	}
}
