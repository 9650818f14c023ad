package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/seatlens/seatlens/store"
	"github.com/seatlens/seatlens/store/storetest"
)

func sampleTenant(clientKey string) store.Tenant {
	return store.Tenant{
		ClientKey:      clientKey,
		AppKey:         "com.seatlens.app",
		BaseURL:        "https://" + clientKey + ".atlassian.net",
		DisplayURL:     "https://jira." + clientKey + ".example",
		ProductType:    "jira",
		Description:    "Atlassian JIRA at https://" + clientKey + ".atlassian.net",
		ServerVersion:  "100.0",
		PluginsVersion: "1001.0.0",
		OAuthClientID:  "oauth-" + clientKey,
		InstallationID: "ari:cloud:ecosystem::installation/" + clientKey,
		SharedSecret:   "shared-secret-of-" + clientKey,
		Installed:      true,
		Enabled:        true,
	}
}

func TestPutGetTenant(t *testing.T) {
	clk := newClock()
	s := storetest.OpenOptions(t, store.Options{Now: clk.Now})
	ctx := t.Context()

	in := sampleTenant("tenant-a")
	if err := s.PutTenant(ctx, in); err != nil {
		t.Fatal(err)
	}
	got, err := s.Tenant(ctx, "tenant-a")
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.InstalledAt = clk.Now()
	want.UpdatedAt = clk.Now()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Tenant =\n%+v\nwant\n%+v", got, want)
	}

	// A later put keeps a caller-supplied InstalledAt and restamps UpdatedAt.
	clk.Advance(time.Hour)
	got.Description = "changed"
	if err := s.PutTenant(ctx, got); err != nil {
		t.Fatal(err)
	}
	again, err := s.Tenant(ctx, "tenant-a")
	if err != nil {
		t.Fatal(err)
	}
	if !again.InstalledAt.Equal(want.InstalledAt) || !again.UpdatedAt.Equal(clk.Now()) || again.Description != "changed" {
		t.Errorf("after update: %+v", again)
	}
}

func TestTenantNotFound(t *testing.T) {
	s := storetest.Open(t)
	ctx := t.Context()
	if _, err := s.Tenant(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Tenant(nobody) = %v", err)
	}
	if _, err := s.Tenant(ctx, ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Tenant(\"\") = %v", err)
	}
	if _, err := s.TenantByInstallation(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TenantByInstallation(nope) = %v", err)
	}
	if _, err := s.TenantByInstallation(ctx, ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TenantByInstallation(\"\") = %v", err)
	}
	if err := s.PutTenant(ctx, store.Tenant{}); err == nil {
		t.Error("PutTenant without client key succeeded")
	}
}

