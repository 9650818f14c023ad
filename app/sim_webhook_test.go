package app

import (
	"context"
	"github.com/seatlens/seatlens/app/rescan"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/sitesim"
)

// TestSimWebhookReachesApp: the sim installs into the real app, then a
// membership change through the sim's admin API is delivered as a signed
// user_updated webhook and as a Forge avi:jira:updated:user invocation (a
// FIT with the app token, accepted only if the app verified it), and the
// app records the account as pending rescan for that tenant.
func TestSimWebhookReachesApp(t *testing.T) {
	p := newSimPair(t)
	ctx := context.Background()
	inst, err := p.site.Install(ctx, p.siteURL, p.appBase, simForgeAppID)
	if err != nil {
		t.Fatal(err)
	}
	const chen = "5b10a2844c20165700ede203" // not in all-staff in the default scenario
	req, err := http.NewRequest(http.MethodPost, p.siteURL+"/sim/admin/groups/"+sitesim.GroupAllStaff+"/members",
		strings.NewReader(`{"accountId":"`+chen+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("admin add member: %d", resp.StatusCode)
	}
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.site.FlushWebhooks(fctx); err != nil {
		t.Fatal(err)
	}
	if ok, failed := p.site.WebhookDeliveries(); ok != 2 || failed != 0 {
		t.Fatalf("deliveries ok %d failed %d, want 2 (webhook and Forge event), 0", ok, failed)
	}
	if _, err := p.st.TenantGet(ctx, inst.ClientKey, rescan.PendingBucket, []byte(chen)); err != nil {
		t.Fatalf("account not pending rescan: %v", err)
	}
}
