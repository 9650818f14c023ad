package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"net"
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
	"time"

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
	// However the test ends, the writers stop before the store closes.
	t.Cleanup(func() {
		stop.Store(true)
		wg.Wait()
	})
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
		waitFor(t, fmt.Sprint("writer ", w, " to write 50 keys"), func() bool { return written[w].Load() >= 50 })
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
		waitFor(t, fmt.Sprint("writer ", w, " to write past the snapshot"), func() bool { return written[w].Load() >= target })
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
	// Close waits for the handler, which deletes its snapshot on the way out.
	srv.Close()
	assertNoBackupTemp(t, filepath.Dir(s.Path()))

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
	assertNoBackupTemp(t, filepath.Dir(s.Path()))
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

// TestBackupHandlerStalledClient is a client of the admin socket that asks
// for a backup and never reads it. The backup used to stream straight out
// of a bbolt read transaction, so the stalled client kept the transaction
// open; the next write that had to grow the memory map then waited for it
// forever, and every read queued behind that write.
func TestBackupHandlerStalledClient(t *testing.T) {
	s := storetest.Open(t)
	ctx := t.Context()
	if err := s.PutTenant(ctx, sampleTenant("a")); err != nil {
		t.Fatal(err)
	}
	// Several times the loopback socket buffers, so the response cannot
	// all be sent before the client stops reading.
	const seeded = 20 << 20
	chunk := bytes.Repeat([]byte{0x5a}, 1<<20)
	for i := range seeded / len(chunk) {
		if err := s.TenantPut(ctx, "a", "blob", seqKey(i), chunk); err != nil {
			t.Fatal(err)
		}
	}
	dbSize := fileSize(t, s.Path())

	var sent, length atomic.Int64
	h := s.BackupHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(countingWriter{w, &sent, &length}, r)
	}))
	t.Cleanup(srv.Close)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	// A tiny receive window makes the stall come sooner.
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	if _, err := io.WriteString(conn, "GET /backup HTTP/1.1\r\nHost: seatlens\r\n\r\n"); err != nil {
		t.Fatal(err)
	}

	// Wait until the handler has sent part of the backup and then stopped.
	var last int64
	steady := 0
	waitFor(t, "the backup stream to stall", func() bool {
		time.Sleep(50 * time.Millisecond)
		n := sent.Load()
		if n > 0 && n >= length.Load() {
			t.Fatalf("the whole backup (%d bytes) went out; the test needs a larger database", n)
		}
		if n > 0 && n == last {
			steady++
		} else {
			steady = 0
		}
		last = n
		return steady >= 4
	})

	// bbolt maps the file in powers of two (below 1 GiB), so the mapping
	// is at most nextPow2(dbSize) bytes and holds the 20 MiB of data
	// written so far. Writing the difference, and a little more, makes
	// bbolt remap, which waits for every open read transaction.
	mapped := int64(1) << bits.Len64(uint64(dbSize-1))
	grow := int((mapped-seeded)/int64(len(chunk))) + 2
	ops := []func() error{}
	for i := range grow {
		ops = append(ops, func() error { return s.TenantPut(ctx, "a", "grow", seqKey(i), chunk) })
	}
	ops = append(ops,
		func() error { return s.PutTenant(ctx, sampleTenant("b")) },
		// PutTenant emptied the tenant cache, so this reads the database.
		func() error { _, err := s.Tenant(ctx, "b"); return err },
		func() error { _, err := s.TenantGet(ctx, "a", "blob", seqKey(0)); return err },
	)
	// Each operation gets its own deadline, so a slow machine doing many
	// writes does not fail the test; only one that blocks does.
	finished := make(chan error)
	go func() {
		for _, op := range ops {
			select {
			case finished <- op():
			case <-ctx.Done(): // the test has given up
				return
			}
		}
	}()
	start := time.Now()
	for i := range ops {
		select {
		case err := <-finished:
			if err != nil {
				t.Fatalf("operation %d of %d: %v", i+1, len(ops), err)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("operation %d of %d blocked for 2s behind a stalled backup client", i+1, len(ops))
		}
	}
	t.Logf("%d writes and reads took %v during the stall", len(ops), time.Since(start))
	if fileSize(t, s.Path()) <= dbSize {
		t.Fatal("the database did not grow")
	}

	// Hanging up ends the handler, which must take its snapshot with it.
	_ = conn.Close()
	srv.Close()
	assertNoBackupTemp(t, filepath.Dir(s.Path()))
}

// countingWriter counts the body bytes a handler has handed to the
// connection and records the Content-Length it announced.
type countingWriter struct {
	http.ResponseWriter
	n, length *atomic.Int64
}

func (w countingWriter) Write(p []byte) (int, error) {
	if w.length.Load() == 0 {
		cl, _ := strconv.ParseInt(w.Header().Get("Content-Length"), 10, 64)
		w.length.Store(cl)
	}
	n, err := w.ResponseWriter.Write(p)
	w.n.Add(int64(n))
	return n, err
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func assertNoBackupTemp(t *testing.T, dir string) {
	t.Helper()
	left, err := filepath.Glob(filepath.Join(dir, store.DBFileName+".backup-*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("backup temp files left behind: %v", left)
	}
}

// waitFor polls cond until it holds, failing the test after 10 seconds so
// that a broken precondition (a writer that died, say) fails instead of
// hanging the test binary.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if t.Failed() {
			t.Fatalf("gave up waiting for %s: the test already failed", what)
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
	}
}

