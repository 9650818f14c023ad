package sitesim

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkOrgUsersSearch100k: one page of users search (with every
// expansion) on a 100k-user generated site: the first page, the first
// page of a resource filter, and a page near the end. Only the page's
// users are rendered, and the walk stops after the page.
func BenchmarkOrgUsersSearch100k(b *testing.B) {
	site, err := NewSite(Generate(100_000, 1))
	if err != nil {
		b.Fatal(err)
	}
	srv, err := New(site, Options{AdminEmail: DefaultAdminEmail, AdminToken: DefaultAdminToken})
	if err != nil {
		b.Fatal(err)
	}
	path := "/admin/v2/orgs/" + DefaultOrgID + "/directories/" + DefaultDirectoryID + "/users/search"
	expand := `"expand":["productAccess","groups","platformRoles","counts.resources"]`
	for _, bc := range []struct{ name, body string }{
		{"all", `{"limit":100,` + expand + `}`},
		{"resources", `{"limit":100,"resourceIds":["` + srv.resourceID(JiraSoftware) + `","` + srv.resourceID(Confluence) + `"],` + expand + `}`},
		{"last page", `{"cursor":"` + newWalk(cursorUsers, 100, userSearch{Expand: []string{"productAccess", "groups", "platformRoles", "counts.resources"}}).at(99_000) + `"}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(bc.body))
				req.Header.Set("Authorization", "Bearer "+DefaultOrgKey)
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d %s", rec.Code, rec.Body)
				}
				_, _ = io.Copy(io.Discard, rec.Body)
			}
		})
	}
}
