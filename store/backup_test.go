package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/seatlens/seatlens/store"
	"github.com/seatlens/seatlens/store/storetest"
)

func TestBackupWhileWritingThenRestore(t *testing.T) {
	sealer := storetest.NewSealer(t)
	s := storetest.OpenOptions(t, store.Options{Sealer: sealer})
	ctx := t.Context()

	const writers = 4
	for w := range writers {
		if err := s.PutTenant(ctx, sampleTenant(fmt.Sprint("tenant-", w))); err != nil {
			t.Fatal(err)
		}
		if err := s.TenantPut(ctx, fmt.Sprint("tenant-", w), "seed", []byte("k"), []byte("before backup")); err != nil {
			t.Fatal(err)
		}
	}

	// Each writer appends keys 0, 1, 2, ... in its own transactions, so any
	// consistent snapshot holds a gap-free prefix of every writer's keys.
	var (
		stop    atomic.Bool
		wg      sync.WaitGroup
		written [writers]atomic.Int64
	)
	for w := range writers {
		wg.Go(func() {
			ck := fmt.Sprint("tenant-", w)
			for i := 0; !stop.Load(); i++ {
				if err := s.TenantPut(ctx, ck, "log", seqKey(i), bytes.Repeat([]byte{byte(i)}, 100+i%500)); err != nil {
					t.Error(err)
					return
				}
				written[w].Store(int64(i + 1))
			}
		})
	}
	for w := range writers {
		for written[w].Load() < 50 {
			runtime.Gosched()
		}
	}

	var buf bytes.Buffer
	n, err := s.Backup(ctx, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Errorf("Backup reported %d bytes, wrote %d", n, buf.Len())
	}
	// Keep writing a little after the snapshot was taken.
	for w := range writers {
		target := written[w].Load() + 20
		for written[w].Load() < target {
			runtime.Gosched()
		}
	}
	stop.Store(true)
	wg.Wait()

	dir := filepath.Join(t.TempDir(), "restored")
	if err := store.Restore(ctx, dir, bytes.NewReader(buf.Bytes()), sealer); err != nil {
		t.Fatal(err)
	}
	assertNoRestoreTemp(t, dir)
	r := storetest.OpenOptions(t, store.Options{Dir: dir, Sealer: sealer})

	origTenants, err := s.Tenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	restoredTenants, err := r.Tenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(origTenants, restoredTenants) {
		t.Errorf("tenants differ after restore:\n%+v\n%+v", origTenants, restoredTenants)
	}
	for w := range writers {
		ck := fmt.Sprint("tenant-", w)
		if v, err := r.TenantGet(ctx, ck, "seed", []byte("k")); err != nil || string(v) != "before backup" {
			t.Errorf("%s seed = %q, %v", ck, v, err)
		}
		// Find the snapshot's prefix and check it against the original.
		i := 0
		for ; ; i++ {
			got, err := r.TenantGet(ctx, ck, "log", seqKey(i))
			if errors.Is(err, store.ErrNotFound) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			want, err := s.TenantGet(ctx, ck, "log", seqKey(i))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s key %d differs from the original (%v)", ck, i, err)
			}
		}
		if i < 50 {
			t.Errorf("%s: backup holds %d log entries, at least 50 were written before it", ck, i)
		}
		if int64(i) >= written[w].Load() {
			t.Errorf("%s: backup holds %d entries, but writes continued after it to %d", ck, i, written[w].Load())
		}
		for j := i + 1; j < i+5; j++ {
			if _, err := r.TenantGet(ctx, ck, "log", seqKey(j)); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: gap in the snapshot after key %d", ck, i)
			}
		}
	}
}

func seqKey(i int) []byte { return []byte(fmt.Sprintf("%08d", i)) }

func TestRestoreRefusesExistingDatabase(t *testing.T) {
	sealer := storetest.NewSealer(t)
	s := storetest.OpenOptions(t, store.Options{Sealer: sealer})
	var buf bytes.Buffer
	if _, err := s.Backup(t.Context(), &buf); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(s.Path())
	before, _ := os.ReadFile(s.Path())
	err := store.Restore(t.Context(), dir, &buf, sealer)
	if !errors.Is(err, store.ErrExists) {
		t.Fatalf("Restore over an existing database: %v, want ErrExists", err)
	}
	after, _ := os.ReadFile(s.Path())
	if !bytes.Equal(before, after) {
		t.Error("refused restore changed the database")
	}
	assertNoRestoreTemp(t, dir)
}

