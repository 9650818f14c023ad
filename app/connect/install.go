package connect

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/seatlens/seatlens/app/apperr"
)

// InstallVerifier checks the RS256 tokens Atlassian signs the installed and
// uninstalled callbacks with (signed install, connect-protocol.md §2.3).
type InstallVerifier struct {
	keys       *InstallKeys
	baseURL    string // our base URL without a trailing "/"
	basePath   string
	parser     *jwt.Parser
	unverified *jwt.Parser
	now        func() time.Time
	skew       time.Duration
}

// InstallVerifierConfig configures an InstallVerifier.
type InstallVerifierConfig struct {
	Keys      *InstallKeys
	BaseURL   string // the app's base URL: the only acceptable aud
	ClockSkew time.Duration
	Now       func() time.Time
}

// NewInstallVerifier builds an InstallVerifier.
func NewInstallVerifier(c InstallVerifierConfig) (*InstallVerifier, error) {
	if c.Keys == nil {
		return nil, errors.New("connect: install verifier needs install keys")
	}
	base, basePath, err := splitBase(c.BaseURL)
	if err != nil {
		return nil, err
	}
	now := c.Now
	if now == nil {
		now = time.Now
	}
	return &InstallVerifier{
		keys: c.Keys, baseURL: base, basePath: basePath, now: now, skew: c.ClockSkew,
		unverified: jwt.NewParser(jwt.WithStrictDecoding()),
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
			jwt.WithExpirationRequired(),
			jwt.WithStrictDecoding(), // one token, one encoding: no padding-bit variants
			jwt.WithIssuedAt(),
			jwt.WithLeeway(c.ClockSkew),
			jwt.WithTimeFunc(now),
		),
	}, nil
}

// Verify authenticates a lifecycle request signed by Atlassian for the
// tenant clientKey (the clientKey of the request body).
//
// The claims are checked before the signature as well as after it: the
// key URL is built from the kid of a token nobody has verified yet, so a
// token that could not pass anyway (expired, another audience, another
// tenant, another request) must not make the app fetch anything.
func (v *InstallVerifier) Verify(ctx context.Context, r *http.Request, clientKey string) (Principal, error) {
	const op = "connect.verifyInstall"
	token, err := ExtractToken(r)
	if err != nil {
		return Principal{}, apperr.E(op, apperr.Unauthorized, "signed install: "+err.Error(), nil)
	}
	if err := v.precheck(r, token, clientKey); err != nil {
		return Principal{}, err
	}
	var (
		claims Claims
		keyErr error
	)
	_, err = v.parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			keyErr = apperr.E(op, apperr.Unauthorized, "signed install JWT has no kid header", nil)
			return nil, keyErr
		}
		if !ValidKid(kid) {
			keyErr = apperr.E(op, apperr.Unauthorized, "signed install JWT has an invalid kid", nil)
			return nil, keyErr
		}
		key, err := v.keys.Key(ctx, kid)
		if err != nil {
			keyErr = apperr.E(op, apperr.Unauthorized, "install key for this kid could not be obtained", err)
			return nil, keyErr
		}
		return key, nil
	})
	if keyErr != nil {
		return Principal{}, keyErr
	}
	if err != nil {
		return Principal{}, apperr.E(op, apperr.Unauthorized, "signed install: "+reason(err), err)
	}
	if err := v.checkClaims(r, &claims, clientKey); err != nil {
		return Principal{}, err
	}
	return Principal{ClientKey: claims.Issuer, AccountID: claims.Subject, Kind: KindInstall}, nil
}

// precheck applies checkClaims and the expiry check to the unverified
// claims, so that nothing is fetched for a token that cannot pass.
func (v *InstallVerifier) precheck(r *http.Request, token, clientKey string) error {
	const op = "connect.verifyInstall"
	var claims Claims
	if _, _, err := v.unverified.ParseUnverified(token, &claims); err != nil {
		return apperr.E(op, apperr.Unauthorized, "signed install: JWT is malformed", err)
	}
	if claims.ExpiresAt == nil {
		return apperr.E(op, apperr.Unauthorized, "signed install: JWT lacks a required claim (exp)", nil)
	}
	if !v.now().Before(claims.ExpiresAt.Add(v.skew)) {
		return apperr.E(op, apperr.Unauthorized, "signed install: JWT has expired", nil)
	}
	return v.checkClaims(r, &claims, clientKey)
}

func (v *InstallVerifier) checkClaims(r *http.Request, claims *Claims, clientKey string) error {
	const op = "connect.verifyInstall"
	switch {
	case claims.Issuer == "":
		return apperr.E(op, apperr.Unauthorized, "signed install JWT has no iss", nil)
	case claims.Issuer != clientKey:
		return apperr.E(op, apperr.Unauthorized, "clientKey in the payload does not match the signed token", nil)
	case !v.audienceOK(claims.Audience):
		return apperr.E(op, apperr.Unauthorized, "signed install JWT aud is not this app's base URL", nil)
	case claims.QSH == "" || !MatchQSH(r, v.basePath, claims.QSH):
		return apperr.E(op, apperr.Unauthorized, "signed install JWT qsh does not match this request", nil)
	}
	return nil
}

// audienceOK accepts aud as a string or an array (ClaimStrings handles
// both) when any entry is our base URL; a trailing "/" is ignored as ACE
// ignores it.
func (v *InstallVerifier) audienceOK(aud jwt.ClaimStrings) bool {
	for _, a := range aud {
		if strings.TrimSuffix(a, "/") == v.baseURL {
			return true
		}
	}
	return false
}
