package atlassian

import (
	"context"
	"testing"

	"github.com/seatlens/seatlens/app/sitesim"
)

// TestGroupMembersPage reads every page of the largest group of a
// generated site at once, from the total the first page gives, and gets
// exactly the members EachGroupMember walks one page after another.
func TestGroupMembersPage(t *testing.T) {
	sc := sitesim.Generate(1200, 5)
	s := startSim(t, sc, sitesim.Options{}, nil)
	c := s.jira(t, Options{})
	largest := ""
	for id, m := range sc.Members {
		if len(m) > len(sc.Members[largest]) {
			largest = id
		}
	}
	ctx := context.Background()
	first, err := c.GroupMembersPage(ctx, largest, 0)
	if err != nil {
		t.Fatal(err)
	}
	if first.Total != len(sc.Members[largest]) || first.IsLast || len(first.Values) != c.GroupMemberPageSize() {
		t.Fatalf("first page: total %d (want %d), last %v, %d values", first.Total, len(sc.Members[largest]), first.IsLast, len(first.Values))
	}
	var paged []string
	for at := 0; at < first.Total; at += len(first.Values) {
		p, err := c.GroupMembersPage(ctx, largest, at)
		if err != nil {
			t.Fatal(err)
		}
		if p.IsLast != (at+len(p.Values) >= first.Total) || p.Total != first.Total {
			t.Fatalf("page at %d: total %d, last %v", at, p.Total, p.IsLast)
		}
		for _, u := range p.Values {
			paged = append(paged, u.AccountID)
		}
	}
	walked, err := c.GroupMembers(ctx, largest)
	if err != nil {
		t.Fatal(err)
	}
	if len(walked) != len(paged) {
		t.Fatalf("%d members by pages, %d by walking", len(paged), len(walked))
	}
	for i := range walked {
		if walked[i].AccountID != paged[i] {
			t.Fatalf("member %d: %s by pages, %s by walking", i, paged[i], walked[i].AccountID)
		}
	}
	if _, err := c.GroupMembersPage(ctx, "", 0); err == nil {
		t.Error("an empty group ID is refused before any call")
	}
}