func TestBackupFile(t *testing.T) {
	sealer := storetest.NewSealer(t)
	s := storetest.OpenOptions(t, store.Options{Sealer: sealer})
	ctx := t.Context()
	for _, ck := range []string{"a", "b"} {
		if err := s.PutTenant(ctx, sampleTenant(ck)); err != nil {
			t.Fatal(err)
		}
		for i := range 50 {
			if err := s.TenantPut(ctx, ck, "log", seqKey(i), bytes.Repeat([]byte(ck), 300)); err != nil {
				t.Fatal(err)
			}
		}
	}
	want, err := s.Tenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(s.Path())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := folderState(t, dir)

	var buf bytes.Buffer
	n, err := store.BackupFile(ctx, dir, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) || n == 0 {
		t.Errorf("BackupFile reported %d bytes, wrote %d", n, buf.Len())
	}
	if after := folderState(t, dir); !reflect.DeepEqual(before, after) {
		t.Errorf("BackupFile changed the data folder:\nbefore %v\nafter  %v", before, after)
	}

	restored := filepath.Join(t.TempDir(), "restored")
	if err := store.Restore(ctx, restored, &buf, sealer); err != nil {
		t.Fatal(err)
	}
	r := storetest.OpenOptions(t, store.Options{Dir: restored, Sealer: sealer})
	got, err := r.Tenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tenants differ after BackupFile and Restore:\n%+v\n%+v", got, want)
	}
	if v, err := r.TenantGet(ctx, "b", "log", seqKey(49)); err != nil || !bytes.Equal(v, bytes.Repeat([]byte("b"), 300)) {
		t.Errorf("restored value = %q, %v", v, err)
	}
}

// folderState describes every file in dir by name, mode, size and content
// hash, to show that an operation wrote nothing.
func folderState(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	state := map[string]string{}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		desc := fmt.Sprintf("%v %d %v", fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		if fi.Mode().IsRegular() {
			raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			desc += fmt.Sprintf(" %x", sha256.Sum256(raw))
		}
		state[e.Name()] = desc
	}
	return state
}

func TestBackupFileWhileOpen(t *testing.T) {
	s := storetest.Open(t)
	start := time.Now()
	_, err := store.BackupFile(t.Context(), filepath.Dir(s.Path()), io.Discard)
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("BackupFile of an open store: %v, want ErrLocked", err)
	}
	if errors.Is(err, bolt.ErrTimeout) {
		t.Error("bbolt's timeout error leaked to the caller")
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("ErrLocked took %v, want about a second", elapsed)
	}
	// The store is unharmed and still usable.
	if err := s.PutTenant(t.Context(), sampleTenant("a")); err != nil {
		t.Fatal(err)
	}
}

func TestBackupFileNoDatabase(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	_, err := store.BackupFile(t.Context(), dir, &buf)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("BackupFile of an empty folder: %v, want os.ErrNotExist", err)
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %d bytes", buf.Len())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("BackupFile created %v", entries)
	}
	if _, err := store.BackupFile(t.Context(), filepath.Join(dir, "missing"), &buf); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("BackupFile of a missing folder: %v, want os.ErrNotExist", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("BackupFile created the data folder (stat: %v)", err)
	}
}

func TestBackupFileRefusesBadFiles(t *testing.T) {
	sealer := storetest.NewSealer(t)
	big := storetest.OpenOptions(t, store.Options{Sealer: sealer})
	if err := big.PutTenant(t.Context(), sampleTenant("a")); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if err := big.TenantPut(t.Context(), "a", "b", seqKey(i), bytes.Repeat([]byte{1}, 1000)); err != nil {
			t.Fatal(err)
		}
	}
	full := backupOf(t, big)
	cases := map[string]struct {
		content []byte
		want    string
	}{
		"another bbolt": {foreignBoltFile(t), "not a seatlens database"},
		"empty":         {nil, "empty"},
		"truncated":     {full[:len(full)/2], "truncated"},
		"garbage":       {bytes.Repeat([]byte("garbage!"), 4096), ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, store.DBFileName), c.content, 0o600); err != nil {
				t.Fatal(err)
			}
			before := folderState(t, dir)
			var buf bytes.Buffer
			_, err := store.BackupFile(t.Context(), dir, &buf)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, c.want)
			}
			if errors.Is(err, bolt.ErrInvalid) || errors.Is(err, bolt.ErrChecksum) {
				t.Errorf("bbolt error leaked: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "store: ") {
				t.Errorf("error not wrapped by the store: %v", err)
			}
			if after := folderState(t, dir); !reflect.DeepEqual(before, after) {
				t.Errorf("BackupFile changed the data folder:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

func TestBackupFileCancelled(t *testing.T) {
	s := storetest.Open(t)
	dir := filepath.Dir(s.Path())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := store.BackupFile(ctx, dir, io.Discard); !errors.Is(err, context.Canceled) {
		t.Errorf("BackupFile with a cancelled context: %v", err)
	}
}
