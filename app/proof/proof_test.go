package proof_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/proof"
	"github.com/seatlens/seatlens/store"
	"github.com/seatlens/seatlens/store/storetest"
)

// RFC 8785 §3.2.3's sorting example and its other rules.
func TestCanonical(t *testing.T) {
	in := map[string]any{"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
		"1": "One", "\U0001F600": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"}
	got, err := proof.Canonical(in)
	if err != nil {
		t.Fatal(err)
	}
	want := "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\",\"\u00f6\":\"Latin Small Letter O With Diaeresis\"," +
		"\"\u20ac\":\"Euro Sign\",\"\U0001F600\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}"
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	got, _ = proof.Canonical(map[string]any{"b": []any{true, nil, 12, "a\"\\/\u001f<>"}, "a": map[string]any{}})
	if string(got) != `{"a":{},"b":[true,null,12,"a\"\\/\u001f<>"]}` {
		t.Fatalf("got %s", got)
	}
	if _, err := proof.Canonical(map[string]any{"x": 1.5}); err == nil {
		t.Fatal("a fraction was accepted: evidence holds integers only")
	}
}

func chainWithReview(t *testing.T) (*proof.Chain, *store.Store, []byte) {
	t.Helper()
	st := storetest.Open(t)
	ctx := context.Background()
	if err := st.PutTenant(ctx, store.Tenant{ClientKey: "t1", AppKey: "a", BaseURL: "https://t1.atlassian.net", SharedSecret: "s", Installed: true, InstalledAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	c := &proof.Chain{Store: st}
	rec := func(kind, actor, subject string, data map[string]any) {
		err := st.Update(ctx, func(tx store.Tx) error { return c.RecordTx(tx, "t1", kind, actor, subject, data) })
		if err != nil {
			t.Fatal(err)
		}
	}
	rec("settings.changed", "admin-a", "", map[string]any{})
	rec("review.created", "admin-a", "", map[string]any{"review": "1", "title": "Q4", "items": 2})
	rec("review.item-added", "admin-a", "acc-1", map[string]any{"review": "1", "product": "jira-software"})
	rec("review.submitted", "admin-a", "", map[string]any{"review": "1", "state": "submitted"})
	rec("review.approved", "admin-b", "", map[string]any{"review": "1", "state": "approved"})
	rec("action.removed", "", "acc-1", map[string]any{"review": "1", "group": "g1", "credential": "org-key"})
	rec("item.removed", "", "acc-1", map[string]any{"review": "1", "product": "jira-software"})
	rec("item.skipped", "", "acc-2", map[string]any{"review": "1", "product": "confluence", "reason": "active"})
	ev, err := c.Evidence(ctx, "t1", "1", map[string]string{"id": "1"})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(ev)
	return c, st, raw
}

func TestEvidenceVerifies(t *testing.T) {
	c, _, raw := chainWithReview(t)
	rep, err := proof.Verify(raw, "")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Review != "1" || rep.Title != "Q4" || rep.Counts["removed"] != 1 || rep.Counts["skipped"] != 1 || !strings.HasPrefix(rep.ApprovedBy, "acct:") || rep.FirstSeq != 2 {
		t.Fatalf("report %+v", rep)
	}
	if _, err := proof.Verify(raw, rep.Fingerprint); err != nil {
		t.Fatalf("with the right key: %v", err)
	}
	if !strings.Contains(string(raw), `"account":"acct:`) || strings.Contains(string(raw), "acc-1") {
		t.Fatal("an account ID entered the chain")
	}
	// Erasing a person deletes the salt: earlier evidence still verifies,
	// and a new one too.
	if err := c.Forget(context.Background(), "t1", "acc-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := proof.Verify(raw, ""); err != nil {
		t.Fatalf("after erasing: %v", err)
	}
	ev, err := c.Evidence(context.Background(), "t1", "1", nil)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(ev)
	if _, err := proof.Verify(again, rep.Fingerprint); err != nil {
		t.Fatalf("new evidence after erasing: %v", err)
	}
}

func TestTamperedEvidenceFails(t *testing.T) {
	_, _, raw := chainWithReview(t)
	_, _, other := chainWithReview(t) // another tenant: another key
	edit := func(f func(ev *proof.Evidence, o *proof.Evidence)) []byte {
		var ev, o proof.Evidence
		json.Unmarshal(raw, &ev)
		json.Unmarshal(other, &o)
		f(&ev, &o)
		b, _ := json.Marshal(ev)
		return b
	}
	cases := []struct {
		name    string
		file    []byte
		key     string
		seq     int64
		message string
	}{
		{"an edited event", edit(func(ev, _ *proof.Evidence) { ev.Events[4].Data["group"] = "g2" }), "", 6, "altered"},
		{"an edited actor", edit(func(ev, _ *proof.Evidence) { ev.Events[3].Actor = "acct:00" }), "", 5, "altered"},
		{"a removed event", edit(func(ev, _ *proof.Evidence) { ev.Events = append(ev.Events[:2], ev.Events[3:]...) }), "", 5, "missing"},
		{"reordered events", edit(func(ev, _ *proof.Evidence) { ev.Events[2], ev.Events[3] = ev.Events[3], ev.Events[2] }), "", 5, "missing"},
		{"an inserted event", edit(func(ev, _ *proof.Evidence) {
			ins := ev.Events[2]
			ev.Events = append(ev.Events[:3], append([]proof.Event{ins}, ev.Events[3:]...)...)
		}), "", 4, "missing"},
		{"the last event dropped", edit(func(ev, _ *proof.Evidence) { ev.Events = ev.Events[:len(ev.Events)-1] }), "", 0, "signed head"},
		{"another signature", edit(func(ev, o *proof.Evidence) { ev.Signed.Signature = o.Signed.Signature }), "", 0, "signature does not match"},
		{"another key and its signature", edit(func(ev, o *proof.Evidence) {
			ev.Signed.PublicKey, ev.Signed.Signature = o.Signed.PublicKey, o.Signed.Signature
		}), "", 0, "signature does not match"},
		{"the expected key is another", raw, "00112233445566778899aabbccddeeff", 0, "not the expected"},
		{"not evidence", []byte(`{"format":"x"}`), "", 0, "format"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := proof.Verify(c.file, c.key)
			var ve *proof.VerifyError
			if !errors.As(err, &ve) || ve.Seq != c.seq || !strings.Contains(ve.Msg, c.message) {
				t.Fatalf("got %v, want event %d: …%s…", err, c.seq, c.message)
			}
		})
	}
}

func TestRecentPages(t *testing.T) {
	c, _, _ := chainWithReview(t) // 8 events
	var seqs []int64
	var before int64
	for pages := 0; pages < 10; pages++ {
		evs, next, err := c.Recent(context.Background(), "t1", before, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			seqs = append(seqs, e.Seq)
		}
		if next == 0 {
			break
		}
		before = next
	}
	want := []int64{8, 7, 6, 5, 4, 3, 2, 1}
	if len(seqs) != len(want) {
		t.Fatalf("pages gave %v, want %v", seqs, want)
	}
	for i := range want {
		if seqs[i] != want[i] {
			t.Fatalf("pages gave %v, want %v", seqs, want)
		}
	}
}

func TestKeyRotationAndKeptHeads(t *testing.T) {
	c, st, raw := chainWithReview(t)
	ctx := context.Background()
	before, err := proof.Verify(raw, "")
	if err != nil {
		t.Fatal(err)
	}
	fp, err := c.RotateKey(ctx, "t1", "admin-a")
	if err != nil || fp == before.Fingerprint {
		t.Fatalf("rotate: %s %v", fp, err)
	}
	old, err := c.OldKeys(ctx, "t1")
	if err != nil || len(old) != 1 || old[0].Fingerprint != before.Fingerprint {
		t.Fatalf("old keys %+v %v", old, err)
	}
	// Earlier evidence still verifies against the old key; new evidence
	// is signed by the new one and covers the rotation.
	if _, err := proof.Verify(raw, before.Fingerprint); err != nil {
		t.Fatalf("old evidence: %v", err)
	}
	ev, err := c.Evidence(ctx, "t1", "1", nil)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(ev)
	rep, err := proof.Verify(again, fp)
	if err != nil || !strings.Contains(string(again), `"kind":"key.rotated"`) {
		t.Fatalf("new evidence: %+v %v", rep, err)
	}
	// The signed heads outlive the tenant's data.
	tn, _ := st.Tenant(ctx, "t1")
	tn.Installed, tn.SharedSecret, tn.UninstalledAt = false, "", time.Now().Add(-48*time.Hour)
	if err := st.PutTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PurgeUninstalled(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Events(ctx, "t1", 1, 0); err == nil {
		evs, _ := c.Events(ctx, "t1", 1, 0)
		if len(evs) != 0 {
			t.Fatal("the purge left the chain")
		}
	}
	heads, err := st.ChainHeads(ctx, "t1")
	if err != nil || len(heads) != 2 {
		t.Fatalf("kept heads after the purge: %d %v", len(heads), err)
	}
}

// A new tenant's first signatures, asked for at once, are made with one
// key: the first stored wins and the others use it.
func TestFirstKeyIsOne(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	if err := st.PutTenant(ctx, store.Tenant{ClientKey: "t2", AppKey: "a", BaseURL: "https://t2.atlassian.net", SharedSecret: "s", Installed: true, InstalledAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	c := &proof.Chain{Store: st}
	fps := make([]string, 8)
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for i := range fps {
		wg.Go(func() { fps[i], errs[i] = c.KeyFingerprint(ctx, "t2") })
	}
	wg.Wait()
	for i := range fps {
		if errs[i] != nil || fps[i] != fps[0] {
			t.Fatalf("first uses at once: %v %v", fps, errs)
		}
	}
	if again, err := c.KeyFingerprint(ctx, "t2"); err != nil || again != fps[0] {
		t.Fatalf("the stored key: %s %v, the first uses signed with %s", again, err, fps[0])
	}
}
