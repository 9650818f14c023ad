package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/sitesim"
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
	m := regexp.MustCompile(`^seatlens-sim site=(http://127\.0\.0\.1:\d+) email=(\S+) token=(\S+) org-url=(http://127\.0\.0\.1:\d+) org-id=(\S+) org-key=(\S+)\n$`).FindStringSubmatch(line)
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
		{"sim", "--error-rate", "NaN"}, {"sim", "--points-per-hour", "-5"}} {
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
