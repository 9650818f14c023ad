package scan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/atlassian"
	"github.com/seatlens/seatlens/app/atlassian/admincsv"
	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/app/sitesim"
)

// stripTotal is a site whose group/member pages carry no total (the
// PageBean's total is optional): the scan must then walk page by page.
func stripTotal(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/rest/api/3/group/member" {
			h.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		var page map[string]any
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &page) != nil {
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return
		}
		delete(page, "total")
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(page)
	})
}

func TestCollectMemberPagesWithoutTotal(t *testing.T) {
	sc := loadFixture(t)
	site, err := sitesim.NewSite(sc)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sitesim.New(site, sitesim.Options{AdminEmail: sitesim.DefaultAdminEmail, AdminToken: sitesim.DefaultAdminToken})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(stripTotal(srv))
	defer ts.Close()
	// Pages of three: the ten-member default group takes four.
	jira, err := atlassian.New(nil, ts.URL, atlassian.Basic(sitesim.DefaultAdminEmail, sitesim.DefaultAdminToken), atlassian.Options{PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := scan.Collect(context.Background(), scan.Source{SiteURL: ts.URL, Jira: jira, JiraAdmin: jira})
	if err != nil {
		t.Fatal(err)
	}
	members := 0
	for _, g := range snap.Groups {
		members += g.MemberCount
		if want := len(sc.Members[g.ID]); g.MemberCount != want {
			t.Errorf("group %s: %d members, want %d", g.Name, g.MemberCount, want)
		}
	}
	if members == 0 {
		t.Fatal("no members collected")
	}
}

// A product the admin CSV has no "Last seen in" column for gets no
// activity data, not "never used".
func TestActivityCSVWithoutAColumn(t *testing.T) {
	s := startSim(t, loadFixture(t), sitesim.Options{})
	snap, err := scan.Collect(context.Background(), s.source(t, false))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(fixtureDir, "activity.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// Drop the JPD column from every line.
	var out bytes.Buffer
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		cells := strings.Split(line, ",")
		out.WriteString(strings.Join(append(cells[:8:8], cells[9:]...), ",") + "\n")
	}
	if !strings.Contains(strings.SplitN(string(b), "\n", 2)[0], "Jira Product Discovery") || strings.Contains(strings.SplitN(out.String(), "\n", 2)[0], "Jira Product Discovery") {
		t.Fatal("the test's CSV surgery missed the JPD column")
	}
	exp, err := admincsv.Parse(&out)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := scan.ApplyActivityCSV(snap, exp, fixtureScannedAt, "export-users.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Missing) != 1 || rep.Missing[0] != billing.JiraProductDiscovery {
		t.Fatalf("missing = %v", rep.Missing)
	}
	f, err := billing.Explain(snap, billing.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	jpd := 0
	for _, u := range f.Users {
		for _, st := range u.Seats {
			if st.Product != billing.JiraProductDiscovery || !st.Billable {
				continue
			}
			jpd++
			if codes := reasonCodes(st); !strings.Contains(codes, "no-activity-data") || strings.Contains(codes, "never-accessed") || strings.Contains(codes, "inactive") {
				t.Errorf("%s JPD: %s", u.AccountID, codes)
			}
		}
	}
	if jpd == 0 {
		t.Fatal("no billable JPD seat to check")
	}
}

func reasonCodes(s billing.Seat) string {
	var c []string
	for _, r := range s.Reasons {
		c = append(c, r.Code)
	}
	return strings.Join(c, " ")
}

// TestKeyedScanStopsWhenJiraRefuses: Jira's licence read runs beside the
// Org API walk; when Jira refuses it, the walk stops at once and the
// error names Jira's step, not the cancellation.
func TestKeyedScanStopsWhenJiraRefuses(t *testing.T) {
	sc := sitesim.Generate(1500, 4)
	site, err := sitesim.NewSite(sc)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sitesim.New(site, sitesim.Options{AdminEmail: sitesim.DefaultAdminEmail, AdminToken: sitesim.DefaultAdminToken,
		Faults: sitesim.Faults{Latency: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/rest/api/3/applicationrole" {
			time.Sleep(50 * time.Millisecond)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"errorMessages":["You are not authorized to perform this action. Administrator privileges are required."],"errors":{}}`))
			return
		}
		srv.ServeHTTP(w, r)
	}))
	defer ts.Close()
	s := &sim{srv: srv, ts: ts}
	_, err = scan.Collect(context.Background(), s.source(t, true))
	if err == nil || !strings.Contains(err.Error(), "read Jira's application roles") || !errors.Is(err, atlassian.ErrForbidden) {
		t.Fatalf("error %v", err)
	}
	if n := srv.Usage().Total.Calls; n > 400 {
		t.Errorf("%d calls after Jira refused; the walk should have stopped", n)
	}
}
