package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/seatlens/seatlens/app/connect/connecttest"
	"github.com/seatlens/seatlens/app/review"
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

// childPair is `seatlens serve` in a child process, installed into a
// simulated site served by the test.
type childPair struct {
	srv   *sitesim.Server
	sim   string // the site's URL
	base  string // the app's
	args  []string
	child *exec.Cmd
	inst  sitesim.Installation
}

// startChildPair serves site and installs a child server into it.
func startChildPair(t *testing.T, site *sitesim.Site, o sitesim.Options) *childPair {
	t.Helper()
	srv, err := sitesim.New(site, o)
	if err != nil {
		t.Fatal(err)
	}
	sim := httptest.NewServer(srv)
	t.Cleanup(sim.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := &childPair{srv: srv, sim: sim.URL, base: "http://" + addr}
	p.args = []string{"serve", "--addr", addr, "--base-url", p.base, "--data", t.TempDir(), "--install-keys-url", sitesim.InstallKeysURL(sim.URL),
		"--org-api-url", sim.URL, "--log-format", "json"}
	p.child = serveChild(t, p.args)
	waitHealthy(t, p.base+"/healthz")
	if p.inst, err = srv.Install(context.Background(), sim.URL, p.base, ""); err != nil {
		t.Fatal(err)
	}
	return p
}

// kill stops the child with SIGKILL.
func (p *childPair) kill(t *testing.T) {
	t.Helper()
	if err := p.child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.child.Wait()
}

// restart starts a new child on the same data.
func (p *childPair) restart(t *testing.T) {
	t.Helper()
	p.child = serveChild(t, p.args)
	waitHealthy(t, p.base+"/healthz")
}

// call sends an API request as who, with a context token; 0 when the
// server does not answer.
func (p *childPair) call(t *testing.T, who, method, path, body string) (int, []byte) {
	claims := connecttest.ContextClaims(p.inst.ClientKey, time.Now())
	claims.Subject = who
	token := connecttest.Sign(t, jwt.SigningMethodHS256, []byte(p.inst.SharedSecret), claims, nil)
	req, _ := http.NewRequest(method, p.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "JWT "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
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
	p := startChildPair(t, site, sitesim.Options{Faults: sitesim.Faults{Latency: 30 * time.Millisecond}})
	admin := sitesim.DefaultScenario().AdminAccountID
	call := func(method, path, body string) (int, []byte) { return p.call(t, admin, method, path, body) }
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
	p.kill(t)
	p.restart(t)
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

// TestExecutionSurvivesSIGKILL: a server killed with SIGKILL at a random
// moment of a review's execution, and started again, finishes it; the
// site's membership log then holds every planned removal exactly once and
// nothing else. SEATLENS_CRASH_RUNS sets the number of runs (20).
func TestExecutionSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server in child processes")
	}
	runs := 20
	if n, err := strconv.Atoi(os.Getenv("SEATLENS_CRASH_RUNS")); err == nil && n > 0 {
		runs = n
	}
	f, err := os.Open("../../app/sitesim/testdata/fixture/site.json")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := sitesim.LoadScenario(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 11))
	killedMidway := 0
	defer func() {
		// The kills must land inside executions, not only before or after.
		if !t.Failed() && runs >= 10 && killedMidway < runs/4 {
			t.Errorf("only %d of %d kills landed between the first and the last removal", killedMidway, runs)
		}
	}()
	for run := range runs {
		t.Run(strconv.Itoa(run), func(t *testing.T) {
			site, err := sitesim.NewSite(sc)
			if err != nil {
				t.Fatal(err)
			}
			p := startChildPair(t, site, sitesim.Options{Faults: sitesim.Faults{Latency: 25 * time.Millisecond}})
			srv := p.srv
			call := func(who, method, path, body string) (int, []byte) { return p.call(t, who, method, path, body) }
			const alice, sina = "fx01-alice", "fx33-sina"
			if code, body := call(alice, "PUT", "/api/v1/org-key", `{"orgId":"`+sitesim.DefaultOrgID+`","key":"`+sitesim.DefaultOrgKey+`"}`); code != http.StatusOK {
				t.Fatalf("org key: %d %s", code, body)
			}
			// A scan with the key (after the install's), then a review of
			// every removable seat.
			var rec scan.Record
			for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
				code, body := call(alice, "POST", "/api/v1/scans", "")
				json.Unmarshal(body, &rec)
				if code == http.StatusAccepted {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("could not queue a scan: %d %s", code, body)
				}
			}
			for deadline := time.Now().Add(time.Minute); rec.State != scan.StateDone; time.Sleep(20 * time.Millisecond) {
				_, body := call(alice, "GET", "/api/v1/scans/"+rec.ID, "")
				json.Unmarshal(body, &rec)
				if time.Now().After(deadline) || rec.State == scan.StateFailed {
					t.Fatalf("scan: %+v", rec)
				}
			}
			code, body := call(alice, "POST", "/api/v1/reviews", `{"title":"all removable","filter":{"verdict":"removable"}}`)
			var r review.Review
			if json.Unmarshal(body, &r); code != http.StatusCreated || len(r.Items) < 3 {
				t.Fatalf("create: %d %s", code, body)
			}
			call(alice, "POST", "/api/v1/reviews/"+r.ID+"/submit", `{}`)
			if code, body := call(sina, "POST", "/api/v1/reviews/"+r.ID+"/approve", `{}`); code != http.StatusOK {
				t.Fatalf("approve: %d %s", code, body)
			}
			before := len(srv.MembershipLog())
			if code, body := call(sina, "POST", "/api/v1/reviews/"+r.ID+"/execute", `{}`); code != http.StatusAccepted {
				t.Fatalf("execute: %d %s", code, body)
			}
			time.Sleep(time.Duration(rng.IntN(600)) * time.Millisecond)
			p.kill(t)
			atKill := len(srv.MembershipLog()) - before

			p.restart(t)
			for deadline := time.Now().Add(time.Minute); ; time.Sleep(30 * time.Millisecond) {
				_, body := call(alice, "GET", "/api/v1/reviews/"+r.ID, "")
				json.Unmarshal(body, &r)
				if r.State == review.StateDone || r.State == review.StatePartial {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the review never ended after the restart: %s", r.State)
				}
			}
			t.Logf("killed after %d of the site's membership changes", atKill)
			killedMidway += boolInt(atKill > 0 && atKill < len(srv.MembershipLog())-before)
			want := map[string]bool{}
			for _, it := range r.Items {
				if it.Outcome != review.OutcomeRemoved && it.Outcome != review.OutcomeSkipped {
					t.Errorf("item %s/%s: %s %s", it.AccountID, it.Product, it.Outcome, it.Reason)
				}
				for _, p := range it.Plan {
					want[p.GroupID+" "+it.AccountID] = true
				}
			}
			got := map[string]int{}
			for _, c := range srv.MembershipLog()[before:] {
				if c.Added {
					t.Errorf("a membership was added: %+v", c)
				}
				got[c.GroupID+" "+c.AccountID]++
			}
			for k := range want {
				if got[k] != 1 {
					t.Errorf("planned removal %s happened %d times", k, got[k])
				}
			}
			for k := range got {
				if !want[k] {
					t.Errorf("removal %s was not planned", k)
				}
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
