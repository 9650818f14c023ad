package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/config"
	"github.com/seatlens/seatlens/app/proof"
	"github.com/seatlens/seatlens/app/review"
	"github.com/seatlens/seatlens/app/sitesim"
)

func fixtureScenario(t *testing.T) sitesim.Scenario {
	t.Helper()
	f, err := os.Open("sitesim/testdata/fixture/site.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc, err := sitesim.LoadScenario(f)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

const fxAlice, fxSina = "fx01-alice", "fx33-sina"

// removableSeats lists the fixture's removable seats with their plans.
func (p *scanPair) removableSeats(t *testing.T) []review.Item {
	t.Helper()
	var page struct {
		Seats []struct{ AccountID, Product string }
	}
	_, body := p.call(t, "GET", "/api/v1/seats?verdict=removable&limit=200", fxAlice, "")
	json.Unmarshal(body, &page)
	var out []review.Item
	for _, s := range page.Seats {
		var u billing.UserFindings
		_, body := p.call(t, "GET", "/api/v1/users/"+s.AccountID, fxAlice, "")
		json.Unmarshal(body, &u)
		for _, seat := range u.Seats {
			if seat.Product == s.Product && len(seat.Plan) > 0 {
				out = append(out, review.Item{AccountID: s.AccountID, Product: s.Product, Plan: seat.Plan})
			}
		}
	}
	return out
}

// approved creates, submits and approves a review of items.
func (p *scanPair) approved(t *testing.T, items []review.Item) string {
	t.Helper()
	var asks []string
	for _, it := range items {
		asks = append(asks, fmt.Sprintf(`{"accountId":%q,"product":%q}`, it.AccountID, it.Product))
	}
	code, body := p.call(t, "POST", "/api/v1/reviews", fxAlice, `{"title":"cleanup","items":[`+strings.Join(asks, ",")+`]}`)
	var r review.Review
	if json.Unmarshal(body, &r); code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	if code, body := p.call(t, "POST", "/api/v1/reviews/"+r.ID+"/submit", fxAlice, `{}`); code != http.StatusOK {
		t.Fatalf("submit: %d %s", code, body)
	}
	if code, body := p.call(t, "POST", "/api/v1/reviews/"+r.ID+"/approve", fxSina, `{}`); code != http.StatusOK {
		t.Fatalf("approve: %d %s", code, body)
	}
	return r.ID
}

// executed runs an approved review to its end.
func (p *scanPair) executed(t *testing.T, id string) review.Review {
	t.Helper()
	if code, body := p.call(t, "POST", "/api/v1/reviews/"+id+"/execute", fxAlice, `{}`); code != http.StatusForbidden || !strings.Contains(string(body), "self-approval") {
		t.Fatalf("the submitter executes: %d %s", code, body)
	}
	if code, body := p.call(t, "POST", "/api/v1/reviews/"+id+"/execute", fxSina, `{}`); code != http.StatusAccepted {
		t.Fatalf("execute: %d %s", code, body)
	}
	var r review.Review
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		_, body := p.call(t, "GET", "/api/v1/reviews/"+id, fxAlice, "")
		json.Unmarshal(body, &r)
		if r.State == review.StateDone || r.State == review.StatePartial {
			return r
		}
	}
	t.Fatalf("the review never ended: %+v", r)
	return r
}

func keyedFixturePair(t *testing.T, faults sitesim.Faults, before ...func(*scanPair)) *scanPair {
	t.Helper()
	p := newScanPairWith(t, fixtureScenario(t), sitesim.Options{Faults: faults}, true, config.DefaultPointsPerHour)
	for _, f := range before {
		f(p)
	}
	if code, body := p.call(t, "PUT", "/api/v1/org-key", fxAlice, `{"orgId":"`+sitesim.DefaultOrgID+`","key":"`+sitesim.DefaultOrgKey+`"}`); code != http.StatusOK {
		t.Fatalf("org key: %d %s", code, body)
	}
	p.scanAs(t, fxAlice)
	return p
}

// TestExecuteReview: an approved review removes exactly its plans'
// memberships through the org key; a user active again since the scan is
// skipped; a group synced since is never called; the memberships and the
// seats are verified gone.
func TestExecuteReview(t *testing.T) {
	if testing.Short() {
		t.Skip("scans the simulated site")
	}
	p := keyedFixturePair(t, sitesim.Faults{})
	seats := p.removableSeats(t)
	if len(seats) < 3 {
		t.Fatalf("the fixture has %d removable seats with a plan; the test needs 3", len(seats))
	}
	// Three distinct accounts: one freed, one active again, one behind a group that becomes synced.
	var items []review.Item
	used := map[string]bool{}
	groups := map[string]bool{}
	for _, s := range seats {
		if used[s.AccountID] || len(items) == 3 {
			continue
		}
		clash := false
		for _, g := range s.Plan {
			clash = clash || groups[g.GroupID]
		}
		if clash {
			continue
		}
		used[s.AccountID] = true
		for _, g := range s.Plan {
			groups[g.GroupID] = true
		}
		items = append(items, s)
	}
	if len(items) < 3 {
		t.Fatalf("no three removable seats with separate plans in the fixture: %+v", seats)
	}
	id := p.approved(t, items)
	freed, active, synced := items[0], items[1], items[2]
	post := func(path, body string) {
		req, _ := http.NewRequest(strings.SplitN(path, " ", 2)[0], p.siteURL+strings.SplitN(path, " ", 2)[1], strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusNoContent {
			t.Fatalf("%s: %v %v", path, resp, err)
		}
		resp.Body.Close()
	}
	post("POST /sim/admin/activity", fmt.Sprintf(`{"accountId":%q,"product":%q}`, active.AccountID, simProduct(active.Product)))
	post("PUT /sim/admin/groups/"+synced.Plan[0].GroupID, `{"synced":true}`)
	before := len(p.site.MembershipLog())

	r := p.executed(t, id)
	outcome := map[string]review.Item{}
	for _, it := range r.Items {
		outcome[it.AccountID] = it
	}
	if it := outcome[freed.AccountID]; it.Outcome != review.OutcomeRemoved {
		t.Errorf("the freed seat: %s %s", it.Outcome, it.Reason)
	}
	if it := outcome[active.AccountID]; it.Outcome != review.OutcomeSkipped || !strings.Contains(it.Reason, "Active") {
		t.Errorf("the seat in use again: %s %q", it.Outcome, it.Reason)
	}
	if it := outcome[synced.AccountID]; it.Outcome != review.OutcomeSkipped || !strings.Contains(it.Reason, "synced") {
		t.Errorf("the seat behind a synced group: %s %q", it.Outcome, it.Reason)
	}
	if r.State != review.StateDone || r.ExecutedBy != fxSina {
		t.Errorf("review %s by %s", r.State, r.ExecutedBy)
	}
	// The site changed exactly the freed seat's plan, once each.
	var changed []string
	for _, c := range p.site.MembershipLog()[before:] {
		changed = append(changed, fmt.Sprintf("%v %s %s", c.Added, c.GroupID, c.AccountID))
	}
	var want []string
	for _, g := range freed.Plan {
		want = append(want, fmt.Sprintf("false %s %s", g.GroupID, freed.AccountID))
	}
	if strings.Join(changed, "\n") != strings.Join(want, "\n") {
		t.Errorf("membership changes:\n%s\nwant:\n%s", strings.Join(changed, "\n"), strings.Join(want, "\n"))
	}
	// Executing again is refused: the review is done.
	if code, body := p.call(t, "POST", "/api/v1/reviews/"+id+"/execute", fxSina, `{}`); code != http.StatusConflict {
		t.Errorf("a second execution: %d %s", code, body)
	}
}

// TestExecuteCompensates: when a later removal of a plan fails, the
// earlier ones are put back, so no seat is left half-done.
func TestExecuteCompensates(t *testing.T) {
	if testing.Short() {
		t.Skip("scans the simulated site")
	}
	// From the second membership change on, the site fails (past the
	// retries of a transient failure). Bob, inactive, holds
	// Jira Software through jira-software-users; in contractors too, his
	// seat's plan has two groups.
	p := keyedFixturePair(t, sitesim.Faults{FailMembershipCalls: []int{2, 3, 4}}, func(p *scanPair) {
		req, _ := http.NewRequest("POST", p.siteURL+"/sim/admin/groups/fx-g-contr/members", strings.NewReader(`{"accountId":"fx02-bob"}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusNoContent {
			t.Fatalf("adding Bob to contractors: %v %v", resp, err)
		}
		resp.Body.Close()
	})
	var two review.Item
	for _, s := range p.removableSeats(t) {
		if len(s.Plan) >= 2 {
			two = s
			break
		}
	}
	if two.AccountID == "" {
		t.Fatal("the fixture has no removable seat with a two-group plan")
	}
	id := p.approved(t, []review.Item{two})
	before := len(p.site.MembershipLog())
	r := p.executed(t, id)
	it := r.Items[0]
	if r.State != review.StatePartial || it.Outcome != review.OutcomeCompensated || !strings.Contains(it.Reason, "put back") {
		t.Fatalf("review %s, item %s %q", r.State, it.Outcome, it.Reason)
	}
	log := p.site.MembershipLog()[before:]
	if len(log) != 2 || log[0].Added || !log[1].Added || log[0].GroupID != log[1].GroupID || log[0].AccountID != two.AccountID ||
		it.Actions[0].Credential != billing.CredentialOrgKey {
		t.Fatalf("membership changes %+v: want the first removal and its putting back", log)
	}
}

// TestExecuteNeedsACleanupCredential: a Connect JWT may not change
// memberships; without an org key or the app token execution is refused.
func TestExecuteNeedsACleanupCredential(t *testing.T) {
	if testing.Short() {
		t.Skip("scans the simulated site")
	}
	// Installed without Forge and given no org key: the Connect JWT alone.
	q := newScanPairWith(t, fixtureScenario(t), sitesim.Options{}, false, config.DefaultPointsPerHour)
	q.scanAs(t, fxAlice)
	var page struct {
		Seats []struct{ AccountID, Product string }
	}
	_, body := q.call(t, "GET", "/api/v1/seats?verdict=review&limit=1", fxAlice, "")
	json.Unmarshal(body, &page)
	if len(page.Seats) == 0 {
		t.Skip("no review seat to build a review from without an org key")
	}
	s := page.Seats[0]
	code, body := q.call(t, "POST", "/api/v1/reviews", fxAlice, fmt.Sprintf(`{"title":"x","items":[{"accountId":%q,"product":%q,"justification":"left the company"}]}`, s.AccountID, s.Product))
	var r review.Review
	if json.Unmarshal(body, &r); code != http.StatusCreated {
		t.Fatalf("create without an org key: %d %s", code, body)
	}
	q.call(t, "POST", "/api/v1/reviews/"+r.ID+"/submit", fxAlice, `{}`)
	q.call(t, "POST", "/api/v1/reviews/"+r.ID+"/approve", fxSina, `{}`)
	code, body = q.call(t, "POST", "/api/v1/reviews/"+r.ID+"/execute", fxSina, `{}`)
	if code != http.StatusConflict || !strings.Contains(string(body), "no-cleanup-credential") {
		t.Fatalf("execute without a cleanup credential: %d %s", code, body)
	}
}

// simProduct is the simulated site's key of a canonical product key.
func simProduct(key string) string {
	if key == billing.JiraServiceManagement {
		return sitesim.JiraServiceDesk
	}
	return key
}

// TestUndo: undo puts back what a review removed, verified, and says in
// words what it could not restore.
func TestUndo(t *testing.T) {
	if testing.Short() {
		t.Skip("scans the simulated site")
	}
	p := keyedFixturePair(t, sitesim.Faults{})
	var items []review.Item
	used, groups := map[string]bool{}, map[string]bool{}
	for _, s := range p.removableSeats(t) {
		clash := used[s.AccountID]
		for _, g := range s.Plan {
			clash = clash || groups[g.GroupID]
		}
		if clash || len(items) == 2 {
			continue
		}
		used[s.AccountID] = true
		for _, g := range s.Plan {
			groups[g.GroupID] = true
		}
		items = append(items, s)
	}
	id := p.approved(t, items)
	if r := p.executed(t, id); r.State != review.StateDone {
		t.Fatalf("execution: %s", r.State)
	}
	restored, blocked := items[0], items[1]
	req, _ := http.NewRequest("PUT", p.siteURL+"/sim/admin/groups/"+blocked.Plan[0].GroupID, strings.NewReader(`{"synced":true}`))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("make synced: %v %v", resp, err)
	}
	before := len(p.site.MembershipLog())
	if code, body := p.call(t, "POST", "/api/v1/reviews/"+id+"/undo", fxAlice, ""); code != http.StatusAccepted {
		t.Fatalf("undo: %d %s", code, body)
	}
	var r review.Review
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		_, body := p.call(t, "GET", "/api/v1/reviews/"+id, fxAlice, "")
		json.Unmarshal(body, &r)
		if r.State == review.StateDone || r.State == review.StatePartial {
			break
		}
	}
	outcome := map[string]review.Item{}
	for _, it := range r.Items {
		outcome[it.AccountID] = it
	}
	if it := outcome[restored.AccountID]; it.Outcome != review.OutcomeUndone {
		t.Errorf("restored: %s %q", it.Outcome, it.Reason)
	}
	if it := outcome[blocked.AccountID]; it.Outcome != review.OutcomeUndoFailed || !strings.Contains(it.Reason, "synced") {
		t.Errorf("behind a group synced since: %s %q", it.Outcome, it.Reason)
	}
	if r.State != review.StatePartial {
		t.Errorf("review %s, want partial", r.State)
	}
	var added []string
	for _, c := range p.site.MembershipLog()[before:] {
		if !c.Added {
			t.Errorf("undo removed a membership: %+v", c)
		}
		added = append(added, c.GroupID+" "+c.AccountID)
	}
	var want []string
	for _, g := range restored.Plan {
		want = append(want, g.GroupID+" "+restored.AccountID)
	}
	if strings.Join(added, ",") != strings.Join(want, ",") {
		t.Errorf("undo added %v, want %v", added, want)
	}
	// The evidence: the chain segment of the review, signed, verifies
	// offline, and its summary is the events'.
	code, body := p.call(t, "GET", "/api/v1/reviews/"+id+"/evidence.json", fxAlice, "")
	if code != http.StatusOK {
		t.Fatalf("evidence: %d %s", code, body)
	}
	rep, err := proof.Verify(body, "")
	if err != nil {
		t.Fatalf("the evidence does not verify: %v", err)
	}
	if rep.Counts["removed"] != 2 || rep.Counts["undone"] != 1 || rep.Counts["undo-failed"] != 1 || rep.ApprovedBy == "" {
		t.Errorf("evidence summary %+v", rep)
	}
	for _, it := range items {
		if strings.Contains(eventsPart(body), it.AccountID) {
			t.Errorf("the chain names account %s", it.AccountID)
		}
	}
	code, body = p.call(t, "GET", "/api/v1/reviews/"+id+"/evidence.csv", fxAlice, "")
	if code != http.StatusOK || !strings.HasPrefix(string(body), "seq,time,kind,") || !strings.Contains(string(body), restored.AccountID) || !strings.Contains(string(body), "item.undone") {
		t.Errorf("evidence.csv: %d %.300s", code, body)
	}
	code, body = p.call(t, "GET", "/api/v1/reviews/"+id+"/evidence.html", fxAlice, "")
	if code != http.StatusOK || !strings.Contains(string(body), "seatlens verify evidence.json --key "+rep.Fingerprint) || !strings.Contains(string(body), "Reviewed by") {
		t.Errorf("evidence.html: %d %.300s", code, body)
	}

	// Nothing is left to undo now for the restored seat.
	if code, _ := p.call(t, "POST", "/api/v1/reviews/"+id+"/undo", fxAlice, fmt.Sprintf(`{"items":[{"accountId":%q,"product":%q}]}`, restored.AccountID, restored.Product)); code != http.StatusConflict {
		t.Errorf("a second undo of the same seat: %d", code)
	}
}

// TestExecuteRetriesATransientFailure: a 500 on a removal is tried again
// (after reading the membership), not taken for a refusal.
func TestExecuteRetriesATransientFailure(t *testing.T) {
	if testing.Short() {
		t.Skip("scans the simulated site")
	}
	p := keyedFixturePair(t, sitesim.Faults{FailMembershipCalls: []int{1}})
	seats := p.removableSeats(t)
	id := p.approved(t, seats[:1])
	before := len(p.site.MembershipLog())
	r := p.executed(t, id)
	if it := r.Items[0]; r.State != review.StateDone || it.Outcome != review.OutcomeRemoved {
		t.Fatalf("review %s, item %s %q", r.State, it.Outcome, it.Reason)
	}
	if n := len(p.site.MembershipLog()) - before; n != len(seats[0].Plan) {
		t.Fatalf("%d membership changes for a plan of %d", n, len(seats[0].Plan))
	}
}

// TestExecuteWithTheAppToken: without an org key the Forge app token
// changes memberships through product REST, and each action says so.
func TestExecuteWithTheAppToken(t *testing.T) {
	if testing.Short() {
		t.Skip("scans the simulated site")
	}
	p := newScanPairWith(t, fixtureScenario(t), sitesim.Options{}, true, config.DefaultPointsPerHour)
	p.scanAs(t, fxAlice)
	// Without an org key nothing is removable: a review seat, justified,
	// whose plan avoids the group synced at the identity provider.
	var page struct {
		Seats []struct {
			AccountID, Product string
			LikelyRemovable    bool
		}
	}
	_, body := p.call(t, "GET", "/api/v1/seats?verdict=review&limit=200", fxAlice, "")
	json.Unmarshal(body, &page)
	var pick review.Item
	for _, s := range page.Seats {
		var u billing.UserFindings
		_, body := p.call(t, "GET", "/api/v1/users/"+s.AccountID, fxAlice, "")
		json.Unmarshal(body, &u)
		for _, seat := range u.Seats {
			if seat.Product != s.Product || len(seat.Plan) == 0 {
				continue
			}
			ok := true
			for _, g := range seat.Plan {
				ok = ok && g.GroupID != "fx-g-eng" // synced at the IdP: product REST would be refused
			}
			if ok && pick.AccountID == "" {
				pick = review.Item{AccountID: s.AccountID, Product: s.Product, Plan: seat.Plan}
			}
		}
	}
	if pick.AccountID == "" {
		_, all := p.call(t, "GET", "/api/v1/seats?verdict=review&limit=5", fxAlice, "")
		t.Fatalf("no likely-removable seat with a plan in the fixture (%d likely removable): %.600s", len(page.Seats), all)
	}
	code, body := p.call(t, "POST", "/api/v1/reviews", fxAlice, fmt.Sprintf(`{"title":"t","items":[{"accountId":%q,"product":%q,"justification":"left in October"}]}`, pick.AccountID, pick.Product))
	var r review.Review
	if json.Unmarshal(body, &r); code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	p.call(t, "POST", "/api/v1/reviews/"+r.ID+"/submit", fxAlice, `{}`)
	p.call(t, "POST", "/api/v1/reviews/"+r.ID+"/approve", fxSina, `{}`)
	before := len(p.site.MembershipLog())
	r = p.executed(t, r.ID)
	it := r.Items[0]
	if r.State != review.StateDone || it.Outcome != review.OutcomeRemoved || it.Actions[0].Credential != billing.CredentialForgeToken {
		t.Fatalf("review %s, item %s %q, credential %q", r.State, it.Outcome, it.Reason, it.Actions[0].Credential)
	}
	if r.Progress == nil || r.Progress.Done != 1 || r.Progress.Total != 1 {
		t.Errorf("progress %+v", r.Progress)
	}
	if n := len(p.site.MembershipLog()) - before; n != len(pick.Plan) {
		t.Errorf("%d membership changes for a plan of %d", n, len(pick.Plan))
	}
	u := p.site.Usage()
	for k, c := range u.By {
		if (k.Operation == "removeUserFromGroup" || k.Operation == "addUserToGroup") && k.Credential != sitesim.CredForge && c.Calls > 0 {
			t.Errorf("%s called with %s", k.Operation, k.Credential)
		}
	}
	if u.Operation("removeUserFromGroup").Calls == 0 {
		t.Error("no membership removed through product REST")
	}
}

// eventsPart is the "events" of an evidence file, as JSON text.
func eventsPart(evidence []byte) string {
	var ev struct{ Events json.RawMessage }
	json.Unmarshal(evidence, &ev)
	return string(ev.Events)
}
