package store_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/seatlens/seatlens/store"
	"github.com/seatlens/seatlens/store/storetest"
)

func TestTenantData(t *testing.T) {
	s := storetest.Open(t)
	ctx := t.Context()
	if err := s.PutTenant(ctx, sampleTenant("a")); err != nil {
		t.Fatal(err)
	}

	if _, err := s.TenantGet(ctx, "a", "seats", []byte("k")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get from absent sub-bucket: %v", err)
	}
	if err := s.TenantPut(ctx, "a", "seats", []byte("k"), []byte("v1")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TenantGet(ctx, "a", "seats", []byte("other")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get of absent key: %v", err)
	}
	v, err := s.TenantGet(ctx, "a", "seats", []byte("k"))
	if err != nil || string(v) != "v1" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	// The returned slice belongs to the caller.
	v[0] = 'X'
	if v2, _ := s.TenantGet(ctx, "a", "seats", []byte("k")); string(v2) != "v1" {
		t.Errorf("mutating a returned value changed the store: %q", v2)
	}

	if err := s.TenantPut(ctx, "a", "seats", []byte("k"), []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.TenantGet(ctx, "a", "seats", []byte("k")); string(v) != "v2" {
		t.Errorf("overwrite: %q", v)
	}

	if err := s.TenantDelete(ctx, "a", "seats", []byte("k")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TenantGet(ctx, "a", "seats", []byte("k")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after delete: %v", err)
	}
	if err := s.TenantDelete(ctx, "a", "seats", []byte("k")); err != nil {
		t.Errorf("deleting an absent key: %v", err)
	}
	if err := s.TenantDelete(ctx, "a", "never-created", []byte("k")); err != nil {
		t.Errorf("deleting from an absent bucket: %v", err)
	}
}

func TestTenantDataEmptyValue(t *testing.T) {
	s := storetest.Open(t)
	ctx := t.Context()
	if err := s.PutTenant(ctx, sampleTenant("a")); err != nil {
		t.Fatal(err)
	}
	for _, val := range [][]byte{nil, {}} {
		if err := s.TenantPut(ctx, "a", "b", []byte("k"), val); err != nil {
			t.Fatal(err)
		}
		s = storetest.Reopen(t, s) // read from the page, not the dirty node
		got, err := s.TenantGet(ctx, "a", "b", []byte("k"))
		if err != nil {
			t.Fatalf("empty value reads as %v", err)
		}
		if got == nil || len(got) != 0 {
			t.Errorf("empty value = %#v, want non-nil empty", got)
		}
	}
}

func TestTenantDataUnknownTenant(t *testing.T) {
	s := storetest.Open(t)
	ctx := t.Context()
	if err := s.TenantPut(ctx, "ghost", "b", []byte("k"), []byte("v")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TenantPut for unknown tenant: %v", err)
	}
	if _, err := s.Tenant(ctx, "ghost"); !errors.Is(err, store.ErrNotFound) {
		t.Error("TenantPut created a tenant")
	}
	if _, err := s.TenantGet(ctx, "ghost", "b", []byte("k")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TenantGet for unknown tenant: %v", err)
	}
	if err := s.TenantDelete(ctx, "ghost", "b", []byte("k")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TenantDelete for unknown tenant: %v", err)
	}
}

func TestTenantDataRejectsEmptyNames(t *testing.T) {
	s := storetest.Open(t)
	ctx := t.Context()
	if err := s.PutTenant(ctx, sampleTenant("a")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ck, bucket string
		key        []byte
	}{{"", "b", []byte("k")}, {"a", "", []byte("k")}, {"a", "b", nil}, {"a", "b", []byte{}}} {
		if err := s.TenantPut(ctx, c.ck, c.bucket, c.key, []byte("v")); err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("TenantPut(%q, %q, %q) = %v, want a validation error", c.ck, c.bucket, c.key, err)
		}
		if _, err := s.TenantGet(ctx, c.ck, c.bucket, c.key); err == nil {
			t.Errorf("TenantGet(%q, %q, %q) succeeded", c.ck, c.bucket, c.key)
		}
		if err := s.TenantDelete(ctx, c.ck, c.bucket, c.key); err == nil {
			t.Errorf("TenantDelete(%q, %q, %q) succeeded", c.ck, c.bucket, c.key)
		}
	}
}

func TestTenantIsolation(t *testing.T) {
	s := storetest.Open(t)
	ctx := t.Context()
	for _, ck := range []string{"a", "b", "ab"} {
		if err := s.PutTenant(ctx, sampleTenant(ck)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.TenantPut(ctx, "a", "seats", []byte("alice"), []byte("A's data")); err != nil {
		t.Fatal(err)
	}
	if err := s.TenantPut(ctx, "a", "bseats", []byte("x"), []byte("A's data")); err != nil {
		t.Fatal(err)
	}
	for _, probe := range []struct{ ck, bucket, key string }{
		{"b", "seats", "alice"},
		{"ab", "seats", "alice"},
		{"ab", "eats", "alice"},
		{"a", "b", "seatsalice"},
		{"b", "seats", "x"},
	} {
		if v, err := s.TenantGet(ctx, probe.ck, probe.bucket, []byte(probe.key)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("TenantGet%v = %q, %v: leaked another tenant's data", probe, v, err)
		}
	}
	if err := s.TenantPut(ctx, "b", "seats", []byte("alice"), []byte("B's data")); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.TenantGet(ctx, "a", "seats", []byte("alice")); string(v) != "A's data" {
		t.Errorf("B's write changed A's value to %q", v)
	}
	if err := s.TenantDelete(ctx, "b", "seats", []byte("alice")); err != nil {
		t.Fatal(err)
	}
	if v, err := s.TenantGet(ctx, "a", "seats", []byte("alice")); err != nil || string(v) != "A's data" {
		t.Errorf("B's delete touched A: %q, %v", v, err)
	}
}

func TestTenantSealOpen(t *testing.T) {
	s := storetest.Open(t)
	sealed, err := s.TenantSeal("a", "org-key", []byte("org secret"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("org secret")) {
		t.Fatal("sealed value contains the plaintext")
	}
	pt, err := s.TenantOpen("a", "org-key", sealed)
	if err != nil || string(pt) != "org secret" {
		t.Fatalf("TenantOpen = %q, %v", pt, err)
	}
	if _, err := s.TenantOpen("b", "org-key", sealed); err == nil {
		t.Error("another tenant opened the value")
	}
	if _, err := s.TenantOpen("a", "app-token", sealed); err == nil {
		t.Error("the value opened for another purpose")
	}
	if _, err := s.TenantSeal("", "p", nil); err == nil {
		t.Error("TenantSeal without client key succeeded")
	}
	if _, err := s.TenantSeal("a", "", nil); err == nil {
		t.Error("TenantSeal without purpose succeeded")
	}

	// Another store (another key) cannot open it.
	if _, err := storetest.Open(t).TenantOpen("a", "org-key", sealed); err == nil {
		t.Error("a store with another key opened the value")
	}
}

// TestSealContextsDoNotCollide: the secret of tenant "a/b" and a value
// sealed for tenant "a" with purpose "b" must not open as each other.
func TestSealContextsDoNotCollide(t *testing.T) {
	s := storetest.Open(t)
	sealed, err := s.TenantSeal("a", "b", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.TenantOpen("a/b", "x", sealed); err == nil {
		t.Fatal("opened under another tenant and purpose")
	}
	if _, err := s.TenantSeal("a\x00", "b", []byte("x")); err == nil {
		t.Fatal("NUL accepted in a client key")
	}
}
