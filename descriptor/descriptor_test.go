package descriptor_test

import (
	"encoding/json"
	"strings"
	"testing"

	seatlens "github.com/seatlens/seatlens"
	"github.com/seatlens/seatlens/descriptor"
)

func template(t *testing.T) *descriptor.Template {
	t.Helper()
	tpl, err := descriptor.Parse(seatlens.DescriptorTemplate)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func TestRenderValidForAllowedBases(t *testing.T) {
	tpl := template(t)
	for _, base := range []string{
		"https://seatlens.example.com",
		"https://seatlens.example.com/",
		"https://apps.example.com:8443/seatlens",
		"http://localhost:8080",
		"http://127.0.0.1:39001",
		"http://127.8.9.10:1234",
		"http://[::1]:8443",
	} {
		t.Run(base, func(t *testing.T) {
			out, err := tpl.Render(base)
			if err != nil {
				t.Fatal(err)
			}
			again, err := descriptor.Parse(out)
			if err != nil {
				t.Fatalf("rendered descriptor does not parse: %v\n%s", err, out)
			}
			d := again.Descriptor()
			if d.BaseURL != strings.TrimSuffix(base, "/") {
				t.Fatalf("baseUrl %q, want %q", d.BaseURL, base)
			}
			var generic map[string]any
			if err := json.Unmarshal(out, &generic); err != nil {
				t.Fatal(err)
			}
			for _, field := range []string{"key", "name", "vendor", "baseUrl", "authentication", "lifecycle", "scopes", "apiMigrations", "modules"} {
				if _, ok := generic[field]; !ok {
					t.Errorf("rendered descriptor lacks %s", field)
				}
			}
		})
	}
}

func TestRenderRefusesBadBases(t *testing.T) {
	tpl := template(t)
	for _, base := range []string{
		"", "seatlens.example.com", "http://seatlens.example.com", "http://localhost", "http://10.0.0.1:80",
		"ftp://localhost:21", "https://user:pw@seatlens.example.com", "https://seatlens.example.com/?a=b",
		"https://seatlens.example.com/#x", "https://" + strings.Repeat("a", 200) + ".com",
	} {
		if _, err := tpl.Render(base); err == nil {
			t.Errorf("Render(%q) succeeded, want error", base)
		}
	}
}

func TestTemplateDeclaresWhatTheAppNeeds(t *testing.T) {
	d := template(t).Descriptor()
	if !d.HasScope("ADMIN") || !d.HasScope("READ") {
		t.Fatalf("scopes %v lack ADMIN or READ", d.Scopes)
	}
	want := map[string]bool{"user_created": false, "user_updated": false, "user_deleted": false}
	for _, w := range d.Modules.Webhooks {
		want[w.Event] = true
	}
	for ev, ok := range want {
		if !ok {
			t.Errorf("webhook %s missing", ev)
		}
	}
	if d.Modules.ConfigurePage == nil || len(d.Modules.AdminPages) != 1 {
		t.Fatal("admin page or configure page missing")
	}
	routes := d.Routes()
	if len(routes) != 4+2+3 {
		t.Fatalf("routes = %d: %v", len(routes), routes)
	}
	for _, r := range routes {
		if strings.Contains(r.Path, "?") {
			t.Errorf("route path %q keeps its query", r.Path)
		}
	}
}

func TestParseRefusesBrokenTemplates(t *testing.T) {
	base := string(seatlens.DescriptorTemplate)
	cases := map[string]string{
		"unknown module":         strings.Replace(base, `"webhooks"`, `"generalPages": [], "webhooks"`, 1),
		"no ADMIN scope":         strings.Replace(base, `"ADMIN", `, "", 1),
		"unsigned install":       strings.Replace(base, `"signed-install": true`, `"signed-install": false`, 1),
		"bad key":                strings.Replace(base, `"io.seatlens.app"`, `"io seatlens"`, 1),
		"absolute lifecycle URL": strings.Replace(base, `"/lifecycle/installed"`, `"https://evil.example/installed"`, 1),
		"missing uninstalled":    strings.Replace(base, `"uninstalled": "/lifecycle/uninstalled",`, "", 1),
		"not json":               base[:len(base)/2],
	}
	for name, raw := range cases {
		if raw == base {
			t.Fatalf("%s: replacement did not apply", name)
		}
		if _, err := descriptor.Parse([]byte(raw)); err == nil {
			t.Errorf("%s: Parse succeeded, want error", name)
		}
	}
}
