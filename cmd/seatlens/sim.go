package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	seatlens "github.com/seatlens/seatlens"
	"github.com/seatlens/seatlens/app/forge"
	"github.com/seatlens/seatlens/app/sitesim"
	"github.com/seatlens/seatlens/descriptor"
)

// simFlags are the flags of `seatlens sim`.
type simFlags struct {
	addr          string
	users         int
	seed          uint64
	scenario      string
	contextPath   string
	syncedRemoval string
	appMayChange  bool
	// Rate limits and faults (sitesim.RateLimits, sitesim.Faults).
	latency       time.Duration
	errorRate     float64
	pointsPerHour int
	orgRateLimit  int
	// Installing into a running app (host.go of sitesim).
	install    string
	forgeAppID string
}

func (f *simFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.addr, "addr", "127.0.0.1:0", "listen address (port 0 picks a free one)")
	fs.IntVar(&f.users, "users", 0, "generate a site of this many users with every case of DESIGN.md §6 (0: the fixed tiny site)")
	fs.StringVar(&f.scenario, "scenario", "", "load the site from this scenario JSON file instead (see app/sitesim/testdata/fixture/site.json)")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the generated users")
	fs.StringVar(&f.contextPath, "context-path", "", "serve the site under this path (e.g. /wiki) to exercise context-path handling")
	fs.StringVar(&f.syncedRemoval, "synced-removal", sitesim.SyncedRemovalRefused, "removing a synced group's member through product REST: refused or undone (by the next IdP sync)")
	fs.BoolVar(&f.appMayChange, "app-may-change-membership", true, "whether the app's account may change group membership with the Forge app token")
	fs.DurationVar(&f.latency, "latency", 0, "delay every answer by this much (e.g. 50ms)")
	fs.Float64Var(&f.errorRate, "error-rate", 0, "answer this fraction (0..1) of requests with 500/503, drawn from --seed")
	fs.StringVar(&f.install, "install", "", "after start-up, install the site into the app at this base URL through the signed lifecycle (start the app with the printed install-keys and jwks URLs)")
	fs.StringVar(&f.forgeAppID, "forge-app-id", "", "with --install: the app's Forge app id (as given to the app); delivers a Forge app token with a scheduled-trigger invocation")
	fs.IntVar(&f.pointsPerHour, "points-per-hour", 65000, "enforce Atlassian's rate limits with this hourly points pool for app traffic (65000 is tier 1; 0: no rate limits)")
	fs.IntVar(&f.orgRateLimit, "org-rate-limit", 0, "refuse Organizations API requests beyond this many a second per key with 429 (Atlassian publishes no number; 0: no limit)")
}

func (f *simFlags) validate() error {
	if _, _, err := net.SplitHostPort(f.addr); err != nil {
		return fmt.Errorf("--addr %q: want host:port", f.addr)
	}
	if f.scenario != "" && f.users > 0 {
		return errors.New("--scenario and --users exclude each other")
	}
	if f.users < 0 || f.users > 1_000_000 {
		return fmt.Errorf("--users %d: want 0..1000000", f.users)
	}
	if f.syncedRemoval != sitesim.SyncedRemovalRefused && f.syncedRemoval != sitesim.SyncedRemovalUndone {
		return fmt.Errorf("--synced-removal %q: want %s or %s", f.syncedRemoval, sitesim.SyncedRemovalRefused, sitesim.SyncedRemovalUndone)
	}
	if f.contextPath != "" && (f.contextPath[0] != '/' || f.contextPath == "/") {
		return fmt.Errorf("--context-path %q: want a path such as /wiki", f.contextPath)
	}
	if f.latency < 0 || f.latency > time.Minute {
		return fmt.Errorf("--latency %s: want 0..1m", f.latency)
	}
	if !(f.errorRate >= 0 && f.errorRate <= 1) { // also refuses NaN
		return fmt.Errorf("--error-rate %v: want a fraction 0..1", f.errorRate)
	}
	if f.install != "" {
		u, err := url.Parse(f.install)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			return fmt.Errorf("--install %q: want the app's absolute http(s) base URL", f.install)
		}
	}
	if f.forgeAppID != "" && (f.install == "" || !forge.ValidAppID(f.forgeAppID)) {
		return fmt.Errorf("--forge-app-id %q: want ari:cloud:ecosystem::app/<uuid> or the uuid, with --install", f.forgeAppID)
	}
	if f.pointsPerHour < 0 {
		return fmt.Errorf("--points-per-hour %d: want 0 (no limits) or more", f.pointsPerHour)
	}
	if f.orgRateLimit < 0 {
		return fmt.Errorf("--org-rate-limit %d: want 0 (no limit) or more", f.orgRateLimit)
	}
	return nil
}

