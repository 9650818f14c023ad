package seats_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/billing/billingtest"
	"github.com/seatlens/seatlens/app/seats"
	"github.com/seatlens/seatlens/app/sitesim"
)

var scanAt = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

// explained is a generated site's findings and its index.
func explained(t testing.TB, users int, id string) (*billing.Findings, *seats.Index) {
	t.Helper()
	f, err := billing.Explain(billingtest.SnapshotWithOrg(sitesim.Generate(users, 5), scanAt), billing.Settings{}.WithDefaults())
	if err != nil {
		t.Fatal(err)
	}
	b := seats.NewBuilder(id, f.ScannedAt, len(f.Users))
	for i := range f.Users {
		b.Add(&f.Users[i])
	}
	return f, b.Index()
}

// want lists the findings' seats a filter keeps, as "account/product".
func want(f *billing.Findings, keep func(u *billing.UserFindings, s *billing.Seat) bool) []string {
	var out []string
	for i := range f.Users {
		u := &f.Users[i]
		for j := range u.Seats {
			if keep(u, &u.Seats[j]) {
				out = append(out, u.AccountID+"/"+u.Seats[j].Product)
			}
		}
	}
	slices.Sort(out)
	return out
}

// all pages through a query and returns its seats as "account/product".
func all(t *testing.T, idx *seats.Index, q seats.Query) ([]seats.Row, []string) {
	t.Helper()
	var rows []seats.Row
	total := -1
	for pages := 0; ; pages++ {
		p, err := idx.Search(q)
		if err != nil {
			t.Fatal(err)
		}
		if total >= 0 && p.Total != total {
			t.Fatalf("total moved from %d to %d between pages", total, p.Total)
		}
		total = p.Total
		rows = append(rows, p.Seats...)
		if p.Next == "" {
			break
		}
		if pages > 10000 {
			t.Fatal("paging never ends")
		}
		q.Cursor = p.Next
	}
	if len(rows) != total {
		t.Fatalf("pages held %d seats, total says %d", len(rows), total)
	}
	keys := make([]string, len(rows))
	for i, r := range rows {
		keys[i] = r.AccountID + "/" + r.Product
	}
	return rows, keys
}

func TestFiltersAgreeWithTheFindings(t *testing.T) {
	f, idx := explained(t, 1500, "7")
	sorted := func(k []string) []string { k = slices.Clone(k); slices.Sort(k); return k }
	cases := []struct {
		name string
		q    seats.Query
		keep func(u *billing.UserFindings, s *billing.Seat) bool
	}{
		{"everything", seats.Query{}, func(*billing.UserFindings, *billing.Seat) bool { return true }},
		{"removable Jira Software", seats.Query{Products: []string{"jira-software"}, Verdicts: []string{billing.VerdictRemovable}},
			func(_ *billing.UserFindings, s *billing.Seat) bool {
				return s.Product == "jira-software" && s.Verdict == billing.VerdictRemovable
			}},
		{"review or hold, billable", seats.Query{Verdicts: []string{"review", "hold"}, Billable: ptr(true)},
			func(_ *billing.UserFindings, s *billing.Seat) bool {
				return s.Billable && (s.Verdict == "review" || s.Verdict == "hold")
			}},
		{"a reason", seats.Query{Reason: "inactive"}, func(_ *billing.UserFindings, s *billing.Seat) bool {
			return slices.ContainsFunc(s.Reasons, func(r billing.Reason) bool { return r.Code == "inactive" })
		}},
		{"guests and unmanaged", seats.Query{Classes: []string{billing.ClassGuest, billing.ClassUnmanaged}},
			func(u *billing.UserFindings, _ *billing.Seat) bool {
				return u.Class == billing.ClassGuest || u.Class == billing.ClassUnmanaged
			}},
		{"inactive 90 days", seats.Query{Inactive: 90}, func(_ *billing.UserFindings, s *billing.Seat) bool {
			return s.LastActive == nil || !s.LastActive.After(scanAt.AddDate(0, 0, -90))
		}},
		{"text", seats.Query{Text: "  AN "}, func(u *billing.UserFindings, _ *billing.Seat) bool {
			l := strings.ToLower
			return strings.Contains(l(u.DisplayName), "an") || strings.Contains(l(u.Email), "an") || strings.Contains(l(u.AccountID), "an")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := want(f, c.keep)
			if len(w) == 0 {
				t.Fatal("the filter matches nothing in the generated site: a vacuous case")
			}
			for _, sort := range []string{"", "-name", "lastActive", "-verdict", "product"} {
				q := c.q
				q.Sort, q.Limit = sort, 37
				_, got := all(t, idx, q)
				if !slices.Equal(sorted(got), w) {
					t.Fatalf("sort %q: %d seats, want %d", sort, len(got), len(w))
				}
			}
		})
	}
	// A group filter: the members of one default group.
	var group string
	for _, g := range f.Groups {
		if len(g.DefaultFor) > 0 {
			group = g.ID
		}
	}
	w := want(f, func(_ *billing.UserFindings, s *billing.Seat) bool {
		return slices.ContainsFunc(s.Paths, func(p billing.Path) bool { return p.GroupID == group })
	})
	if _, got := all(t, idx, seats.Query{Group: group}); len(w) == 0 || !slices.Equal(sorted(got), w) {
		t.Fatalf("group %s: %d seats, want %d", group, len(got), len(w))
	}
}

