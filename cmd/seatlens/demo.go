package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	seatlens "github.com/seatlens/seatlens"
	"github.com/seatlens/seatlens/app"
	"github.com/seatlens/seatlens/app/config"
	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/app/sitesim"
	"github.com/seatlens/seatlens/app/tenancy"
	"github.com/seatlens/seatlens/descriptor"
)

// demoAppID is the Forge app id the demo registers itself under.
const demoAppID = "ari:cloud:ecosystem::app/5ea71e55-0000-4000-8000-00000000de00"

// demo runs the app and a simulated site in one process, installs the app
// into the site through the real signed lifecycle, delivers a Forge app
// token, and prints the host page to open:
//
//	seatlens-demo open=<host page URL>
func demo(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var (
		addr, data string
		users      int
		seed       uint64
		latency    time.Duration
	)
	fs := newFlagSet("demo", stderr)
	fs.StringVar(&addr, "addr", "127.0.0.1:8080", "the app's listen address (loopback)")
	fs.StringVar(&data, "data", "seatlens-demo-data", "data folder of the demo's app")
	fs.IntVar(&users, "users", 250, "size of the simulated site")
	fs.Uint64Var(&seed, "seed", 1, "seed of the simulated site")
	fs.DurationVar(&latency, "latency", 0, "delay before each answer of the simulated site (e.g. 20ms), to watch a scan's progress")
	err := parseFlags(fs, args, getenv, func() error {
		host, _, err := net.SplitHostPort(addr)
		if err != nil || !descriptor.IsLoopbackHost(host) {
			return fmt.Errorf("--addr %q: want a loopback host:port", addr)
		}
		if users < 10 || users > 200_000 {
			return fmt.Errorf("--users %d: want 10..200000", users)
		}
		if latency < 0 || latency > 10*time.Second {
			return fmt.Errorf("--latency %s: want 0..10s", latency)
		}
		return nil
	})
	if err != nil {
		return err
	}
	log, err := app.NewLogger(stderr, "console", "info")
	if err != nil {
		return err
	}

	// The simulated site first: the app must be configured with its keys.
	site, err := sitesim.NewSite(demoScenario(users, seed))
	if err != nil {
		return err
	}
	tpl, err := descriptor.Parse(seatlens.DescriptorTemplate)
	if err != nil {
		return err
	}
	d := tpl.Descriptor()
	sim, err := sitesim.New(site, sitesim.Options{
		AdminEmail: sitesim.DefaultAdminEmail, AdminToken: sitesim.DefaultAdminToken,
		OrgID: sitesim.DefaultOrgID, OrgKey: sitesim.DefaultOrgKey,
		Limits:      sitesim.RateLimits{Enabled: true, PointsPerHour: 65000},
		Faults:      sitesim.Faults{Latency: latency},
		ForgeScopes: d.ForgeScopes(),
		// Forge delivers Jira user events to this manifest endpoint.
		ForgeUserEventsPath: descriptor.ForgeUserEvents.Path,
	})
	if err != nil {
		return err
	}
	simLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo: site: %w", err)
	}
	siteURL := "http://" + simLn.Addr().String()
	simSrv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go simSrv.Serve(simLn)
	defer simSrv.Close()

	// The app, as `seatlens serve` would run it.
	appLn, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("demo: listen on %s: %w (choose another with --addr)", addr, err)
	}
	cfg := config.Serve{
		Addr: addr, BaseURL: "http://" + appLn.Addr().String(), DataDir: data,
		InstallKeysURL: sitesim.InstallKeysURL(siteURL), ForgeJWKSURL: sitesim.JWKSURL(siteURL), ForgeAppID: demoAppID,
		LogFormat: "console", LogLevel: "info", ClockSkew: config.DefaultClockSkew,
		UninstallGrace: config.DefaultUninstallGrace, BodyLimit: 1 << 20,
		// The demo's site is its own Organizations API.
		OrgAPIURL: siteURL, KeepScans: config.DefaultKeepScans, ScanWorkers: config.DefaultScanWorkers,
		// A change made on the demo's site shows within seconds.
		AuditPollInterval: 5 * time.Second,
		// Reported soon after the first scan, so the demo shows a cycle.
		PersonalDataInterval: time.Minute,
	}
	if err := cfg.Validate(); err != nil {
		appLn.Close()
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		appLn.Close()
		return fmt.Errorf("demo: %w", err)
	}
	st, err := openStore(ctx, cfg.DataDir, cfg.SealKeyFile)
	if err != nil {
		appLn.Close()
		return err
	}
	defer st.Close()
	a, err := app.New(cfg, app.Deps{Store: st, Logger: log})
	if err != nil {
		appLn.Close()
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx, appLn, 10*time.Second) }()

	inst, err := sim.Install(ctx, siteURL, cfg.BaseURL, demoAppID)
	if err != nil {
		stop()
		<-done
		return fmt.Errorf("demo: install: %w", err)
	}
	// The org admin's key, as the Settings page takes it.
	orgCred := tenancy.OrgCredential{OrgID: sitesim.DefaultOrgID, Key: sitesim.DefaultOrgKey, CheckedAt: time.Now().UTC(), OK: true}
	if err := a.Tenancy().PutOrgCredential(ctx, inst.ClientKey, orgCred); err != nil {
		stop()
		<-done
		return fmt.Errorf("demo: %w", err)
	}
	// Four eyes: the second admin approves and executes.
	set, err := a.Tenancy().Settings(ctx, inst.ClientKey)
	if err == nil {
		set.Approvers = []string{DemoApprover}
		err = a.Tenancy().PutSettings(ctx, inst.ClientKey, set)
	}
	if err != nil {
		stop()
		<-done
		return fmt.Errorf("demo: %w", err)
	}
	// The first page load has findings: the scan the install queued ran
	// before the key and the app token were there, so the site is scanned
	// again with every credential before the page is offered.
	if err := demoScan(ctx, a.Scans(), inst.ClientKey); err != nil {
		stop()
		<-done
		return fmt.Errorf("demo: %w", err)
	}
	open, err := sim.HostPageURL(siteURL, inst.AppKey)
	if err != nil {
		stop()
		<-done
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(stdout, "seatlens-demo open=%s\n", open)
	log.Info().Str("site", siteURL).Str("app", cfg.BaseURL).Str("client_key", inst.ClientKey).
		Msg("demo ready: open the URL above; the site's admin API token is " + sitesim.DefaultAdminToken)
	err = <-done
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// demoScan waits for the scan in progress, queues a new one and waits for
// it to end.
func demoScan(ctx context.Context, q *scan.Queue, clientKey string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	for {
		rec, err := q.Enqueue(ctx, clientKey, scan.CauseStart)
		if err == nil {
			return waitScan(ctx, q, clientKey, rec.ID, true)
		}
		if !errors.Is(err, scan.ErrScanRunning) {
			return err
		}
		// The earlier scan's outcome does not matter: a new one follows.
		if err := waitScan(ctx, q, clientKey, rec.ID, false); err != nil {
			return err
		}
	}
}

func waitScan(ctx context.Context, q *scan.Queue, clientKey, id string, mustSucceed bool) error {
	for {
		rec, err := q.Scan(ctx, clientKey, id)
		if err != nil {
			return err
		}
		switch rec.State {
		case scan.StateDone:
			return nil
		case scan.StateFailed:
			if !mustSucceed {
				return nil
			}
			if rec.Error != nil {
				return fmt.Errorf("scan %s failed: %s", id, rec.Error.Message)
			}
			return fmt.Errorf("scan %s failed", id)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for scan %s: %w", id, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// DemoApprover is the demo site's second admin, the approver of its
// reviews: the host page's user switcher offers both admins, so that one
// can submit and the other approve.
const DemoApprover = "5b10a2844c20165700ede2aa"

// demoScenario is a generated site with a second site admin.
func demoScenario(users int, seed uint64) sitesim.Scenario {
	sc := sitesim.Generate(users, seed)
	sc.Users = append(sc.Users, sitesim.User{AccountID: DemoApprover, AccountType: sitesim.AccountAtlassian, Active: true,
		Status: "active", ClaimStatus: "managed", ManagementSource: "invited", DisplayName: "Sam Approver",
		Email: "sam@seatlens-sim.example", TimeZone: "Europe/Dublin", Locale: "en_IE"})
	sc.Members[sitesim.GroupSiteAdmins] = append(sc.Members[sitesim.GroupSiteAdmins], DemoApprover)
	return sc
}
