package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/seatlens/seatlens/app/proof"
	"github.com/seatlens/seatlens/app/review"
	"github.com/seatlens/seatlens/app/sitesim"
)

// TestReviewCycleInBrowser: on the demo, admin A selects three removable
// seats, creates a review and submits it, and cannot approve it; admin B
// (the host page's user switcher) approves and runs it; the site's
// memberships changed as planned; the evidence verifies; undo restores
// one seat.
func TestReviewCycleInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Chromium")
	}
	chromiumPath(t)
	open := startDemo(t, "--users", "300")
	appURL := demoAppURL(t, open)
	b := newBrowser(t, open+"#!"+url.QueryEscape("/seats?verdict=removable"), appURL)
	adminA := sitesim.DefaultScenario().AdminAccountID

	// A selects three removable seats and creates a review.
	b.wait("table.seats td.pick input")
	var picked int
	if err := b.eval(`(() => { const boxes = [...document.querySelectorAll("td.pick input")].slice(0, 3); boxes.forEach(b => b.click()); return boxes.length })()`, &picked); err != nil || picked != 3 {
		t.Fatalf("selected %d seats: %v", picked, err)
	}
	b.until("#selected-count", func(s []string) bool { return len(s) == 1 && s[0] == "3 selected" })
	b.shot("review-select")
	b.press("#create-review")
	b.until(".review-actions button", func(s []string) bool { return len(s) > 0 && s[0] == "Submit for approval" })
	var hash string
	if err := b.eval(`location.hash`, &hash); err != nil || !strings.HasPrefix(hash, "#/reviews/") {
		t.Fatalf("not on the review: %q %v", hash, err)
	}
	id := strings.TrimPrefix(hash, "#/reviews/")
	b.press(".review-actions .button-primary")
	b.until(".user-header .lozenge", func(s []string) bool { return len(s) > 0 && strings.EqualFold(s[0], "Waiting for approval") })
	var disabled bool
	if err := b.eval(`document.querySelector(".review-actions button").disabled`, &disabled); err != nil || !disabled {
		t.Fatalf("A may approve their own review: %v", err)
	}
	b.until("#why-approve", func(s []string) bool { return len(s) == 1 && strings.Contains(s[0], "another admin") })
	b.shot("review-submitted")

	// B, through the host page's user switcher, approves and runs it.
	u, _ := url.Parse(open)
	q := u.Query()
	q.Set("user", DemoApprover)
	u.RawQuery = q.Encode()
	b.run(chromedp.Navigate(u.String() + "#!" + url.QueryEscape("/reviews/"+id)))
	b.until(".review-actions button", func(s []string) bool { return len(s) > 0 && s[0] == "Approve" })
	b.press(".review-actions .button-primary")
	b.until(".review-actions button", func(s []string) bool { return len(s) > 0 && s[0] == "Remove the memberships" })
	b.press(".review-actions .button-primary")
	b.until(".user-header .lozenge", func(s []string) bool {
		return len(s) > 0 && (strings.EqualFold(s[0], "Done") || strings.EqualFold(s[0], "Partly done"))
	})
	b.shot("review-done")

	var r review.Review
	b.apiAs(DemoApprover, appURL, "reviews/"+id, &r)
	if r.State != review.StateDone || r.SubmittedBy != adminA || r.ApprovedBy != DemoApprover || len(r.Items) != 3 {
		t.Fatalf("review %s, submitted by %s, approved by %s, %d items", r.State, r.SubmittedBy, r.ApprovedBy, len(r.Items))
	}
	// The site: each account is out of its plan's groups.
	for _, it := range r.Items {
		groups := orgGroupsOf(t, b.site, it.AccountID)
		for _, p := range it.Plan {
			if groups[p.GroupID] {
				t.Errorf("%s is still in %s", it.AccountID, p.GroupName)
			}
		}
	}

	// The evidence verifies.
	file := filepath.Join(t.TempDir(), "evidence.json")
	resp, err := http.Get(b.site + "/host/context-token?app=io.seatlens.app&user=" + DemoApprover)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	req, _ := http.NewRequest("GET", appURL+"/api/v1/reviews/"+id+"/evidence.json", nil)
	req.Header.Set("Authorization", "JWT "+tok.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	os.WriteFile(file, raw, 0o600)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"verify", file}, &out, &out, os.Getenv); err != nil {
		t.Fatalf("seatlens verify: %v", err)
	}
	if _, err := proof.Verify(raw, ""); err != nil {
		t.Fatal(err)
	}

	// Undo restores one seat.
	b.press("table tbody td .button-subtle")
	b.until("table tbody td .lozenge", func(s []string) bool {
		n := 0
		for _, v := range s {
			if strings.EqualFold(v, "Undone") {
				n++
			}
		}
		return n == 1
	})
	b.shot("review-undone")
	b.apiAs(DemoApprover, appURL, "reviews/"+id, &r)
	undone := 0
	for _, it := range r.Items {
		if it.Outcome == review.OutcomeUndone {
			undone++
			groups := orgGroupsOf(t, b.site, it.AccountID)
			for _, p := range it.Plan {
				if !groups[p.GroupID] {
					t.Errorf("undo did not put %s back into %s", it.AccountID, p.GroupName)
				}
			}
		}
	}
	if undone != 1 {
		t.Fatalf("%d seats undone, want 1", undone)
	}
	// The activity: the chain, checked in the browser, with the key the
	// evidence was signed with.
	var ev proof.Evidence
	json.Unmarshal(raw, &ev)
	b.press(`.tab[data-tab="activity"]`)
	b.wait("#verify-chain")
	b.press("#verify-chain")
	b.until("#verify-result", func(s []string) bool { return len(s) == 1 && strings.HasPrefix(s[0], "Verified") })
	if got := b.texts("#verify-result")[0]; !strings.Contains(got, ev.Signed.KeyID) {
		t.Errorf("the browser's check names another key: %q, evidence %s", got, ev.Signed.KeyID)
	}
	b.shot("activity")
	if err := b.eval(`(() => { const s = document.querySelector("#f-kind"); s.value = "review"; s.dispatchEvent(new Event("change")); return true })()`, new(bool)); err != nil {
		t.Fatal(err)
	}
	b.until("table tbody td .lozenge", func(s []string) bool {
		for _, v := range s {
			if !strings.HasPrefix(strings.ToLower(v), "review.") {
				return false
			}
		}
		return len(s) > 0
	})
	// The signing key the evidence names, rotated by the approver: the
	// old one is listed as retired, and its evidence still verifies.
	b.until("#key-fingerprint", func(s []string) bool { return len(s) == 1 && s[0] == ev.Signed.KeyID })
	if err := b.eval(`(() => { window.confirm = () => true; return true })()`, new(bool)); err != nil {
		t.Fatal(err)
	}
	b.press("#rotate-key")
	b.until("#key-retired", func(s []string) bool { return len(s) == 1 && strings.Contains(s[0], ev.Signed.KeyID) })
	if fp := b.texts("#key-fingerprint"); len(fp) != 1 || fp[0] == ev.Signed.KeyID {
		t.Fatalf("the key after the rotation: %v", fp)
	}
	if _, err := proof.Verify(raw, ev.Signed.KeyID); err != nil {
		t.Fatalf("evidence from before the rotation: %v", err)
	}
	var nulls bool
	if err := b.eval(`document.body.innerText.split("\n").some((l) => l.trim() === "null")`, &nulls); err != nil || nulls {
		t.Fatalf("the activity page shows a bare null (%v)", err)
	}
	b.run(chromedp.Evaluate(`document.getElementById("flags").replaceChildren()`, nil))
	if err := b.eval(`(() => { document.querySelector("#key-h").scrollIntoView({ block: "center" }); return true })()`, new(bool)); err != nil {
		t.Fatal(err)
	}
	b.shot("activity-key")

	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.console) > 0 {
		t.Errorf("the console logged errors:\n%s", strings.Join(b.console, "\n"))
	}
}

