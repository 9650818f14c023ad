package seats

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/billing/billingtest"
	"github.com/seatlens/seatlens/app/sitesim"
)

// Index's orders, sorted on precomputed keys, are exactly the orders of
// compare: every key, every row, strictly ascending (so total), over a
// generated site with every case of DESIGN.md §6 (unicode and equal
// names, never-active seats, every verdict).
func TestOrdersFollowCompare(t *testing.T) {
	at := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	f, err := billing.Explain(billingtest.SnapshotWithOrg(sitesim.Generate(3000, 11), at), billing.Settings{}.WithDefaults())
	if err != nil {
		t.Fatal(err)
	}
	b := NewBuilder("1", f.ScannedAt, len(f.Users))
	for i := range f.Users {
		b.Add(&f.Users[i])
	}
	// Two users of one name, in either case: the tiebreaks decide.
	twin := f.Users[0]
	twin.AccountID, twin.DisplayName = "zz-twin", f.Users[0].DisplayName
	b.Add(&twin)
	// Dates an admin CSV may hold, outside what nanoseconds since 1970 fit.
	for i, at := range []time.Time{time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)} {
		far := f.Users[1]
		far.AccountID = fmt.Sprintf("zz-far-%d", i)
		far.Seats = slices.Clone(far.Seats)
		for j := range far.Seats {
			far.Seats[j].LastActive = &at
		}
		b.Add(&far)
	}
	idx := b.Index()
	for _, key := range sortKeys {
		order := idx.orders[key]
		if len(order) != len(idx.rows) {
			t.Fatalf("%s: %d of %d rows", key, len(order), len(idx.rows))
		}
		for i := 1; i < len(order); i++ {
			if c := compare(key, &idx.rows[order[i-1]], &idx.rows[order[i]]); c >= 0 {
				t.Fatalf("%s: row %d (%s/%s) does not come before row %d (%s/%s): %d", key,
					i-1, idx.rows[order[i-1]].AccountID, idx.rows[order[i-1]].Product, i, idx.rows[order[i]].AccountID, idx.rows[order[i]].Product, c)
			}
		}
	}
}
