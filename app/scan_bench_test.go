package app

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/rs/zerolog"

	"github.com/seatlens/seatlens/app/billing/billingtest"
	"github.com/seatlens/seatlens/app/config"
	"github.com/seatlens/seatlens/app/connect/connecttest"
	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/app/sitesim"
	"github.com/seatlens/seatlens/app/tenancy"
	"github.com/seatlens/seatlens/descriptor"
	"github.com/seatlens/seatlens/store/storetest"
)

// credentialMixes are the credentials an installed app can hold: the
// Connect JWT always, the Forge app token and the org key or not.
var credentialMixes = []struct {
	name       string
	forge, org bool
}{
	{"connect", false, false},
	{"connect+app-token", true, false},
	{"connect+org-key", false, true},
	{"connect+app-token+org-key", true, true},
}

// waitQueued waits for a scan of the queue to end.
func waitQueued(tb testing.TB, q *scan.Queue, clientKey, id string) scan.Record {
	tb.Helper()
	for deadline := time.Now().Add(10 * time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		rec, err := q.Scan(context.Background(), clientKey, id)
		if err != nil {
			tb.Fatal(err)
		}
		if rec.State == scan.StateDone || rec.State == scan.StateFailed {
			return rec
		}
	}
	tb.Fatalf("scan %s did not end", id)
	return scan.Record{}
}

// scanAgain waits for whatever scan the tenant has, then runs a new one.
func scanAgain(tb testing.TB, q *scan.Queue, clientKey string) (scan.Record, time.Duration) {
	tb.Helper()
	for {
		start := time.Now()
		rec, err := q.Enqueue(context.Background(), clientKey, scan.CauseRequest)
		if err == nil {
			return waitQueued(tb, q, clientKey, rec.ID), time.Since(start)
		}
		waitQueued(tb, q, clientKey, rec.ID)
	}
}

// BenchmarkAppScan10k: the installed app scans a generated 10k-user site
// whose every answer takes 20 ms, with each credential mix. It reports the
// calls against the cheapest plan for that reach
// (billingtest.PlanMinimum), the points the site charged the app's
// credentials and what the app counted, and the wall time against
// calls × latency ÷ concurrency, and against the larger of that and the
// busiest endpoint's calls at Atlassian's burst limit of 100 a second.
//
//	go test ./app -run '^$' -bench AppScan10k -benchtime 1x
func BenchmarkAppScan10k(b *testing.B) {
	const users, latency = 10_000, 20 * time.Millisecond
	sc := sitesim.Generate(users, 1)
	for _, mix := range credentialMixes {
		b.Run(mix.name, func(b *testing.B) {
			p := newScanPairWith(b, sc, sitesim.Options{Faults: sitesim.Faults{Latency: latency},
				Limits: sitesim.RateLimits{Enabled: true, PointsPerHour: config.DefaultPointsPerHour}}, mix.forge, config.DefaultPointsPerHour)
			if mix.org {
				cred := tenancy.OrgCredential{OrgID: sitesim.DefaultOrgID, Key: sitesim.DefaultOrgKey, CheckedAt: time.Now(), OK: true}
				if err := p.app.Tenancy().PutOrgCredential(context.Background(), p.inst.ClientKey, cred); err != nil {
					b.Fatal(err)
				}
			}
			minimum := billingtest.PlanMinimum(sc, billingtest.Reach{OrgKey: mix.org, JiraAdmin: mix.forge, Installed: true})
			var rec scan.Record
			var wall time.Duration
			var sitePoints, busiest int
			for b.Loop() {
				waitQueued(b, p.app.Scans(), p.inst.ClientKey, "1") // the install's scan
				p.site.ResetUsage()
				rec, wall = scanAgain(b, p.app.Scans(), p.inst.ClientKey)
				u := p.site.Usage()
				sitePoints = u.Credential(sitesim.CredConnect).Points + u.Credential(sitesim.CredForge).Points
				busiest = 0
				for k, c := range u.By {
					if k.Credential == sitesim.CredConnect || k.Credential == sitesim.CredForge {
						busiest = max(busiest, c.Calls)
					}
				}
			}
			if rec.State != scan.StateDone {
				b.Fatalf("scan %+v", rec)
			}
			bound := time.Duration(rec.Calls) * latency / time.Duration(scan.DefaultConcurrency)
			b.ReportMetric(float64(rec.Calls), "calls")
			b.ReportMetric(float64(minimum), "plan-min-calls")
			b.ReportMetric(float64(rec.Calls)/float64(minimum), "calls/min")
			b.ReportMetric(float64(sitePoints), "site-points")
			b.ReportMetric(float64(rec.Points), "app-points")
			b.ReportMetric(wall.Seconds(), "wall-s")
			b.ReportMetric(wall.Seconds()/bound.Seconds(), "wall/bound")
			// Atlassian lets a tenant call one endpoint 100 times a second:
			// a keyless scan is mostly group/member pages, so that is its
			// floor, whatever the latency.
			burst := time.Duration(busiest) * time.Second / 100
			b.ReportMetric(wall.Seconds()/max(bound, burst).Seconds(), "wall/max(bound,burst)")
		})
	}
}

