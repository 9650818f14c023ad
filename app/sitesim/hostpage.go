package sitesim

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/seatlens/seatlens/app/connect/qsh"
)

// This file is Jira's page chrome around an app's page modules
// (connect-protocol.md §1.4, §1.6, §3.7, §6): the host page at
// /plugins/servlet/ac/{appKey}/{moduleKey} frames the module through a
// signed iframe URL, an AP stand-in (all.js) speaks to it over
// postMessage, and /host/context-token mints the context JWTs
// AP.context.getToken returns. It is for offline demos and tests: no
// login, the viewing user is picked with ?user=.

// Paths of the host page, at the server's root (and under the context
// path, where Jira serves them).
const (
	hostPagePrefix   = "/plugins/servlet/ac/"
	allJSPath        = "/atlassian-connect/all.js"
	hostJSPath       = "/host/host.js"
	contextTokenPath = "/host/context-token"
	iframeTokenTTL   = 180 * time.Second
	contextTokenTTL  = 180 * time.Second
	connectVersion   = "1001.0.0"
)

//go:embed hostpage/*.html hostpage/*.js
var hostFiles embed.FS

var hostPageTemplate = template.Must(template.ParseFS(hostFiles, "hostpage/host.html"))

// hostModule is a page module of an installed app's descriptor.
type hostModule struct {
	Key  string `json:"key"`
	Name struct {
		Value string `json:"value"`
	} `json:"name"`
	URL       string `json:"url"`
	Cacheable bool   `json:"cacheable"`
}

// hostApp is what the host page knows of one installed app.
type hostApp struct {
	inst        Installation
	descriptor  string       // where the descriptor was fetched from
	modules     []hostModule // adminPages then configurePage; nil until fetched
	fetchedOnce bool
}

// hostRegistry is the Server's record of installed apps for the host page,
// keyed by app key (the zero value is ready).
type hostRegistry struct {
	mu   sync.Mutex
	apps map[string]*hostApp
}

// rememberHostApp is Install's hook: the host page frames the app's page
// modules, which it reads from the descriptor at appBaseURL on first use.
func (s *Server) rememberHostApp(inst Installation, appBaseURL string) {
	s.host.mu.Lock()
	defer s.host.mu.Unlock()
	if s.host.apps == nil {
		s.host.apps = map[string]*hostApp{}
	}
	s.host.apps[inst.AppKey] = &hostApp{inst: inst, descriptor: strings.TrimSuffix(appBaseURL, "/") + "/atlassian-connect.json"}
}

var errUnknownApp = errors.New("no such app is installed on this site")

// hostAppOf returns the install record and page modules of an installed
// app (fetching the modules on first use).
func (s *Server) hostAppOf(ctx context.Context, appKey string) (Installation, []hostModule, error) {
	s.mu.RLock()
	live, ok := s.apps[appKey]
	s.mu.RUnlock()
	s.host.mu.Lock()
	a := s.host.apps[appKey]
	s.host.mu.Unlock()
	if !ok || a == nil || a.inst.ClientKey != live.ClientKey {
		return Installation{}, nil, errUnknownApp // never installed, or uninstalled since
	}
	s.host.mu.Lock()
	mods, fetched := a.modules, a.fetchedOnce
	s.host.mu.Unlock()
	if fetched {
		return a.inst, mods, nil
	}
	mods, err := fetchPageModules(ctx, a.descriptor)
	if err != nil {
		return Installation{}, nil, err
	}
	s.host.mu.Lock()
	a.modules, a.fetchedOnce = mods, true
	s.host.mu.Unlock()
	return a.inst, mods, nil
}

