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
	keys     *InstallKeys
	baseURL  string // our base URL without a trailing "/"
	basePath string
	parser   *jwt.Parser
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
		keys: c.Keys, baseURL: base, basePath: basePath,
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

// Verify authenticates a lifecycle request signed by Atlassian and returns
// the clientKey it was issued for. The caller must still check that it
// equals the clientKey in the body.
func (v *InstallVerifier) Verify(ctx context.Context, r *http.Request) (Principal, error) {
	const op = "connect.verifyInstall"
	token, err := ExtractToken(r)
	if err != nil {
		return Principal{}, apperr.E(op, apperr.Unauthorized, "signed install: "+err.Error(), nil)
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
	if claims.Issuer == "" {
		return Principal{}, apperr.E(op, apperr.Unauthorized, "signed install JWT has no iss", nil)
	}
	if !v.audienceOK(claims.Audience) {
		return Principal{}, apperr.E(op, apperr.Unauthorized, "signed install JWT aud is not this app's base URL", nil)
	}
	if claims.QSH == "" || !MatchQSH(r, v.basePath, claims.QSH) {
		return Principal{}, apperr.E(op, apperr.Unauthorized, "signed install JWT qsh does not match this request", nil)
	}
	return Principal{ClientKey: claims.Issuer, AccountID: claims.Subject, Kind: KindInstall}, nil
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
