package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/seatlens/seatlens/app"
	"github.com/seatlens/seatlens/app/config"
	"github.com/seatlens/seatlens/app/sitesim"
	"github.com/seatlens/seatlens/store/storetest"
)

// TestSimFirstLine runs `seatlens sim` as a user would: the first stdout
// line is the contract scripts rely on, and the credentials it prints work.
func TestSimFirstLine(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"sim", "--users", "50", "--seed", "7"}, pw, io.Discard, func(string) string { return "" })
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^seatlens-sim site=(http://127\.0\.0\.1:\d+) email=(\S+) token=(\S+) org-url=(http://127\.0\.0\.1:\d+) org-id=(\S+) org-key=(\S+) install-keys=(http://127\.0\.0\.1:\d+/install-keys) jwks=(http://127\.0\.0\.1:\d+/forge/\.well-known/jwks\.json)\n$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("first line %q does not match the contract", line)
	}
	go io.Copy(io.Discard, pr)
	req, _ := http.NewRequest("GET", m[1]+"/rest/api/3/users/search?maxResults=100", nil)
	req.SetBasicAuth(m[2], m[3])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var users []map[string]any
	json.NewDecoder(resp.Body).Decode(&users)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(users) != 50 {
		t.Fatalf("users/search with the printed credentials: %d, %d users", resp.StatusCode, len(users))
	}
	// The printed org key opens the Organizations API of the printed org.
	req, _ = http.NewRequest("GET", m[4]+"/admin/v1/orgs/"+m[5], nil)
	req.Header.Set("Authorization", "Bearer "+m[6])
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /admin/v1/orgs/%s with the printed key: %d", m[5], resp.StatusCode)
	}
	// The printed key URLs serve the site's install key and Forge JWKS.
	for _, u := range []string{m[7] + "/" + sitesim.InstallKid, m[8]} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", u, resp.StatusCode)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sim did not stop")
	}
}

func TestSimRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{{"sim", "--synced-removal", "maybe"}, {"sim", "--users", "-1"}, {"sim", "--addr", "nope"}, {"sim", "--context-path", "wiki"},
		{"sim", "--latency", "-1s"}, {"sim", "--latency", "soon"}, {"sim", "--error-rate", "1.5"}, {"sim", "--error-rate", "-0.1"},
		{"sim", "--error-rate", "NaN"}, {"sim", "--points-per-hour", "-5"},
		{"sim", "--install", "ftp://x"}, {"sim", "--install", "127.0.0.1:8080"}, {"sim", "--forge-app-id", "not-an-id", "--install", "http://127.0.0.1:1"},
		{"sim", "--forge-app-id", "5e0d3c1a-0000-4000-8000-00000000a11e"}} {
		if _, _, err := runCmd(t, context.Background(), nil, args...); err == nil {
			t.Errorf("%v accepted", args)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: error %q is not one line", args, err)
		}
	}
}

// TestSimFaultFlags: --error-rate, --latency and --points-per-hour reach
// the site (every request fails at rate 1, and no slower than the latency).
func TestSimFaultFlags(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"sim", "--error-rate", "1", "--latency", "20ms", "--points-per-hour", "65000"}, pw, io.Discard, func(string) string { return "" })
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`site=(\S+) email=(\S+) token=(\S+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("first line %q", line)
	}
	go io.Copy(io.Discard, pr)
	req, _ := http.NewRequest("GET", m[1]+"/rest/api/3/myself", nil)
	req.SetBasicAuth(m[2], m[3])
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError && resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("--error-rate 1: status %d", resp.StatusCode)
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Errorf("--latency 20ms: answered in %s", d)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sim did not stop")
	}
}

// TestSimScenarioFile: --scenario loads a site from JSON (the format of
// sitesim.Scenario); a broken file stops start-up with one clear line.
func TestSimScenarioFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "site.json")
	raw, _ := json.Marshal(sitesim.DefaultScenario())
	os.WriteFile(good, raw, 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"sim", "--scenario", good}, pw, io.Discard, func(string) string { return "" })
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "seatlens-sim site=") {
		t.Fatalf("first line %q, %v", line, err)
	}
	go io.Copy(io.Discard, pr)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"users":[{"accountId":"x","bogus":1}]}`), 0o600)
	_, _, err = runCmd(t, context.Background(), nil, "sim", "--scenario", bad)
	if err == nil || !strings.Contains(err.Error(), "bogus") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("bad scenario: %v", err)
	}
	if _, _, err := runCmd(t, context.Background(), nil, "sim", "--scenario", good, "--users", "5"); err == nil {
		t.Fatal("--scenario with --users accepted")
	}
}

// TestSimInstall runs `seatlens sim --install` against the real app: the
// app is started with the key URLs of the sim's first line, and the sim
// installs itself through the signed lifecycle and delivers a Forge token.
func TestSimInstall(t *testing.T) {
	const forgeAppID = "ari:cloud:ecosystem::app/5e0d3c1a-0000-4000-8000-00000000a11e"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	appBase := "http://" + ln.Addr().String()
	// The app can only be built once the sim has printed its key URLs, but
	// the sim installs right after printing them: requests wait for it.
	ready := make(chan http.Handler, 1)
	handler := waitHandler(ready)
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	stderr := &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"sim", "--install", appBase, "--forge-app-id", forgeAppID}, pw, stderr, func(string) string { return "" })
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	m := regexp.MustCompile(` install-keys=(\S+) jwks=(\S+)\n$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("first line %q lacks the key URLs", line)
	}
	st := storetest.Open(t)
	a, err := app.New(config.Serve{
		Addr: ln.Addr().String(), BaseURL: appBase, DataDir: t.TempDir(), InstallKeysURL: m[1],
		LogFormat: "json", LogLevel: "info", ClockSkew: 30 * time.Second, UninstallGrace: time.Hour, BodyLimit: 1 << 20,
		ForgeAppID: forgeAppID, ForgeJWKSURL: m[2],
	}, app.Deps{Store: st, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	ready <- a.Handler()

	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), "installed into") {
		if time.Now().After(deadline) {
			t.Fatalf("no install logged; stderr %q", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	tenants, err := st.Tenants(ctx)
	if err != nil || len(tenants) != 1 || !tenants[0].Installed || !strings.HasPrefix(tenants[0].InstallationID, "ari:cloud:ecosystem::installation/") {
		t.Fatalf("tenants %+v, %v", tenants, err)
	}
	if !strings.Contains(stderr.String(), "forge-token=true") {
		t.Fatalf("stderr %q", stderr.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestSimInstallFails: an app that cannot be installed stops the sim with
// one clear line.
func TestSimInstallFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, _, err = runCmd(t, context.Background(), nil, "sim", "--install", "http://"+addr)
	if err == nil || !strings.Contains(err.Error(), "install into http://"+addr) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("install into nothing: %v", err)
	}
}

// waitHandler serves with the handler received on ready, holding requests
// until it arrives.
func waitHandler(ready <-chan http.Handler) http.Handler {
	var h http.Handler
	got := make(chan struct{})
	go func() { h = <-ready; close(got) }()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-got:
			h.ServeHTTP(w, r)
		case <-r.Context().Done():
		}
	})
}

// lockedBuffer is a bytes.Buffer written by the command's goroutine and
// read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