// keyProxy serves the install keys of several simulated sites at one URL,
// as Atlassian's key service serves every site's.
type keyProxy struct{ sites []string }

func (k *keyProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for _, s := range k.sites {
		resp, err := http.Get(sitesim.InstallKeysURL(s) + "/" + strings.TrimPrefix(r.URL.Path, "/"))
		if err != nil {
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			w.Write(body)
			return
		}
	}
	http.NotFound(w, r)
}

// BenchmarkAppTenantsMemory: the server's memory after scanning 1 and then
// 20 tenants of 10k users each (Connect only), measured as the Go heap in
// use after a collection beyond what the simulated sites (in the same
// process) hold, and the process's resident set for reference.
//
//	go test ./app -run '^$' -bench AppTenantsMemory -benchtime 1x
func BenchmarkAppTenantsMemory(b *testing.B) {
	const tenants, users = 20, 10_000
	proxy := &keyProxy{}
	keys := httptest.NewServer(proxy)
	defer keys.Close()
	var sims []*sitesim.Server
	for i := range tenants {
		site, err := sitesim.NewSite(sitesim.Generate(users, uint64(i+1)))
		if err != nil {
			b.Fatal(err)
		}
		srv, err := sitesim.New(site, sitesim.Options{CloudID: fmt.Sprintf("5ea71e55-0000-4000-8000-%012d", i), ForgeScopes: appForgeScopes(b),
			InstallKid:          fmt.Sprintf("sim-install-%d", i),
			ForgeUserEventsPath: descriptor.ForgeUserEvents.Path})
		if err != nil {
			b.Fatal(err)
		}
		ts := httptest.NewServer(srv)
		defer ts.Close()
		proxy.sites = append(proxy.sites, ts.URL)
		sims = append(sims, srv)
	}
	st := storetest.Open(b)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := config.Serve{Addr: ln.Addr().String(), BaseURL: base, DataDir: b.TempDir(), LogFormat: "json", LogLevel: "info",
		ClockSkew: 30 * time.Second, UninstallGrace: time.Hour, BodyLimit: 1 << 20, InstallKeysURL: keys.URL,
		ForgeJWKSURL: keys.URL, OrgAPIURL: "https://api.atlassian.com", KeepScans: 2, ScanWorkers: 2, PointsPerHour: 10_000_000}
	a, err := New(cfg, Deps{Store: st, Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	hs := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := a.scans.Start(ctx); err != nil {
		b.Fatal(err)
	}
	var clientKeys []string
	for i, srv := range sims {
		inst, err := srv.Install(ctx, proxy.sites[i], base, "")
		for try := 0; err != nil && try < 10; try++ {
			// The app fetches unknown install keys at a bounded rate.
			time.Sleep(300 * time.Millisecond)
			inst, err = srv.Install(ctx, proxy.sites[i], base, "")
		}
		if err != nil {
			b.Fatalf("site %d: %v", i, err)
		}
		clientKeys = append(clientKeys, inst.ClientKey)
		waitQueued(b, a.Scans(), inst.ClientKey, "1")
	}
	heap := func() (heapMB, rssMB float64) {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return float64(m.HeapInuse) / (1 << 20), rssMiB()
	}
	// Every site has been scanned once at install; what is left in memory
	// now is the sites and the server at rest.
	base0, rss0 := heap()
	for b.Loop() {
		if rec, _ := scanAgain(b, a.Scans(), clientKeys[0]); rec.State != scan.StateDone {
			b.Fatalf("scan %+v", rec)
		}
		h1, r1 := heap()
		for _, ck := range clientKeys[1:] {
			if rec, _ := scanAgain(b, a.Scans(), ck); rec.State != scan.StateDone {
				b.Fatalf("scan %+v", rec)
			}
		}
		h20, r20 := heap()
		b.ReportMetric(base0, "heap-at-rest-MB")
		b.ReportMetric(h1-base0, "server-heap-after-1-MB")
		b.ReportMetric(h20-base0, "server-heap-after-20-MB")
		b.ReportMetric(rss0, "rss-at-rest-MB")
		b.ReportMetric(r1, "rss-after-1-MB")
		b.ReportMetric(r20, "rss-after-20-MB")
	}
}

// rssMiB reads the process's resident set from /proc (Linux); 0 elsewhere.
func rssMiB() float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return float64(kb) / 1024
		}
	}
	return 0
}

