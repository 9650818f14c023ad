package app

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/seatlens/seatlens/store/storetest"
)

func TestOrgCredentialSealedAndSurvivesRestart(t *testing.T) {
	h := newHarness(t, "https://seatlens.example.com")
	ctx := context.Background()
	expectStatus(t, h.install("client-a", "secret-a"), http.StatusNoContent)
	if _, ok, err := h.app.OrgCredential(ctx, "client-a"); ok || err != nil {
		t.Fatalf("before: %v %v", ok, err)
	}
	c := OrgCredential{URL: "https://api.atlassian.com", OrgID: "org-1", Key: "the-org-key-value"}
	if err := h.app.SetOrgCredential(ctx, "client-a", c); err != nil {
		t.Fatal(err)
	}
	raw, _ := h.st.TenantGet(ctx, "client-a", SecretsBucket, []byte("org-api-key"))
	if strings.Contains(string(raw), "the-org-key-value") {
		t.Fatal("org key stored in plaintext")
	}
	h.st = storetest.Reopen(t, h.st)
	h.rebuild()
	got, ok, err := h.app.OrgCredential(ctx, "client-a")
	if err != nil || !ok || got != c {
		t.Fatalf("after restart: %+v %v %v", got, ok, err)
	}
	if _, ok, _ := h.app.OrgCredential(ctx, "client-b"); ok {
		t.Fatal("another tenant sees the org key")
	}
	for _, bad := range []OrgCredential{
		{URL: "http://api.example.com", OrgID: "o", Key: "k"},
		{URL: "https://api.atlassian.com", OrgID: "", Key: "k"},
		{URL: "https://api.atlassian.com", OrgID: "o/../x", Key: "k"},
		{URL: "https://api.atlassian.com", OrgID: "o", Key: ""},
	} {
		if err := h.app.SetOrgCredential(ctx, "client-a", bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
