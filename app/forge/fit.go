package forge

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/seatlens/seatlens/app/apperr"
	"github.com/seatlens/seatlens/app/connect"
	"github.com/seatlens/seatlens/descriptor"
)

// Issuer is the iss of every Forge Invocation Token.
const Issuer = "forge/invocation-token"

// AppARIPrefix prefixes a bare app UUID (ACE does the same).
const AppARIPrefix = "ari:cloud:ecosystem::app/"

// InstallationARIPrefix is how installation ids arrive in FITs and in the
// Connect installed payload.
const InstallationARIPrefix = "ari:cloud:ecosystem::installation/"

// SystemTokenHeader carries the app system token with an invocation.
const SystemTokenHeader = "X-Forge-Oauth-System"

// Claims are the claims of a FIT (gaps-2026-11.md §3.6).
type Claims struct {
	jwt.RegisteredClaims
	App       AppClaims       `json:"app"`
	Context   json.RawMessage `json:"context,omitempty"`
	Principal string          `json:"principal,omitempty"`
	ICLabel   string          `json:"icLabel,omitempty"`
}

// AppClaims is the "app" claim.
type AppClaims struct {
	ID             string `json:"id"`
	InstallationID string `json:"installationId"`
	APIBaseURL     string `json:"apiBaseUrl"`
	AppVersion     string `json:"appVersion,omitempty"`
	Environment    struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"environment"`
	Module struct {
		Type string `json:"type"`
		Key  string `json:"key"`
	} `json:"module"`
	Installation struct {
		ID       string `json:"id"`
		Contexts []struct {
			Name       string `json:"name"`
			APIBaseURL string `json:"apiBaseUrl"`
			CloudID    string `json:"cloudId,omitempty"`
		} `json:"contexts"`
	} `json:"installation"`
}

// Invocation is a verified Forge Remote call.
type Invocation struct {
	Principal      connect.Principal // tenant, invoking user (UI modules only), KindForge
	InstallationID string
	APIBaseURL     string // where to call product APIs as the app
	CloudID        string // from context or installation contexts, when present
	ModuleKey      string
	SystemToken    string // x-forge-oauth-system; empty when the endpoint asked for none
}

// Installations maps a Forge installation to the Connect tenant that
// carries the same installationId in its installed payload.
type Installations interface {
	TenantForInstallation(ctx context.Context, installationID string) (clientKey string, ok bool, err error)
}

// VerifierConfig configures a Verifier.
type VerifierConfig struct {
	AppID   string // app ARI, or its bare UUID
	JWKSURL string // DefaultJWKSURL in production
	// ICJWKSTemplate is the Isolated Cloud JWKS URL given at IC onboarding,
	// with "{icLabel}" where the label goes; empty refuses IC tokens.
	ICJWKSTemplate string
	Installations  Installations
	Client         *http.Client
	ClockSkew      time.Duration
	Now            func() time.Time
}

// Verifier checks Forge Invocation Tokens.
type Verifier struct {
	appID      string
	jwks       *JWKS
	icTemplate string
	installs   Installations
	client     *http.Client
	now        func() time.Time
	parser     *jwt.Parser

	icMu   sync.Mutex
	icJWKS map[string]*JWKS
}

// NormalizeAppID turns a bare UUID into the app ARI.
func NormalizeAppID(id string) string {
	if id == "" || strings.HasPrefix(id, "ari:") {
		return id
	}
	return AppARIPrefix + id
}

var appARIPattern = regexp.MustCompile(`^ari:cloud:ecosystem::app/[0-9a-fA-F-]{36}$`)

// ValidAppID reports whether id (after NormalizeAppID) is an app ARI.
func ValidAppID(id string) bool { return appARIPattern.MatchString(NormalizeAppID(id)) }

// NewVerifier builds a FIT verifier.
func NewVerifier(c VerifierConfig) (*Verifier, error) {
	appID := NormalizeAppID(c.AppID)
	if !appARIPattern.MatchString(appID) {
		return nil, fmt.Errorf("forge: app id %q is not ari:cloud:ecosystem::app/<uuid>", c.AppID)
	}
	if c.Installations == nil {
		return nil, errors.New("forge: verifier needs an installation lookup")
	}
	u, err := url.Parse(c.JWKSURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("forge: JWKS URL %q is not an absolute http(s) URL", c.JWKSURL)
	}
	if c.ICJWKSTemplate != "" && strings.Count(c.ICJWKSTemplate, "{icLabel}") != 1 {
		return nil, errors.New("forge: the Isolated Cloud JWKS template must contain {icLabel} once")
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: 5 * time.Second}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Verifier{
		appID: appID, jwks: NewJWKS(c.JWKSURL, c.Client, c.Now), icTemplate: c.ICJWKSTemplate,
		installs: c.Installations, client: c.Client, now: c.Now, icJWKS: map[string]*JWKS{},
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
			jwt.WithIssuer(Issuer),
			jwt.WithAudience(appID),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithStrictDecoding(),
			jwt.WithLeeway(c.ClockSkew),
			jwt.WithTimeFunc(c.Now),
		),
	}, nil
}

// icLabelPattern is the check Atlassian requires before an icLabel is put
// into a URL (gaps-2026-11.md §3.6).
var icLabelPattern = regexp.MustCompile(`^[a-z0-9_-]{1,50}$`)

// Verify authenticates a Forge Remote request: "Authorization: Bearer
// <FIT>", and returns the invocation with the tenant it belongs to.
func (v *Verifier) Verify(ctx context.Context, r *http.Request) (Invocation, error) {
	const op = "forge.verify"
	token, ok := bearer(r)
	if !ok {
		return Invocation{}, apperr.E(op, apperr.Unauthorized, "missing Forge Invocation Token (Authorization: Bearer)", nil)
	}
	var (
		claims Claims
		keyErr error
	)
	_, err := v.parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			keyErr = apperr.E(op, apperr.Unauthorized, "FIT has no kid header", nil)
			return nil, keyErr
		}
		jwks, err := v.jwksFor(claims.ICLabel)
		if err != nil {
			keyErr = apperr.E(op, apperr.Unauthorized, err.Error(), nil)
			return nil, keyErr
		}
		var key *rsa.PublicKey
		if key, err = jwks.Key(ctx, kid); err != nil {
			keyErr = apperr.E(op, apperr.Unauthorized, "FIT signing key not found in the Forge JWKS", err)
			return nil, keyErr
		}
		return key, nil
	})
	if keyErr != nil {
		return Invocation{}, keyErr
	}
	if err != nil {
		return Invocation{}, apperr.E(op, apperr.Unauthorized, "Forge Invocation Token: "+reason(err), err)
	}
	if claims.App.InstallationID == "" {
		return Invocation{}, apperr.E(op, apperr.Unauthorized, "FIT has no app.installationId", nil)
	}
	clientKey, ok, err := v.installs.TenantForInstallation(ctx, claims.App.InstallationID)
	if err != nil {
		return Invocation{}, apperr.E(op, apperr.Unavailable, "tenant store unavailable", err)
	}
	if !ok {
		return Invocation{}, apperr.E(op, apperr.Unauthorized, "FIT installation is not mapped to an installed tenant", nil)
	}
	inv := Invocation{
		Principal:      connect.Principal{ClientKey: clientKey, AccountID: claims.Principal, Kind: connect.KindForge},
		InstallationID: claims.App.InstallationID,
		APIBaseURL:     claims.App.APIBaseURL,
		ModuleKey:      claims.App.Module.Key,
		SystemToken:    strings.TrimSpace(r.Header.Get(SystemTokenHeader)),
	}
	// Some invocations omit app.apiBaseUrl; the installation contexts carry it too.
	for _, c := range claims.App.Installation.Contexts {
		if inv.APIBaseURL == "" {
			inv.APIBaseURL = c.APIBaseURL
		}
		if inv.CloudID == "" {
			inv.CloudID = c.CloudID
		}
	}
	if inv.CloudID == "" && len(claims.Context) > 0 {
		var c struct {
			CloudID string `json:"cloudId"`
		}
		if json.Unmarshal(claims.Context, &c) == nil {
			inv.CloudID = c.CloudID
		}
	}
	if err := checkAPIBaseURL(inv.APIBaseURL); err != nil {
		return Invocation{}, apperr.E(op, apperr.Unauthorized, err.Error(), nil)
	}
	return inv, nil
}

// jwksFor picks the production JWKS, or the Isolated Cloud one for a
// validated label.
func (v *Verifier) jwksFor(icLabel string) (*JWKS, error) {
	if icLabel == "" {
		return v.jwks, nil
	}
	if !icLabelPattern.MatchString(icLabel) {
		return nil, errors.New("FIT icLabel is not [a-z0-9_-]{1,50}")
	}
	if v.icTemplate == "" {
		return nil, errors.New("FIT is from an Isolated Cloud, which this server is not configured for")
	}
	v.icMu.Lock()
	defer v.icMu.Unlock()
	j, ok := v.icJWKS[icLabel]
	if !ok {
		if len(v.icJWKS) >= 64 {
			clear(v.icJWKS)
		}
		j = NewJWKS(strings.Replace(v.icTemplate, "{icLabel}", icLabel, 1), v.client, v.now)
		v.icJWKS[icLabel] = j
	}
	return j, nil
}

// checkAPIBaseURL: the token is sent there, so it must be an https URL
// (http only on loopback, for the simulated site).
func checkAPIBaseURL(raw string) error {
	if raw == "" {
		return errors.New("FIT carries no app.apiBaseUrl")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" {
		return errors.New("FIT app.apiBaseUrl is not an absolute URL")
	}
	if u.Scheme == "https" || (u.Scheme == "http" && descriptor.IsLoopbackHost(u.Hostname())) {
		return nil
	}
	return errors.New("FIT app.apiBaseUrl must be https")
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	const p = "Bearer "
	if len(h) <= len(p) || !strings.EqualFold(h[:len(p)], p) {
		return "", false
	}
	t := strings.TrimSpace(h[len(p):])
	return t, t != "" && len(t) <= 16<<10
}

// IsFIT reports whether a request carries a bearer token (a FIT) rather
// than a Connect JWT.
func IsFIT(r *http.Request) bool {
	_, ok := bearer(r)
	return ok
}

func reason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid) && strings.Contains(err.Error(), "signing method"):
		return "algorithm is not RS256"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "signature is invalid"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "issuer is not forge/invocation-token"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "audience is not this app"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "expired"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "a required claim is missing"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "not valid yet"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "issued in the future"
	default:
		return "invalid"
	}
}
