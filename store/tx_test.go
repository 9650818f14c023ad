package store_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seatlens/seatlens/store"
	"github.com/seatlens/seatlens/store/storetest"
)

// openWithTenants opens a store holding the given tenants.
func openWithTenants(t *testing.T, clientKeys ...string) *store.Store {
	t.Helper()
	s := storetest.Open(t)
	for _, ck := range clientKeys {
		if err := s.PutTenant(t.Context(), sampleTenant(ck)); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func update(t *testing.T, s *store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatal(err)
	}
}

func view(t *testing.T, s *store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.View(t.Context(), fn); err != nil {
		t.Fatal(err)
	}
}

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// keysOf walks a bucket and returns its keys as strings, in walk order.
func keysOf(t *testing.T, tx store.Tx, reverse bool, ck, bucket string, from []byte) []string {
	t.Helper()
	var got []string
	walk := tx.Each
	if reverse {
		walk = tx.EachReverse
	}
	err := walk(ck, bucket, from, func(k, _ []byte) error {
		got = append(got, string(k))
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s from %q: %v", bucket, from, err)
	}
	return got
}

func TestTxPutGetDelete(t *testing.T) {
	s := openWithTenants(t, "a")
	buf := []byte("v1")
	update(t, s, func(tx store.Tx) error {
		if err := tx.Put("a", "seats", []byte("k"), buf); err != nil {
			return err
		}
		buf[0] = 'X' // Put copied the value
		v, err := tx.Get("a", "seats", []byte("k"))
		if err != nil || string(v) != "v1" {
			t.Errorf("Get in the same transaction = %q, %v", v, err)
		}
		return tx.Put("a", "seats", []byte("empty"), nil)
	})
	view(t, s, func(tx store.Tx) error {
		v, err := tx.Get("a", "seats", []byte("k"))
		if err != nil || string(v) != "v1" {
			t.Errorf("Get after commit = %q, %v", v, err)
		}
		v[0] = 'Y' // Get returned a copy
		if v, err := tx.Get("a", "seats", []byte("empty")); err != nil || v == nil || len(v) != 0 {
			t.Errorf("empty value = %#v, %v; want non-nil empty", v, err)
		}
		for _, c := range []struct{ bucket, key string }{{"seats", "nope"}, {"nope", "k"}} {
			if _, err := tx.Get("a", c.bucket, []byte(c.key)); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Get(%s/%s) = %v, want ErrNotFound", c.bucket, c.key, err)
			}
		}
		return nil
	})
	if v, err := s.TenantGet(t.Context(), "a", "seats", []byte("k")); err != nil || string(v) != "v1" {
		t.Errorf("TenantGet = %q, %v", v, err)
	}
	update(t, s, func(tx store.Tx) error {
		for _, c := range []struct{ bucket, key string }{{"seats", "k"}, {"seats", "k"}, {"nope", "k"}} {
			if err := tx.Delete("a", c.bucket, []byte(c.key)); err != nil {
				t.Errorf("Delete(%s/%s) = %v", c.bucket, c.key, err)
			}
		}
		if _, err := tx.Get("a", "seats", []byte("k")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get after Delete = %v", err)
		}
		if err := tx.DeleteBucket("a", "seats"); err != nil {
			return err
		}
		if err := tx.DeleteBucket("a", "seats"); err != nil {
			t.Errorf("DeleteBucket of an absent bucket = %v", err)
		}
		if _, err := tx.Get("a", "seats", []byte("empty")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get after DeleteBucket = %v", err)
		}
		return nil
	})
}

func TestTxAtomicity(t *testing.T) {
	s := openWithTenants(t, "a", "b")
	update(t, s, func(tx store.Tx) error {
		if err := tx.Put("a", "keep", []byte("k"), []byte("old")); err != nil {
			return err
		}
		return tx.Put("b", "keep", []byte("k"), []byte("old"))
	})

	boom := errors.New("boom")
	err := s.Update(t.Context(), func(tx store.Tx) error {
		steps := []error{
			tx.Put("a", "new", []byte("k"), []byte("v")),
			tx.Put("a", "keep", []byte("k"), []byte("overwritten")),
			tx.Put("a", "keep", []byte("k2"), []byte("added")),
			tx.DeleteBucket("b", "keep"),
		}
		for i := range 3 {
			n, err := tx.NextSeq("a", "ctr")
			if err != nil || n != uint64(i+1) {
				t.Errorf("NextSeq = %d, %v", n, err)
			}
		}
		for _, err := range steps {
			if err != nil {
				t.Fatal(err)
			}
		}
		return fmt.Errorf("scan failed: %w", boom)
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want fn's error", err)
	}

	view(t, s, func(tx store.Tx) error {
		if names, err := tx.Buckets("a", ""); err != nil || !reflect.DeepEqual(names, []string{"keep"}) {
			t.Errorf("buckets after rollback = %q, %v", names, err)
		}
		if _, err := tx.Get("a", "new", []byte("k")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("created bucket survived the rollback: %v", err)
		}
		if v, err := tx.Get("a", "keep", []byte("k")); err != nil || string(v) != "old" {
			t.Errorf("overwrite survived the rollback: %q, %v", v, err)
		}
		if _, err := tx.Get("a", "keep", []byte("k2")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("added key survived the rollback: %v", err)
		}
		if v, err := tx.Get("b", "keep", []byte("k")); err != nil || string(v) != "old" {
			t.Errorf("deleted bucket not restored: %q, %v", v, err)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		if n, err := tx.NextSeq("a", "ctr"); err != nil || n != 1 {
			t.Errorf("NextSeq after rollback = %d, %v, want 1", n, err)
		}
		return nil
	})
}

func TestTxPanicRollsBack(t *testing.T) {
	s := openWithTenants(t, "a")
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("panic swallowed")
			}
		}()
		_ = s.Update(t.Context(), func(tx store.Tx) error {
			if err := tx.Put("a", "b", []byte("k"), []byte("v")); err != nil {
				return err
			}
			panic("fn panics")
		})
	}()
	// The write lock is free again and nothing was written.
	if _, err := s.TenantGet(t.Context(), "a", "b", []byte("k")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("write of a panicking fn = %v", err)
	}
	if err := s.TenantPut(t.Context(), "a", "b", []byte("k"), []byte("v")); err != nil {
		t.Errorf("store unusable after a panic: %v", err)
	}
}

