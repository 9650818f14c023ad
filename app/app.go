// Package app is the composition root: it builds the echo server from the
// feature packages, wires the store into them, and runs the background
// work (purging uninstalled tenants, the local admin socket).
package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/rs/zerolog"

	seatlens "github.com/seatlens/seatlens"
	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/config"
	"github.com/seatlens/seatlens/app/connect"
	"github.com/seatlens/seatlens/app/forge"
	"github.com/seatlens/seatlens/app/lifecycle"
	"github.com/seatlens/seatlens/app/metrics"
	"github.com/seatlens/seatlens/app/panel"
	"github.com/seatlens/seatlens/app/privacy"
	"github.com/seatlens/seatlens/app/proof"
	"github.com/seatlens/seatlens/app/rescan"
	"github.com/seatlens/seatlens/app/review"
	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/app/tenancy"
	"github.com/seatlens/seatlens/app/webhook"
	"github.com/seatlens/seatlens/descriptor"
	"github.com/seatlens/seatlens/static"
	"github.com/seatlens/seatlens/store"
)

// Deps are the collaborators App does not build itself.
type Deps struct {
	Store      *store.Store
	Logger     zerolog.Logger
	Now        func() time.Time // nil: time.Now
	HTTPClient *http.Client     // outbound (install keys); nil: a client with a 10 s timeout
	Descriptor []byte           // template; nil: the embedded atlassian-connect.json
	// Transport carries the scans' calls to Atlassian; nil:
	// http.DefaultTransport. AttemptTimeout and CallTimeout bound each
	// call (zero: the client's defaults; tests shorten them).
	Transport                   http.RoundTripper
	AttemptTimeout, CallTimeout time.Duration
}

// App is the Seatlens HTTP application.
type App struct {
	cfg        config.Serve
	store      *store.Store
	log        zerolog.Logger
	now        func() time.Time
	e          *echo.Echo
	descriptor descriptor.Descriptor
	rendered   []byte // descriptor JSON for the configured base URL
	basePath   string
	httpClient *http.Client
	tokens     *forge.Tokens
	panelHTML  []byte
	tenancy    *tenancy.Service
	scans      *scan.Queue
	budget     *scan.PointsBudget
	executor   *review.Executor
	chain      *proof.Chain
	inbox      *rescan.Inbox
	worker     *rescan.Worker
	poller     *rescan.Poller
	scheduler  *rescan.Scheduler
	metrics    *metrics.Metrics
	reviews    *review.Service
	reporter   *privacy.Reporter
}

