package store_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/seatlens/seatlens/store"
	"github.com/seatlens/seatlens/store/storetest"
)

// clock is an injectable, advanceable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock {
	return &clock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestOpenCreatesFilesPrivately(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	dir := filepath.Join(t.TempDir(), "data")
	s := storetest.OpenOptions(t, store.Options{Dir: dir})
	if want := filepath.Join(dir, store.DBFileName); s.Path() != want {
		t.Errorf("Path = %q, want %q", s.Path(), want)
	}
	assertMode(t, dir, 0o700)
	assertMode(t, s.Path(), 0o600)
}

func TestOpenValidatesOptions(t *testing.T) {
	ctx := t.Context()
	if _, err := store.Open(ctx, store.Options{Sealer: storetest.NewSealer(t)}); err == nil {
		t.Error("Open without Dir succeeded")
	}
	if _, err := store.Open(ctx, store.Options{Dir: t.TempDir()}); err == nil {
		t.Error("Open without Sealer succeeded")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := store.Open(cancelled, store.Options{Dir: t.TempDir(), Sealer: storetest.NewSealer(t)}); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with cancelled context: %v", err)
	}
}

func TestOpenSchemaVersion(t *testing.T) {
	s := storetest.Open(t)
	v, err := s.SchemaVersion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if v != 3 { // 0003_chain_heads
		t.Errorf("SchemaVersion = %d, want 3", v)
	}
}

func TestReopenKeepsData(t *testing.T) {
	s := storetest.Open(t)
	ctx := t.Context()
	if err := s.PutTenant(ctx, store.Tenant{ClientKey: "a", SharedSecret: "s", Installed: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.TenantPut(ctx, "a", "b", []byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	s = storetest.Reopen(t, s)
	got, err := s.Tenant(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if got.SharedSecret != "s" {
		t.Errorf("secret after reopen = %q", got.SharedSecret)
	}
	v, err := s.TenantGet(ctx, "a", "b", []byte("k"))
	if err != nil || string(v) != "v" {
		t.Errorf("TenantGet after reopen = %q, %v", v, err)
	}
	if v, _ := s.SchemaVersion(ctx); v != 3 {
		t.Errorf("SchemaVersion after reopen = %d", v)
	}
}

func TestOpenWrongSealKey(t *testing.T) {
	dir := t.TempDir()
	right := storetest.NewSealer(t)
	wrong := storetest.NewSealer(t)
	s, err := store.Open(t.Context(), store.Options{Dir: dir, Sealer: right, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	_, err = store.Open(t.Context(), store.Options{Dir: dir, Sealer: wrong, NoSync: true})
	if err == nil {
		t.Fatal("Open with the wrong seal key succeeded")
	}
	for _, fp := range []string{right.Fingerprint(), wrong.Fingerprint()} {
		if !strings.Contains(err.Error(), fp) {
			t.Errorf("error %q does not name fingerprint %s", err, fp)
		}
	}

	// The failed attempt must not have released a broken store or kept
	// the lock: the right key still opens it.
	s, err = store.Open(t.Context(), store.Options{Dir: dir, Sealer: right, NoSync: true})
	if err != nil {
		t.Fatalf("reopen with the right key: %v", err)
	}
	_ = s.Close()
}

func TestOpenLocked(t *testing.T) {
	s := storetest.Open(t)
	dir := filepath.Dir(s.Path())
	start := time.Now()
	_, err := store.Open(t.Context(), store.Options{Dir: dir, Sealer: storetest.NewSealer(t), Timeout: 100 * time.Millisecond})
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("ErrLocked took %v, want about the 100ms timeout", elapsed)
	}
	if errors.Is(err, bolt.ErrTimeout) {
		t.Error("bbolt's timeout error leaked to the caller")
	}
}

func TestOpenRemovesStaleRestoreFile(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, store.DBFileName+".restore-tmp")
	if err := os.WriteFile(stale, []byte("half a backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	storetest.OpenOptions(t, store.Options{Dir: dir})
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale restore file still there: %v", err)
	}
}

func TestOpenRefusesForeignBoltFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, store.DBFileName)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("other-app"))
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), []byte("v"))
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	before, _ := os.ReadFile(path)

	_, err = store.Open(t.Context(), store.Options{Dir: dir, Sealer: storetest.NewSealer(t), NoSync: true})
	if err == nil || !strings.Contains(err.Error(), "not a seatlens database") {
		t.Fatalf("Open of another app's bbolt file: %v", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("Open modified another app's database")
	}
}

func TestOpenRefusesGarbageFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, store.DBFileName), bytes.Repeat([]byte("garbage!"), 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := store.Open(t.Context(), store.Options{Dir: dir, Sealer: storetest.NewSealer(t), NoSync: true})
	if err == nil {
		t.Fatal("Open of a garbage file succeeded")
	}
	if errors.Is(err, bolt.ErrInvalid) {
		t.Error("bbolt's error leaked to the caller")
	}
}