func TestSortsAndCursors(t *testing.T) {
	_, idx := explained(t, 800, "3")
	rows, _ := all(t, idx, seats.Query{Sort: "verdict", Limit: 50})
	order := map[string]int{"removable": 0, "review": 1, "hold": 2, "not-billable": 3}
	for i := 1; i < len(rows); i++ {
		if order[rows[i-1].Verdict] > order[rows[i].Verdict] {
			t.Fatalf("verdict order broken at %d: %s after %s", i, rows[i].Verdict, rows[i-1].Verdict)
		}
	}
	asc, _ := all(t, idx, seats.Query{Sort: "lastActive", Limit: 200})
	desc, _ := all(t, idx, seats.Query{Sort: "-lastActive", Limit: 200})
	if asc[0].LastActive != nil || desc[len(desc)-1].LastActive != nil {
		t.Fatal("never-active seats should come first ascending, last descending")
	}
	for i := range asc {
		if asc[i].AccountID != desc[len(desc)-1-i].AccountID || asc[i].Product != desc[len(desc)-1-i].Product {
			t.Fatal("descending is not ascending reversed")
		}
	}

	p, _ := idx.Search(seats.Query{Verdicts: []string{"review"}, Limit: 5})
	for _, bad := range []seats.Query{
		{Verdicts: []string{"hold"}, Cursor: p.Next}, // another query's cursor
		{Verdicts: []string{"review"}, Cursor: "not-a-cursor"},
		{Sort: "colour"},
		{Verdicts: []string{"maybe"}},
		{Limit: 500},
		{Inactive: -1},
	} {
		if _, err := idx.Search(bad); !errors.Is(err, seats.ErrBadQuery) {
			t.Errorf("%+v: %v, want a bad query", bad, err)
		}
	}
	// The same cursor on another scan's index is refused too.
	_, other := explained(t, 800, "4")
	if _, err := other.Search(seats.Query{Verdicts: []string{"review"}, Limit: 5, Cursor: p.Next}); !errors.Is(err, seats.ErrBadQuery) {
		t.Fatalf("a cursor of another scan: %v", err)
	}
}

func TestDiff(t *testing.T) {
	f, before := explained(t, 300, "1")
	// The next scan: one user gone, one seat's verdict changed, one user new.
	gone := f.Users[0]
	f.Users = f.Users[1:]
	changed := &f.Users[0].Seats[0]
	from := changed.Verdict
	changed.Verdict = map[string]string{"removable": "hold", "hold": "removable", "review": "hold", "not-billable": "hold"}[from]
	f.Users = append(f.Users, billing.UserFindings{AccountID: "zz-new", DisplayName: "New Person",
		Seats: []billing.Seat{{Product: "confluence", Verdict: "review", Billable: true}}})
	b := seats.NewBuilder("2", f.ScannedAt, len(f.Users))
	for i := range f.Users {
		b.Add(&f.Users[i])
	}
	d := b.Index().DiffFrom(before)
	if len(d.Removed) != len(gone.Seats) || d.Removed[0].AccountID != gone.AccountID {
		t.Errorf("removed %+v, want the seats of %s", d.Removed, gone.AccountID)
	}
	if len(d.Added) != 1 || d.Added[0].AccountID != "zz-new" {
		t.Errorf("added %+v", d.Added)
	}
	if len(d.Changed) != 1 || d.Changed[0].From != from || d.Changed[0].To != changed.Verdict {
		t.Errorf("changed %+v", d.Changed)
	}
}

func ptr[T any](v T) *T { return &v }

// BenchmarkSearch100k: the queries of the API benchmark on the index of
// a generated 100k-user scan, without the router.
//
//	go test ./app/seats -run '^$' -bench Search100k
func BenchmarkSearch100k(b *testing.B) {
	_, idx := explained(b, 100_000, "1")
	for name, q := range map[string]seats.Query{
		"review-by-lastActive": {Verdicts: []string{"review"}, Sort: "-lastActive"},
		"removable-jsw":        {Products: []string{"jira-software"}, Verdicts: []string{"removable", "likely-removable"}},
		"text":                 {Text: "an", Classes: []string{"managed"}, Sort: "verdict", Limit: 100},
		"inactive":             {Inactive: 90, Billable: ptr(true), Sort: "lastActive"},
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := idx.Search(q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBuild100k: indexing a generated 100k-user scan (136k seats),
// what a finished scan or a targeted rescan pays to make its seats
// browsable.
//
//	go test ./app/seats -run '^$' -bench Build100k -benchmem
func BenchmarkBuild100k(b *testing.B) {
	f, _ := explained(b, 100_000, "1")
	for b.Loop() {
		bl := seats.NewBuilder("1", f.ScannedAt, len(f.Users))
		for i := range f.Users {
			bl.Add(&f.Users[i])
		}
		bl.Index()
	}
}