// New builds the application. Every wiring or configuration mistake is an
// error here, never a failure on the first request.
func New(cfg config.Serve, d Deps) (*App, error) {
	if d.Store == nil {
		return nil, errors.New("app: a store is required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.HTTPClient == nil {
		d.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if d.Descriptor == nil {
		d.Descriptor = seatlens.DescriptorTemplate
	}
	tpl, err := descriptor.Parse(d.Descriptor)
	if err != nil {
		return nil, err
	}
	rendered, err := tpl.Render(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	basePath, err := connect.BasePath(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	a := &App{
		cfg: cfg, store: d.Store, log: d.Logger, now: d.Now,
		descriptor: tpl.Descriptor(), rendered: rendered, basePath: basePath, httpClient: d.HTTPClient,
	}
	if a.panelHTML, err = loadPanel(); err != nil {
		return nil, err
	}
	if err := a.build(d); err != nil {
		return nil, err
	}
	return a, nil
}

// Handler is the application's HTTP handler.
func (a *App) Handler() http.Handler { return a.e }

// Echo exposes the router (tests list its routes).
func (a *App) Echo() *echo.Echo { return a.e }

// Tenancy is the tenants' credentials and settings (the demo configures
// its site's org key through it).
func (a *App) Tenancy() *tenancy.Service { return a.tenancy }

// Scans is the scan queue.
func (a *App) Scans() *scan.Queue { return a.scans }

// Descriptor is the descriptor the app serves.
func (a *App) Descriptor() descriptor.Descriptor { return a.descriptor }

func (a *App) build(d Deps) error {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(discard{}) // echo's own logger is unused; zerolog logs
	e.HTTPErrorHandler = a.handleError
	e.Server.ReadHeaderTimeout = 10 * time.Second
	e.Server.ReadTimeout = 30 * time.Second
	e.Server.WriteTimeout = 60 * time.Second
	e.Server.IdleTimeout = 120 * time.Second
	a.e = e

	// The client's address as the socket sees it: X-Forwarded-For and
	// X-Real-IP are client-controlled unless a trusted proxy is configured.
	e.IPExtractor = echo.ExtractIPDirect()
	e.Use(a.requestID)
	e.Use(a.accessLog())
	e.Use(recoverPanics)
	e.Use(securityHeaders(a.cfg.BaseURL))
	e.Use(middleware.BodyLimit(fmt.Sprintf("%dB", a.cfg.BodyLimit)))

	keys, err := connect.NewInstallKeys(connect.InstallKeysConfig{BaseURL: a.cfg.InstallKeysURL, Client: d.HTTPClient, Now: a.now})
	if err != nil {
		return err
	}
	install, err := connect.NewInstallVerifier(connect.InstallVerifierConfig{
		Keys: keys, BaseURL: a.cfg.BaseURL, ClockSkew: a.cfg.ClockSkew, Now: a.now,
	})
	if err != nil {
		return err
	}
	requests, err := connect.NewVerifier(connect.VerifierConfig{
		Tenants: tenantLookup{a.store}, BasePath: a.basePath, ClockSkew: a.cfg.ClockSkew, Now: a.now,
	})
	if err != nil {
		return err
	}

	a.inbox = &rescan.Inbox{Store: a.store, Now: a.now}
	a.worker = &rescan.Worker{Inbox: a.inbox, Logger: a.log}
	a.inbox.Notify = a.worker.Notify
	a.metrics = metrics.New(metrics.Sources{
		QueueDepth: func() (int, int) {
			if a.scans == nil {
				return 0, 0
			}
			return a.scans.Depth()
		},
		Pending: a.worker.Pending,
	})
	a.inbox.Metrics, a.worker.Metrics = a.metrics, a.metrics

	g := e.Group(a.basePath)
	// Public routes, the explicit exceptions to authentication: the
	// audit-log hook checks its own URL token and header.
	g.GET("/atlassian-connect.json", a.serveDescriptor)
	g.GET("/healthz", a.healthz)
	g.GET("/metrics", echo.WrapHandler(a.metrics.Handler()))
	g.POST("/hooks/audit/:token", (&webhook.AuditHook{Sink: a.inbox, Refused: rescan.ErrHookRefused, Bad: rescan.ErrBadDelivery}).Receive,
		middleware.BodyLimit(fmt.Sprintf("%dB", webhook.MaxAuditBodyBytes)))
	g.StaticFS("/static", static.Panel())

	lc := &lifecycle.Handlers{AppKey: a.descriptor.Key, Tenants: a.store, Install: install, Requests: requests, Now: a.now}
	if err := lc.Register(g, a.descriptor.Lifecycle); err != nil {
		return err
	}

	// Every other descriptor route: HS256 with a qsh bound to the request.
	requestAuth, err := connect.Middleware(requests, false)
	if err != nil {
		return err
	}
	pages := map[string]bool{}
	for _, r := range a.descriptor.Routes() {
		switch r.Kind {
		case "page":
			if !pages[r.Path] { // adminPages and configurePage may share a URL
				g.GET(r.Path, a.adminPage, requestAuth)
				pages[r.Path] = true
			}
		case "webhook":
			wh := &webhook.Handler{Inbox: a.inbox, Now: a.now}
			g.POST(r.Path, wh.For(r.Name), requestAuth, middleware.BodyLimit(fmt.Sprintf("%dB", webhook.MaxBodyBytes)))
		case "lifecycle":
			// registered above with their own verification
		default:
			return fmt.Errorf("app: descriptor route kind %q has no handler", r.Kind)
		}
	}

	fit, err := a.buildForge()
	if err != nil {
		return err
	}
	a.registerForge(g, fit)

	a.chain = &proof.Chain{Store: a.store, Now: a.now}
	a.budget = scan.NewPointsBudget(scan.BudgetConfig{PerHour: a.cfg.PointsPerHour})
	a.tenancy = &tenancy.Service{Store: a.store, Tokens: a.tokens, OrgAPIURL: a.cfg.OrgAPIURL, Transport: d.Transport,
		AttemptTimeout: d.AttemptTimeout, CallTimeout: d.CallTimeout, Now: a.now, Budget: a.budget, Observer: a.metrics}
	if a.scans, err = scan.NewQueue(scan.QueueConfig{Store: a.store, Prepare: a.tenancy, Workers: a.cfg.ScanWorkers,
		Keep: a.cfg.KeepScans, Logger: a.log, Now: a.now, Recorder: a.chain, Ended: a.scanEnded}); err != nil {
		return err
	}
	a.worker.Scans = a.scans
	a.poller = &rescan.Poller{Inbox: a.inbox, Orgs: a.tenancy, Scans: a.scans, Interval: a.cfg.AuditPollInterval,
		Logger: a.log, Metrics: a.metrics}
	a.scheduler = &rescan.Scheduler{Store: a.store, Scans: a.scans, Now: a.now, Logger: a.log,
		ScheduleOf: func(ctx context.Context, clientKey string) (string, error) {
			s, err := a.tenancy.Settings(ctx, clientKey)
			return s.Schedule, err
		}}
	lc.Installed = func(ctx context.Context, clientKey string) error {
		_, err := a.scans.Enqueue(ctx, clientKey, scan.CauseInstall)
		return err
	}

	// The panel's API: context tokens and Forge Invocation Tokens are
	// accepted here and only here.
	apiAuth, err := a.apiAuth(fit, requests)
	if err != nil {
		return err
	}
	api := g.Group("/api", apiAuth)
	api.GET("/tenant", a.apiTenant)
	reviews := &review.Service{Store: a.store, Seats: scanSeats{a.scans}, Now: a.now, Recorder: a.chain}
	a.reviews = reviews
	a.reporter = &privacy.Reporter{Store: a.store, Held: held{a}, Clients: a.tenancy, Eraser: eraser{a},
		Refresher: refresher{a.inbox}, Now: a.now, Logger: a.log}
	a.executor = &review.Executor{Reviews: reviews, Cleaners: a.tenancy, Logger: a.log}
	(&panel.API{Tenancy: a.tenancy, Scans: a.scans, Rescans: a.inbox, Audit: a.poller, BaseURL: a.cfg.BaseURL, Reviews: reviews,
		Executor: a.executor, Proof: a.chain, PersonalData: a.reporter, Now: a.now}).Register(api)
	return nil
}

func (a *App) serveDescriptor(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, a.rendered)
}

func (a *App) healthz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if _, err := a.store.SchemaVersion(ctx); err != nil {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "message": "store unavailable"})
	}
	queued, running := a.scans.Depth()
	pending, tenants := 0, 0
	for _, n := range a.worker.Pending() {
		pending += n
		tenants++
	}
	return c.JSON(http.StatusOK, health{Status: "ok", Version: Version(),
		Scans:   healthScans{Queued: queued, Running: running},
		Rescans: healthRescans{PendingAccounts: pending, Tenants: tenants}})
}