func TestViewIsReadOnly(t *testing.T) {
	s := openWithTenants(t, "a")
	if err := s.TenantPut(t.Context(), "a", "b", []byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	view(t, s, func(tx store.Tx) error {
		_, seqErr := tx.NextSeq("a", "b")
		for name, err := range map[string]error{
			"Put":          tx.Put("a", "b", []byte("k2"), []byte("v")),
			"Delete":       tx.Delete("a", "b", []byte("k")),
			"DeleteBucket": tx.DeleteBucket("a", "b"),
			"NextSeq":      seqErr,
			// Refused before the tenant is looked up.
			"Put unknown tenant": tx.Put("ghost", "b", []byte("k"), nil),
		} {
			if err == nil || !strings.Contains(err.Error(), "read-only") || errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s in View = %v, want a read-only error", name, err)
			}
		}
		if v, err := tx.Get("a", "b", []byte("k")); err != nil || string(v) != "v" {
			t.Errorf("Get in View = %q, %v", v, err)
		}
		return nil
	})
	if v, err := s.TenantGet(t.Context(), "a", "b", []byte("k")); err != nil || string(v) != "v" {
		t.Errorf("View changed data: %q, %v", v, err)
	}
	if _, err := s.TenantGet(t.Context(), "a", "b", []byte("k2")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("View wrote a key: %v", err)
	}
}