func TestSharedSecretNotStoredInPlaintext(t *testing.T) {
	s := storetest.Open(t)
	const secret = "PLAINTEXT-SHARED-SECRET-d41d8cd98f00b204"
	in := sampleTenant("a")
	in.SharedSecret = secret
	if err := s.PutTenant(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	got, err := s.Tenant(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	if got.SharedSecret != secret {
		t.Fatalf("SharedSecret = %q", got.SharedSecret)
	}
	path := s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(`"clientKey":"a"`)) {
		t.Fatal("tenant record not found in the file; the search below would prove nothing")
	}
	for _, needle := range [][]byte{[]byte(secret), []byte(secret[:16])} {
		if bytes.Contains(raw, needle) {
			t.Errorf("database file contains %q", needle)
		}
	}
}

func TestInstallationIndex(t *testing.T) {
	s := storetest.Open(t)
	ctx := t.Context()

	a := sampleTenant("a")
	a.InstallationID = "inst-1"
	if err := s.PutTenant(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := s.TenantByInstallation(ctx, "inst-1")
	if err != nil || got.ClientKey != "a" {
		t.Fatalf("TenantByInstallation(inst-1) = %q, %v", got.ClientKey, err)
	}

	// Changing the id drops the old entry.
	a.InstallationID = "inst-2"
	if err := s.PutTenant(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TenantByInstallation(ctx, "inst-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old installation id still resolves: %v", err)
	}
	if got, err := s.TenantByInstallation(ctx, "inst-2"); err != nil || got.ClientKey != "a" {
		t.Errorf("TenantByInstallation(inst-2) = %q, %v", got.ClientKey, err)
	}

	// An id reissued to another tenant is reassigned.
	b := sampleTenant("b")
	b.InstallationID = "inst-2"
	if err := s.PutTenant(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got, err := s.TenantByInstallation(ctx, "inst-2"); err != nil || got.ClientKey != "b" {
		t.Errorf("after reassignment TenantByInstallation(inst-2) = %q, %v", got.ClientKey, err)
	}
	// a moving off inst-2 must not remove b's entry.
	a.InstallationID = "inst-3"
	if err := s.PutTenant(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, err := s.TenantByInstallation(ctx, "inst-2"); err != nil || got.ClientKey != "b" {
		t.Errorf("a's update removed b's index entry: %q, %v", got.ClientKey, err)
	}

	// Clearing the id removes the entry.
	b.InstallationID = ""
	if err := s.PutTenant(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TenantByInstallation(ctx, "inst-2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("cleared installation id still resolves: %v", err)
	}
	if got, err := s.TenantByInstallation(ctx, "inst-3"); err != nil || got.ClientKey != "a" {
		t.Errorf("TenantByInstallation(inst-3) = %q, %v", got.ClientKey, err)
	}
}

func TestUpdateTenant(t *testing.T) {
	clk := newClock()
	s := storetest.OpenOptions(t, store.Options{Now: clk.Now})
	ctx := t.Context()
	if err := s.PutTenant(ctx, sampleTenant("a")); err != nil {
		t.Fatal(err)
	}

	clk.Advance(time.Minute)
	err := s.UpdateTenant(ctx, "a", func(t *store.Tenant) error {
		t.Installed = false
		t.Enabled = false
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Tenant(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if got.Installed || got.Enabled {
		t.Errorf("update not applied: %+v", got)
	}
	if !got.UninstalledAt.Equal(clk.Now()) || !got.UpdatedAt.Equal(clk.Now()) {
		t.Errorf("UninstalledAt = %v, UpdatedAt = %v, want both %v", got.UninstalledAt, got.UpdatedAt, clk.Now())
	}
	if got.SharedSecret != sampleTenant("a").SharedSecret {
		t.Error("UpdateTenant lost the shared secret")
	}

	// An error from fn aborts without writing.
	boom := errors.New("boom")
	err = s.UpdateTenant(ctx, "a", func(t *store.Tenant) error {
		t.Enabled = true
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("UpdateTenant returned %v, want fn's error", err)
	}
	if again, _ := s.Tenant(ctx, "a"); again.Enabled {
		t.Error("aborted update was written")
	}

	if err := s.UpdateTenant(ctx, "missing", func(*store.Tenant) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateTenant(missing) = %v", err)
	}
	err = s.UpdateTenant(ctx, "a", func(t *store.Tenant) error {
		t.ClientKey = "b"
		return nil
	})
	if err == nil {
		t.Error("UpdateTenant let fn change the client key")
	}
	if _, err := s.Tenant(ctx, "b"); !errors.Is(err, store.ErrNotFound) {
		t.Error("client key change created a tenant")
	}
}

func TestPurgeUninstalled(t *testing.T) {
	clk := newClock()
	s := storetest.OpenOptions(t, store.Options{Now: clk.Now})
	ctx := t.Context()

	for _, ck := range []string{"old", "recent", "live"} {
		if err := s.PutTenant(ctx, sampleTenant(ck)); err != nil {
			t.Fatal(err)
		}
		if err := s.TenantPut(ctx, ck, "settings", []byte("k"), []byte(ck)); err != nil {
			t.Fatal(err)
		}
	}
	uninstall := func(ck string) {
		t.Helper()
		err := s.UpdateTenant(ctx, ck, func(t *store.Tenant) error {
			t.Installed = false
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	uninstall("old")
	clk.Advance(20 * 24 * time.Hour)
	uninstall("recent")
	clk.Advance(time.Hour)

	cutoff := clk.Now().Add(-7 * 24 * time.Hour)
	purged, err := s.PurgeUninstalled(ctx, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(purged, []string{"old"}) {
		t.Fatalf("purged %v, want [old]", purged)
	}
	if _, err := s.Tenant(ctx, "old"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("purged tenant still readable: %v", err)
	}
	if _, err := s.TenantByInstallation(ctx, sampleTenant("old").InstallationID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("purged tenant's installation still resolves: %v", err)
	}
	if _, err := s.TenantGet(ctx, "old", "settings", []byte("k")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("purged tenant's data still readable: %v", err)
	}
	if err := s.TenantPut(ctx, "old", "settings", []byte("k"), []byte("x")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TenantPut resurrected a purged tenant: %v", err)
	}
	for _, ck := range []string{"recent", "live"} {
		if _, err := s.Tenant(ctx, ck); err != nil {
			t.Errorf("%s purged too early: %v", ck, err)
		}
		if v, err := s.TenantGet(ctx, ck, "settings", []byte("k")); err != nil || string(v) != ck {
			t.Errorf("%s lost its data: %q, %v", ck, v, err)
		}
	}

	// The cutoff is inclusive, and installed tenants are never purged.
	purged, err = s.PurgeUninstalled(ctx, clk.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(purged, []string{"recent"}) {
		t.Errorf("second purge %v, want [recent]", purged)
	}
	purged, err = s.PurgeUninstalled(ctx, clk.Now().Add(time.Hour))
	if err != nil || len(purged) != 0 {
		t.Errorf("third purge %v, %v, want nothing", purged, err)
	}
}

func TestReinstallKeepsData(t *testing.T) {
	clk := newClock()
	s := storetest.OpenOptions(t, store.Options{Now: clk.Now})
	ctx := t.Context()

	if err := s.PutTenant(ctx, sampleTenant("a")); err != nil {
		t.Fatal(err)
	}
	if err := s.TenantPut(ctx, "a", "seats", []byte("alice"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	err := s.UpdateTenant(ctx, "a", func(t *store.Tenant) error {
		t.Installed, t.Enabled = false, false
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(24 * time.Hour)

	// A reinstall arrives with a fresh payload: new secret, new id.
	re := sampleTenant("a")
	re.SharedSecret = "new-secret"
	re.InstallationID = "reissued"
	if err := s.PutTenant(ctx, re); err != nil {
		t.Fatal(err)
	}
	got, err := s.Tenant(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Installed || !got.UninstalledAt.IsZero() || got.SharedSecret != "new-secret" {
		t.Errorf("after reinstall: %+v", got)
	}
	if v, err := s.TenantGet(ctx, "a", "seats", []byte("alice")); err != nil || string(v) != "1" {
		t.Errorf("reinstall lost data: %q, %v", v, err)
	}
	if purged, _ := s.PurgeUninstalled(ctx, clk.Now().Add(time.Hour)); len(purged) != 0 {
		t.Errorf("reinstalled tenant purged: %v", purged)
	}
}

func TestTenantsSorted(t *testing.T) {
	s := storetest.Open(t)
	ctx := t.Context()
	if all, err := s.Tenants(ctx); err != nil || len(all) != 0 {
		t.Fatalf("empty store: %v, %v", all, err)
	}
	for _, ck := range []string{"m", "a", "z", "B"} {
		if err := s.PutTenant(ctx, sampleTenant(ck)); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.Tenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, tn := range all {
		keys = append(keys, tn.ClientKey)
		if tn.SharedSecret != sampleTenant(tn.ClientKey).SharedSecret {
			t.Errorf("%s: wrong secret", tn.ClientKey)
		}
	}
	if want := []string{"B", "a", "m", "z"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("Tenants order %v, want %v", keys, want)
	}
}

// TestTenantCacheNeverServesStaleRecords: reads racing writes always see
// the last committed record once the write returns (an uninstall must
// refuse the tenant's tokens at once).
func TestTenantCacheNeverServesStaleRecords(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	if err := s.PutTenant(ctx, sampleTenant("c")); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					if _, err := s.Tenant(ctx, "c"); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	for i := range 200 {
		secret := fmt.Sprintf("secret-%d", i)
		if err := s.UpdateTenant(ctx, "c", func(tn *store.Tenant) error { tn.SharedSecret = secret; return nil }); err != nil {
			t.Fatal(err)
		}
		got, err := s.Tenant(ctx, "c")
		if err != nil || got.SharedSecret != secret {
			t.Fatalf("after update %d read %q, %v", i, got.SharedSecret, err)
		}
	}
	close(stop)
	wg.Wait()
}