// health is GET /healthz: public, so it counts and never names tenants.
type health struct {
	Status  string        `json:"status"`
	Version string        `json:"version"`
	Scans   healthScans   `json:"scans"`
	Rescans healthRescans `json:"rescans"`
}

type healthScans struct {
	Queued  int `json:"queued"`  // tenants with a scan waiting to start
	Running int `json:"running"` // scans running
}

type healthRescans struct {
	PendingAccounts int `json:"pendingAccounts"`
	Tenants         int `json:"tenants"` // tenants with accounts pending
}

// scanEnded counts a finished scan and, once one is done, lets the
// accounts that waited for it be rescanned against it; the seats found new
// before it are in its findings now.
func (a *App) scanEnded(clientKey string, rec scan.Record) {
	a.metrics.ScanEnded(rec.Cause, rec.State, rec.Calls)
	if rec.State != scan.StateDone {
		return
	}
	ctx := context.Background()
	if err := a.inbox.ForgetNewSeats(ctx, clientKey, rec.ID); err != nil {
		a.log.Warn().Err(err).Str("client_key", clientKey).Msg("rescan: forget the new seats of earlier scans")
	}
	a.worker.Notify(clientKey)
	a.reporter.Notify(clientKey) // its accounts enter the personal data cycle
}

// eraser erases an account everywhere Seatlens keeps it for a tenant: the
// findings of every kept scan (their sums made again without it), the
// reviews (its ID and name become "erased"), the rescans, the settings and
// the admin CSV, and its salt, so the proof chain stays valid and no
// longer leads to it. The chain records that an erasure happened, naming
// no one.
type eraser struct{ a *App }

