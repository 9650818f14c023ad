package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/proof"
	"github.com/seatlens/seatlens/store"
	"github.com/seatlens/seatlens/store/storetest"
)

// TestVerifyCommand: `seatlens verify FILE` accepts a signed evidence file,
// names the key and summarises the review; it refuses an altered one,
// naming the event, with exit status 1 (an error that is not a usage
// error), and one signed by another key than --key.
func TestVerifyCommand(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	if err := st.PutTenant(ctx, store.Tenant{ClientKey: "t1", AppKey: "a", BaseURL: "https://t1.atlassian.net", SharedSecret: "s", Installed: true, InstalledAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	c := &proof.Chain{Store: st}
	for _, e := range []struct{ kind, actor, subject string }{
		{"review.created", "a", ""}, {"review.approved", "b", ""}, {"item.removed", "", "acc-1"}, {"item.undone", "", "acc-1"},
	} {
		data := map[string]any{"review": "7"}
		if e.kind == "review.created" {
			data["title"] = "Quarterly"
		}
		if err := st.Update(ctx, func(tx store.Tx) error { return c.RecordTx(tx, "t1", e.kind, e.actor, e.subject, data) }); err != nil {
			t.Fatal(err)
		}
	}
	ev, err := c.Evidence(ctx, "t1", "7", nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "evidence.json")
	raw, _ := json.Marshal(ev)
	os.WriteFile(good, raw, 0o600)

	var out bytes.Buffer
	if err := run(ctx, []string{"verify", good}, &out, &out, os.Getenv); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if !strings.Contains(out.String(), "verified: key "+ev.Signed.KeyID) || !strings.Contains(out.String(), `review 7 "Quarterly"`) ||
		!strings.Contains(out.String(), "removed 1") || !strings.Contains(out.String(), "undone 1") {
		t.Fatalf("output: %s", out.String())
	}
	if err := run(ctx, []string{"verify", good, "--key", ev.Signed.KeyID}, &out, &out, os.Getenv); err != nil {
		t.Fatalf("verify with the key: %v", err)
	}

	ev.Events[1].Kind = "review.rejected"
	raw, _ = json.Marshal(ev)
	bad := filepath.Join(dir, "altered.json")
	os.WriteFile(bad, raw, 0o600)
	err = run(ctx, []string{"verify", bad}, &out, &out, os.Getenv)
	if err == nil || !strings.Contains(err.Error(), "NOT verified: event 2") {
		t.Fatalf("an altered file: %v", err)
	}
	err = run(ctx, []string{"verify", good, "--key", "00112233445566778899aabbccddeeff"}, &out, &out, os.Getenv)
	if err == nil || !strings.Contains(err.Error(), "not the expected") {
		t.Fatalf("another key: %v", err)
	}
	if err := run(ctx, []string{"verify"}, &out, &out, os.Getenv); err == nil {
		t.Fatal("verify without a file succeeded")
	}
}
