package app

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/atlassian"
	"github.com/seatlens/seatlens/app/privacy"
	"github.com/seatlens/seatlens/app/proof"
	"github.com/seatlens/seatlens/app/review"
	"github.com/seatlens/seatlens/app/sitesim"
)

// TestClosedAccountIsErasedEverywhere: after a cleanup with evidence, the
// account of one removed seat is closed at Atlassian. The next report
// (90 accounts a request, once a cycle) hears "closed", and the account
// is gone from every kept scan, the review, the rescans and the settings;
// the evidence exported before still verifies, and so does the one
// exported after, which no longer names the person.
func TestClosedAccountIsErasedEverywhere(t *testing.T) {
	p := keyedFixturePair(t, sitesim.Faults{})
	ctx := context.Background()
	ck := p.inst.ClientKey
	items := p.removableSeats(t)
	if len(items) < 3 {
		t.Fatalf("%d removable seats", len(items))
	}
	id := p.approved(t, items[:3])
	r := p.executed(t, id)
	who := r.Items[0].AccountID
	name := r.Items[0].DisplayName
	if name == "" {
		t.Fatal("the review item has no name to erase")
	}
	// The person is also a manual hold, and pending a rescan.
	var set map[string]any
	_, body := p.call(t, "GET", "/api/v1/settings", fxAlice, "")
	json.Unmarshal(body, &set)
	set["manualHolds"] = []map[string]any{{"accountId": who, "reason": "on leave"}}
	b, _ := json.Marshal(set)
	if code, body := p.call(t, "PUT", "/api/v1/settings", fxAlice, string(b)); code != http.StatusOK {
		t.Fatalf("settings: %d %s", code, body)
	}
	p.scanAs(t, fxAlice) // a second kept scan that holds the person too
	code, before := p.call(t, "GET", "/api/v1/reviews/"+id+"/evidence.json", fxAlice, "")
	if code != http.StatusOK {
		t.Fatalf("evidence: %d", code)
	}
	if where := p.storedNaming(t, who, name); len(where) < 3 {
		t.Fatalf("before the erasure the store names the person in %v only: the search cannot see", where)
	}

	resp, err := http.Post(p.siteURL+"/sim/admin/users/"+who+"/close", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("sim: close: %d", resp.StatusCode)
	}
	rep := p.app.reporter
	// The first run records what is stored, each account due within the
	// hour; two hours on, every one is due.
	if res, err := rep.Run(ctx, ck); err != nil || res.Tracked == 0 {
		t.Fatalf("first run: %+v %v", res, err)
	}
	rep.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	res, err := rep.Run(ctx, ck)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Closed) != 1 || res.Closed[0] != who || res.Reported != res.Tracked || res.Requests != (res.Tracked+89)/90 {
		t.Fatalf("report: %+v", res)
	}
	_, batches := p.site.ReportAccounts()
	for _, n := range batches {
		if n > 90 {
			t.Fatalf("a request of %d accounts", n)
		}
	}
	// Once a cycle: nothing is due again now.
	if res, err := rep.Run(ctx, ck); err != nil || res.Reported != 0 {
		t.Fatalf("a second run reported %d (%v)", res.Reported, err)
	}
	// The admins see where the cycle stands.
	var status struct{ PersonalData *privacy.State }
	_, body = p.call(t, "GET", "/api/v1/status", fxAlice, "")
	json.Unmarshal(body, &status)
	pd := status.PersonalData
	if pd == nil || pd.Erased != 1 || pd.Tracked != res.Tracked-1 || pd.ReportedAt == nil || pd.Reported != res.Reported ||
		pd.CycleSeconds != 7*24*3600 || pd.NextDueAt == nil || pd.Error != "" {
		t.Fatalf("status.personalData %s", body)
	}

	// Jira's user_deleted for the closed account may come after the
	// erasure: it stores nothing of the person again.
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.site.FlushWebhooks(fctx); err != nil {
		t.Fatal(err)
	}

	// Nothing the tenant's store holds names the person any more, in a
	// key or a value of any bucket (the operator's export walks them all).
	if where := p.storedNaming(t, who, name); len(where) > 0 {
		t.Fatalf("after the erasure the store still names the person in %v", where)
	}

	// Gone from the findings of every kept scan.
	var scans struct{ Scans []struct{ ID, State string } }
	_, body = p.call(t, "GET", "/api/v1/scans", fxAlice, "")
	json.Unmarshal(body, &scans)
	checked := 0
	for _, s := range scans.Scans {
		if s.State != "done" {
			continue
		}
		code, f := p.call(t, "GET", "/api/v1/scans/"+s.ID+"/findings.json", fxAlice, "")
		if code != http.StatusOK || strings.Contains(string(f), who) || strings.Contains(string(f), name) {
			i := strings.Index(string(f), who)
			if i < 0 {
				i = strings.Index(string(f), name)
			}
			t.Fatalf("scan %s still holds the person (%d): …%s…", s.ID, code, string(f)[max(0, i-300):min(len(f), i+100)])
		}
		checked++
	}
	if checked < 2 {
		t.Fatalf("%d scans checked", checked)
	}
	if code, _ := p.call(t, "GET", "/api/v1/users/"+who, fxAlice, ""); code != http.StatusNotFound {
		t.Fatalf("the person's explanation: %d", code)
	}
	for _, path := range []string{"/api/v1/reviews/" + id, "/api/v1/settings", "/api/v1/rescans", "/api/v1/new-seats",
		"/api/v1/reviews/" + id + "/evidence.json", "/api/v1/reviews/" + id + "/evidence.csv", "/api/v1/reviews/" + id + "/evidence.html",
		"/api/v1/activity"} {
		_, body := p.call(t, "GET", path, fxAlice, "")
		if strings.Contains(string(body), who) || strings.Contains(string(body), name) {
			t.Errorf("%s still names the person", path)
		}
	}
	_, body = p.call(t, "GET", "/api/v1/reviews/"+id, fxAlice, "")
	var after review.Review
	json.Unmarshal(body, &after)
	if after.Items[0].AccountID != review.Erased || after.Items[0].Outcome != r.Items[0].Outcome {
		t.Fatalf("the review's item after erasure: %+v", after.Items[0])
	}
	// The evidence taken before the erasure still verifies, and so does
	// the evidence exported now.
	if _, err := proof.Verify(before, ""); err != nil {
		t.Fatalf("earlier evidence: %v", err)
	}
	_, now := p.call(t, "GET", "/api/v1/reviews/"+id+"/evidence.json", fxAlice, "")
	if _, err := proof.Verify(now, ""); err != nil {
		t.Fatalf("evidence after erasure: %v", err)
	}
}