// sim serves the simulated Atlassian site until ctx ends. Its first stdout
// line is machine-readable: seatlens-sim site=<url> email=<e> token=<t>
// org-url=<url> org-id=<id> org-key=<key> install-keys=<url> jwks=<url>.
// With --install it then installs itself into that app; the line comes
// first because the app must be started with the key URLs it prints.
func sim(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var f simFlags
	fs := newFlagSet("sim", stderr)
	f.register(fs)
	if err := parseFlags(fs, args, getenv, f.validate); err != nil {
		return err
	}
	sc := sitesim.DefaultScenario()
	switch {
	case f.scenario != "":
		file, err := os.Open(f.scenario)
		if err != nil {
			return fmt.Errorf("sim: %w", err)
		}
		sc, err = sitesim.LoadScenario(file)
		file.Close()
		if err != nil {
			return fmt.Errorf("sim: %s: %w", f.scenario, err)
		}
	case f.users > 0:
		sc = sitesim.Generate(f.users, f.seed)
	}
	site, err := sitesim.NewSite(sc)
	if err != nil {
		return err
	}
	tpl, err := descriptor.Parse(seatlens.DescriptorTemplate)
	if err != nil {
		return err
	}
	d := tpl.Descriptor()
	srv, err := sitesim.New(site, sitesim.Options{
		ContextPath: f.contextPath, AdminEmail: sitesim.DefaultAdminEmail, AdminToken: sitesim.DefaultAdminToken,
		Modes:  sitesim.Modes{SyncedRemoval: f.syncedRemoval, AppMembershipRefused: !f.appMayChange},
		Limits: sitesim.RateLimits{Enabled: f.pointsPerHour > 0, PointsPerHour: f.pointsPerHour},
		Faults: sitesim.Faults{Latency: f.latency, ErrorRate: f.errorRate, Seed: f.seed},
		OrgID:  sitesim.DefaultOrgID, OrgKey: sitesim.DefaultOrgKey, OrgRateLimit: f.orgRateLimit,
		// The app token carries what Seatlens's manifest asks for.
		ForgeScopes: d.ForgeScopes(),
		// Forge delivers Jira user events to this manifest endpoint.
		ForgeUserEventsPath: descriptor.ForgeUserEvents.Path,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("sim: listen on %s: %w", f.addr, err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	// org-url is the api.atlassian.com equivalent: clients append
	// /admin/v1/orgs/… to it, as to Atlassian's host; it ignores
	// --context-path, which belongs to the product site.
	root := "http://" + ln.Addr().String()
	siteURL := root + f.contextPath
	fmt.Fprintf(stdout, "seatlens-sim site=%s email=%s token=%s org-url=%s org-id=%s org-key=%s install-keys=%s jwks=%s\n", siteURL, sitesim.DefaultAdminEmail, sitesim.DefaultAdminToken,
		root, sitesim.DefaultOrgID, sitesim.DefaultOrgKey, sitesim.InstallKeysURL(root), sitesim.JWKSURL(root))
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	if f.install != "" {
		// The app fetches the site's keys while it handles the install, so
		// the site is serving before the install starts.
		inst, err := srv.Install(ctx, siteURL, f.install, f.forgeAppID)
		if err != nil {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = hs.Shutdown(sctx)
			return fmt.Errorf("sim: install into %s: %w", f.install, err)
		}
		fmt.Fprintf(stderr, "sim: installed into %s: app=%s clientKey=%s installationId=%s forge-token=%t\n",
			inst.AppBaseURL, inst.AppKey, inst.ClientKey, inst.InstallationID, inst.AppToken != "")
	}
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return hs.Shutdown(sctx)
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("sim: %w", err)
	}
}
