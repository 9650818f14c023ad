package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/review"
	"github.com/seatlens/seatlens/app/sitesim"
)

// TestDemoCleanupCycle: on `seatlens demo`, through the API only, admin A
// builds a review of three removable seats and submits it, admin B
// approves and executes it, A undoes one seat, and the evidence file of
// the cycle passes `seatlens verify`.
func TestDemoCleanupCycle(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo")
	}
	open := startDemo(t, "--users", "300")
	appURL := demoAppURL(t, open)
	u, _ := url.Parse(open)
	site := u.Scheme + "://" + u.Host
	adminA := sitesim.DefaultScenario().AdminAccountID
	call := func(who, method, path, body string) (int, []byte) {
		t.Helper()
		resp, err := http.Get(site + "/host/context-token?app=io.seatlens.app&user=" + url.QueryEscape(who))
		if err != nil {
			t.Fatal(err)
		}
		var tok struct{ Token string }
		json.NewDecoder(resp.Body).Decode(&tok)
		resp.Body.Close()
		req, _ := http.NewRequest(method, appURL+"/api/v1/"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "JWT "+tok.Token)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, out
	}
	// Admin B: the demo's second site admin, whom it names the approver.
	adminB := DemoApprover
	if code, body := call(adminB, "GET", "settings", ""); code != http.StatusOK || !strings.Contains(string(body), adminB) {
		t.Fatalf("the demo's approver: %d %s", code, body)
	}
	// Three removable seats of three accounts.
	var seats struct {
		Seats []struct{ AccountID, Product string }
	}
	_, body := call(adminA, "GET", "seats?verdict=removable&limit=200", "")
	json.Unmarshal(body, &seats)
	var items []string
	seen := map[string]bool{}
	for _, s := range seats.Seats {
		if !seen[s.AccountID] && len(items) < 3 {
			seen[s.AccountID] = true
			items = append(items, fmt.Sprintf(`{"accountId":%q,"product":%q}`, s.AccountID, s.Product))
		}
	}
	if len(items) < 3 {
		t.Fatalf("the demo has %d removable accounts", len(items))
	}
	code, body := call(adminA, "POST", "reviews", `{"title":"Demo cleanup","items":[`+strings.Join(items, ",")+`]}`)
	var r review.Review
	if json.Unmarshal(body, &r); code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	call(adminA, "POST", "reviews/"+r.ID+"/submit", `{}`)
	if code, _ := call(adminA, "POST", "reviews/"+r.ID+"/approve", `{}`); code != http.StatusForbidden {
		t.Fatalf("admin A approved their own review: %d", code)
	}
	if code, body := call(adminB, "POST", "reviews/"+r.ID+"/approve", `{}`); code != http.StatusOK {
		t.Fatalf("approve: %d %s", code, body)
	}
	if code, body := call(adminB, "POST", "reviews/"+r.ID+"/execute", `{}`); code != http.StatusAccepted {
		t.Fatalf("execute: %d %s", code, body)
	}
	wait := func() {
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
			_, body := call(adminA, "GET", "reviews/"+r.ID, "")
			json.Unmarshal(body, &r)
			if r.State == review.StateDone || r.State == review.StatePartial {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the review never ended: %s", r.State)
			}
		}
	}
	wait()
	removed := 0
	for _, it := range r.Items {
		if it.Outcome == review.OutcomeRemoved {
			removed++
		}
	}
	if removed == 0 {
		t.Fatalf("nothing removed: %+v", r.Items)
	}
	var undo review.Item
	for _, it := range r.Items {
		if it.Outcome == review.OutcomeRemoved {
			undo = it
			break
		}
	}
	if code, body := call(adminA, "POST", "reviews/"+r.ID+"/undo", fmt.Sprintf(`{"items":[{"accountId":%q,"product":%q}]}`, undo.AccountID, undo.Product)); code != http.StatusAccepted {
		t.Fatalf("undo: %d %s", code, body)
	}
	wait()
	code, evidence := call(adminA, "GET", "reviews/"+r.ID+"/evidence.json", "")
	if code != http.StatusOK {
		t.Fatalf("evidence: %d %s", code, evidence)
	}
	file := filepath.Join(t.TempDir(), "evidence.json")
	os.WriteFile(file, evidence, 0o600)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"verify", file}, &out, &out, os.Getenv); err != nil {
		t.Fatalf("seatlens verify: %v", err)
	}
	if !strings.Contains(out.String(), "verified: key ") || !strings.Contains(out.String(), `"Demo cleanup"`) || !strings.Contains(out.String(), "undone 1") {
		t.Fatalf("verify said: %s", out.String())
	}
	t.Log(strings.TrimSpace(out.String()))
}