// orgGroupsOf reads an account's groups from the simulated site's
// Organizations API.
func orgGroupsOf(t *testing.T, site, accountID string) map[string]bool {
	t.Helper()
	body := `{"accountIds":["` + accountID + `"],"expand":["groups"]}`
	req, _ := http.NewRequest("POST", site+"/admin/v2/orgs/"+sitesim.DefaultOrgID+"/directories/-/users/search", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+sitesim.DefaultOrgKey)
	req.Header.Set("Content-Type", "application/json")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data []struct {
			Groups []struct{ ID string }
		}
	}
	json.NewDecoder(resp.Body).Decode(&out)
	groups := map[string]bool{}
	for _, u := range out.Data {
		for _, g := range u.Groups {
			groups[g.ID] = true
		}
	}
	return groups
}

// TestSettingsInBrowser: a wrong value is refused with the server's
// message next to its field; a good one is saved; the org key is checked
// before it is kept, and never shown.
func TestSettingsInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Chromium")
	}
	chromiumPath(t)
	open := startDemo(t, "--users", "120")
	appURL := demoAppURL(t, open)
	b := newBrowser(t, open+"#!"+url.QueryEscape("/settings"), appURL)
	b.wait("#s-inactiveDays")
	set := func(sel, value string) {
		q, _ := json.Marshal(value)
		if err := b.eval(`(() => { const i = document.querySelector("`+sel+`"); i.value = `+string(q)+`; return true })()`, new(bool)); err != nil {
			t.Fatal(err)
		}
	}
	submit := func(form string) {
		if err := b.eval(`(() => { document.querySelector("`+form+`").requestSubmit(); return true })()`, new(bool)); err != nil {
			t.Fatal(err)
		}
	}
	set("#s-inactiveDays", "5000")
	submit("form[aria-labelledby=rules-h]")
	b.until("#s-inactiveDays-error", func(s []string) bool { return len(s) == 1 && strings.Contains(s[0], "inactiveDays") })
	b.shot("settings-error")
	set("#s-inactiveDays", "45")
	submit("form[aria-labelledby=rules-h]")
	var saved struct{ InactiveDays int }
	for deadline := time.Now().Add(10 * time.Second); saved.InactiveDays != 45 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		b.apiAs(sitesim.DefaultScenario().AdminAccountID, appURL, "settings", &saved)
	}
	if saved.InactiveDays != 45 {
		t.Fatalf("inactive days saved as %d", saved.InactiveDays)
	}
	// Approvers are picked by name: find Alice, add her, save.
	if err := b.eval(`(() => { const i = document.querySelector("#s-approvers"); i.value = "Alice"; i.dispatchEvent(new Event("input")); return true })()`, new(bool)); err != nil {
		t.Fatal(err)
	}
	b.until("#approver-results button", func(s []string) bool { return len(s) > 0 && s[0] == "Alice Admin" })
	b.press("#approver-results button")
	b.until("#approver-chips .chip", func(s []string) bool {
		for _, v := range s {
			if strings.HasPrefix(v, "Alice Admin") {
				return true
			}
		}
		return false
	})
	submit("form[aria-labelledby=rules-h]")
	var withAlice struct{ Approvers []string }
	for deadline := time.Now().Add(10 * time.Second); len(withAlice.Approvers) < 2 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		b.apiAs(sitesim.DefaultScenario().AdminAccountID, appURL, "settings", &withAlice)
	}
	if len(withAlice.Approvers) != 2 || withAlice.Approvers[1] != sitesim.DefaultScenario().AdminAccountID {
		t.Fatalf("approvers %v, want Sam and Alice", withAlice.Approvers)
	}

	// A wrong key is refused in Atlassian's words, next to the key.
	b.wait("#s-key")
	set("#s-key", "not-a-key")
	submit("form[aria-labelledby=org-h]")
	b.until("#s-key-error", func(s []string) bool { return len(s) == 1 && strings.Contains(s[0], "refused") })
	set("#s-key", sitesim.DefaultOrgKey)
	submit("form[aria-labelledby=org-h]")
	b.until("#org-status", func(s []string) bool {
		return len(s) == 1 && strings.Contains(s[0], "Connected to organisation "+sitesim.DefaultOrgID)
	})
	b.until("#org-expiry", func(s []string) bool { return len(s) == 1 && strings.Contains(s[0], "at the latest") })
	// The demo's scan put its accounts into the personal data cycle.
	b.until("#personal-data-state", func(s []string) bool {
		return len(s) == 1 && strings.Contains(s[0], "accounts kept") && strings.Contains(s[0], "Next report due")
	})
	var page string
	if err := b.eval(`document.documentElement.outerHTML`, &page); err != nil || strings.Contains(page, sitesim.DefaultOrgKey) {
		t.Fatalf("the page shows the key: %v", err)
	}
	b.shot("settings")
	// The host page's flags would cover the card: close them.
	b.run(chromedp.Evaluate(`document.getElementById("flags").replaceChildren()`, nil))
	if err := b.eval(`(() => { document.querySelector("#personal-data-h").scrollIntoView(); return true })()`, new(bool)); err != nil {
		t.Fatal(err)
	}
	b.shot("settings-personal-data")
}

