package sitesim

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/seatlens/seatlens/app/connect/qsh"
)

// This file is Atlassian's side of the install protocol
// (connect-protocol.md §2): the install-keys service, the Forge JWKS, the
// signed installed/uninstalled callbacks and a Forge scheduled trigger
// carrying an app system token. The site signs with keys of its own, so an
// app pointed at the site's key URLs verifies exactly what it would verify
// from Atlassian, and an app pointed elsewhere refuses the site.

// Key ids of the site's signing keys. Fixed rather than random so that a
// second site presents the same kid with another key: the app must then
// fail on the signature, not merely on an unknown kid.
const (
	InstallKid = "sim-install-1"
	ForgeKid   = "sim-forge-1"
)

// Public paths of the key endpoints, at the server's root (outside the
// site's context path and API mount: Atlassian serves them from hosts of
// their own).
const (
	installKeysPath = "/install-keys"
	jwksPath        = "/forge/.well-known/jwks.json"
)

// Bounds of the install exchange.
const (
	installTimeout     = 10 * time.Second
	maxDescriptorBytes = 1 << 20
	installTokenTTL    = 180 * time.Second // Atlassian's install tokens live 3 minutes
	fitTTL             = 25 * time.Second  // FITs are short-lived (gaps-2026-11.md §3.6)
	appTokenTTL        = time.Hour
	sharedSecretLen    = 48
	appARIPrefix       = "ari:cloud:ecosystem::app/"
	installARIPrefix   = "ari:cloud:ecosystem::installation/"
	scheduledPath      = "/forge/scheduled"
	scheduledModuleKey = "ep-scheduled"
)

// signingKeys are the site's RSA keys, generated per server so that no two
// sites (or test runs) share a secret.
type signingKeys struct {
	install *rsa.PrivateKey
	forge   *rsa.PrivateKey
}

// lazyKeys generates the keys on first use: two RSA-2048 keys take tens
// of milliseconds or more, and most servers (hundreds per test run) never
// install anything.
type lazyKeys struct {
	once sync.Once
	keys signingKeys
	err  error
}

func (l *lazyKeys) get() (signingKeys, error) {
	l.once.Do(func() { l.keys, l.err = newSigningKeys() })
	return l.keys, l.err
}

func newSigningKeys() (signingKeys, error) {
	install, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return signingKeys{}, fmt.Errorf("sitesim: install key: %w", err)
	}
	forge, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return signingKeys{}, fmt.Errorf("sitesim: forge key: %w", err)
	}
	return signingKeys{install: install, forge: forge}, nil
}

// InstallKeysURL is the install-keys base URL (the app's
// --install-keys-url) of a site served at base, the server's root URL.
func InstallKeysURL(base string) string { return strings.TrimSuffix(base, "/") + installKeysPath }

// JWKSURL is the Forge JWKS URL (the app's --forge-jwks-url) of a site
// served at base, the server's root URL.
func JWKSURL(base string) string { return strings.TrimSuffix(base, "/") + jwksPath }

// servePublic answers the key endpoints; it reports whether path was one.
func (s *Server) servePublic(w http.ResponseWriter, r *http.Request) bool {
	path := r.URL.Path
	var serve func(http.ResponseWriter, *http.Request)
	switch {
	case path == jwksPath:
		serve = s.serveJWKS
	case strings.HasPrefix(path, installKeysPath+"/"):
		serve = s.serveInstallKey
	default:
		return false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return true
	}
	serve(w, r)
	return true
}

func (s *Server) installKid() string {
	if s.opts.InstallKid != "" {
		return s.opts.InstallKid
	}
	return InstallKid
}

