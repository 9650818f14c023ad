package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestNewSeatInBrowser: on the demo, someone added to Jira Software's
// default group shows on the overview as a new seat, come in through the
// default group, seconds later (Jira's webhook, a targeted rescan); and
// Settings makes the audit-log webhook's URL and header, the header's
// value shown once.
func TestNewSeatInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Chromium")
	}
	chromiumPath(t)
	open := startDemo(t, "--users", "200")
	appURL := demoAppURL(t, open)
	b := newBrowser(t, open, appURL)
	b.wait(".stats")
	b.until("#door h2", func(s []string) bool { return len(s) == 1 })

	var f struct {
		Groups []struct {
			ID         string   `json:"id"`
			Name       string   `json:"name"`
			DefaultFor []string `json:"defaultFor"`
		} `json:"groups"`
		Users []struct {
			AccountID   string `json:"accountId"`
			DisplayName string `json:"displayName"`
			Class       string `json:"class"`
			Status      string `json:"status"`
			Seats       []struct {
				Product string `json:"product"`
			} `json:"seats"`
		} `json:"users"`
	}
	b.api(appURL, "scans/latest/findings.json", &f)
	group := ""
	for _, g := range f.Groups {
		if slices.Contains(g.DefaultFor, "jira-software") {
			group = g.ID
		}
	}
	who, name := "", ""
	for _, u := range f.Users {
		jira := slices.ContainsFunc(u.Seats, func(s struct {
			Product string `json:"product"`
		}) bool {
			return s.Product == "jira-software"
		})
		if !jira && u.Class == "managed" && u.Status == "active" && !strings.ContainsAny(u.DisplayName, `<&"'`) {
			who, name = u.AccountID, u.DisplayName
			break
		}
	}
	if group == "" || who == "" {
		t.Fatalf("the demo's site has no default group of Jira (%q) or nobody outside it (%q)", group, who)
	}
	resp, err := http.Post(b.site+"/sim/admin/groups/"+group+"/members", "application/json", strings.NewReader(`{"accountId":"`+who+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("sim: add to the default group: %d", resp.StatusCode)
	}
	// The webhook arrives, the debounce passes, the account is read again.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var seats struct {
			Total int `json:"total"`
		}
		b.api(appURL, "new-seats", &seats)
		if seats.Total > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no new seat 30 s after the change")
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.run(chromedp.Navigate(open))
	b.until("#door li", func(s []string) bool {
		return len(s) == 1 && strings.Contains(s[0], name) && strings.Contains(s[0], "added to the default group")
	})
	b.shot("overview-new-seat")

	b.press(`.tab[data-tab="settings"]`)
	b.wait("#fresh-h")
	b.until("#audit-polling", func(s []string) bool { return len(s) == 1 && strings.Contains(s[0], "audit log") })
	b.press("#fresh-h ~ button")
	b.until("#audit-hook-value dd", func(s []string) bool {
		return len(s) == 3 && strings.HasPrefix(s[0], appURL+"/hooks/audit/") && s[1] == "Authorization" && strings.HasPrefix(s[2], "Bearer ")
	})
	b.shot("settings-fresh")
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.console) > 0 {
		t.Errorf("the console logged errors:\n%s", strings.Join(b.console, "\n"))
	}
}
