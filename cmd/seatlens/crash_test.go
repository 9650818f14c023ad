package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/seatlens/seatlens/app/connect/connecttest"
	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/app/sitesim"
)

// TestMain lets a test run this binary's main in a child process (the
// crash test kills one with SIGKILL).
func TestMain(m *testing.M) {
	if os.Getenv("SEATLENS_TEST_RUN_MAIN") == "1" {
		os.Args = append([]string{"seatlens"}, strings.Fields(os.Getenv("SEATLENS_TEST_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serveChild starts `seatlens serve` in a child process.
func serveChild(t *testing.T, args []string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SEATLENS_TEST_RUN_MAIN=1", "SEATLENS_TEST_ARGS="+strings.Join(args, " "))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", stderr.String())
		}
	})
	return cmd
}

// TestScanSurvivesSIGKILL: a server killed with SIGKILL in the middle of
// a scan, and started again on the same data, ends that scan done; it is
// never left running.
func TestScanSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server in child processes")
	}
	site, err := sitesim.NewSite(sitesim.Generate(1500, 7))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sitesim.New(site, sitesim.Options{Faults: sitesim.Faults{Latency: 30 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	sim := httptest.NewServer(srv)
	defer sim.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	data := t.TempDir()
	args := []string{"serve", "--addr", addr, "--base-url", base, "--data", data, "--install-keys-url", sitesim.InstallKeysURL(sim.URL),
		"--org-api-url", sim.URL, "--log-format", "json"}
	child := serveChild(t, args)
	waitHealthy(t, base+"/healthz")
	inst, err := srv.Install(context.Background(), sim.URL, base, "")
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, path, body string) (int, []byte) {
		claims := connecttest.ContextClaims(inst.ClientKey, time.Now())
		claims.Subject = sitesim.DefaultScenario().AdminAccountID
		token := connecttest.Sign(t, jwt.SigningMethodHS256, []byte(inst.SharedSecret), claims, nil)
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "JWT "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, out
	}
	scanState := func(id string) scan.Record {
		var rec scan.Record
		if code, body := call("GET", "/api/v1/scans/"+id, ""); code == http.StatusOK {
			json.Unmarshal(body, &rec)
		}
		return rec
	}
	// The install's keyless scan first; then one with the org key, slow
	// enough (a role-assignments read per account, 30 ms each) to be
	// killed in the middle.
	for deadline := time.Now().Add(time.Minute); scanState("1").State != scan.StateDone; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the install's scan did not end: %+v", scanState("1"))
		}
	}
	if code, body := call("PUT", "/api/v1/org-key", `{"orgId":"`+sitesim.DefaultOrgID+`","key":"`+sitesim.DefaultOrgKey+`"}`); code != http.StatusOK {
		t.Fatalf("org key: %d %s", code, body)
	}
	code, body := call("POST", "/api/v1/scans", "")
	var queued scan.Record
	if json.Unmarshal(body, &queued); code != http.StatusAccepted {
		t.Fatalf("POST scans: %d %s", code, body)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		rec := scanState(queued.ID)
		if rec.State == scan.StateRunning && rec.Calls > 50 {
			break
		}
		if rec.State == scan.StateDone || time.Now().After(deadline) {
			t.Fatalf("never caught the scan running: %+v", rec)
		}
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()

	serveChild(t, args)
	waitHealthy(t, base+"/healthz")
	var rec scan.Record
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		rec = scanState(queued.ID)
		if rec.State == scan.StateDone || rec.State == scan.StateFailed || time.Now().After(deadline) {
			break
		}
	}
	if rec.State != scan.StateDone || rec.Attempts != 2 || rec.Totals == nil || rec.Totals.Users < 1000 {
		t.Fatalf("after SIGKILL and a restart: %+v", rec)
	}
	if code, _ := call("GET", "/api/v1/scans/"+queued.ID+"/findings.json", ""); code != http.StatusOK {
		t.Fatalf("findings after the restart: %d", code)
	}
}
