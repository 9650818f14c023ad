package main

import (
	"bufio"
	"context"
	"html"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDemo runs `seatlens demo` as a new user would: the first line names
// the host page; the host page frames the app's admin page through a
// signed iframe URL, and the framed page loads.
func TestDemo(t *testing.T) {
	addr := freeAddr(t)
	data := filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--addr", addr, "--users", "60", "--data", data}, pw, io.Discard, func(string) string { return "" })
		pw.Close()
	}()
	lineC := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(pr).ReadString('\n')
		lineC <- line
		io.Copy(io.Discard, pr)
	}()
	var line string
	select {
	case line = <-lineC:
	case <-time.After(60 * time.Second):
		t.Fatal("no first line within a minute")
	}
	m := regexp.MustCompile(`^seatlens-demo open=(http://127\.0\.0\.1:\d+/\S+)\n$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("first line %q does not match the contract", line)
	}
	body := get(t, m[1])
	src := regexp.MustCompile(`<iframe[^>]*src="([^"]+)"`).FindStringSubmatch(body)
	if src == nil {
		t.Fatalf("host page has no iframe:\n%s", body)
	}
	iframe := html.UnescapeString(src[1])
	if !strings.HasPrefix(iframe, "http://"+addr+"/admin?") || !strings.Contains(iframe, "jwt=") {
		t.Fatalf("iframe src %q is not the app's signed admin page", iframe)
	}
	if page := get(t, iframe); !strings.Contains(page, "Seatlens") {
		t.Fatalf("framed page:\n%s", page)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("demo did not stop")
	}
	// The demo installed one tenant and configured its org key, sealed.
	st, err := openStore(context.Background(), data, filepath.Join(data, "seal.key"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tenants, err := st.Tenants(context.Background())
	if err != nil || len(tenants) != 1 || !tenants[0].Installed || tenants[0].InstallationID == "" {
		t.Fatalf("tenants %+v %v", tenants, err)
	}
	for _, name := range []string{"org-api-key", "forge-app-token"} {
		if _, err := st.TenantGet(context.Background(), tenants[0].ClientKey, "secrets", []byte(name)); err != nil {
			t.Errorf("demo tenant has no %s: %v", name, err)
		}
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}
