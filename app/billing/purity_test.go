package billing_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestPurity enforces that the engine does no I/O: its own imports are
// pure packages only, and nothing it pulls in reaches the network, the
// process table, a database or any other package of this module or a
// third party. (os itself cannot be banned from the dependencies: fmt
// imports it; it is banned from the engine's own imports instead.)
func TestPurity(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	const pkg = "github.com/seatlens/seatlens/app/billing"
	out, err := exec.Command("go", "list", "-f", `{{join .Imports " "}}`, pkg).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pure := []string{"bytes", "cmp", "encoding/json", "errors", "fmt", "io", "maps", "math", "math/bits", "slices", "sort", "runtime", "strconv", "strings", "sync", "time", "unicode", "unicode/utf8"}
	for _, imp := range strings.Fields(string(out)) {
		if !slices.Contains(pure, imp) {
			t.Errorf("app/billing imports %s, which is not on the list of pure packages", imp)
		}
	}
	out, err = exec.Command("go", "list", "-deps", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		banned := dep == "net" || strings.HasPrefix(dep, "net/") || dep == "os/exec" || strings.HasPrefix(dep, "os/") ||
			strings.HasPrefix(dep, "database/") || strings.HasPrefix(dep, "crypto/tls") ||
			(strings.Contains(dep, ".") && dep != pkg) // any module package: this module's others or a third party
		if banned {
			t.Errorf("app/billing depends on %s", dep)
		}
	}
}
