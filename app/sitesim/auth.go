package sitesim

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/seatlens/seatlens/app/connect/qsh"
)

// Credential kinds, as DESIGN.md §4's credential table names them.
const (
	CredNone    = "none"
	CredConnect = "connect"  // Connect JWT signed by an installed app
	CredForge   = "forge"    // Forge app system token (Bearer)
	CredAPI     = "apitoken" // Basic e-mail:API token of a human admin
)

// ConnectApp is an app installed on the site with the Connect protocol.
type ConnectApp struct {
	Key          string   // descriptor key; the iss of the app's JWTs
	ClientKey    string   // the site's clientKey for this app
	SharedSecret string   // from the installed payload
	Scopes       []string // descriptor scopes (READ, WRITE, ADMIN, …)
	AccountID    string   // the app's own account (accountType app)
}

// AppToken is a Forge app system token the site issued.
type AppToken struct {
	Scopes    []string
	ExpiresAt time.Time
	AppKey    string
	AccountID string // the app's account
}

// caller is who a request comes from once authenticated.
type caller struct {
	Kind      string
	AccountID string
	App       *ConnectApp // CredConnect
	Token     *AppToken   // CredForge
}

// RegisterConnectApp installs a Connect app: its JWTs are accepted from now.
func (s *Server) RegisterConnectApp(a ConnectApp) {
	s.site.ensureAppAccount(a.AccountID, a.Key) // the app's user exists once installed
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apps[a.Key] = a
}

// IssueAppToken mints a Forge app system token with the given scopes.
func (s *Server) IssueAppToken(appKey, accountID string, scopes []string, ttl time.Duration) string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	tok := "sim-app-token-" + hex.EncodeToString(b)
	s.site.ensureAppAccount(accountID, appKey) // the token acts as this account
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[tok] = AppToken{Scopes: append([]string(nil), scopes...), ExpiresAt: s.now().Add(ttl), AppKey: appKey, AccountID: accountID}
	return tok
}

// authenticate identifies the caller of r for op, or answers why not.
// apiMount is true for the api.atlassian.com-style mount that takes
// bearer tokens; the site mount takes Basic and Connect JWTs.
func (s *Server) authenticate(r *http.Request, op operation, apiMount bool) (caller, *apiError) {
	h := r.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(h, " ")
	switch {
	case h == "":
		return caller{}, errNotAuthenticated()
	case strings.EqualFold(scheme, "Basic") && !apiMount:
		return s.basic(cred)
	case strings.EqualFold(scheme, "JWT") && !apiMount:
		return s.connect(r, strings.TrimSpace(cred), op)
	case strings.EqualFold(scheme, "Bearer") && apiMount:
		return s.bearer(strings.TrimSpace(cred), op)
	}
	return caller{}, errNotAuthenticated()
}

func (s *Server) basic(cred string) (caller, *apiError) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return caller{}, errNotAuthenticated()
	}
	email, token, _ := strings.Cut(string(raw), ":")
	okEmail := subtle.ConstantTimeCompare([]byte(email), []byte(s.opts.AdminEmail)) == 1
	okToken := subtle.ConstantTimeCompare([]byte(token), []byte(s.opts.AdminToken)) == 1
	if !okEmail || !okToken {
		return caller{}, errNotAuthenticated()
	}
	return caller{Kind: CredAPI, AccountID: s.site.Admin().AccountID}, nil
}

// connect verifies an app's JWT the way the product does: HS256 with the
// app's shared secret, exp, and qsh over the request with the site's
// context path removed; then the operation's Connect scope.
func (s *Server) connect(r *http.Request, token string, op operation) (caller, *apiError) {
	var claims struct {
		jwt.RegisteredClaims
		QSH string `json:"qsh"`
	}
	var app ConnectApp
	_, err := jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) {
		s.mu.RLock()
		a, ok := s.apps[claims.Issuer]
		s.mu.RUnlock()
		if !ok || a.SharedSecret == "" {
			return nil, jwt.ErrTokenUnverifiable
		}
		app = a
		return []byte(a.SharedSecret), nil
	}, jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(), jwt.WithTimeFunc(s.now))
	if err != nil {
		return caller{}, errNotAuthenticated()
	}
	path, query := qsh.SplitRequestURI(r.RequestURI)
	if claims.QSH != qsh.Of(r.Method, path, query, s.opts.ContextPath) {
		return caller{}, errNotAuthenticated()
	}
	if !connectAllows(app.Scopes, op.ConnectScope) {
		return caller{}, errConnectScope(op)
	}
	return caller{Kind: CredConnect, AccountID: app.AccountID, App: &app}, nil
}

func (s *Server) bearer(token string, op operation) (caller, *apiError) {
	s.mu.RLock()
	t, ok := s.tokens[token]
	s.mu.RUnlock()
	if !ok || !s.now().Before(t.ExpiresAt) {
		return caller{}, errOAuthUnauthorized()
	}
	if !oauthAllows(t.Scopes, op) {
		return caller{}, errScopeMismatch()
	}
	return caller{Kind: CredForge, AccountID: t.AccountID, Token: &t}, nil
}
