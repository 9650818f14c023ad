package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seatlens/seatlens/store"
)

func runCmd(t *testing.T, ctx context.Context, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(ctx, args, &out, &errOut, func(k string) string { return env[k] })
	return out.String(), errOut.String(), err
}

func TestVersion(t *testing.T) {
	out, _, err := runCmd(t, context.Background(), nil, "version")
	if err != nil || !strings.HasPrefix(out, "seatlens ") {
		t.Fatalf("version: %q %v", out, err)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"bogus"}, {"serve"}, {"serve", "--base-url", "http://example.com"}, {"backup"}, {"restore", "--data", "x"}} {
		_, _, err := runCmd(t, context.Background(), nil, args...)
		if !errors.Is(err, errUsage) {
			t.Errorf("%v: err %v, want a usage error", args, err)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: error is not one line: %q", args, err)
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestServeBackupRestore runs serve from another working folder, backs the
// data up while it serves (through the admin socket), stops it gracefully,
// backs up again from the file, and restores into an empty folder.
func TestServeBackupRestore(t *testing.T) {
	data := t.TempDir()
	addr := freeAddr(t)
	t.Chdir(t.TempDir()) // the binary must not depend on its working folder
	ctx, cancel := context.WithCancel(context.Background())
	env := map[string]string{"SEATLENS_BASE_URL": "http://" + addr, "SEATLENS_DATA": data}
	done := make(chan error, 1)
	var serveErr lockedBuffer
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr}, &lockedBuffer{}, &serveErr, func(k string) string { return env[k] })
	}()
	waitHealthy(t, "http://"+addr+"/healthz")

	live := filepath.Join(t.TempDir(), "live.db")
	out, _, err := runCmd(t, context.Background(), map[string]string{"SEATLENS_DATA": data}, "backup", "--out", live)
	if err != nil || !strings.Contains(out, "via=server") {
		t.Fatalf("backup while serving: %q %v", out, err)
	}
	assertMode(t, live, 0o600)

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, serveErr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not shut down")
	}
	if !strings.Contains(serveErr.String(), "shutting down") {
		t.Fatalf("no graceful shutdown logged:\n%s", serveErr.String())
	}
	if _, err := os.Stat(filepath.Join(data, "admin.sock")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("admin socket left behind")
	}

	offline := filepath.Join(t.TempDir(), "offline.db")
	out, _, err = runCmd(t, context.Background(), map[string]string{"SEATLENS_DATA": data}, "backup", "--out", offline)
	if err != nil || !strings.Contains(out, "via=file") {
		t.Fatalf("backup of a stopped server: %q %v", out, err)
	}

	// Restore needs the seal key of the backup in place first.
	target := t.TempDir()
	if _, _, err := runCmd(t, context.Background(), nil, "restore", "--data", target, "--from", live); err == nil || !strings.Contains(err.Error(), "seal key") {
		t.Fatalf("restore without the seal key: %v", err)
	}
	key, err := os.ReadFile(filepath.Join(data, "seal.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "seal.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCmd(t, context.Background(), nil, "restore", "--data", target, "--from", live); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if _, _, err := runCmd(t, context.Background(), nil, "restore", "--data", target, "--from", live); !errors.Is(err, store.ErrExists) {
		t.Fatalf("restore over existing data: %v", err)
	}
	// The restored folder serves.
	st, err := openStore(context.Background(), target, filepath.Join(target, "seal.key"))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
}

func waitHealthy(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never became healthy", url)
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != want {
		t.Fatalf("%s mode %v, want %v", path, fi.Mode().Perm(), want)
	}
}

func TestManifestCommand(t *testing.T) {
	root, err := os.ReadFile("../../manifest.yml")
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := runCmd(t, context.Background(), nil, "manifest")
	if err != nil || out != string(root) {
		t.Fatalf("`seatlens manifest` differs from the committed manifest.yml (%v)", err)
	}
	out, _, err = runCmd(t, context.Background(), nil, "manifest", "--base-url", "https://seatlens.acme.io", "--forge-app-id", "11111111-2222-3333-4444-555555555555")
	if err != nil || !strings.Contains(out, "baseUrl: https://seatlens.acme.io") || !strings.Contains(out, "id: ari:cloud:ecosystem::app/11111111-2222-3333-4444-555555555555") {
		t.Fatalf("manifest: %v\n%s", err, out)
	}
	if _, _, err := runCmd(t, context.Background(), nil, "manifest", "--forge-app-id", "nope"); !errors.Is(err, errUsage) {
		t.Fatalf("bad app id: %v", err)
	}
}

// TestOfflineBackupChangesNothing: with no server running, backup copies
// the file read-only: no seal key is created, nothing is migrated.
func TestOfflineBackupChangesNothing(t *testing.T) {
	data := t.TempDir()
	keyDir := t.TempDir()
	st, err := openStore(context.Background(), data, filepath.Join(keyDir, "seal.key"))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	before, _ := os.ReadDir(data)
	out := filepath.Join(t.TempDir(), "b.db")
	if _, _, err := runCmd(t, context.Background(), map[string]string{"SEATLENS_DATA": data}, "backup", "--out", out); err != nil {
		t.Fatalf("offline backup without the seal key: %v", err)
	}
	after, _ := os.ReadDir(data)
	if len(after) != len(before) {
		t.Fatalf("backup changed the data folder: %v → %v", before, after)
	}
	// serve must not invent a key for an existing database either.
	if _, err := openStore(context.Background(), data, filepath.Join(data, "seal.key")); err == nil {
		t.Fatal("opened an existing database with a freshly created key")
	}
	if _, err := os.Stat(filepath.Join(data, "seal.key")); err == nil {
		t.Fatal("a seal key was created next to an existing database")
	}
}