func TestRestoreRefusesBadInput(t *testing.T) {
	sealer := storetest.NewSealer(t)
	foreign := foreignBoltFile(t)
	cases := map[string][]byte{
		"empty":          nil,
		"short garbage":  []byte("not a database"),
		"page garbage":   bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 8192),
		"another bbolt":  foreign,
		"truncated half": backupOf(t, storetest.OpenOptions(t, store.Options{Sealer: sealer}))[:8192],
	}
	// Interrupted downloads: cut a larger backup at several points.
	big := storetest.OpenOptions(t, store.Options{Sealer: sealer})
	if err := big.PutTenant(t.Context(), sampleTenant("a")); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if err := big.TenantPut(t.Context(), "a", "b", seqKey(i), bytes.Repeat([]byte{1}, 1000)); err != nil {
			t.Fatal(err)
		}
	}
	full := backupOf(t, big)
	for _, cut := range []int{100, 4096, 8192, len(full) / 2, len(full) - 4096, len(full) - 1} {
		cases[fmt.Sprintf("truncated to %d of %d", cut, len(full))] = full[:cut]
	}

	for name, input := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			err := store.Restore(t.Context(), dir, bytes.NewReader(input), sealer)
			if err == nil {
				t.Fatal("Restore accepted bad input")
			}
			if errors.Is(err, store.ErrExists) {
				t.Errorf("bad input reported as ErrExists: %v", err)
			}
			if errors.Is(err, bolt.ErrInvalid) || errors.Is(err, bolt.ErrChecksum) {
				t.Errorf("bbolt error leaked: %v", err)
			}
			t.Log(err)
			assertNoRestoreTemp(t, dir)
			if _, err := os.Stat(filepath.Join(dir, store.DBFileName)); !os.IsNotExist(err) {
				t.Errorf("failed restore left a database behind: %v", err)
			}
		})
	}
	t.Run("message for another bbolt file", func(t *testing.T) {
		err := store.Restore(t.Context(), t.TempDir(), bytes.NewReader(foreign), sealer)
		if err == nil || !strings.Contains(err.Error(), "not a seatlens database") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestRestoreWrongSealKey(t *testing.T) {
	right := storetest.NewSealer(t)
	wrong := storetest.NewSealer(t)
	backup := backupOf(t, storetest.OpenOptions(t, store.Options{Sealer: right}))

	dir := t.TempDir()
	err := store.Restore(t.Context(), dir, bytes.NewReader(backup), wrong)
	if err == nil {
		t.Fatal("Restore with the wrong key succeeded")
	}
	for _, fp := range []string{right.Fingerprint(), wrong.Fingerprint()} {
		if !strings.Contains(err.Error(), fp) {
			t.Errorf("error %q does not name fingerprint %s", err, fp)
		}
	}
	assertNoRestoreTemp(t, dir)
	if _, err := os.Stat(filepath.Join(dir, store.DBFileName)); !os.IsNotExist(err) {
		t.Errorf("failed restore left a database behind: %v", err)
	}

	// The same backup restores with the right key.
	if err := store.Restore(t.Context(), dir, bytes.NewReader(backup), right); err != nil {
		t.Fatal(err)
	}
	assertMode(t, filepath.Join(dir, store.DBFileName), 0o600)
}

func TestRestoreReplacesStaleTemp(t *testing.T) {
	sealer := storetest.NewSealer(t)
	backup := backupOf(t, storetest.OpenOptions(t, store.Options{Sealer: sealer}))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, store.DBFileName+".restore-tmp"), []byte("crashed"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := store.Restore(t.Context(), dir, bytes.NewReader(backup), sealer); err != nil {
		t.Fatal(err)
	}
	assertNoRestoreTemp(t, dir)
	storetest.OpenOptions(t, store.Options{Dir: dir, Sealer: sealer})
}

func TestBackupHandler(t *testing.T) {
	sealer := storetest.NewSealer(t)
	s := storetest.OpenOptions(t, store.Options{Sealer: sealer})
	ctx := t.Context()
	if err := s.PutTenant(ctx, sampleTenant("a")); err != nil {
		t.Fatal(err)
	}
	if err := s.TenantPut(ctx, "a", "seats", []byte("alice"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.BackupHandler())
	t.Cleanup(srv.Close)

	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		req, _ := http.NewRequestWithContext(ctx, method, srv.URL, strings.NewReader("x"))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s: status %d, want 405", method, resp.StatusCode)
		}
		if allow := resp.Header.Get("Allow"); allow != http.MethodGet {
			t.Errorf("%s: Allow = %q", method, allow)
		}
	}

	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("Content-Type = %q", ct)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if cl, _ := strconv.Atoi(resp.Header.Get("Content-Length")); cl != len(body) || cl == 0 {
		t.Errorf("Content-Length %q, body %d bytes", resp.Header.Get("Content-Length"), len(body))
	}

	dir := t.TempDir()
	if err := store.Restore(ctx, dir, bytes.NewReader(body), sealer); err != nil {
		t.Fatal(err)
	}
	r := storetest.OpenOptions(t, store.Options{Dir: dir, Sealer: sealer})
	if v, err := r.TenantGet(ctx, "a", "seats", []byte("alice")); err != nil || string(v) != "1" {
		t.Errorf("restored data = %q, %v", v, err)
	}
	if got, err := r.Tenant(ctx, "a"); err != nil || got.SharedSecret != sampleTenant("a").SharedSecret {
		t.Errorf("restored tenant = %+v, %v", got, err)
	}
}

func TestBackupHandlerClosedStore(t *testing.T) {
	s := storetest.Open(t)
	h := s.BackupHandler()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", rec.Code)
	}
}