// Erase forgets the accounts everywhere but the scans one by one, then in
// every kept scan at once (each scan is summed once). Each step is
// idempotent, and the reviews, settings and CSV are among what held lists:
// an erasure cut short anywhere leaves the account held, so the next run
// of the cycle finds it closed and erases it again, whole.
func (e eraser) Erase(ctx context.Context, clientKey string, accountIDs []string) error {
	a := e.a
	for _, id := range accountIDs {
		for _, step := range []func(context.Context, string, string) error{
			a.reviews.Redact, a.inbox.Forget, a.tenancy.ForgetAccount,
		} {
			if err := step(ctx, clientKey, id); err != nil {
				return err
			}
		}
	}
	if err := a.scans.Forget(ctx, clientKey, accountIDs); err != nil {
		return err
	}
	// The salts last: with them goes what links the chain to a person,
	// once nothing else names them.
	for _, id := range accountIDs {
		if err := a.chain.Forget(ctx, clientKey, id); err != nil {
			return err
		}
		if _, err := a.chain.Append(ctx, clientKey, "account.erased", "", map[string]any{"reason": "closed"}); err != nil {
			return err
		}
	}
	return nil
}

// held lists every account a tenant's stored data names, for the personal
// data cycle: the kept scans' findings, the reviews, the settings and the
// admin CSV, each with when its oldest copy was read.
type held struct{ a *App }

func (h held) Accounts(ctx context.Context, clientKey string) (map[string]time.Time, error) {
	out, err := h.a.scans.Accounts(ctx, clientKey)
	if err != nil {
		return nil, err
	}
	for _, more := range []func(context.Context, string) (map[string]time.Time, error){h.a.reviews.Accounts, h.a.tenancy.Accounts} {
		m, err := more(ctx, clientKey)
		if err != nil {
			return nil, err
		}
		for id, at := range m {
			if prev, ok := out[id]; !ok || at.Before(prev) {
				out[id] = at
			}
		}
	}
	return out, nil
}

// refresher has updated accounts read again by a targeted rescan.
type refresher struct{ in *rescan.Inbox }

func (r refresher) Refresh(ctx context.Context, clientKey string, ids []string) error {
	marks := make([]rescan.Mark, len(ids))
	for i, id := range ids {
		marks[i] = rescan.Mark{AccountID: id, Hint: rescan.Hint{Cause: rescan.CausePersonalData, Event: "updated", At: time.Now().UTC()}}
	}
	_, err := r.in.Mark(ctx, clientKey, rescan.CausePersonalData, marks)
	return err
}

// tenantLookup adapts the store to the verifier.
type tenantLookup struct{ s *store.Store }

func (l tenantLookup) LookupTenant(ctx context.Context, clientKey string) (connect.Tenant, bool, error) {
	t, err := l.s.Tenant(ctx, clientKey)
	if errors.Is(err, store.ErrNotFound) {
		return connect.Tenant{}, false, nil
	}
	if err != nil {
		return connect.Tenant{}, false, err
	}
	return connect.Tenant{ClientKey: t.ClientKey, SharedSecret: t.SharedSecret, Installed: t.Installed}, true, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// scanSeats lets reviews read a scan's users.
type scanSeats struct{ q *scan.Queue }

func (s scanSeats) User(ctx context.Context, clientKey, scanID, accountID string) (billing.UserFindings, error) {
	u, err := s.q.User(ctx, clientKey, scanID, accountID)
	if errors.Is(err, scan.ErrNoScan) {
		return u, fmt.Errorf("%w: %s", review.ErrUnknownSeat, err)
	}
	return u, err
}