// TestUpdatedAccountIsReadAgain: an account Atlassian reports updated
// (its stored copy is stale) is queued for a targeted rescan, and the
// next report of it comes a cycle later.
func TestUpdatedAccountIsReadAgain(t *testing.T) {
	p := keyedFixturePair(t, sitesim.Faults{})
	ctx := context.Background()
	ck := p.inst.ClientKey
	rep := p.app.reporter
	if _, err := rep.Run(ctx, ck); err != nil {
		t.Fatal(err)
	}
	_, body := p.call(t, "GET", "/api/v1/seats?limit=1", fxAlice, "")
	var page struct{ Seats []struct{ AccountID string } }
	json.Unmarshal(body, &page)
	who := page.Seats[0].AccountID
	// Reported once, then renamed at Atlassian.
	rep.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if res, err := rep.Run(ctx, ck); err != nil || res.Reported == 0 || len(res.Updated) != 0 {
		t.Fatalf("first report: %+v %v", res, err)
	}
	req, _ := http.NewRequest(http.MethodPut, p.siteURL+"/sim/admin/users/"+who, strings.NewReader(`{"displayName":"Renamed Person"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("sim: rename: %d", resp.StatusCode)
	}
	// The rename's webhook and Forge event are delivered asynchronously:
	// wait for them, then drop what they marked, so that what is pending
	// next was brought by the report alone.
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.site.FlushWebhooks(fctx); err != nil {
		t.Fatal(err)
	}
	p.forgetPending(t)
	if res, err := rep.Run(ctx, ck); err != nil || res.Reported != 0 {
		t.Fatalf("reported again within the cycle: %+v %v", res, err)
	}
	rep.Now = func() time.Time { return time.Now().Add(2*time.Hour + 8*24*time.Hour) }
	res, err := rep.Run(ctx, ck)
	if err != nil || len(res.Updated) != 1 || res.Updated[0] != who || res.Cycle != 7*24*time.Hour {
		t.Fatalf("a cycle on: %+v %v", res, err)
	}
	pend, err := p.app.inbox.PendingList(ctx, ck, 0)
	if err != nil || len(pend) != 1 || pend[0].AccountID != who || pend[0].Hints[0].Cause != "personal-data" {
		t.Fatalf("pending after updated: %+v %v", pend, err)
	}
}

// heldAccounts is a tenant's stored accounts for a Reporter under test; an
// erasure takes the account out, as the scans' Forget does.
type heldAccounts struct {
	mu     sync.Mutex
	ids    map[string]time.Time
	erased []string
}

func (h *heldAccounts) Accounts(context.Context, string) (map[string]time.Time, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.ids), nil
}

func (h *heldAccounts) Erase(_ context.Context, _ string, accountIDs []string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range accountIDs {
		delete(h.ids, id)
		h.erased = append(h.erased, id)
	}
	return nil
}

// TestReportingKeepsBatchCycleAndLimits: 2,000 stored accounts, reported
// through the real client and the Connect JWT to the simulated site, go in
// requests of at most 90, sent one after another; the site's rate limit
// answers 429 and the request is sent again after Retry-After; a run
// reports at most 1,800 (the rest an hour later); nothing is reported
// again within the cycle the site names; an account reported closed is
// erased and, stored again by a later scan, erased without being asked
// about again.
func TestReportingKeepsBatchCycleAndLimits(t *testing.T) {
	p := newScanPair(t, false)
	ctx := context.Background()
	ck := p.inst.ClientKey
	t0 := time.Now().UTC()
	held := &heldAccounts{ids: map[string]time.Time{}}
	for i := range 1999 {
		held.ids[fmt.Sprintf("557058:%08x-seatlens", i)] = t0.Add(-time.Duration(i) * time.Minute)
	}
	const closing = "5b10a2844c20165700ede204" // a person of the default site
	held.ids[closing] = t0
	now := t0
	rep := &privacy.Reporter{Store: p.st, Held: held, Clients: p.app.tenancy, Eraser: held, Now: func() time.Time { return now }}

	// New accounts fall due within the hour, not all at once.
	res, err := rep.Run(ctx, ck)
	if err != nil || res.Tracked != 2000 || res.Reported != 0 {
		t.Fatalf("first run: %+v %v", res, err)
	}
	now = t0.Add(30 * time.Minute)
	if res, err = rep.Run(ctx, ck); err != nil || res.Reported == 0 || res.Reported > 1300 {
		t.Fatalf("half an hour on, about half are due: %+v %v", res, err)
	}
	half := res.Reported
	now = t0.Add(time.Hour)
	if res, err = rep.Run(ctx, ck); err != nil || res.Reported != min(2000-half, 1800) {
		t.Fatalf("an hour on, the rest (at most 1,800): %+v %v", res, err)
	}
	if res, err = rep.Run(ctx, ck); err != nil || half+1800 < 2000 && res.Reported != 2000-half-1800 {
		t.Fatalf("the run after: %+v %v", res, err)
	}
	requests, batches := p.site.ReportAccounts()
	sum := 0
	for _, b := range batches {
		if b < 1 || b > atlassian.ReportBatch {
			t.Fatalf("a request of %d accounts", b)
		}
		sum += b
	}
	if sum != 2000 {
		t.Fatalf("%d accounts reported, want each of 2,000 once", sum)
	}
	if requests <= len(batches) {
		t.Fatalf("%d requests for %d batches: the site's rate limit (10 a second) never answered 429", requests, len(batches))
	}

	// Within the cycle (the site names 7 days), nothing is due.
	now = t0.Add(30*time.Minute + 7*24*time.Hour - time.Minute)
	if res, err = rep.Run(ctx, ck); err != nil || res.Reported != 0 || res.Cycle != 0 {
		t.Fatalf("within the cycle: %+v %v", res, err)
	}

	// A cycle on, the closed account is erased and forgotten.
	resp, err := http.Post(p.siteURL+"/sim/admin/users/"+closing+"/close", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("sim: close: %d", resp.StatusCode)
	}
	now = t0.Add(2*time.Hour + 7*24*time.Hour)
	for res.Reported = 0; ; {
		r, err := rep.Run(ctx, ck)
		if err != nil {
			t.Fatal(err)
		}
		res.Reported += r.Reported
		res.Closed = append(res.Closed, r.Closed...)
		if r.Reported == 0 {
			break
		}
		if r.Cycle != 7*24*time.Hour {
			t.Fatalf("cycle %s, the site names 7 days", r.Cycle)
		}
	}
	if res.Reported != 2000 || !slices.Equal(res.Closed, []string{closing}) || !slices.Equal(held.erased, []string{closing}) {
		t.Fatalf("a cycle on: reported %d, closed %v, erased %v", res.Reported, res.Closed, held.erased)
	}

	// A later scan stores the closed account again: it is erased, and
	// Atlassian is not asked about it again.
	held.mu.Lock()
	held.ids[closing] = now
	held.mu.Unlock()
	before, _ := p.site.ReportAccounts()
	now = now.Add(3 * time.Hour)
	if res, err = rep.Run(ctx, ck); err != nil || res.Reported != 0 || !slices.Equal(res.Closed, []string{closing}) || res.Tracked != 1999 {
		t.Fatalf("the closed account stored again: %+v %v", res, err)
	}
	if after, _ := p.site.ReportAccounts(); after != before || len(held.erased) != 2 {
		t.Fatalf("%d reporting requests, erased %v", after-before, held.erased)
	}
}

// storedNaming lists the tenant's buckets whose keys or values hold one of
// the strings, as text or in the export's hex form of binary keys.
func (p *scanPair) storedNaming(t *testing.T, needles ...string) []string {
	t.Helper()
	var buf bytes.Buffer
	if err := p.st.ExportTenant(context.Background(), p.inst.ClientKey, &buf); err != nil {
		t.Fatal(err)
	}
	var exp struct {
		Buckets map[string]map[string]json.RawMessage `json:"buckets"`
	}
	if err := json.Unmarshal(buf.Bytes(), &exp); err != nil {
		t.Fatal(err)
	}
	var where []string
	for name, kv := range exp.Buckets {
		for k, v := range kv {
			for _, n := range needles {
				if strings.Contains(k, n) || strings.Contains(k, hex.EncodeToString([]byte(n))) ||
					strings.Contains(string(v), n) || strings.Contains(string(v), hex.EncodeToString([]byte(n))) {
					where = append(where, name+"/"+k)
				}
			}
		}
	}
	slices.Sort(where)
	return slices.Compact(where)
}

// refusingClients has no client to report with.
type refusingClients struct{}

func (refusingClients) ReportClient(context.Context, string) (*atlassian.Client, error) {
	return nil, errors.New("tenancy: tenant has no shared secret")
}

// TestFailedReportIsShown: a run that cannot report leaves its reason in
// the status the panel shows, and the next good run clears it.
func TestFailedReportIsShown(t *testing.T) {
	p := keyedFixturePair(t, sitesim.Faults{})
	ctx := context.Background()
	ck := p.inst.ClientKey
	t0 := time.Now().UTC()
	now := t0
	held := &heldAccounts{ids: map[string]time.Time{"557058:00000001-seatlens": t0}}
	rep := p.app.reporter // the one the panel reads
	rep.Held, rep.Clients, rep.Eraser, rep.Now = held, refusingClients{}, held, func() time.Time { return now }
	tenancy := p.app.tenancy
	status := func() *privacy.State {
		var st struct{ PersonalData *privacy.State }
		code, body := p.call(t, "GET", "/api/v1/status", fxAlice, "")
		if code != http.StatusOK || json.Unmarshal(body, &st) != nil {
			t.Fatalf("status: %d %s", code, body)
		}
		return st.PersonalData
	}
	if st := status(); st != nil {
		t.Fatalf("before any run: %+v", st)
	}
	if _, err := rep.Run(ctx, ck); err != nil {
		t.Fatal(err)
	}
	if st := status(); st == nil || st.Tracked != 1 || st.ReportedAt != nil || st.NextDueAt == nil || st.Error != "" {
		t.Fatalf("tracked, none due: %+v", st)
	}
	now = t0.Add(2 * time.Hour)
	if _, err := rep.Run(ctx, ck); err == nil {
		t.Fatal("a run with no client succeeded")
	}
	if st := status(); st == nil || !strings.Contains(st.Error, "no shared secret") || st.ReportedAt != nil {
		t.Fatalf("after a failed run: %+v", st)
	}
	rep.Clients = tenancy
	if res, err := rep.Run(ctx, ck); err != nil || res.Reported != 1 {
		t.Fatalf("the next run: %+v %v", res, err)
	}
	if st := status(); st == nil || st.Error != "" || st.Reported != 1 || st.ReportedAt == nil || !st.NextDueAt.After(now.Add(6*24*time.Hour)) {
		t.Fatalf("after a good run: %+v", st)
	}
}

// TestRotateSigningKey: the signing key is rotated through the API, only
// by an approver where Settings names approvers; evidence exported before
// still verifies with the old key, evidence exported after with the new
// one, and it records the rotation.
func TestRotateSigningKey(t *testing.T) {
	p := keyedFixturePair(t, sitesim.Faults{})
	items := p.removableSeats(t)
	id := p.approved(t, items[:1])
	var key0 struct {
		KeyFingerprint string
		Retired        []proof.OldKey
	}
	_, body := p.call(t, "GET", "/api/v1/signing-key", fxAlice, "")
	if json.Unmarshal(body, &key0) != nil || key0.KeyFingerprint == "" || key0.Retired == nil || len(key0.Retired) != 0 {
		t.Fatalf("signing key: %s", body)
	}
	_, before := p.call(t, "GET", "/api/v1/reviews/"+id+"/evidence.json", fxAlice, "")

	// Approvers are named, and Alice is not one: refused.
	var set map[string]any
	_, body = p.call(t, "GET", "/api/v1/settings", fxAlice, "")
	json.Unmarshal(body, &set)
	set["approvers"] = []string{fxSina}
	b, _ := json.Marshal(set)
	if code, body := p.call(t, "PUT", "/api/v1/settings", fxAlice, string(b)); code != http.StatusOK {
		t.Fatalf("settings: %d %s", code, body)
	}
	code, body := p.call(t, "POST", "/api/v1/signing-key/rotate", fxAlice, "")
	if code != http.StatusForbidden || !strings.Contains(string(body), `"not-an-approver"`) {
		t.Fatalf("rotation by a non-approver: %d %s", code, body)
	}
	code, body = p.call(t, "POST", "/api/v1/signing-key/rotate", fxSina, "")
	var key1 struct {
		KeyFingerprint string
		Retired        []proof.OldKey
	}
	if code != http.StatusOK || json.Unmarshal(body, &key1) != nil || key1.KeyFingerprint == key0.KeyFingerprint ||
		len(key1.Retired) != 1 || key1.Retired[0].Fingerprint != key0.KeyFingerprint {
		t.Fatalf("rotation by an approver: %d %s", code, body)
	}
	if _, err := proof.Verify(before, key0.KeyFingerprint); err != nil {
		t.Fatalf("evidence from before, with the old key: %v", err)
	}
	_, after := p.call(t, "GET", "/api/v1/reviews/"+id+"/evidence.json", fxAlice, "")
	rep, err := proof.Verify(after, key1.KeyFingerprint)
	if err != nil || !strings.Contains(string(after), `"kind":"key.rotated"`) {
		t.Fatalf("evidence from after, with the new key: %+v %v", rep, err)
	}
	if _, err := proof.Verify(after, key0.KeyFingerprint); err == nil {
		t.Fatal("evidence signed after the rotation verifies with the old key")
	}
}

// failingOnce fails its first erasure after taking the accounts out of
// what is held (an erasure cut short after the scans forgot them).
type failingOnce struct {
	*heldAccounts
	failed bool
}

func (f *failingOnce) Erase(ctx context.Context, ck string, ids []string) error {
	if !f.failed {
		f.failed = true
		f.mu.Lock()
		for _, id := range ids {
			delete(f.ids, id)
		}
		f.mu.Unlock()
		return errors.New("cut short")
	}
	return f.heldAccounts.Erase(ctx, ck, ids)
}

// TestCutShortErasureIsFinished: an erasure that fails after the account
// is no longer held anywhere is finished at the next run, without asking
// Atlassian about the account again.
func TestCutShortErasureIsFinished(t *testing.T) {
	p := newScanPair(t, false)
	ctx := context.Background()
	ck := p.inst.ClientKey
	const closing = "5b10a2844c20165700ede209" // a person of the default site
	t0 := time.Now().UTC()
	now := t0
	held := &heldAccounts{ids: map[string]time.Time{closing: t0}}
	eraser := &failingOnce{heldAccounts: held}
	rep := &privacy.Reporter{Store: p.st, Held: held, Clients: p.app.tenancy, Eraser: eraser, Now: func() time.Time { return now }}
	resp, err := http.Post(p.siteURL+"/sim/admin/users/"+closing+"/close", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := rep.Run(ctx, ck); err != nil {
		t.Fatal(err)
	}
	now = t0.Add(2 * time.Hour)
	if res, err := rep.Run(ctx, ck); err == nil || !strings.Contains(err.Error(), "cut short") || res.Reported != 1 || len(res.Closed) != 0 {
		t.Fatalf("the run whose erasure is cut short: %+v %v", res, err)
	}
	requests, _ := p.site.ReportAccounts()
	now = t0.Add(3 * time.Hour)
	res, err := rep.Run(ctx, ck)
	if err != nil || !slices.Equal(res.Closed, []string{closing}) || res.Reported != 0 || !slices.Equal(held.erased, []string{closing}) {
		t.Fatalf("the next run: %+v %v, erased %v", res, err, held.erased)
	}
	if again, _ := p.site.ReportAccounts(); again != requests {
		t.Fatalf("%d more reporting requests", again-requests)
	}
	if res, err := rep.Run(ctx, ck); err != nil || len(res.Closed) != 0 {
		t.Fatalf("once finished, not erased again: %+v %v", res, err)
	}
}

// TestHeldNamesReviewsAndSettings: what the personal data cycle reports
// is every account the tenant's data names, not only the kept scans': a
// manual hold or the admin CSV for an account no scan holds is reported,
// and a review's accounts are, with the oldest time.
func TestHeldNamesReviewsAndSettings(t *testing.T) {
	p := keyedFixturePair(t, sitesim.Faults{})
	ctx := context.Background()
	ck := p.inst.ClientKey
	items := p.removableSeats(t)
	p.approved(t, items[:1])
	const holdOnly = "557058:held-only-by-a-hold"
	var set map[string]any
	_, body := p.call(t, "GET", "/api/v1/settings", fxAlice, "")
	json.Unmarshal(body, &set)
	set["manualHolds"] = []map[string]any{{"accountId": holdOnly, "reason": "on leave"}}
	b, _ := json.Marshal(set)
	if code, body := p.call(t, "PUT", "/api/v1/settings", fxAlice, string(b)); code != http.StatusOK {
		t.Fatalf("settings: %d %s", code, body)
	}
	const csvOnly = "557058:named-only-by-the-csv"
	csv := "User id,User name,email,User status,Added to org,Org role,Last seen in Jira\n" +
		csvOnly + ",Cee Esvee,cee@example.com,Active,10 Jan 2024,Basic,20 Nov 2026\n"
	if code, body := p.call(t, "POST", "/api/v1/activity-csv?date=2026-11-30", fxAlice, csv); code != http.StatusOK {
		t.Fatalf("CSV: %d %s", code, body)
	}
	scans, err := p.app.scans.Accounts(ctx, ck)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := scans[holdOnly]; ok {
		t.Fatal("a scan holds the account the test needs held only by a hold")
	}
	all, err := held{p.app}.Accounts(ctx, ck)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := all[holdOnly]; !ok {
		t.Fatal("an account only a hold names is not reported")
	}
	if at, ok := all[csvOnly]; !ok || at.IsZero() || at.After(time.Now()) {
		t.Fatalf("an account only the admin CSV names: %s %v", at, ok)
	}
	who := items[0].AccountID
	if at, ok := all[who]; !ok || at.After(scans[who]) {
		t.Fatalf("the review's account: %s (scans %s)", at, scans[who])
	}
	for id := range scans {
		if _, ok := all[id]; !ok {
			t.Fatalf("%s of the scans is not reported", id)
		}
	}
}
