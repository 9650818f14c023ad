package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/seatlens/seatlens/app/connect/connecttest"
	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/app/sitesim"
	"github.com/seatlens/seatlens/app/tenancy"
)

// BenchmarkReviewLarge: a review of every removable seat of a scanned
// 30k-user site (about 10k seats) made from a filter, ten seats excluded,
// and submitted, through the real router: what a big cleanup's draft costs
// while every state change rewrites each item once.
//
//	go test ./app -run '^$' -bench ReviewLarge -benchtime 3x -timeout 30m
func BenchmarkReviewLarge(b *testing.B) {
	p := newScanPairWith(b, sitesim.Generate(30_000, 1), sitesim.Options{}, true, 10_000_000)
	cred := tenancy.OrgCredential{OrgID: sitesim.DefaultOrgID, Key: sitesim.DefaultOrgKey, CheckedAt: time.Now(), OK: true}
	if err := p.app.Tenancy().PutOrgCredential(context.Background(), p.inst.ClientKey, cred); err != nil {
		b.Fatal(err)
	}
	waitQueued(b, p.app.Scans(), p.inst.ClientKey, "1")
	if rec, _ := scanAgain(b, p.app.Scans(), p.inst.ClientKey); rec.State != scan.StateDone {
		b.Fatalf("scan %+v", rec)
	}
	claims := connecttest.ContextClaims(p.inst.ClientKey, time.Now())
	claims.Subject = simAdmin
	auth := "JWT " + connecttest.Sign(b, jwt.SigningMethodHS256, []byte(p.inst.SharedSecret), claims, nil)
	do := func(method, path, body string) (int, []byte, time.Duration) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "application/json")
		rr := httptest.NewRecorder()
		start := time.Now()
		p.app.Handler().ServeHTTP(rr, req)
		return rr.Code, rr.Body.Bytes(), time.Since(start)
	}
	var create, exclude, submit time.Duration
	seats := 0
	for b.Loop() {
		code, body, took := do("POST", "/api/v1/reviews", `{"title":"All removable","filter":{"verdict":"removable"}}`)
		if code != http.StatusCreated {
			b.Fatalf("create: %d %.300s", code, body)
		}
		create += took
		var r struct {
			ID    string
			Items []struct{ AccountID, Product string }
		}
		if err := json.Unmarshal(body, &r); err != nil || len(r.Items) < 1000 {
			b.Fatalf("review of %d seats: %v", len(r.Items), err)
		}
		seats = len(r.Items)
		var ex []map[string]string
		for _, it := range r.Items[:10] {
			ex = append(ex, map[string]string{"accountId": it.AccountID, "product": it.Product, "reason": "on leave"})
		}
		raw, _ := json.Marshal(map[string]any{"items": ex})
		if code, body, took = do("DELETE", "/api/v1/reviews/"+r.ID+"/items", string(raw)); code != http.StatusOK {
			b.Fatalf("exclude: %d %.300s", code, body)
		}
		exclude += took
		if code, body, took = do("POST", "/api/v1/reviews/"+r.ID+"/submit", ""); code != http.StatusOK {
			b.Fatalf("submit: %d %.300s", code, body)
		}
		submit += took
	}
	n := float64(b.N)
	b.ReportMetric(float64(seats), "seats")
	b.ReportMetric(create.Seconds()*1000/n, "create-ms")
	b.ReportMetric(exclude.Seconds()*1000/n, "exclude-ms")
	b.ReportMetric(submit.Seconds()*1000/n, "submit-ms")
}
