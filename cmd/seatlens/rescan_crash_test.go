package main

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/rescan"
	"github.com/seatlens/seatlens/app/sitesim"
)

// TestRescansSurviveSIGKILL: 150 accounts given Jira Software arrive as
// webhooks; the server is killed with SIGKILL while it rescans them in
// batches, and started again on the same data. Every account is then
// rescanned exactly once, and each holds its new seat in the findings.
func TestRescansSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server in child processes")
	}
	site, err := sitesim.NewSite(sitesim.Generate(600, 11))
	if err != nil {
		t.Fatal(err)
	}
	p := startChildPair(t, site, sitesim.Options{Faults: sitesim.Faults{Latency: 150 * time.Millisecond},
		AdminEmail: sitesim.DefaultAdminEmail, AdminToken: sitesim.DefaultAdminToken})
	srv, simURL := p.srv, p.sim
	get := func(path string, out any) bool {
		code, body := p.call(t, sitesim.DefaultScenario().AdminAccountID, http.MethodGet, path, "")
		return code == http.StatusOK && json.Unmarshal(body, out) == nil
	}
	var f billing.Findings
	for deadline := time.Now().Add(2 * time.Minute); !get("/api/v1/scans/latest/findings.json", &f); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the install's scan never ended")
		}
	}
	group := ""
	for _, g := range f.Groups {
		if slices.ContainsFunc(g.Grants, func(gr billing.Grant) bool { return gr.Product == billing.JiraSoftware && gr.Role == "user" }) {
			group = g.ID
			break
		}
	}
	// People of the site without Jira Software: Jira's user list, less
	// the holders the findings name.
	req, _ := http.NewRequest(http.MethodGet, simURL+"/rest/api/3/users/search?maxResults=1000", nil)
	req.SetBasicAuth(sitesim.DefaultAdminEmail, sitesim.DefaultAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var people []struct {
		AccountID   string `json:"accountId"`
		AccountType string `json:"accountType"`
		Active      bool   `json:"active"`
	}
	json.NewDecoder(resp.Body).Decode(&people)
	resp.Body.Close()
	holds := map[string]bool{}
	for _, u := range f.Users {
		if slices.ContainsFunc(u.Seats, func(s billing.Seat) bool { return s.Product == billing.JiraSoftware }) {
			holds[u.AccountID] = true
		}
	}
	var chosen []string
	for _, u := range people {
		if len(chosen) < 150 && u.AccountType == billing.AccountAtlassian && u.Active && !holds[u.AccountID] {
			chosen = append(chosen, u.AccountID)
		}
	}
	if group == "" || len(chosen) < 100 {
		t.Fatalf("group %q, %d accounts without Jira Software", group, len(chosen))
	}
	for _, id := range chosen {
		resp, err := http.Post(simURL+"/sim/admin/groups/"+group+"/members", "application/json", strings.NewReader(`{"accountId":"`+id+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("sim: add %s: %d", id, resp.StatusCode)
		}
	}
	fctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.FlushWebhooks(fctx); err != nil {
		t.Fatal(err)
	}
	type rescans struct {
		Pending []rescan.Pending `json:"pending"`
		Recent  []rescan.Rescan  `json:"recent"`
	}
	done := func(r rescans) int {
		n := 0
		for _, x := range r.Recent {
			if x.State == rescan.StateDone {
				n++
			}
		}
		return n
	}
	// Killed once the first batch is in and others are pending.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		var r rescans
		if get("/api/v1/rescans", &r) && done(r) > 0 && len(r.Pending) > 0 {
			t.Logf("killed with %d accounts rescanned and %d pending", done(r), len(r.Pending))
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("never caught the rescans half done")
		}
	}
	p.kill(t)
	p.restart(t)
	var r rescans
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if get("/api/v1/rescans", &r) && len(r.Pending) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d accounts still pending after the restart", len(r.Pending))
		}
	}
	times := map[string]int{}
	for _, x := range r.Recent {
		if x.State == rescan.StateDone {
			times[x.AccountID]++
		}
	}
	for _, id := range chosen {
		if times[id] != 1 {
			t.Errorf("%s rescanned %d times", id, times[id])
		}
	}
	if !get("/api/v1/scans/latest/findings.json", &f) {
		t.Fatal("no findings after the restart")
	}
	for _, id := range chosen {
		i := slices.IndexFunc(f.Users, func(u billing.UserFindings) bool { return u.AccountID == id })
		if i < 0 || !slices.ContainsFunc(f.Users[i].Seats, func(s billing.Seat) bool { return s.Product == billing.JiraSoftware && s.Billable }) {
			t.Fatalf("%s has no Jira Software seat after the restart", id)
		}
	}
}
