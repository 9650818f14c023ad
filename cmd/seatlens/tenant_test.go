package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seatlens/seatlens/app/sitesim"
	"github.com/seatlens/seatlens/store"
)

// An operator exports one tenant's data while the server runs (over the
// admin socket), then deletes it; stopped, the store answers directly.
func TestTenantExportAndDelete(t *testing.T) {
	site, err := sitesim.NewSite(sitesim.DefaultScenario())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sitesim.New(site, sitesim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sim := httptest.NewServer(srv)
	defer sim.Close()
	data, addr := t.TempDir(), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	env := map[string]string{"SEATLENS_BASE_URL": "http://" + addr, "SEATLENS_DATA": data, "SEATLENS_INSTALL_KEYS_URL": sitesim.InstallKeysURL(sim.URL),
		"SEATLENS_ORG_API_URL": sim.URL}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr}, &lockedBuffer{}, &lockedBuffer{}, func(k string) string { return env[k] })
	}()
	waitHealthy(t, "http://"+addr+"/healthz")
	inst, err := srv.Install(context.Background(), sim.URL, "http://"+addr, "")
	if err != nil {
		t.Fatal(err)
	}
	ck := inst.ClientKey
	dataEnv := map[string]string{"SEATLENS_DATA": data}
	file := filepath.Join(t.TempDir(), "tenant.json")
	out, _, err := runCmd(t, context.Background(), dataEnv, "tenant", "export", "--client-key", ck, "--out", file)
	if err != nil || !strings.Contains(out, "exported tenant "+ck) {
		t.Fatalf("export: %q %v", out, err)
	}
	assertMode(t, file, 0o600)
	raw, _ := os.ReadFile(file)
	var ex store.TenantExport
	if err := json.Unmarshal(raw, &ex); err != nil || ex.Format != store.ExportFormat || ex.Tenant.ClientKey != ck || !ex.Tenant.Installed {
		t.Fatalf("export %s: %v", raw[:min(len(raw), 300)], err)
	}
	if _, ok := ex.Buckets[store.SecretsBucket]; ok || strings.Contains(string(raw), inst.SharedSecret) {
		t.Fatal("the export holds a secret")
	}
	if out, _, err := runCmd(t, context.Background(), dataEnv, "tenant", "delete", "--client-key", ck); err != nil || !strings.Contains(out, "deleted tenant") {
		t.Fatalf("delete: %q %v", out, err)
	}
	if _, _, err := runCmd(t, context.Background(), dataEnv, "tenant", "export", "--client-key", ck); err == nil || !strings.Contains(err.Error(), "no such tenant") {
		t.Fatalf("export after delete: %v", err)
	}
	cancel()
	<-done
	// No server: the store itself.
	if _, _, err := runCmd(t, context.Background(), dataEnv, "tenant", "delete", "--client-key", ck); err == nil || !strings.Contains(err.Error(), "no such tenant") {
		t.Fatalf("delete with no server: %v", err)
	}
	if _, _, err := runCmd(t, context.Background(), dataEnv, "tenant", "export"); err == nil {
		t.Fatal("export without a client key")
	}
}
