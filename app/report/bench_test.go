package report_test

import (
	"fmt"
	"io"
	"testing"

	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/report"
)

// bigFindings is a 100k-user document made of the org fixture's users
// over and over, each with its own account ID: the renderers' cost is per
// row, and these rows have every kind of reason, warning and plan.
func bigFindings(b *testing.B, users int) *billing.Findings {
	src := loadFindings(b, "fixture-org")
	f := *src
	f.Users = make([]billing.UserFindings, users)
	f.Totals = billing.Totals{Users: users}
	for i := range f.Users {
		u := src.Users[i%len(src.Users)]
		u.AccountID = fmt.Sprintf("%s-%06d", u.AccountID, i)
		f.Users[i] = u
		for _, s := range u.Seats {
			f.Totals.Seats++
			switch s.Verdict {
			case billing.VerdictRemovable:
				f.Totals.Removable++
			case billing.VerdictReview:
				f.Totals.Review++
			case billing.VerdictHold:
				f.Totals.Hold++
			case billing.VerdictNotBillable:
				f.Totals.NotBillable++
			}
		}
	}
	return &f
}

// counter measures the output without keeping it.
type counter int64

func (c *counter) Write(p []byte) (int, error) { *c += counter(len(p)); return len(p), nil }

// BenchmarkRender100k renders 100k users (about 150k seats) to a writer
// that keeps nothing; MB/s is output bytes.
//
//	go test ./app/report -run '^$' -bench Render100k -benchtime 5x
func BenchmarkRender100k(b *testing.B) {
	f := bigFindings(b, 100_000)
	for _, tc := range []struct {
		name   string
		render func(io.Writer, *billing.Findings) error
	}{{"csv", report.CSV}, {"html", report.HTML}} {
		b.Run(tc.name, func(b *testing.B) {
			var n counter
			if err := tc.render(&n, f); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(n))
			b.ReportMetric(float64(f.Totals.Seats), "rows")
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := tc.render(io.Discard, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
