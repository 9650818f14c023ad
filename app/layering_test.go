package app

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering enforces the import rules of STYLE.md's package table and
// DESIGN.md §3: the top-level packages stay free of app/, the simulated
// site shares no logic with the app beyond the qsh canonicaliser, and the
// pure packages do no I/O through the app's other layers.
func TestLayering(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	const mod = "github.com/seatlens/seatlens/"
	rules := []struct {
		pkg     string
		allowed func(dep string) bool
	}{
		{"store", func(d string) bool { return !strings.HasPrefix(d, mod+"app") }},
		{"descriptor", func(d string) bool { return !strings.HasPrefix(d, mod+"app") && !strings.HasPrefix(d, mod+"store") }},
		{"static", func(d string) bool { return !strings.HasPrefix(d, mod) || d == mod+"static" }},
		{"app/connect/qsh", func(d string) bool { return !strings.HasPrefix(d, mod) || d == mod+"app/connect/qsh" }},
		{"app/apperr", func(d string) bool { return !strings.HasPrefix(d, mod) || d == mod+"app/apperr" }},
		{"app/sitesim", func(d string) bool {
			return !strings.HasPrefix(d, mod) || d == mod+"app/sitesim" || d == mod+"app/connect/qsh"
		}},
		{"app/connect", func(d string) bool {
			return !strings.HasPrefix(d, mod+"store") && !strings.HasPrefix(d, mod+"app/atlassian")
		}},
		{"app/billing", func(d string) bool { return !strings.HasPrefix(d, mod) || d == mod+"app/billing" }},
		{"app/report", func(d string) bool {
			return !strings.HasPrefix(d, mod) || d == mod+"app/report" || d == mod+"app/billing"
		}},
		{"app/tenancy", func(d string) bool { return !strings.HasPrefix(d, mod+"app/sitesim") }},
		{"app/scan", func(d string) bool {
			// The scan queue and the findings live in the store (STYLE.md).
			return d != mod+"app/connect" && d != mod+"app/connect/connecttest" &&
				!strings.Contains(d, "labstack/echo") && !strings.HasPrefix(d, mod+"app/sitesim")
		}},
		{"app/atlassian", func(d string) bool {
			return !strings.HasPrefix(d, mod+"store") && !strings.HasPrefix(d, mod+"app/connect/") || d == mod+"app/connect/qsh"
		}},
	}
	// Direct imports only: these may reach a package through a service,
	// not call it themselves (STYLE.md's table).
	direct := []struct {
		pkg       string
		forbidden []string
	}{
		{"app/panel", []string{mod + "app/atlassian", mod + "store", mod + "app/sitesim", mod + "app/forge"}},
		{"app/tenancy", []string{"github.com/labstack/echo/v4", mod + "app/panel", mod + "app/sitesim"}},
		{"app/rescan", []string{"github.com/labstack/echo/v4", mod + "app/panel", mod + "app/billing"}},
		{"app/scan", []string{mod + "app/panel", mod + "app/webhook", mod + "app/tenancy", mod + "app/forge"}},
		// Reviews change memberships only through the Cleaner interface.
		{"app/review", []string{"github.com/labstack/echo/v4", mod + "app/atlassian", mod + "app/panel", mod + "app/tenancy"}},
	}
	for _, r := range direct {
		out, err := exec.Command("go", "list", "-f", `{{join .Imports " "}}`, mod+r.pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", r.pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range r.forbidden {
				if dep == f {
					t.Errorf("%s must not import %s itself", r.pkg, dep)
				}
			}
		}
	}
	for _, r := range rules {
		out, err := exec.Command("go", "list", "-deps", mod+r.pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", r.pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			if !r.allowed(dep) {
				t.Errorf("%s must not import %s", r.pkg, dep)
			}
		}
	}
}