// TestReviewFromFilterAndOnboardingInBrowser: "Review all seats shown"
// makes one review of every removable seat the filter shows; a tenant
// without an org key is shown what it sees and how to connect the rest.
func TestReviewFromFilterAndOnboardingInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Chromium")
	}
	chromiumPath(t)
	open := startDemo(t, "--users", "200")
	appURL := demoAppURL(t, open)
	b := newBrowser(t, open+"#!"+url.QueryEscape("/seats?verdict=removable&product=confluence"), appURL)
	var shown struct{ Total int }
	b.api(appURL, "seats?verdict=removable&product=confluence", &shown)
	if shown.Total == 0 {
		t.Fatal("the demo has no removable Confluence seat")
	}
	b.until("#review-all", func(s []string) bool { return len(s) == 1 && strings.Contains(s[0], "Review all") })
	b.press("#review-all")
	b.until(".review-actions button", func(s []string) bool { return len(s) > 0 && s[0] == "Submit for approval" })
	if n := b.count("table tbody tr"); n != shown.Total {
		t.Fatalf("the review holds %d seats; the filter showed %d", n, shown.Total)
	}

	// Forget the org key: the overview says what is missing and how to give it.
	b.press(`.tab[data-tab="settings"]`)
	b.until(".review-actions button", func(s []string) bool {
		for _, v := range s {
			if v == "Forget the key" {
				return true
			}
		}
		return false
	})
	if err := b.eval(`(() => { [...document.querySelectorAll(".review-actions button")].find(b => b.textContent === "Forget the key").click(); return true })()`, new(bool)); err != nil {
		t.Fatal(err)
	}
	b.until("#org-status", func(s []string) bool { return len(s) == 1 && strings.HasPrefix(s[0], "No key") })
	b.press(`.tab[data-tab="overview"]`)
	b.until("#start-h", func(s []string) bool { return len(s) == 1 && s[0] == "Get the full picture" })
	if steps := b.texts(".onboarding .steps li"); len(steps) != 1 || !strings.Contains(steps[0], "admin.atlassian.com") {
		t.Fatalf("onboarding steps: %q", steps)
	}
	b.shot("onboarding")
}