func TestTxEachOrderAndBounds(t *testing.T) {
	s := openWithTenants(t, "a")
	// Big-endian numbers sort numerically; the strings sort bytewise.
	keys := []string{"b", "d", "f", "ab", string(u64(2)), string(u64(256)), string(u64(1))}
	update(t, s, func(tx store.Tx) error {
		for _, k := range keys {
			if err := tx.Put("a", "log", []byte(k), []byte("v:"+k)); err != nil {
				return err
			}
		}
		return nil
	})
	asc := []string{string(u64(1)), string(u64(2)), string(u64(256)), "ab", "b", "d", "f"}
	desc := make([]string, len(asc))
	for i, k := range asc {
		desc[len(asc)-1-i] = k
	}

	view(t, s, func(tx store.Tx) error {
		for _, c := range []struct {
			name    string
			reverse bool
			from    []byte
			want    []string
		}{
			{"all", false, nil, asc},
			{"empty from", false, []byte{}, asc},
			{"exact", false, []byte("b"), []string{"b", "d", "f"}},
			{"between", false, []byte("c"), []string{"d", "f"}},
			{"before first", false, []byte{0}, asc},
			{"numeric", false, u64(2), asc[1:]},
			{"past end", false, []byte("g"), nil},
			{"reverse all", true, nil, desc},
			{"reverse exact", true, []byte("d"), []string{"d", "b", "ab", string(u64(256)), string(u64(2)), string(u64(1))}},
			{"reverse between", true, []byte("c"), []string{"b", "ab", string(u64(256)), string(u64(2)), string(u64(1))}},
			{"reverse past end", true, []byte("z"), desc},
			{"reverse numeric", true, u64(255), []string{string(u64(2)), string(u64(1))}},
			{"reverse before first", true, []byte{0}, nil},
		} {
			if got := keysOf(t, tx, c.reverse, "a", "log", c.from); !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s: walked %q, want %q", c.name, got, c.want)
			}
		}
		// Values match their keys.
		err := tx.Each("a", "log", nil, func(k, v []byte) error {
			if string(v) != "v:"+string(k) {
				t.Errorf("value of %q = %q", k, v)
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
		// An absent bucket is empty.
		if got := keysOf(t, tx, false, "a", "nope", nil); got != nil {
			t.Errorf("absent bucket walked %q", got)
		}
		if got := keysOf(t, tx, true, "a", "nope", nil); got != nil {
			t.Errorf("absent bucket walked %q", got)
		}
		return nil
	})
}

func TestTxEachStop(t *testing.T) {
	s := openWithTenants(t, "a")
	update(t, s, func(tx store.Tx) error {
		for i := range 10 {
			if err := tx.Put("a", "log", u64(uint64(i)), nil); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		for _, reverse := range []bool{false, true} {
			walk := tx.Each
			if reverse {
				walk = tx.EachReverse
			}
			n := 0
			err := walk("a", "log", nil, func(k, v []byte) error {
				n++
				if n == 3 {
					return store.ErrStop
				}
				return nil
			})
			if err != nil || n != 3 {
				t.Errorf("reverse=%v: ErrStop: err %v after %d calls, want nil after 3", reverse, err, n)
			}
			n = 0
			err = walk("a", "log", nil, func(k, v []byte) error {
				n++
				return fmt.Errorf("wrapped: %w", store.ErrStop)
			})
			if err != nil || n != 1 {
				t.Errorf("reverse=%v: wrapped ErrStop: err %v after %d calls", reverse, err, n)
			}
			boom := errors.New("boom")
			n = 0
			err = walk("a", "log", nil, func(k, v []byte) error {
				n++
				if n == 2 {
					return boom
				}
				return nil
			})
			if !errors.Is(err, boom) || n != 2 {
				t.Errorf("reverse=%v: fn error: err %v after %d calls", reverse, err, n)
			}
		}
		return nil
	})
}

// TestTxEachWhileWriting: a walk may delete and overwrite as it goes, the
// way a queue drains due entries.
func TestTxEachWhileWriting(t *testing.T) {
	s := openWithTenants(t, "a")
	const n = 2000 // several pages, so the cursor really has to find its way back
	for _, c := range []struct{ reverse, sameTx bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		fill := func(tx store.Tx) error {
			for i := range n {
				if err := tx.Put("a", "queue", u64(uint64(i)), []byte("pending")); err != nil {
					return err
				}
			}
			return nil
		}
		if !c.sameTx {
			update(t, s, fill)
		}
		var seen []uint64
		update(t, s, func(tx store.Tx) error {
			// Filled in this transaction, the bucket is all in-memory
			// nodes, which shift under a cursor as keys are deleted.
			if c.sameTx {
				if err := fill(tx); err != nil {
					return err
				}
			}
			walk := tx.Each
			if c.reverse {
				walk = tx.EachReverse
			}
			return walk("a", "queue", nil, func(k, v []byte) error {
				i := binary.BigEndian.Uint64(k)
				seen = append(seen, i)
				if i%2 == 0 {
					return tx.Delete("a", "queue", k)
				}
				return tx.Put("a", "queue", k, []byte("done"))
			})
		})
		if len(seen) != n {
			t.Fatalf("%+v: visited %d keys, want %d", c, len(seen), n)
		}
		for j, i := range seen {
			want := uint64(j)
			if c.reverse {
				want = uint64(n - 1 - j)
			}
			if i != want {
				t.Fatalf("%+v: visit %d was key %d, want %d", c, j, i, want)
			}
		}
		view(t, s, func(tx store.Tx) error {
			count := 0
			err := tx.Each("a", "queue", nil, func(k, v []byte) error {
				if binary.BigEndian.Uint64(k)%2 == 0 || string(v) != "done" {
					t.Errorf("%+v: left %d = %q", c, binary.BigEndian.Uint64(k), v)
				}
				count++
				return nil
			})
			if count != n/2 {
				t.Errorf("%+v: %d keys left, want %d", c, count, n/2)
			}
			return err
		})
		update(t, s, func(tx store.Tx) error { return tx.DeleteBucket("a", "queue") })
	}

	// Deleting the walked bucket ends the walk.
	update(t, s, func(tx store.Tx) error {
		for i := range 5 {
			if err := tx.Put("a", "gone", u64(uint64(i)), nil); err != nil {
				return err
			}
		}
		calls := 0
		err := tx.Each("a", "gone", nil, func(k, v []byte) error {
			calls++
			return tx.DeleteBucket("a", "gone")
		})
		if err != nil || calls != 1 {
			t.Errorf("walk over a deleted bucket: %v after %d calls", err, calls)
		}
		return nil
	})
}

func TestTxBuckets(t *testing.T) {
	s := openWithTenants(t, "a", "b")
	update(t, s, func(tx store.Tx) error {
		for _, name := range []string{"scan/2", "scan/10", "scan/1", "scans", "queue", "a", "emptied"} {
			if err := tx.Put("a", name, []byte("k"), []byte("v")); err != nil {
				return err
			}
		}
		if err := tx.Put("b", "scan/99", []byte("k"), nil); err != nil {
			return err
		}
		if _, err := tx.NextSeq("a", "scan/counter"); err != nil {
			return err
		}
		return tx.Delete("a", "emptied", []byte("k"))
	})
	view(t, s, func(tx store.Tx) error {
		for _, c := range []struct {
			prefix string
			want   []string
		}{
			{"", []string{"a", "queue", "scan/1", "scan/10", "scan/2", "scans"}},
			{"scan/", []string{"scan/1", "scan/10", "scan/2"}},
			{"scan", []string{"scan/1", "scan/10", "scan/2", "scans"}},
			{"scan/1", []string{"scan/1", "scan/10"}},
			{"queue", []string{"queue"}},
			{"zzz", nil},
			{"b", nil},
		} {
			got, err := tx.Buckets("a", c.prefix)
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Errorf("Buckets(a, %q) = %q, %v, want %q", c.prefix, got, err, c.want)
			}
		}
		if got, err := tx.Buckets("b", ""); err != nil || !reflect.DeepEqual(got, []string{"scan/99"}) {
			t.Errorf("Buckets(b) = %q, %v", got, err)
		}
		if _, err := tx.Buckets("a", "x\x00"); err == nil {
			t.Error("Buckets accepted a prefix with NUL")
		}
		return nil
	})
}

func TestTxUnknownTenant(t *testing.T) {
	s := openWithTenants(t, "a")
	err := s.Update(t.Context(), func(tx store.Tx) error {
		_, getErr := tx.Get("ghost", "b", []byte("k"))
		_, bucketsErr := tx.Buckets("ghost", "")
		_, seqErr := tx.NextSeq("ghost", "b")
		for name, err := range map[string]error{
			"Get":          getErr,
			"Put":          tx.Put("ghost", "b", []byte("k"), []byte("v")),
			"Delete":       tx.Delete("ghost", "b", []byte("k")),
			"DeleteBucket": tx.DeleteBucket("ghost", "b"),
			"Each":         tx.Each("ghost", "b", nil, func(k, v []byte) error { return nil }),
			"EachReverse":  tx.EachReverse("ghost", "b", nil, func(k, v []byte) error { return nil }),
			"Buckets":      bucketsErr,
			"NextSeq":      seqErr,
		} {
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s for an unknown tenant = %v, want ErrNotFound", name, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tenant(t.Context(), "ghost"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a transaction created a tenant: %v", err)
	}
}

func TestTxPurgedTenant(t *testing.T) {
	clk := newClock()
	s := storetest.OpenOptions(t, store.Options{Now: clk.Now})
	ctx := t.Context()
	if err := s.PutTenant(ctx, sampleTenant("gone")); err != nil {
		t.Fatal(err)
	}
	update(t, s, func(tx store.Tx) error {
		if _, err := tx.NextSeq("gone", "scans"); err != nil {
			return err
		}
		return tx.Put("gone", "scans", []byte("k"), []byte("v"))
	})
	err := s.UpdateTenant(ctx, "gone", func(t *store.Tenant) error {
		t.Installed = false
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Uninstalled but within the grace period: still writable.
	update(t, s, func(tx store.Tx) error { return tx.Put("gone", "scans", []byte("k2"), nil) })

	clk.Advance(time.Hour)
	if purged, err := s.PurgeUninstalled(ctx, clk.Now()); err != nil || len(purged) != 1 {
		t.Fatalf("purge = %v, %v", purged, err)
	}
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.Put("gone", "scans", []byte("k"), []byte("late")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Put for a purged tenant = %v, want ErrNotFound", err)
		}
		if _, err := tx.NextSeq("gone", "scans"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("NextSeq for a purged tenant = %v, want ErrNotFound", err)
		}
		if _, err := tx.Get("gone", "scans", []byte("k")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get for a purged tenant = %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tenant(ctx, "gone"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("write resurrected the purged tenant: %v", err)
	}
}

func TestTxRejectsBadArguments(t *testing.T) {
	s := openWithTenants(t, "a")
	nop := func(k, v []byte) error { return nil }
	for _, c := range []struct {
		ck, bucket string
		key        []byte
	}{
		{"", "b", []byte("k")},
		{"a", "", []byte("k")},
		{"a", "b\x00c", []byte("k")},
		{"a", "\x00seq", []byte("k")},
		{"a", "b", nil},
		{"a", "b", []byte{}},
	} {
		keyless := len(c.key) == 0 && c.ck != "" && c.bucket != "" && !strings.Contains(c.bucket, "\x00")
		err := s.Update(t.Context(), func(tx store.Tx) error {
			_, getErr := tx.Get(c.ck, c.bucket, c.key)
			errs := map[string]error{
				"Get":    getErr,
				"Put":    tx.Put(c.ck, c.bucket, c.key, []byte("v")),
				"Delete": tx.Delete(c.ck, c.bucket, c.key),
			}
			if !keyless {
				_, seqErr := tx.NextSeq(c.ck, c.bucket)
				errs["NextSeq"] = seqErr
				errs["DeleteBucket"] = tx.DeleteBucket(c.ck, c.bucket)
				errs["Each"] = tx.Each(c.ck, c.bucket, nil, nop)
				errs["EachReverse"] = tx.EachReverse(c.ck, c.bucket, nil, nop)
			}
			for name, err := range errs {
				if err == nil || errors.Is(err, store.ErrNotFound) {
					t.Errorf("%s(%q, %q, %q) = %v, want a validation error", name, c.ck, c.bucket, c.key, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.TenantPut(t.Context(), "a", "b\x00", []byte("k"), nil); err == nil {
		t.Error("TenantPut accepted a bucket name with NUL")
	}
	err := s.View(t.Context(), func(tx store.Tx) error {
		if _, err := tx.Buckets("", ""); err == nil {
			t.Error("Buckets without client key succeeded")
		}
		if err := tx.Each("a", "b", nil, nil); err == nil {
			t.Error("Each with a nil function succeeded")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(t.Context(), nil); err == nil {
		t.Error("Update(nil) succeeded")
	}
	if err := s.View(t.Context(), nil); err == nil {
		t.Error("View(nil) succeeded")
	}
}

func TestTxUsedAfterReturn(t *testing.T) {
	s := openWithTenants(t, "a")
	if err := s.TenantPut(t.Context(), "a", "b", []byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	var fromUpdate, fromView store.Tx
	update(t, s, func(tx store.Tx) error { fromUpdate = tx; return nil })
	view(t, s, func(tx store.Tx) error { fromView = tx; return nil })
	var failed store.Tx
	_ = s.Update(t.Context(), func(tx store.Tx) error { failed = tx; return errors.New("roll back") })

	for name, tx := range map[string]store.Tx{"Update": fromUpdate, "View": fromView, "failed Update": failed} {
		called := false
		fn := func(k, v []byte) error { called = true; return nil }
		_, getErr := tx.Get("a", "b", []byte("k"))
		_, bucketsErr := tx.Buckets("a", "")
		_, seqErr := tx.NextSeq("a", "b")
		for op, err := range map[string]error{
			"Get":          getErr,
			"Put":          tx.Put("a", "b", []byte("k"), nil),
			"Delete":       tx.Delete("a", "b", []byte("k")),
			"DeleteBucket": tx.DeleteBucket("a", "b"),
			"Each":         tx.Each("a", "b", nil, fn),
			"EachReverse":  tx.EachReverse("a", "b", nil, fn),
			"Buckets":      bucketsErr,
			"NextSeq":      seqErr,
		} {
			if err == nil || !strings.Contains(err.Error(), "after its function returned") {
				t.Errorf("%s of a Tx from %s after return = %v", op, name, err)
			}
		}
		if called {
			t.Errorf("walk of a finished Tx from %s called fn", name)
		}
	}
	// Even inside a live transaction, a finished Tx stays finished.
	update(t, s, func(store.Tx) error {
		if err := fromUpdate.Put("a", "b", []byte("k"), nil); err == nil {
			t.Error("a finished Tx wrote inside another transaction")
		}
		return nil
	})
	if v, err := s.TenantGet(t.Context(), "a", "b", []byte("k")); err != nil || string(v) != "v" {
		t.Errorf("data changed through a finished Tx: %q, %v", v, err)
	}
}

func TestTxNextSeqDurable(t *testing.T) {
	s := openWithTenants(t, "a", "b")
	next := func(s *store.Store, ck, bucket string) uint64 {
		t.Helper()
		var n uint64
		update(t, s, func(tx store.Tx) error {
			var err error
			n, err = tx.NextSeq(ck, bucket)
			return err
		})
		return n
	}
	for want := uint64(1); want <= 3; want++ {
		if got := next(s, "a", "scans"); got != want {
			t.Fatalf("NextSeq = %d, want %d", got, want)
		}
	}
	// Counters are per tenant and per bucket.
	if got := next(s, "a", "audit"); got != 1 {
		t.Errorf("another bucket's counter = %d, want 1", got)
	}
	if got := next(s, "b", "scans"); got != 1 {
		t.Errorf("another tenant's counter = %d, want 1", got)
	}
	// Several in one transaction.
	update(t, s, func(tx store.Tx) error {
		for want := uint64(4); want <= 6; want++ {
			if n, err := tx.NextSeq("a", "scans"); err != nil || n != want {
				t.Errorf("NextSeq = %d, %v, want %d", n, err, want)
			}
		}
		return nil
	})

	s = storetest.Reopen(t, s)
	if got := next(s, "a", "scans"); got != 7 {
		t.Errorf("NextSeq after reopen = %d, want 7", got)
	}
	// A counter survives its bucket, so ids are never reused.
	update(t, s, func(tx store.Tx) error {
		if err := tx.Put("a", "scans", []byte("k"), nil); err != nil {
			return err
		}
		return tx.DeleteBucket("a", "scans")
	})
	if got := next(s, "a", "scans"); got != 8 {
		t.Errorf("NextSeq after DeleteBucket = %d, want 8", got)
	}
	// NextSeq alone creates no visible bucket.
	view(t, s, func(tx store.Tx) error {
		if names, err := tx.Buckets("a", ""); err != nil || len(names) != 0 {
			t.Errorf("Buckets = %q, %v, want none", names, err)
		}
		if got := keysOf(t, tx, false, "a", "scans", nil); got != nil {
			t.Errorf("counter bucket walked %q", got)
		}
		return nil
	})
}

func TestTxConcurrentUpdates(t *testing.T) {
	s := openWithTenants(t, "a")
	ctx := t.Context()
	const workers, perWorker = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*2)
	for w := range workers {
		wg.Go(func() {
			for range perWorker {
				err := s.Update(ctx, func(tx store.Tx) error {
					n, err := tx.NextSeq("a", "jobs")
					if err != nil {
						return err
					}
					// A queue entry and its state change, together.
					if err := tx.Put("a", "jobs", u64(n), fmt.Appendf(nil, "worker %d", w)); err != nil {
						return err
					}
					return tx.Put("a", "state", []byte("last"), u64(n))
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
		// Readers alongside: every snapshot must be consistent.
		wg.Go(func() {
			for range perWorker {
				err := s.View(ctx, func(tx store.Tx) error {
					last, err := tx.Get("a", "state", []byte("last"))
					if errors.Is(err, store.ErrNotFound) {
						return nil
					}
					if err != nil {
						return err
					}
					var newest []byte
					err = tx.EachReverse("a", "jobs", nil, func(k, _ []byte) error {
						newest = k
						return store.ErrStop
					})
					if err != nil {
						return err
					}
					if string(newest) != string(last) {
						return fmt.Errorf("state says %x, newest job is %x", last, newest)
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	const total = workers * perWorker
	view(t, s, func(tx store.Tx) error {
		want := uint64(1)
		err := tx.Each("a", "jobs", nil, func(k, _ []byte) error {
			if got := binary.BigEndian.Uint64(k); got != want {
				return fmt.Errorf("job %d, want %d", got, want)
			}
			want++
			return nil
		})
		if want != total+1 {
			t.Errorf("%d jobs, want %d", want-1, total)
		}
		return err
	})
	update(t, s, func(tx store.Tx) error {
		if n, err := tx.NextSeq("a", "jobs"); err != nil || n != total+1 {
			t.Errorf("NextSeq = %d, %v, want %d", n, err, total+1)
		}
		return nil
	})
}

func TestTxCanceledContext(t *testing.T) {
	s := openWithTenants(t, "a")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	called := false
	fn := func(store.Tx) error { called = true; return nil }
	if err := s.Update(ctx, fn); !errors.Is(err, context.Canceled) {
		t.Errorf("Update with a canceled context = %v", err)
	}
	if err := s.View(ctx, fn); !errors.Is(err, context.Canceled) {
		t.Errorf("View with a canceled context = %v", err)
	}
	if called {
		t.Error("fn ran under a canceled context")
	}
}
