package sitesim

import (
	"slices"
	"testing"
)

// TestHoldsRoleOnMatchesRoleAssignments: the users search's fast resource
// filter gives the answer the role assignments give, for every user of a
// generated site and every single resource.
func TestHoldsRoleOnMatchesRoleAssignments(t *testing.T) {
	site, err := NewSite(Generate(600, 3))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(site, Options{AdminEmail: DefaultAdminEmail, AdminToken: DefaultAdminToken})
	if err != nil {
		t.Fatal(err)
	}
	resources := []string{"ari:cloud:platform::org/" + s.opts.OrgID, "ari:cloud:platform::site/" + s.opts.CloudID}
	for _, p := range site.all {
		resources = append(resources, s.resourceID(p.Key))
	}
	site.mu.RLock()
	defer site.mu.RUnlock()
	checked := 0
	for _, id := range site.order {
		u := site.users[id]
		if !inDirectory(u) {
			continue
		}
		ras := s.roleAssignmentsOf(u)
		for _, res := range resources {
			want := slices.ContainsFunc(ras, func(ra userRoleAssignment) bool { return ra.ResourceID == res })
			if got := s.holdsRoleOn(u, []string{res}); got != want {
				t.Fatalf("%s on %s: fast filter %v, role assignments %v", id, res, got, want)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("nothing checked")
	}
}
