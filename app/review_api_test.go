package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/seatlens/seatlens/app/config"
	"github.com/seatlens/seatlens/app/review"
	"github.com/seatlens/seatlens/app/sitesim"
)

// TestReviewRules: the four-eyes rules through the real router, whatever a
// client sends: only removable seats (or review seats with a justification)
// with an executable plan; nothing stored when a seat is refused; no
// approval by the submitter, or by anyone outside the named approvers;
// approved reviews are immutable.
func TestReviewRules(t *testing.T) {
	if testing.Short() {
		t.Skip("scans the simulated site")
	}
	f, err := os.Open("sitesim/testdata/fixture/site.json")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := sitesim.LoadScenario(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	const alice, sina, bob = "fx01-alice", "fx33-sina", "fx02-bob" // two admins, and a user
	p := newScanPairWith(t, sc, sitesim.Options{}, true, config.DefaultPointsPerHour)
	if code, body := p.call(t, "PUT", "/api/v1/org-key", alice, `{"orgId":"`+sitesim.DefaultOrgID+`","key":"`+sitesim.DefaultOrgKey+`"}`); code != http.StatusOK {
		t.Fatalf("org key: %d %s", code, body)
	}
	p.scanAs(t, alice)

	var seats struct {
		Seats []struct{ AccountID, Product, Verdict string }
	}
	_, body := p.call(t, "GET", "/api/v1/seats?limit=200", alice, "")
	json.Unmarshal(body, &seats)
	pick := func(verdict string) (string, string) {
		for _, s := range seats.Seats {
			if s.Verdict == verdict {
				return s.AccountID, s.Product
			}
		}
		t.Fatalf("the fixture has no %s seat", verdict)
		return "", ""
	}
	remAcc, remProd := pick("removable")
	holdAcc, holdProd := pick("hold")
	item := func(acc, prod, just string) string {
		b, _ := json.Marshal(review.Ask{AccountID: acc, Product: prod, Justification: just})
		return string(b)
	}
	errCode := func(body []byte) string {
		var e struct{ Code string }
		json.Unmarshal(body, &e)
		return e.Code
	}

	// A hold seat refuses the lot, and nothing is created.
	code, body := p.call(t, "POST", "/api/v1/reviews", alice, `{"title":"Q4","items":[`+item(remAcc, remProd, "")+`,`+item(holdAcc, holdProd, "")+`]}`)
	if code != http.StatusUnprocessableEntity || errCode(body) != "not-removable" || !strings.Contains(string(body), holdAcc) || strings.Contains(string(body), `"accountId":"`+remAcc+`"`) {
		t.Fatalf("a hold seat: %d %s", code, body)
	}
	if _, body := p.call(t, "GET", "/api/v1/reviews", alice, ""); !strings.Contains(string(body), `"reviews":[]`) {
		t.Fatalf("a refused review was stored: %s", body)
	}
	for _, bad := range []string{`{"items":[` + item(remAcc, remProd, "") + `]}`, `{"title":"x","items":[]}`, `{"title":"x","colour":1}`, `{"title":"x","items":[{"accountId":"a"}]}`} {
		if code, body := p.call(t, "POST", "/api/v1/reviews", alice, bad); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s", bad, code, body)
		}
	}

	// A draft of the removable seats by filter.
	code, body = p.call(t, "POST", "/api/v1/reviews", alice, `{"title":"Removable Jira Software","filter":{"verdict":"removable","product":"`+remProd+`"}}`)
	var r review.Review
	if json.Unmarshal(body, &r); code != http.StatusCreated || r.State != review.StateDraft || len(r.Items) == 0 || r.CreatedBy != alice {
		t.Fatalf("create by filter: %d %s", code, body)
	}
	for _, it := range r.Items {
		if it.Verdict != "removable" || it.Product != remProd || len(it.Plan) == 0 {
			t.Fatalf("item %+v", it)
		}
	}
	id := "/api/v1/reviews/" + r.ID

	// A review seat needs a justification.
	var reviewSeat string
	for _, s := range seats.Seats {
		if s.Verdict == "review" {
			reviewSeat = item(s.AccountID, s.Product, "")
			break
		}
	}
	if reviewSeat != "" {
		if code, body := p.call(t, "POST", id+"/items", alice, `{"items":[`+reviewSeat+`]}`); code != http.StatusUnprocessableEntity {
			t.Errorf("a review seat without justification: %d %s", code, body)
		}
	}

	// The state machine and the four eyes.
	if code, body := p.call(t, "POST", id+"/approve", sina, `{}`); code != http.StatusConflict || errCode(body) != "wrong-state" {
		t.Errorf("approve a draft: %d %s", code, body)
	}
	if code, body := p.call(t, "POST", id+"/submit", alice, `{}`); code != http.StatusOK {
		t.Fatalf("submit: %d %s", code, body)
	}
	if code, body := p.call(t, "POST", id+"/items", alice, `{"items":[`+item(remAcc, remProd, "")+`]}`); code != http.StatusConflict {
		t.Errorf("change a submitted review: %d %s", code, body)
	}
	if code, body := p.call(t, "POST", id+"/approve", alice, `{}`); code != http.StatusForbidden || errCode(body) != "self-approval" {
		t.Errorf("self-approval: %d %s", code, body)
	}
	if code, body := p.call(t, "POST", id+"/approve", bob, `{}`); code != http.StatusForbidden || errCode(body) != "not-admin" {
		t.Errorf("a non-admin approves: %d %s", code, body)
	}
	if code, body := p.call(t, "PUT", "/api/v1/settings", alice, `{"approvers":["`+alice+`"]}`); code != http.StatusOK {
		t.Fatalf("settings: %d %s", code, body)
	}
	if code, body := p.call(t, "POST", id+"/approve", sina, `{}`); code != http.StatusForbidden || errCode(body) != "not-an-approver" {
		t.Errorf("approval outside the approvers: %d %s", code, body)
	}
	if code, body := p.call(t, "POST", id+"/reject", sina, `{}`); code != http.StatusBadRequest {
		t.Errorf("a rejection without a reason: %d %s", code, body)
	}
	p.call(t, "PUT", "/api/v1/settings", alice, `{"approvers":["`+sina+`"]}`)
	code, body = p.call(t, "POST", id+"/approve", sina, `{}`)
	if json.Unmarshal(body, &r); code != http.StatusOK || r.State != review.StateApproved || r.ApprovedBy != sina || r.SubmittedBy != alice {
		t.Fatalf("approve: %d %s", code, body)
	}
	if code, _ := p.call(t, "POST", id+"/reject", sina, `{"reason":"changed my mind"}`); code != http.StatusConflict {
		t.Errorf("reject an approved review: %d", code)
	}
	if code, body := p.call(t, "DELETE", id+"/items", alice, fmt.Sprintf(`{"items":[{"accountId":%q,"product":%q,"reason":"keeps the build server"}]}`, remAcc, remProd)); code != http.StatusConflict {
		t.Errorf("exclude items of an approved review: %d %s", code, body)
	}

	// The IdP tasks of the review's scan: the seats through synced groups.
	code, body = p.call(t, "GET", id+"/idp-tasks.csv", alice, "")
	if code != http.StatusOK || !strings.HasPrefix(string(body), "syncedGroup,syncedGroupId,") || !strings.Contains(string(body), "engineering") {
		t.Errorf("idp-tasks.csv: %d %s", code, body)
	}

	// Exclusions: a reason each; a hold becomes a manual hold in Settings.
	code, body = p.call(t, "POST", "/api/v1/reviews", alice, `{"title":"second","items":[`+item(remAcc, remProd, "")+`]}`)
	var d review.Review
	if json.Unmarshal(body, &d); code != http.StatusCreated {
		t.Fatalf("second draft: %d %s", code, body)
	}
	if code, _ := p.call(t, "DELETE", "/api/v1/reviews/"+d.ID+"/items", alice, fmt.Sprintf(`{"items":[{"accountId":%q,"product":%q}]}`, remAcc, remProd)); code != http.StatusBadRequest {
		t.Errorf("an exclusion without a reason: %d", code)
	}
	code, body = p.call(t, "DELETE", "/api/v1/reviews/"+d.ID+"/items", alice,
		fmt.Sprintf(`{"items":[{"accountId":%q,"product":%q,"reason":"on parental leave","hold":true,"expires":"2027-03-01T00:00:00Z"}]}`, remAcc, remProd))
	if json.Unmarshal(body, &d); code != http.StatusOK || len(d.Items) != 0 || len(d.Exclusions) != 1 || d.Exclusions[0].By != alice {
		t.Fatalf("exclude with a hold: %d %s", code, body)
	}
	if _, body := p.call(t, "GET", "/api/v1/settings", alice, ""); !strings.Contains(string(body), `"reason":"on parental leave"`) || !strings.Contains(string(body), remAcc) {
		t.Errorf("the hold is not in the settings: %s", body)
	}

	// The activity: the chain, newest first, without account IDs.
	code, body = p.call(t, "GET", "/api/v1/activity", alice, "")
	var act struct {
		Events []struct {
			Seq         int64
			Kind, Actor string
		}
	}
	if json.Unmarshal(body, &act); code != http.StatusOK || len(act.Events) < 8 || act.Events[0].Seq < act.Events[1].Seq {
		t.Fatalf("activity: %d %s", code, body)
	}
	kinds := map[string]bool{}
	for _, e := range act.Events {
		kinds[e.Kind] = true
	}
	for _, k := range []string{"org-key.set", "scan.done", "review.created", "review.submitted", "review.approved", "review.item-excluded", "settings.changed"} {
		if !kinds[k] {
			t.Errorf("no %s event in the activity: %v", k, kinds)
		}
	}
	if strings.Contains(string(body), remAcc) || strings.Contains(string(body), alice) || strings.Contains(string(body), sitesim.DefaultOrgKey) {
		t.Error("the activity names an account or a secret")
	}
	if code, body := p.call(t, "GET", "/api/v1/reviews/999", alice, ""); code != http.StatusNotFound {
		t.Errorf("unknown review: %d %s", code, body)
	}
}
