package report_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestImportsArePure holds the package to what its doc promises: it
// renders into the writer it is given and reaches nothing else — no
// files, network or processes — so the CLI, the app and tests can share
// it. Only direct imports are checked: html/template itself pulls in os
// and net/url without doing I/O for us.
func TestImportsArePure(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-f", `{{join .Imports " "}}`, "github.com/seatlens/seatlens/app/report").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowed := []string{
		"bufio", "embed", "encoding/csv", "errors", "fmt", "html/template", "io", "iter",
		"slices", "strconv", "strings", "time",
		"github.com/seatlens/seatlens/app/billing",
	}
	for _, imp := range strings.Fields(string(out)) {
		if !slices.Contains(allowed, imp) {
			t.Errorf("app/report imports %s; it may use only pure packages and the findings types", imp)
		}
	}
}