func fetchPageModules(ctx context.Context, descriptorURL string) ([]hostModule, error) {
	ctx, cancel := context.WithTimeout(ctx, installTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, descriptorURL, nil)
	if err != nil {
		return nil, fmt.Errorf("sitesim: descriptor URL: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	body, status, err := do(req)
	if err != nil {
		return nil, fmt.Errorf("sitesim: fetch descriptor: %w", err)
	}
	if status != http.StatusOK || len(body) > maxDescriptorBytes {
		return nil, fmt.Errorf("sitesim: fetch descriptor: %s answered %d", descriptorURL, status)
	}
	var d struct {
		Modules struct {
			AdminPages    []hostModule `json:"adminPages"`
			ConfigurePage *hostModule  `json:"configurePage"`
		} `json:"modules"`
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, fmt.Errorf("sitesim: descriptor is not JSON: %w", err)
	}
	mods := make([]hostModule, 0, len(d.Modules.AdminPages)+1)
	for _, m := range d.Modules.AdminPages {
		if m.Key != "" && strings.HasPrefix(m.URL, "/") {
			mods = append(mods, m)
		}
	}
	if m := d.Modules.ConfigurePage; m != nil && m.Key != "" && strings.HasPrefix(m.URL, "/") {
		mods = append(mods, *m)
	}
	return mods, nil
}

// HostPageURL is the host page of the app's first admin page module (its
// configure page without admin pages) as the site admin sees it; siteBase
// is the server's root URL.
func (s *Server) HostPageURL(siteBase, appKey string) (string, error) {
	_, mods, err := s.hostAppOf(context.Background(), appKey)
	if err != nil {
		return "", err
	}
	if len(mods) == 0 {
		return "", fmt.Errorf("sitesim: app %s declares no admin page", appKey)
	}
	return hostPageLink(strings.TrimSuffix(siteBase, "/"), appKey, mods[0].Key, s.site.Admin().AccountID, nil), nil
}

func hostPageLink(base, appKey, moduleKey, user string, extra url.Values) string {
	q := url.Values{}
	for k, v := range extra {
		q[k] = v
	}
	q.Set("user", user)
	return base + hostPagePrefix + url.PathEscape(appKey) + "/" + url.PathEscape(moduleKey) + "?" + q.Encode()
}

// serveHost answers the host page paths; it reports whether path was one.
func (s *Server) serveHost(w http.ResponseWriter, r *http.Request) bool {
	path := r.URL.Path
	if cp := s.opts.ContextPath; cp != "" && strings.HasPrefix(path, cp+"/") {
		path = strings.TrimPrefix(path, cp)
	}
	var serve func(http.ResponseWriter, *http.Request, string)
	switch {
	case strings.HasPrefix(path, hostPagePrefix):
		serve = s.serveHostPage
	case path == allJSPath:
		serve = serveHostFile("hostpage/all.js")
	case path == hostJSPath:
		serve = serveHostFile("hostpage/host.js")
	case path == contextTokenPath:
		serve = s.serveContextToken
	default:
		return false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return true
	}
	serve(w, r, path)
	return true
}

func serveHostFile(name string) func(http.ResponseWriter, *http.Request, string) {
	return func(w http.ResponseWriter, _ *http.Request, _ string) {
		b, err := hostFiles.ReadFile(name)
		if err != nil {
			http.Error(w, "missing", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	}
}

// hostUser is one entry of the user switcher.
type hostUser struct {
	AccountID, DisplayName string
	Selected, Admin        bool
}

// siteAdmins returns the site's admins: the token's admin first, then the
// active members of site-admin groups in display order.
func (s *Site) siteAdmins() []User {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []User{*s.users[s.admin]}
	for _, id := range s.order {
		if id == s.admin || !s.users[id].Active {
			continue
		}
		for _, g := range s.groupsOf(id) {
			if g.SiteAdmin {
				out = append(out, *s.users[id])
				break
			}
		}
	}
	return out
}

func (s *Site) user(accountID string) (User, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.users[accountID]
	if !ok {
		return User{}, false
	}
	return *u, true
}

type hostPageData struct {
	SiteName, SiteBase          string
	AppKey, AppName, ModuleKey  string
	ModuleName                  string
	IframeSrc, AppOrigin        string
	User                        string
	Users                       []hostUser
	Modules                     []hostModuleLink
	ContextTokenURL, HostScript string
}

type hostModuleLink struct {
	Name, Href string
	Current    bool
}

func (s *Server) serveHostPage(w http.ResponseWriter, r *http.Request, path string) {
	rest := strings.TrimPrefix(path, hostPagePrefix)
	appKey, moduleKey, ok := strings.Cut(rest, "/")
	if !ok || appKey == "" || moduleKey == "" || strings.Contains(moduleKey, "/") {
		plainNotFound(w, "No page at "+path)
		return
	}
	inst, mods, err := s.hostAppOf(r.Context(), appKey)
	if errors.Is(err, errUnknownApp) {
		plainNotFound(w, "No app "+appKey+" is installed on this site.")
		return
	}
	if err != nil {
		http.Error(w, "The app's descriptor could not be read: "+err.Error(), http.StatusBadGateway)
		return
	}
	var mod *hostModule
	for i := range mods {
		if mods[i].Key == moduleKey {
			mod = &mods[i]
		}
	}
	if mod == nil {
		plainNotFound(w, "App "+appKey+" has no page module "+moduleKey+".")
		return
	}
	admin := s.site.Admin()
	userID := r.URL.Query().Get("user")
	if userID == "" {
		userID = admin.AccountID
	}
	viewer, ok := s.site.user(userID)
	if !ok {
		plainNotFound(w, "No user "+userID+" on this site.")
		return
	}
	ac := url.Values{}
	for k, v := range r.URL.Query() {
		if strings.HasPrefix(k, "ac.") {
			ac[k] = v
		}
	}
	src, err := s.iframeURL(inst, *mod, viewer.AccountID, ac)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	appURL, _ := url.Parse(inst.AppBaseURL)
	siteURL, _ := url.Parse(inst.SiteBaseURL)
	d := hostPageData{
		SiteName: siteURL.Host, SiteBase: inst.SiteBaseURL, AppKey: appKey, AppName: appKey,
		ModuleKey: moduleKey, ModuleName: mod.Name.Value, IframeSrc: src,
		AppOrigin: appURL.Scheme + "://" + appURL.Host, User: viewer.AccountID,
		ContextTokenURL: contextTokenPath, HostScript: hostJSPath,
	}
	if d.ModuleName == "" {
		d.ModuleName = moduleKey
	}
	listed := false
	for _, u := range s.site.siteAdmins() {
		listed = listed || u.AccountID == viewer.AccountID
		d.Users = append(d.Users, hostUser{AccountID: u.AccountID, DisplayName: u.DisplayName, Selected: u.AccountID == viewer.AccountID, Admin: true})
	}
	if !listed {
		d.Users = append(d.Users, hostUser{AccountID: viewer.AccountID, DisplayName: viewer.DisplayName, Selected: true})
	}
	for _, m := range mods {
		name := m.Name.Value
		if name == "" {
			name = m.Key
		}
		d.Modules = append(d.Modules, hostModuleLink{Name: name, Href: hostPageLink("", appKey, m.Key, viewer.AccountID, nil), Current: m.Key == moduleKey})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if err := hostPageTemplate.Execute(w, d); err != nil {
		http.Error(w, "render: "+err.Error(), http.StatusInternalServerError)
	}
}

func plainNotFound(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusNotFound)
	_, _ = fmt.Fprintln(w, msg)
}

var placeholder = regexp.MustCompile(`\{([^{}]*)\}`)

// iframeURL is the module's URL at the app with the standard iframe
// parameters and a JWT whose qsh covers the whole URL relative to the
// app's base URL (connect-protocol.md §1.6, §3.5). Context placeholders
// are filled from ac (AP.navigator.go customData), others left empty.
func (s *Server) iframeURL(inst Installation, m hostModule, user string, ac url.Values) (string, error) {
	filled := placeholder.ReplaceAllStringFunc(m.URL, func(p string) string {
		return url.QueryEscape(ac.Get(strings.Trim(p, "{}")))
	})
	rawPath, rawQuery := qsh.SplitRequestURI(filled)
	if m.Cacheable {
		return inst.AppBaseURL + filled, nil // verbatim, no params, no JWT (§1.4)
	}
	std := url.Values{}
	std.Set("xdm_e", inst.SiteBaseURL)
	std.Set("xdm_c", "channel-"+inst.AppKey+"__"+m.Key)
	std.Set("cp", s.opts.ContextPath)
	std.Set("lic", "none")
	std.Set("cv", connectVersion)
	query := std.Encode()
	if rawQuery != "" {
		query = rawQuery + "&" + query
	}
	base, err := url.Parse(inst.AppBaseURL)
	if err != nil {
		return "", fmt.Errorf("sitesim: app base URL: %w", err)
	}
	basePath := strings.TrimSuffix(base.EscapedPath(), "/")
	now := s.now()
	claims := struct {
		jwt.RegisteredClaims
		QSH string `json:"qsh"`
	}{
		RegisteredClaims: jwt.RegisteredClaims{Issuer: inst.ClientKey, Subject: user,
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(iframeTokenTTL))},
		QSH: qsh.Of(http.MethodGet, basePath+rawPath, query, basePath),
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(inst.SharedSecret))
	if err != nil {
		return "", fmt.Errorf("sitesim: sign iframe JWT: %w", err)
	}
	return inst.AppBaseURL + rawPath + "?" + query + "&jwt=" + url.QueryEscape(signed), nil
}

// serveContextToken mints the context JWT AP.context.getToken returns
// (§3.7: qsh "context-qsh").
func (s *Server) serveContextToken(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	appKey, user := q.Get("app"), q.Get("user")
	if appKey == "" || user == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "app and user are required"})
		return
	}
	s.mu.RLock()
	app, ok := s.apps[appKey]
	s.mu.RUnlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no app " + appKey + " is installed"})
		return
	}
	if _, ok := s.site.user(user); !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no user " + user + " on this site"})
		return
	}
	now := s.now()
	claims := struct {
		jwt.RegisteredClaims
		QSH string `json:"qsh"`
	}{
		RegisteredClaims: jwt.RegisteredClaims{Issuer: app.ClientKey, Subject: user,
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(contextTokenTTL))},
		QSH: "context-qsh",
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(app.SharedSecret))
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "sign: " + err.Error()})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]string{"token": signed})
}