// BenchmarkAppScanSizes measures what an in-app scan costs in calls and
// points at 1k, 10k and 100k users for each credential mix (no latency:
// the figures, not the wall time, are the point). Under the default pool
// of 65,000 points an hour, a scan alone on the app needs at least
// points ÷ 65,000 hours; the README's table is taken from this.
//
//	go test ./app -run '^$' -bench AppScanSizes -benchtime 1x -timeout 60m
func BenchmarkAppScanSizes(b *testing.B) {
	for _, users := range []int{1_000, 10_000, 100_000} {
		sc := sitesim.Generate(users, 1)
		for _, mix := range credentialMixes {
			b.Run(fmt.Sprintf("%dk/%s", users/1000, mix.name), func(b *testing.B) {
				// A pool no scan can run dry: the figures are measured, the
				// hours they take under the default pool computed from them.
				p := newScanPairWith(b, sc, sitesim.Options{}, mix.forge, 10_000_000)
				if mix.org {
					cred := tenancy.OrgCredential{OrgID: sitesim.DefaultOrgID, Key: sitesim.DefaultOrgKey, CheckedAt: time.Now(), OK: true}
					if err := p.app.Tenancy().PutOrgCredential(context.Background(), p.inst.ClientKey, cred); err != nil {
						b.Fatal(err)
					}
				}
				var rec scan.Record
				for b.Loop() {
					waitQueued(b, p.app.Scans(), p.inst.ClientKey, "1")
					rec, _ = scanAgain(b, p.app.Scans(), p.inst.ClientKey)
				}
				if rec.State != scan.StateDone {
					b.Fatalf("scan %+v", rec)
				}
				b.ReportMetric(float64(rec.Calls), "calls")
				b.ReportMetric(float64(rec.Points), "points")
				b.ReportMetric(float64(rec.Points)/config.DefaultPointsPerHour, "pool-hours")
			})
		}
	}
}

// BenchmarkBrowse100k: pages of seats and single users of a stored scan of
// a generated 100k-user site (org key and app token: every seat), through
// the real router with a context token. Targets: a filtered, sorted page
// ≤ 10 ms at p99; one user ≤ 5 ms.
//
//	go test ./app -run '^$' -bench Browse100k -benchtime 2000x -timeout 30m
func BenchmarkBrowse100k(b *testing.B) {
	sc := sitesim.Generate(100_000, 1)
	p := newScanPairWith(b, sc, sitesim.Options{}, true, 10_000_000)
	cred := tenancy.OrgCredential{OrgID: sitesim.DefaultOrgID, Key: sitesim.DefaultOrgKey, CheckedAt: time.Now(), OK: true}
	if err := p.app.Tenancy().PutOrgCredential(context.Background(), p.inst.ClientKey, cred); err != nil {
		b.Fatal(err)
	}
	waitQueued(b, p.app.Scans(), p.inst.ClientKey, "1")
	rec, _ := scanAgain(b, p.app.Scans(), p.inst.ClientKey)
	if rec.State != scan.StateDone {
		b.Fatalf("scan %+v", rec)
	}
	claims := connecttest.ContextClaims(p.inst.ClientKey, time.Now())
	claims.Subject = simAdmin
	auth := "JWT " + connecttest.Sign(b, jwt.SigningMethodHS256, []byte(p.inst.SharedSecret), claims, nil)
	get := func(path string) (int, time.Duration) {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", auth)
		rr := httptest.NewRecorder()
		start := time.Now()
		p.app.Handler().ServeHTTP(rr, req)
		return rr.Code, time.Since(start)
	}
	if code, took := get("/api/v1/seats?limit=1"); code != http.StatusOK {
		b.Fatalf("first page: %d", code)
	} else {
		b.Logf("first page after the scan (index in memory): %s", took)
	}
	pages := []string{
		"/api/v1/seats?verdict=review&sort=-lastActive&limit=50",
		"/api/v1/seats?product=jira-software&verdict=removable,likely-removable&sort=name&limit=50",
		"/api/v1/seats?q=an&account=managed&sort=verdict&limit=100",
		"/api/v1/seats?inactive=90&billable=true&sort=lastActive&limit=50",
	}
	users := []string{}
	for i, u := range sc.Users {
		if i%997 == 0 {
			users = append(users, u.AccountID)
		}
	}
	var pageTimes, userTimes []time.Duration
	byPage := make([][]time.Duration, len(pages))
	i := 0
	for b.Loop() {
		code, took := get(pages[i%len(pages)])
		if code != http.StatusOK {
			b.Fatalf("page: %d", code)
		}
		pageTimes = append(pageTimes, took)
		byPage[i%len(pages)] = append(byPage[i%len(pages)], took)
		code, took = get("/api/v1/users/" + users[i%len(users)])
		if code != http.StatusOK && code != http.StatusNotFound {
			b.Fatalf("user: %d", code)
		}
		userTimes = append(userTimes, took)
		i++
	}
	pct := func(d []time.Duration, p float64) float64 {
		slices.Sort(d)
		return float64(d[min(len(d)-1, int(float64(len(d))*p))].Microseconds()) / 1000
	}
	for j, d := range byPage {
		b.Logf("%s: p50 %.2f ms, p99 %.2f ms", pages[j], pct(d, 0.5), pct(d, 0.99))
	}
	b.ReportMetric(pct(pageTimes, 0.5), "page-p50-ms")
	b.ReportMetric(pct(pageTimes, 0.99), "page-p99-ms")
	b.ReportMetric(pct(userTimes, 0.5), "user-p50-ms")
	b.ReportMetric(pct(userTimes, 0.99), "user-p99-ms")
}
