package atlassian

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestCyclePeriod(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"604800": 7 * 24 * time.Hour, "86400": 24 * time.Hour, "P7D": 7 * 24 * time.Hour, "PT12H": 12 * time.Hour,
		"P1DT1H": 25 * time.Hour, "": DefaultCyclePeriod, "soon": DefaultCyclePeriod, "-5": DefaultCyclePeriod,
		"0": DefaultCyclePeriod, "P": DefaultCyclePeriod, "PT": DefaultCyclePeriod, "P9999D": DefaultCyclePeriod,
	} {
		if got := CyclePeriod(in); got != want {
			t.Errorf("CyclePeriod(%q) = %s, want %s", in, got, want)
		}
	}
}

// A batch is posted as Atlassian documents it; a 429 waits Retry-After
// and is sent again; 200 names the accounts needing action, 204 none.
func TestReportAccounts(t *testing.T) {
	var calls atomic.Int32
	var got struct {
		Accounts []struct{ AccountID, UpdatedAt string }
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if r.Method != http.MethodPost || r.URL.Path != "/app/report-accounts/" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		json.NewDecoder(r.Body).Decode(&got)
		w.Header().Set("Cycle-Period", "P3D")
		if n == 3 {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"accounts":[{"accountId":"557058:b","status":"closed"}]}`))
	}))
	defer ts.Close()
	var waited time.Duration
	c := mustClient(t, ts.URL, Bearer("k"), Options{Sleep: func(_ context.Context, d time.Duration) error { waited += d; return nil }})
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.FixedZone("x", 3600))
	accts := []ReportedAccount{{AccountID: "557058:a", UpdatedAt: at}, {AccountID: "557058:b", UpdatedAt: at}}
	st, cycle, err := c.ReportAccounts(context.Background(), accts)
	if err != nil || len(st) != 1 || st[0] != (AccountStatus{"557058:b", AccountClosed}) || cycle != 72*time.Hour {
		t.Fatalf("%+v %s %v", st, cycle, err)
	}
	if waited < time.Second || len(got.Accounts) != 2 || got.Accounts[0].UpdatedAt != "2026-12-01T09:00:00.000Z" {
		t.Fatalf("waited %s, sent %+v", waited, got)
	}
	if st, cycle, err := c.ReportAccounts(context.Background(), accts); err != nil || st != nil || cycle != 72*time.Hour {
		t.Fatalf("204: %+v %s %v", st, cycle, err)
	}
	many := make([]ReportedAccount, 91)
	for i := range many {
		many[i] = ReportedAccount{AccountID: "557058:x", UpdatedAt: at}
	}
	if _, _, err := c.ReportAccounts(context.Background(), many); err == nil {
		t.Fatal("91 accounts in one request were sent")
	}
	if _, _, err := c.ReportAccounts(context.Background(), []ReportedAccount{{AccountID: "unknown", UpdatedAt: at}}); err == nil || !strings.Contains(err.Error(), "may not be reported") {
		t.Fatalf("the account id unknown: %v", err)
	}
	if n := calls.Load(); n != 3 {
		t.Fatalf("%d requests, want 3 (the 429, its retry, the 204)", n)
	}
}