func backupOf(t *testing.T, s *store.Store) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := s.Backup(t.Context(), &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func foreignBoltFile(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("other-app"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func assertNoRestoreTemp(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, store.DBFileName+".restore-tmp")); !os.IsNotExist(err) {
		t.Errorf("restore temp file left behind (stat: %v)", err)
	}
}

// TestRestoreAfterChurn restores a database whose free pages hold stale
// bytes from deleted large values, which must not be mistaken for damage.
func TestRestoreAfterChurn(t *testing.T) {
	sealer := storetest.NewSealer(t)
	s := storetest.OpenOptions(t, store.Options{Sealer: sealer})
	ctx := t.Context()
	if err := s.PutTenant(ctx, sampleTenant("a")); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte{0xff}, 5*4096+100)
	for round := range 5 {
		for i := range 20 {
			if err := s.TenantPut(ctx, "a", "big", seqKey(i), big); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 20 {
			if err := s.TenantDelete(ctx, "a", "big", seqKey(i)); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 200 {
			if err := s.TenantPut(ctx, "a", "small", seqKey(round*1000+i), []byte("v")); err != nil {
				t.Fatal(err)
			}
		}
	}
	dir := t.TempDir()
	if err := store.Restore(ctx, dir, bytes.NewReader(backupOf(t, s)), sealer); err != nil {
		t.Fatal(err)
	}
	r := storetest.OpenOptions(t, store.Options{Dir: dir, Sealer: sealer})
	if v, err := r.TenantGet(ctx, "a", "small", seqKey(4199)); err != nil || string(v) != "v" {
		t.Errorf("restored value = %q, %v", v, err)
	}
}

// TestRestoreSurvivesCorruption feeds Restore backups with random damage.
// bbolt itself faults, loops or runs out of memory on many such files; the
// restore must instead fail cleanly (or, for damage in unused space or in
// value bytes, succeed), and a failure must leave nothing behind.
func TestRestoreSurvivesCorruption(t *testing.T) {
	sealer := storetest.NewSealer(t)
	s := storetest.OpenOptions(t, store.Options{Sealer: sealer})
	ctx := t.Context()
	for _, ck := range []string{"a", "b"} {
		if err := s.PutTenant(ctx, sampleTenant(ck)); err != nil {
			t.Fatal(err)
		}
	}
	big := bytes.Repeat([]byte{0xab}, 3*4096)
	for round := range 2 {
		for i := range 5 {
			if err := s.TenantPut(ctx, "a", "big", seqKey(i), big); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 3 {
			if err := s.TenantDelete(ctx, "a", "big", seqKey(i)); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 150 {
			if err := s.TenantPut(ctx, "b", "small", seqKey(round*1000+i), bytes.Repeat([]byte{1}, 100)); err != nil {
				t.Fatal(err)
			}
		}
	}
	backup := backupOf(t, s)

	rng := rand.New(rand.NewPCG(7, 11))
	trials := 400
	if testing.Short() {
		trials = 50
	}
	for range trials {
		c := bytes.Clone(backup)
		for range 1 + rng.IntN(3) {
			off := rng.IntN(len(c) - 8)
			for j := range 1 + rng.IntN(8) {
				c[off+j] = byte(rng.Uint32())
			}
		}
		dir := t.TempDir()
		if err := store.Restore(ctx, dir, bytes.NewReader(c), sealer); err != nil {
			assertNoRestoreTemp(t, dir)
			if _, err := os.Stat(filepath.Join(dir, store.DBFileName)); !os.IsNotExist(err) {
				t.Fatalf("failed restore left a database behind: %v", err)
			}
		}
	}
}
