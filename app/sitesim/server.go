package sitesim

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configure a Server.
type Options struct {
	ContextPath string // "" for Jira, "/wiki" to test context-path handling
	CloudID     string // the api mount is /ex/jira/<CloudID>
	// InstallKid names the site's install key; "" is InstallKid. Several
	// sites behind one key service (as Atlassian's serves every site)
	// need distinct ones.
	InstallKid string
	AdminEmail string // Basic-auth user: the site admin's e-mail
	AdminToken string // and API token
	Modes      Modes
	Now        func() time.Time
	// Rate limits and faults (ratelimit.go, faults.go); zero values: off.
	Limits RateLimits
	Faults Faults
	// The Organizations API mount (orgapi.go): its organisation ID and the
	// org API key it accepts as a bearer token; "" picks DefaultOrgID and
	// DefaultOrgKey.
	OrgID  string
	OrgKey string
	// OrgRateLimit is the Organizations API's requests a second per key
	// (orgapi_ratelimit.go); 0: no limit. Atlassian publishes no number.
	OrgRateLimit int
	// ForgeScopes are the OAuth scopes of the Forge app token Install
	// issues (the manifest's permissions.scopes); required for a Forge
	// install, since the site cannot read the app's manifest.
	ForgeScopes []string
	// ForgeUserEventsPath is the app's Forge Remote endpoint for Jira user
	// events (avi:jira:*:user) from its manifest; "" sends none. The site
	// cannot read the manifest, so whoever installs the app passes it.
	ForgeUserEventsPath string
}

// Server serves a Site over HTTP.
type Server struct {
	site *Site
	opts Options
	ops  map[string]operation
	mux  *http.ServeMux
	org  *http.ServeMux // Organizations API mount (orgapi.go)
	// orgPatterns are the routes registered on org, sorted.
	orgPatterns []string
	now         func() time.Time

	mu     sync.RWMutex
	apps   map[string]ConnectApp
	tokens map[string]AppToken
	log    []Request

	// Hooks of ratelimit.go, faults.go, counters.go.
	limits *limiter
	faults *faulter
	usage  *usage

	keys     lazyKeys     // install key and Forge key (host.go)
	host     hostRegistry // installed apps' page modules (hostpage.go)
	hooks    webhookQueue // webhook subscriptions and deliveries (webhooks.go)
	audit    auditPush    // the org's audit-log webhooks (audithooks.go)
	privacy  privacyState // the personal data reporting API (privacy.go)
	orgLimit orgBucket    // the Org API's rate limit (orgapi_ratelimit.go)
}

// Request is one call the site answered (tests assert on them).
type Request struct {
	Method, Path, Query string
	Credential          string
	Status              int
}

// handlerFunc serves one operation for an authenticated caller.
type handlerFunc func(w http.ResponseWriter, r *http.Request, c caller) *apiError

// New builds a server over site.
func New(site *Site, o Options) (*Server, error) {
	ops, err := loadOperations()
	if err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CloudID == "" {
		o.CloudID = "c0ffee00-0000-4000-8000-000000000001"
	}
	if o.Modes.SyncedRemoval == "" {
		o.Modes.SyncedRemoval = DefaultModes().SyncedRemoval // the bool mode keeps the caller's value
	}
	if o.OrgID == "" {
		o.OrgID = DefaultOrgID
	}
	if o.OrgKey == "" {
		o.OrgKey = DefaultOrgKey
	}
	o.ContextPath = strings.TrimSuffix(o.ContextPath, "/")
	s := &Server{site: site, opts: o, ops: ops, now: o.Now, mux: http.NewServeMux(),
		apps: map[string]ConnectApp{}, tokens: map[string]AppToken{},
		limits: newLimiter(o.Limits, o.Now), faults: newFaulter(o.Faults), usage: newUsage()}
	if err := s.routes(); err != nil {
		return nil, err
	}
	s.orgRoutes() // Organizations API mount (orgapi.go)
	site.mu.Lock()
	site.now = o.Now                // audit-log event times follow the server's clock
	site.notify = s.enqueueWebhook  // hook: webhooks.go
	site.onEvent = s.pushAuditEvent // hook: audithooks.go
	site.mu.Unlock()
	return s, nil
}

// Site returns the live site.
func (s *Server) Site() *Site { return s.site }

// APIBasePath is the path of the api mount (append to the server's URL).
func (s *Server) APIBasePath() string { return "/ex/jira/" + s.opts.CloudID }

// Requests returns the calls answered so far.
func (s *Server) Requests() []Request {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]Request(nil), s.log...)
}