func (s *Server) serveInstallKey(w http.ResponseWriter, r *http.Request) {
	if strings.TrimPrefix(r.URL.Path, installKeysPath+"/") != s.installKid() {
		http.NotFound(w, r)
		return
	}
	keys, err := s.keys.get()
	if err != nil {
		http.Error(w, "key unavailable", http.StatusInternalServerError)
		return
	}
	der, err := x509.MarshalPKIXPublicKey(&keys.install.PublicKey)
	if err != nil {
		http.Error(w, "key unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	_ = pem.Encode(w, &pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func (s *Server) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	keys, err := s.keys.get()
	if err != nil {
		http.Error(w, "key unavailable", http.StatusInternalServerError)
		return
	}
	pub := keys.forge.PublicKey
	type jwk struct {
		Kty string `json:"kty"`
		Kid string `json:"kid"`
		Use string `json:"use"`
		Alg string `json:"alg"`
		N   string `json:"n"`
		E   string `json:"e"`
	}
	k := jwk{Kty: "RSA", Kid: ForgeKid, Use: "sig", Alg: "RS256",
		N: base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes())}
	writeJSON(w, http.StatusOK, map[string][]jwk{"keys": {k}})
}

// Installation is the site's record of one install of an app.
type Installation struct {
	ClientKey      string
	SharedSecret   string
	InstallationID string // ari:cloud:ecosystem::installation/<uuid>
	AppKey         string
	AppToken       string // Forge app system token; "" without a Forge app id
	AccountID      string // the app's own account on the site
	AppBaseURL     string // the descriptor's baseUrl, where callbacks go
	SiteBaseURL    string
	ForgeAppID     string // the app ARI FITs are addressed to; "" without Forge
	uninstalled    string // lifecycle path of the uninstalled callback, "" if none
}

// appDescriptor is the part of atlassian-connect.json the site reads.
type appDescriptor struct {
	Key       string            `json:"key"`
	BaseURL   string            `json:"baseUrl"`
	Lifecycle map[string]string `json:"lifecycle"`
	Scopes    []string          `json:"scopes"`
	Modules   struct {
		Webhooks []descriptorWebhook `json:"webhooks"`
	} `json:"modules"`
}

// lifecyclePayload is the installed/uninstalled body (connect-protocol.md §2.2).
type lifecyclePayload struct {
	Key            string `json:"key"`
	ClientKey      string `json:"clientKey"`
	SharedSecret   string `json:"sharedSecret,omitempty"`
	ServerVersion  string `json:"serverVersion"`
	PluginsVersion string `json:"pluginsVersion"`
	BaseURL        string `json:"baseUrl"`
	DisplayURL     string `json:"displayUrl"`
	ProductType    string `json:"productType"`
	Description    string `json:"description"`
	EventType      string `json:"eventType"`
	InstallationID string `json:"installationId"`
}

// Install installs the app whose descriptor is served at appBaseURL into
// this site, reachable at siteBaseURL (its URL including any context path),
// as Jira does: the signed installed callback, then the app's JWTs are
// accepted. With a forgeAppID (app ARI or bare UUID) it also issues a Forge
// app system token with Options.ForgeScopes and delivers it with a
// scheduled-trigger invocation, as Forge does for Connect-on-Forge apps.
func (s *Server) Install(ctx context.Context, siteBaseURL, appBaseURL, forgeAppID string) (Installation, error) {
	siteBaseURL = strings.TrimSuffix(siteBaseURL, "/")
	if forgeAppID != "" && len(s.opts.ForgeScopes) == 0 {
		// A token that allows nothing would make every Forge call fail later
		// with a scope error far from this cause.
		return Installation{}, errors.New("sitesim: install with a Forge app id needs Options.ForgeScopes")
	}
	d, err := fetchDescriptor(ctx, strings.TrimSuffix(appBaseURL, "/"))
	if err != nil {
		return Installation{}, err
	}
	// Jira sends callbacks to the descriptor's baseUrl, not to where the
	// descriptor was fetched from (they differ behind a proxy).
	base := strings.TrimSuffix(d.BaseURL, "/")
	if base == "" {
		base = strings.TrimSuffix(appBaseURL, "/")
	}
	inst := Installation{
		ClientKey: newUUID(), SharedSecret: randomSecret(sharedSecretLen),
		InstallationID: installARIPrefix + newUUID(), AppKey: d.Key,
		AccountID: randomHex(12), AppBaseURL: base, SiteBaseURL: siteBaseURL,
		uninstalled: d.Lifecycle["uninstalled"],
	}
	installed := d.Lifecycle["installed"]
	if installed == "" {
		return Installation{}, errors.New("sitesim: the descriptor declares no lifecycle.installed callback")
	}
	if err := s.deliverLifecycle(ctx, inst, "installed", installed); err != nil {
		return Installation{}, err
	}
	s.RegisterConnectApp(ConnectApp{Key: d.Key, ClientKey: inst.ClientKey, SharedSecret: inst.SharedSecret,
		Scopes: d.Scopes, AccountID: inst.AccountID})
	s.rememberHostApp(inst, appBaseURL)          // the host page frames its modules (hostpage.go)
	s.rememberWebhooks(inst, d.Modules.Webhooks) // hook: webhooks.go
	if forgeAppID == "" {
		return inst, nil
	}
	inst.AppToken = s.IssueAppToken(d.Key, inst.AccountID, s.opts.ForgeScopes, appTokenTTL)
	inst.ForgeAppID = forgeAppID
	if err := s.invokeScheduled(ctx, inst, forgeAppID); err != nil {
		return Installation{}, err
	}
	s.rememberWebhooks(inst, d.Modules.Webhooks) // now with the app token: Forge events too
	return inst, nil
}

// Uninstall sends the signed uninstalled callback and stops accepting the
// app's credentials, as Jira does on uninstall.
func (s *Server) Uninstall(ctx context.Context, inst Installation) error {
	if inst.uninstalled != "" {
		if err := s.deliverLifecycle(ctx, inst, "uninstalled", inst.uninstalled); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.apps[inst.AppKey]; ok && a.ClientKey == inst.ClientKey {
		delete(s.apps, inst.AppKey)
	}
	delete(s.tokens, inst.AppToken)
	return nil
}

func fetchDescriptor(ctx context.Context, appBaseURL string) (appDescriptor, error) {
	ctx, cancel := context.WithTimeout(ctx, installTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, appBaseURL+"/atlassian-connect.json", nil)
	if err != nil {
		return appDescriptor{}, fmt.Errorf("sitesim: descriptor URL: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	body, status, err := do(req)
	if err != nil {
		return appDescriptor{}, fmt.Errorf("sitesim: fetch descriptor: %w", err)
	}
	if status != http.StatusOK {
		return appDescriptor{}, fmt.Errorf("sitesim: fetch descriptor: %s answered %d", req.URL, status)
	}
	if len(body) > maxDescriptorBytes {
		return appDescriptor{}, fmt.Errorf("sitesim: descriptor larger than %d bytes", maxDescriptorBytes)
	}
	var d appDescriptor
	if err := json.Unmarshal(body, &d); err != nil {
		return appDescriptor{}, fmt.Errorf("sitesim: descriptor is not JSON: %w", err)
	}
	if d.Key == "" {
		return appDescriptor{}, errors.New("sitesim: descriptor has no key")
	}
	return d, nil
}

// deliverLifecycle POSTs a lifecycle callback signed with the install key.
func (s *Server) deliverLifecycle(ctx context.Context, inst Installation, event, path string) error {
	p := lifecyclePayload{
		Key: inst.AppKey, ClientKey: inst.ClientKey, ServerVersion: "100000", PluginsVersion: "1001.0.0.SNAPSHOT",
		BaseURL: inst.SiteBaseURL, DisplayURL: inst.SiteBaseURL, ProductType: "jira",
		Description: "Atlassian JIRA at " + inst.SiteBaseURL, EventType: event, InstallationID: inst.InstallationID,
	}
	if event == "installed" {
		p.SharedSecret = inst.SharedSecret // only installed carries the secret
	}
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	target, err := url.Parse(inst.AppBaseURL)
	if err != nil {
		return fmt.Errorf("sitesim: app base URL: %w", err)
	}
	basePath := strings.TrimSuffix(target.EscapedPath(), "/")
	rawPath, rawQuery := qsh.SplitRequestURI(path)
	now := s.now()
	claims := struct {
		jwt.RegisteredClaims
		QSH string `json:"qsh"`
	}{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: inst.ClientKey, Audience: jwt.ClaimStrings{inst.AppBaseURL},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(installTokenTTL)),
		},
		QSH: qsh.Of(http.MethodPost, basePath+rawPath, rawQuery, basePath),
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = s.installKid()
	keys, err := s.keys.get()
	if err != nil {
		return err
	}
	signed, err := tok.SignedString(keys.install)
	if err != nil {
		return fmt.Errorf("sitesim: sign %s: %w", event, err)
	}
	ctx, cancel := context.WithTimeout(ctx, installTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, inst.AppBaseURL+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sitesim: %s URL: %w", event, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "JWT "+signed)
	answer, status, err := do(req)
	if err != nil {
		return fmt.Errorf("sitesim: %s callback: %w", event, err)
	}
	if status != http.StatusOK && status != http.StatusNoContent {
		return fmt.Errorf("sitesim: %s callback: the app answered %d: %s", event, status, clipBody(answer))
	}
	return nil
}

// forgeClaims are the claims of a Forge Invocation Token.
type forgeClaims struct {
	jwt.RegisteredClaims
	App       forgeApp       `json:"app"`
	Context   map[string]any `json:"context"`
	Principal string         `json:"principal,omitempty"` // the invoking user, for UI modules
}

type forgeApp struct {
	ID             string            `json:"id"`
	InstallationID string            `json:"installationId"`
	APIBaseURL     string            `json:"apiBaseUrl"`
	Environment    map[string]string `json:"environment"`
	Module         map[string]string `json:"module"`
	Installation   forgeInstallation `json:"installation"`
}

type forgeInstallation struct {
	ID       string           `json:"id"`
	Contexts []forgeContextID `json:"contexts"`
}

type forgeContextID struct {
	Name       string `json:"name"`
	APIBaseURL string `json:"apiBaseUrl"`
	CloudID    string `json:"cloudId"`
}

// invokeScheduled calls the app's scheduled trigger with a FIT and the app
// system token, the way Forge delivers the token to a Forge Remote.
func (s *Server) invokeScheduled(ctx context.Context, inst Installation, forgeAppID string) error {
	body := map[string]any{"context": map[string]string{"cloudId": s.opts.CloudID, "moduleKey": "token-refresh"}}
	return s.invokeForge(ctx, inst, forgeAppID, scheduledPath, scheduledModuleKey, body)
}

// invokeForge POSTs body to the app's Forge Remote endpoint at path with a
// FIT for module and the app system token.
func (s *Server) invokeForge(ctx context.Context, inst Installation, forgeAppID, path, module string, body any) error {
	signed, err := s.fit(inst, forgeAppID, module, "")
	if err != nil {
		return err
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, installTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, inst.AppBaseURL+path, bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("sitesim: Forge endpoint URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+signed)
	req.Header.Set("X-Forge-Oauth-System", inst.AppToken)
	answer, status, err := do(req)
	if err != nil {
		return fmt.Errorf("sitesim: Forge invocation %s: %w", path, err)
	}
	if status < 200 || status > 299 {
		return fmt.Errorf("sitesim: Forge invocation %s: the app answered %d: %s", path, status, clipBody(answer))
	}
	return nil
}

// UIInvocationToken is the Forge Invocation Token a Forge UI module of the
// installed app sends when accountID invokes the app's remote (an
// invokeRemote call from the panel).
func (s *Server) UIInvocationToken(inst Installation, forgeAppID, accountID string) (string, error) {
	return s.fit(inst, forgeAppID, "seatlens-admin-ui", accountID)
}

// fit signs a Forge Invocation Token for the installed app.
func (s *Server) fit(inst Installation, forgeAppID, module, principal string) (string, error) {
	appID := forgeAppID
	if !strings.HasPrefix(appID, "ari:") {
		appID = appARIPrefix + appID
	}
	// The api mount lives at the server's root, not under the context path.
	apiBase := strings.TrimSuffix(inst.SiteBaseURL, s.opts.ContextPath) + s.APIBasePath()
	now := s.now()
	claims := forgeClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: "forge/invocation-token", Audience: jwt.ClaimStrings{appID}, ID: newUUID(),
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(fitTTL)),
		},
		App: forgeApp{
			ID: appID, InstallationID: inst.InstallationID, APIBaseURL: apiBase,
			Environment: map[string]string{"type": "PRODUCTION", "id": newUUID()},
			Module:      map[string]string{"type": "core:endpoint", "key": module},
			Installation: forgeInstallation{ID: inst.InstallationID, Contexts: []forgeContextID{{
				Name: "ari:cloud:jira::site/" + s.opts.CloudID, APIBaseURL: apiBase, CloudID: s.opts.CloudID,
			}}},
		},
		Context:   map[string]any{"cloudId": s.opts.CloudID},
		Principal: principal,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = ForgeKid
	keys, err := s.keys.get()
	if err != nil {
		return "", err
	}
	signed, err := tok.SignedString(keys.forge)
	if err != nil {
		return "", fmt.Errorf("sitesim: sign FIT: %w", err)
	}
	return signed, nil
}

// noRedirects: Atlassian does not follow a redirect from a callback, and
// following one would send a signed token to another URL.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// do sends req and reads at most maxDescriptorBytes+1 of the answer (the
// caller decides whether that is too much).
func do(req *http.Request) ([]byte, int, error) {
	client := &http.Client{CheckRedirect: noRedirects}
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDescriptorBytes+1))
	if err != nil {
		return nil, 0, fmt.Errorf("reading the answer: %w", err)
	}
	return body, resp.StatusCode, nil
}

func clipBody(b []byte) string {
	const max = 300
	s := strings.Join(strings.Fields(string(b)), " ") // one line: it ends up in an error
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// newUUID is a random (version 4) UUID.
func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// randomSecret is n alphanumeric characters, each drawn uniformly.
func randomSecret(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	out := make([]byte, n)
	for i := range out {
		v, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		out[i] = alphabet[v.Int64()]
	}
	return string(out)
}
