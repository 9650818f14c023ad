package app

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/rs/zerolog"

	"github.com/seatlens/seatlens/app/config"
	"github.com/seatlens/seatlens/app/connect/connecttest"
	"github.com/seatlens/seatlens/store"
)

// benchPage is a typical Jira iframe URL of the admin page.
const benchPage = "/admin?xdm_e=https%3A%2F%2Fclient-a.atlassian.net&xdm_c=channel-io.seatlens.app__seatlens-admin&cp=&xdm_deprecated_addon_key_do_not_use=io.seatlens.app&lic=active&cv=1001.0.0&tz=Europe%2FBerlin&loc=en-US"

// BenchmarkAuthenticatedPage: one admin page load through the whole echo
// stack (request id, access log, security headers, JWT + qsh, tenant
// lookup in bbolt with the secret unsealed, embedded HTML).
func BenchmarkAuthenticatedPage(b *testing.B) {
	h := newHarness(b, "https://seatlens.example.com")
	h.app.log = zerolog.New(discard{}) // measure the stack, not the log sink
	expectStatus(b, h.install("client-a", "secret-a"), http.StatusNoContent)
	url := h.base + benchPage + "&jwt=" + h.requestToken("client-a", "secret-a", "GET", benchPage)
	handler := h.app.Handler()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, httptest.NewRequest("GET", url, nil))
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
			}
		}
	})
}

// TestWrkAuthenticatedPage is the bench command behind the README's
// requests-per-second figure: with SEATLENS_WRK=1 it serves the app on
// loopback over real TCP with a real store on disk, installs a tenant
// through the signed lifecycle, and runs wrk -t2 -c32 against an
// authenticated page. It prints the figures; it asserts only that the
// page really is authenticated (a tampered URL is refused).
func TestWrkAuthenticatedPage(t *testing.T) {
	if os.Getenv("SEATLENS_WRK") == "" {
		t.Skip("set SEATLENS_WRK=1 to run the wrk benchmark (needs wrk on PATH)")
	}
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		t.Fatal("wrk not found: apt-get install -y wrk")
	}
	ks := connecttest.NewKeyServer(t)
	ks.Serve("kid-1", connecttest.PublicPEM(&connecttest.Key(0).PublicKey))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	dir := t.TempDir()
	key, err := store.LoadOrCreateSealKey(dir + "/seal.key")
	if err != nil {
		t.Fatal(err)
	}
	sealer, _ := store.NewSealer(key)
	st, err := store.Open(context.Background(), store.Options{Dir: dir, Sealer: sealer})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := config.Serve{Addr: ln.Addr().String(), BaseURL: base, DataDir: dir, InstallKeysURL: ks.URL,
		LogFormat: "json", LogLevel: "info", ClockSkew: 30 * time.Second, UninstallGrace: time.Hour, BodyLimit: 1 << 20}
	logSink, _ := os.Create(os.DevNull)
	defer logSink.Close()
	a, err := New(cfg, Deps{Store: st, Logger: zerolog.New(logSink)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, ln, 5*time.Second) }()
	defer func() { cancel(); <-done }()

	c := connecttest.InstallClaims("client-a", base, "POST", "/lifecycle/installed", "", time.Now())
	tok := connecttest.Sign(t, jwt.SigningMethodRS256, connecttest.Key(0), c, map[string]any{"kid": "kid-1"})
	req, _ := http.NewRequest("POST", base+"/lifecycle/installed", strings.NewReader(newInstallBody("client-a", "secret-a", "installed").json()))
	req.Header.Set("Authorization", "JWT "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("install: %v %v", resp, err)
	}
	pageTok := connecttest.Sign(t, jwt.SigningMethodHS256, []byte("secret-a"), func() jwt.Claims {
		cl := connecttest.RequestClaims("client-a", "GET", benchPage, "", time.Now())
		cl.ExpiresAt = jwt.NewNumericDate(time.Now().Add(10 * time.Minute))
		return cl
	}(), nil)
	url := base + benchPage + "&jwt=" + pageTok
	for target, want := range map[string]int{url: 200, base + benchPage + "&x=1&jwt=" + pageTok: 401} {
		resp, err := http.Get(target)
		if err != nil || resp.StatusCode != want {
			t.Fatalf("GET %s: %v %v, want %d", target[:40], resp, err, want)
		}
		resp.Body.Close()
	}
	out, err := exec.Command(wrk, "-t2", "-c32", "-d10s", "--latency", url).CombinedOutput()
	if err != nil {
		t.Fatalf("wrk: %v\n%s", err, out)
	}
	t.Logf("wrk -t2 -c32 -d10s (authenticated admin page, loopback):\n%s", out)
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	re := regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			t.Logf("seatlens requests_per_sec=%s", m[1])
		}
	}
}
