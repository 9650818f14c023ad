package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/rescan"
	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/app/sitesim"
)

const (
	simDana = "5b10a2844c20165700ede204" // jira-servicemanagement-users only
	simChen = "5b10a2844c20165700ede203" // engineering
)

// simAddMember adds an account to a group through the sim's admin API, as
// an admin of the site would, and waits for the webhooks it sends.
func (p *scanPair) simAddMember(t *testing.T, groupID, accountID string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.siteURL+"/sim/admin/groups/"+groupID+"/members", strings.NewReader(`{"accountId":"`+accountID+`"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("sim: add %s to %s: %d", accountID, groupID, resp.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.site.FlushWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
}

// forgetPending drops what webhooks marked, so that a test sees what the
// audit log alone brings (a delivery Atlassian never made).
func (p *scanPair) forgetPending(t *testing.T) {
	t.Helper()
	pending, err := p.app.inbox.PendingList(context.Background(), p.inst.ClientKey, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range pending {
		if err := p.st.TenantDelete(context.Background(), p.inst.ClientKey, rescan.PendingBucket, []byte(q.AccountID)); err != nil {
			t.Fatal(err)
		}
	}
}

// rescanPending runs the worker's turns until nothing is pending.
func (p *scanPair) rescanPending(t *testing.T) {
	t.Helper()
	w := p.app.worker
	w.Debounce = time.Millisecond
	for range 100 {
		time.Sleep(2 * time.Millisecond)
		idle, err := w.Turn(context.Background(), p.inst.ClientKey)
		if err != nil {
			t.Fatal(err)
		}
		if idle {
			return
		}
	}
	t.Fatal("the pending accounts were never all rescanned")
}

func (p *scanPair) getJSON(t *testing.T, path string, out any) {
	t.Helper()
	code, body := p.call(t, "GET", path, simAdmin, "")
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

func (p *scanPair) newSeats(t *testing.T) []rescan.NewSeat {
	t.Helper()
	var v struct {
		Seats []rescan.NewSeat `json:"seats"`
		Total int              `json:"total"`
	}
	p.getJSON(t, "/api/v1/new-seats", &v)
	if v.Total != len(v.Seats) {
		t.Fatalf("new-seats total %d for %d seats", v.Total, len(v.Seats))
	}
	return v.Seats
}

func seatOn(u billing.UserFindings, product string) *billing.Seat {
	for i := range u.Seats {
		if u.Seats[i].Product == product {
			return &u.Seats[i]
		}
	}
	return nil
}

// TestWebhookRescanFindsANewSeat: an account added to Jira Software's
// default group arrives as Jira's user_updated webhook and Forge's user
// event; one targeted rescan (a single call) puts the new billable seat in
// the latest scan's findings and totals, and lists it as a seat at the
// door, come in through the default group.
func TestWebhookRescanFindsANewSeat(t *testing.T) {
	p := newScanPair(t, true)
	before := p.scanNow(t)
	p.simAddMember(t, sitesim.GroupSoftwareUsers, simDana)
	var pend struct {
		Pending []rescan.Pending `json:"pending"`
	}
	p.getJSON(t, "/api/v1/rescans", &pend)
	if len(pend.Pending) != 1 || pend.Pending[0].AccountID != simDana || pend.Pending[0].Deliveries != 2 {
		t.Fatalf("pending %+v, want Dana named by the webhook and the Forge event", pend.Pending)
	}
	p.rescanPending(t)

	var u billing.UserFindings
	p.getJSON(t, "/api/v1/users/"+simDana, &u)
	s := seatOn(u, billing.JiraSoftware)
	if s == nil || !s.Billable || u.RefreshedAt == nil {
		t.Fatalf("Dana after the rescan: %+v", u)
	}
	var after scan.Record
	p.getJSON(t, "/api/v1/scans/latest", &after)
	if after.ID != before.ID || after.Totals.BillableSeats != before.Totals.BillableSeats+1 || after.Refreshed != 1 {
		t.Fatalf("latest scan %s totals %+v refreshed %d; before %s %+v", after.ID, after.Totals, after.Refreshed, before.ID, before.Totals)
	}
	seats := p.newSeats(t)
	if len(seats) != 1 || seats[0].AccountID != simDana || seats[0].Product != billing.JiraSoftware ||
		seats[0].How != rescan.HowDefaultGroup || seats[0].GroupName != "jira-software-users" {
		t.Fatalf("new seats %+v", seats)
	}
	var log struct {
		Pending []rescan.Pending `json:"pending"`
		Recent  []rescan.Rescan  `json:"recent"`
	}
	p.getJSON(t, "/api/v1/rescans", &log)
	if len(log.Pending) != 0 || len(log.Recent) != 1 {
		t.Fatalf("rescans %+v", log)
	}
	r := log.Recent[0]
	if r.AccountID != simDana || r.State != rescan.StateDone || r.Calls < 1 || r.Calls > scan.MaxCallsPerAccount ||
		!slices.Equal(r.SeatsAdded, []string{billing.JiraSoftware}) || !slices.Contains(r.Causes, rescan.CauseWebhook) {
		t.Fatalf("rescan %+v", r)
	}
	// The browse index follows the refreshed findings.
	var page struct {
		Total int `json:"total"`
	}
	p.getJSON(t, "/api/v1/seats?product=jira-software&q=Dana", &page)
	if page.Total != 1 {
		t.Fatalf("seats page finds Dana's Jira seat %d times", page.Total)
	}

	// Metrics and health count what happened, naming no tenant.
	resp, err := http.Get(p.appBase + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`seatlens_deliveries_total{outcome="taken",source="webhook"} 1`,
		`seatlens_deliveries_total{outcome="taken",source="forge-event"} 1`,
		`seatlens_rescan_accounts_total{outcome="done"} 1`,
		`seatlens_scans_total{cause="request",state="done"}`,
		`seatlens_atlassian_calls_total{api="jira",status="2xx"}`,
		`seatlens_scan_queue_queued 0`,
		`seatlens_rescan_pending_accounts 0`,
	} {
		if !strings.Contains(string(m), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(string(m), p.inst.ClientKey) || strings.Contains(string(m), simDana) {
		t.Error("metrics name a tenant or an account")
	}
	var h health
	resp, err = http.Get(p.appBase + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if h.Status != "ok" || h.Scans.Running != 0 || h.Rescans.PendingAccounts != 0 {
		t.Fatalf("healthz %+v", h)
	}
}

// TestAuditLogFindsANewSeat: with an org key, an account added to a
// default group shows up as a new billable seat after the next audit-log
// poll, and after one delivery of the org's audit-log webhook; an event
// both polled and pushed is taken once.
func TestAuditLogFindsANewSeat(t *testing.T) {
	p := newScanPair(t, false)
	if code, body := p.call(t, "PUT", "/api/v1/org-key", simAdmin, `{"orgId":"`+sitesim.DefaultOrgID+`","key":"`+sitesim.DefaultOrgKey+`"}`); code != http.StatusOK {
		t.Fatalf("org key: %d %s", code, body)
	}
	p.scanNow(t)
	ctx := context.Background()

	// Polled.
	p.simAddMember(t, sitesim.GroupSoftwareUsers, simDana)
	p.forgetPending(t)
	n, err := p.app.poller.Poll(ctx, p.inst.ClientKey)
	if err != nil || n != 1 {
		t.Fatalf("poll marked %d accounts (%v), want Dana", n, err)
	}
	p.rescanPending(t)
	seats := p.newSeats(t)
	if len(seats) != 1 || seats[0].AccountID != simDana || seats[0].How != rescan.HowDefaultGroup || seats[0].Cause != rescan.CauseAuditLog {
		t.Fatalf("new seats after the poll: %+v", seats)
	}
	if n, err := p.app.poller.Poll(ctx, p.inst.ClientKey); err != nil || n != 0 {
		t.Fatalf("a second poll marked %d accounts (%v)", n, err)
	}
	// Someone invited with Jira Software.
	resp, err := http.Post(p.siteURL+"/sim/admin/users", "application/json",
		strings.NewReader(`{"accountId":"557058:newcomer","displayName":"New Comer","email":"new@seatlens-sim.example","products":["jira-software"]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("sim: invite: %d", resp.StatusCode)
	}
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.site.FlushWebhooks(fctx); err != nil {
		t.Fatal(err)
	}
	p.forgetPending(t)
	if n, err := p.app.poller.Poll(ctx, p.inst.ClientKey); err != nil || n != 1 {
		t.Fatalf("poll after the invitation marked %d accounts (%v)", n, err)
	}
	p.rescanPending(t)
	seats = p.newSeats(t)
	if len(seats) != 2 || seats[1].AccountID != "557058:newcomer" || seats[1].How != rescan.HowInvited || seats[1].Product != billing.JiraSoftware {
		t.Fatalf("new seats after the invitation: %+v", seats)
	}

	// An access request approved: the account joins the default group.
	resp, err = http.Post(p.siteURL+"/sim/admin/access-requests", "application/json",
		strings.NewReader(`{"accountId":"`+simDana+`","product":"jira-product-discovery"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("sim: approve access: %d", resp.StatusCode)
	}
	if err := p.site.FlushWebhooks(fctx); err != nil {
		t.Fatal(err)
	}
	p.forgetPending(t)
	if n, err := p.app.poller.Poll(ctx, p.inst.ClientKey); err != nil || n != 1 {
		t.Fatalf("poll after the approval marked %d accounts (%v)", n, err)
	}
	p.rescanPending(t)
	seats = p.newSeats(t)
	if len(seats) != 3 || seats[2].AccountID != simDana || seats[2].How != rescan.HowAccessRequest || seats[2].Product != billing.JiraProductDiscovery {
		t.Fatalf("new seats after the approval: %+v", seats)
	}

	// Pushed by the audit-log webhook.
	code, body := p.call(t, "POST", "/api/v1/audit-hook", simAdmin, "")
	if code != http.StatusCreated {
		t.Fatalf("audit hook: %d %s", code, body)
	}
	var hook struct {
		URL    string `json:"url"`
		Header string `json:"header"`
		Value  string `json:"value"`
	}
	json.Unmarshal(body, &hook)
	if !strings.HasPrefix(hook.URL, p.appBase+"/hooks/audit/") || hook.Header != "Authorization" || hook.Value == "" {
		t.Fatalf("hook %+v", hook)
	}
	_, body = p.call(t, "GET", "/api/v1/audit-hook", simAdmin, "")
	if strings.Contains(string(body), hook.Value) {
		t.Fatal("GET audit-hook shows the header's value")
	}
	push := func(value, body string) int {
		req, _ := http.NewRequest(http.MethodPost, hook.URL, strings.NewReader(body))
		req.Header.Set("Authorization", value)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := push("Bearer not-the-secret", "[]"); c != http.StatusUnauthorized {
		t.Fatalf("wrong header: %d", c)
	}
	if c := push(hook.Value, `{"hello":"world"}`); c != http.StatusBadRequest {
		t.Fatalf("not events: %d", c)
	}
	// The org admin registers it; the site pushes its audit events.
	reg, _ := json.Marshal(map[string]string{"url": hook.URL, "header": hook.Header, "value": hook.Value})
	req, _ := http.NewRequest(http.MethodPut, p.siteURL+"/sim/admin/audit-webhooks", strings.NewReader(string(reg)))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("sim: register the audit webhook: %d", resp.StatusCode)
	}
	okBefore, _ := p.site.AuditPushes()
	p.simAddMember(t, sitesim.GroupAgents, simChen)
	if ok, failed := p.site.AuditPushes(); ok != okBefore+1 || failed != 0 {
		t.Fatalf("audit pushes ok %d failed %d, want one delivery", ok-okBefore, failed)
	}
	pend, err := p.app.inbox.PendingList(ctx, p.inst.ClientKey, 0)
	if err != nil || len(pend) != 1 || !slices.ContainsFunc(pend[0].Hints, func(h rescan.Hint) bool { return h.Cause == rescan.CauseAuditHook }) {
		t.Fatalf("pending after the push: %+v %v", pend, err)
	}
	p.rescanPending(t)
	seats = p.newSeats(t)
	var chen *rescan.NewSeat
	for i := range seats {
		if seats[i].AccountID == simChen {
			chen = &seats[i]
		}
	}
	if chen == nil || chen.Product != billing.JiraServiceManagement || chen.How != rescan.HowDefaultGroup || chen.Cause != rescan.CauseAuditHook {
		t.Fatalf("new seats after the delivery: %+v", seats)
	}
	// The poll then meets the same events: nothing more to do.
	if n, err := p.app.poller.Poll(ctx, p.inst.ClientKey); err != nil || n != 0 {
		t.Fatalf("polling events already pushed marked %d accounts (%v)", n, err)
	}
	var st struct {
		AuditLog *rescan.AuditState `json:"auditLog"`
	}
	p.getJSON(t, "/api/v1/status", &st)
	if st.AuditLog == nil || st.AuditLog.Error != "" || st.AuditLog.Events == 0 {
		t.Fatalf("status audit log %+v", st.AuditLog)
	}
}

// TestFailingRescansAreShown: while Atlassian refuses, a changed account
// waits and the status the overview reads says why; once it answers, the
// account is read again and the failure is gone from the status.
func TestFailingRescansAreShown(t *testing.T) {
	p := keyedFixturePair(t, sitesim.Faults{})
	ctx := context.Background()
	ck := p.inst.ClientKey
	type status struct {
		PendingRescans int
		RescanFailure  *rescan.Rescan
	}
	get := func() status {
		var st status
		code, body := p.call(t, "GET", "/api/v1/status", fxAlice, "")
		if code != http.StatusOK || json.Unmarshal(body, &st) != nil {
			t.Fatalf("status: %d %s", code, body)
		}
		return st
	}
	get() // the admin check is believed for a minute: the refusals below do not reach it
	_, body := p.call(t, "GET", "/api/v1/seats?limit=1", fxAlice, "")
	var page struct{ Seats []struct{ AccountID string } }
	json.Unmarshal(body, &page)
	who := page.Seats[0].AccountID
	p.forgetPending(t)
	w := p.app.worker
	w.Debounce = time.Nanosecond
	p.refusing.Store(true)
	mark := rescan.Mark{AccountID: who, Hint: rescan.Hint{Cause: rescan.CauseWebhook, Event: "user_updated", At: time.Now()}}
	if _, err := p.app.inbox.Mark(ctx, ck, rescan.CauseWebhook, []rescan.Mark{mark}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Millisecond)
	if _, err := w.Turn(ctx, ck); err == nil {
		t.Fatal("a rescan against a refusing site succeeded")
	}
	if st := get(); st.PendingRescans != 1 || st.RescanFailure == nil || st.RescanFailure.State != rescan.StateFailed ||
		!strings.Contains(st.RescanFailure.Message, "400") {
		t.Fatalf("while refused: %+v %+v", st, st.RescanFailure)
	}
	p.refusing.Store(false)
	if _, err := w.Turn(ctx, ck); err != nil {
		t.Fatal(err)
	}
	if st := get(); st.PendingRescans != 0 || st.RescanFailure != nil {
		t.Fatalf("after a good rescan: %+v", st)
	}
}