// handle registers an operation: its pattern must be an operation of the
// embedded OpenAPI, so the site cannot serve a path Jira does not have.
func (s *Server) handle(method, path string, h handlerFunc) {
	op, ok := s.ops[method+" "+path]
	if !ok {
		panic("sitesim: " + method + " " + path + " is not in the OpenAPI document") // programming error
	}
	s.mux.HandleFunc(method+" "+path, func(w http.ResponseWriter, r *http.Request) {
		s.beforeOperation(r, op) // hook: counters, latency
		apiMount := r.Context().Value(apiMountKey{}) != nil
		c, aerr := s.authenticate(r, op, apiMount)
		if aerr == nil {
			aerr = s.serveMetered(w, r, op, c, h) // hook: rate limits, faults, points
		}
		if aerr != nil {
			writeJSON(w, aerr.Status, aerr.body())
		}
	})
}

type apiMountKey struct{}

// ServeHTTP strips the mount prefix (the site's context path, or the api
// mount), then routes; anything outside both mounts is a 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	r = withMeter(r) // hook: counters.go
	path := r.URL.Path
	inner := r
	// The install keys and the Forge JWKS are Atlassian services of their
	// own, public and outside every mount (host.go).
	if s.servePublic(rec, r) {
		s.record(r, rec.status, CredNone)
		return
	}
	// Jira's page chrome around app modules and the AP stand-in
	// (hostpage.go): pages for a browser, no API credentials.
	if s.serveHost(rec, r) {
		s.record(r, rec.status, CredNone)
		return
	}
	// The personal data reporting API (privacy.go), outside Jira's REST.
	if s.servePrivacy(rec, r) {
		s.record(r, rec.status, credentialOf(r))
		return
	}
	// The simulator's own admin API (admin.go): no credentials.
	if s.serveAdmin(rec, r) {
		s.record(r, rec.status, CredNone)
		return
	}
	switch {
	case strings.HasPrefix(path, s.OrgBasePath()+"/"):
		// The Organizations API (api.atlassian.com/admin/…): its own mux,
		// auth and error shape (orgapi.go).
		s.serveOrg(rec, r)
		s.record(r, rec.status, credentialOfOrg(r))
		return
	case strings.HasPrefix(path, s.APIBasePath()+"/"):
		inner = r.Clone(r.Context())
		inner.URL.Path = strings.TrimPrefix(path, s.APIBasePath())
		inner.URL.RawPath = ""
		inner = inner.WithContext(context.WithValue(inner.Context(), apiMountKey{}, true))
	case s.opts.ContextPath == "" || strings.HasPrefix(path, s.opts.ContextPath+"/"):
		inner = r.Clone(r.Context())
		inner.URL.Path = strings.TrimPrefix(path, s.opts.ContextPath)
		inner.URL.RawPath = ""
	default:
		writeJSON(rec, http.StatusNotFound, jiraError(http.StatusNotFound, "No resource at "+path+" (this site lives under "+s.opts.ContextPath+")").body())
		s.record(r, rec.status, "")
		return
	}
	if _, pattern := s.mux.Handler(inner); pattern == "" {
		status, msg := http.StatusNotFound, "No resource at "+path
		if s.pathKnown(inner.URL.Path) {
			status, msg = http.StatusMethodNotAllowed, "Method "+r.Method+" is not allowed on "+path
		}
		writeJSON(rec, status, jiraError(status, msg).body())
		s.record(r, rec.status, "")
		return
	}
	s.mux.ServeHTTP(rec, inner)
	s.record(r, rec.status, credentialOf(r))
}

func credentialOf(r *http.Request) string {
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	switch strings.ToLower(scheme) {
	case "basic":
		return CredAPI
	case "jwt":
		return CredConnect
	case "bearer":
		return CredForge
	}
	return CredNone
}

// maxLog bounds the request log of a long-running site: the oldest half
// is dropped when it fills.
const maxLog = 100_000

func (s *Server) record(r *http.Request, status int, cred string) {
	s.usage.count(r, cred) // hook: counters.go
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.log) >= maxLog {
		s.log = append(s.log[:0], s.log[maxLog/2:]...)
	}
	s.log = append(s.log, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Credential: cred, Status: status})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // Jira writes "&" in URLs, not "\u0026"
	_ = enc.Encode(v)
}

// pathKnown reports whether some method serves path (so another method
// gets 405, as Jira answers, rather than 404).
func (s *Server) pathKnown(path string) bool {
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe, err := http.NewRequest(m, path, nil)
		if err != nil {
			return false
		}
		if _, pattern := s.mux.Handler(probe); pattern != "" {
			return true
		}
	}
	return false
}