func TestCloseTwice(t *testing.T) {
	s := storetest.Open(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.Tenant(t.Context(), "a"); err == nil || errors.Is(err, bolt.ErrDatabaseNotOpen) {
		t.Errorf("use after Close: %v", err)
	}
}

func TestCancelledContext(t *testing.T) {
	s := storetest.Open(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	checks := map[string]error{
		"Tenant":           func() error { _, err := s.Tenant(ctx, "a"); return err }(),
		"PutTenant":        s.PutTenant(ctx, store.Tenant{ClientKey: "a"}),
		"TenantPut":        s.TenantPut(ctx, "a", "b", []byte("k"), nil),
		"SchemaVersion":    func() error { _, err := s.SchemaVersion(ctx); return err }(),
		"Backup":           func() error { _, err := s.Backup(ctx, &bytes.Buffer{}); return err }(),
		"PurgeUninstalled": func() error { _, err := s.PurgeUninstalled(ctx, time.Now()); return err }(),
	}
	for name, err := range checks {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with cancelled context: %v", name, err)
		}
	}
	if _, err := s.Tenant(t.Context(), "a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a cancelled PutTenant wrote anyway: %v", err)
	}
}

func TestOpenRefusesTruncatedFile(t *testing.T) {
	sealer := storetest.NewSealer(t)
	s := storetest.OpenOptions(t, store.Options{Sealer: sealer})
	if err := s.PutTenant(t.Context(), sampleTenant("a")); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if err := s.TenantPut(t.Context(), "a", "b", seqKey(i), bytes.Repeat([]byte{1}, 1000)); err != nil {
			t.Fatal(err)
		}
	}
	raw := backupOf(t, s)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, store.DBFileName), raw[:len(raw)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := store.Open(t.Context(), store.Options{Dir: dir, Sealer: sealer, NoSync: true})
	if err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("Open of a truncated file: %v", err)
	}
}

func TestOpenTightensDatabaseMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	sealer := storetest.NewSealer(t)
	s := storetest.OpenOptions(t, store.Options{Sealer: sealer})
	dir, path := filepath.Dir(s.Path()), s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o666, 0o660} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		r, err := store.Open(t.Context(), store.Options{Dir: dir, Sealer: sealer, NoSync: true})
		if err != nil {
			t.Fatalf("mode %04o: %v", mode, err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		assertMode(t, path, 0o600)
	}
	// Owner-only modes are the operator's choice and stay as they are.
	if err := os.Chmod(path, 0o700); err != nil {
		t.Fatal(err)
	}
	r, err := store.Open(t.Context(), store.Options{Dir: dir, Sealer: sealer, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	_ = r.Close()
	assertMode(t, path, 0o700)
}

func TestOpenRemovesStaleBackupSnapshots(t *testing.T) {
	dir := t.TempDir()
	stale := []string{
		filepath.Join(dir, store.DBFileName+".backup-123456"),
		filepath.Join(dir, store.DBFileName+".backup-"),
	}
	for _, p := range stale {
		if err := os.WriteFile(p, []byte("half a snapshot"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Names that merely look similar are someone else's.
	keep := []string{
		filepath.Join(dir, store.DBFileName+".backup"),
		filepath.Join(dir, "other.db.backup-1"),
	}
	for _, p := range keep {
		if err := os.WriteFile(p, []byte("keep"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	storetest.OpenOptions(t, store.Options{Dir: dir})
	for _, p := range stale {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("stale snapshot %s still there: %v", p, err)
		}
	}
	for _, p := range keep {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("Open removed %s: %v", p, err)
		}
	}
}
