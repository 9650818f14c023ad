// Package storetest opens real, throwaway stores for tests.
package storetest

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/seatlens/seatlens/store"
)

// opened remembers how each store was opened so Reopen can repeat it.
var opened sync.Map // *store.Store → store.Options

// NewSealer returns a Sealer with a fresh random key.
func NewSealer(t testing.TB) *store.Sealer {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	s, err := store.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Open returns a store in a fresh temporary folder with a fresh key and
// fsync disabled. Cleanup closes it and fails the test if the file is not a
// consistent bbolt database.
func Open(t testing.TB) *store.Store {
	t.Helper()
	return OpenOptions(t, store.Options{Dir: t.TempDir(), Sealer: NewSealer(t)})
}

// OpenOptions is Open with caller-chosen options; an empty Dir or nil Sealer
// is filled in, and NoSync is always set.
func OpenOptions(t testing.TB, o store.Options) *store.Store {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	if o.Sealer == nil {
		o.Sealer = NewSealer(t)
	}
	o.NoSync = true
	s, err := store.Open(context.Background(), o)
	if err != nil {
		t.Fatalf("storetest: open: %v", err)
	}
	opened.Store(s, o)
	t.Cleanup(func() {
		opened.Delete(s)
		if err := s.Close(); err != nil {
			t.Errorf("storetest: close: %v", err)
		}
		if err := Check(s.Path()); err != nil {
			t.Errorf("storetest: %v", err)
		}
	})
	return s
}

// Reopen closes s and opens its folder again with the same options, as a
// server restart would.
func Reopen(t testing.TB, s *store.Store) *store.Store {
	t.Helper()
	v, ok := opened.Load(s)
	if !ok {
		t.Fatal("storetest: Reopen of a store not opened by storetest (or already cleaned up)")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("storetest: close before reopen: %v", err)
	}
	return OpenOptions(t, v.(store.Options))
}

// Check runs bbolt's consistency check on the closed database at path.
func Check(path string) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
}
