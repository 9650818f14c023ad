package report

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seatlens/seatlens/app/billing"
)

// csvColumns is the header. Scripts address columns by these names, so
// they are a contract: add new columns at the end, never rename, drop or
// reorder one.
var csvColumns = [...]string{
	"accountId", "displayName", "email", "accountType", "class", "status", "claimStatus",
	"product", "role", "billable", "verdict",
	"reasons", "reasonText", "warnings", "lastActive",
	"plan", "planGroupIds", "collateral", "paths", "seatPrice",
}

// CSVColumns returns the CSV export's header, in order.
func CSVColumns() []string { return slices.Clone(csvColumns[:]) }

// List separators inside a cell. Codes and names never contain " | ", and
// reason messages are sentences that may contain ";".
const (
	listSep    = ";"
	messageSep = " | "
)

// CSV writes one row per seat, after the header of CSVColumns: users in
// the document's order, each user's seats in theirs.
//
// Cells hold plain values: billable is true or false, lastActive a UTC
// date (YYYY-MM-DD, empty when no activity is known), seatPrice the monthly
// price from the settings (empty when the product has none). Lists are
// joined with ";" (reasons, warnings, plan, planGroupIds, collateral,
// paths) or, for reason messages, " | ". paths is for reading, not
// parsing: "group:NAME(ROLE[,default][,synced|,sync-unknown])", "direct(ROLE)"
// or "inferred(ROLE)"; scripts that need groups use planGroupIds.
//
// Formula injection: a spreadsheet runs a cell that starts with =, +, -,
// @, tab or carriage return as a formula, and display names, e-mails,
// group names and the hold reasons quoted in messages are typed by people.
// Following OWASP's CSV injection advice, every text cell that starts with
// one of those characters gets a single quote in front ("=cmd" becomes
// "'=cmd"), which spreadsheets read as "this is text" and hide. The same
// applies after every ";" inside a cell, because Excel in locales whose
// list separator is ";" splits the line there, and encoding/csv quotes
// only fields holding commas, quotes or line breaks. Consumers that are
// not spreadsheets see the quote; it is the price of a file finance can
// open safely.
func CSV(w io.Writer, f *billing.Findings) error {
	if f == nil {
		return errors.New("report: csv: no findings")
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(csvColumns[:]); err != nil {
		return fmt.Errorf("report: csv: %w", err)
	}
	prices := make(map[string]string, len(f.Settings.SeatPrices))
	for p, v := range f.Settings.SeatPrices {
		prices[p] = strconv.FormatFloat(v, 'f', -1, 64)
	}
	rec := make([]string, len(csvColumns))
	for i := range f.Users {
		u := &f.Users[i]
		for j := range u.Seats {
			s := &u.Seats[j]
			rec = rec[:0]
			rec = append(rec,
				cell(u.AccountID), cell(u.DisplayName), cell(u.Email),
				cell(u.AccountType), cell(u.Class), cell(u.Status), cell(u.ClaimStatus),
				cell(s.Product), cell(s.Role), strconv.FormatBool(s.Billable), cell(s.Verdict),
				cell(join(s.Reasons, listSep, func(r *billing.Reason) string { return r.Code })),
				cell(join(s.Reasons, messageSep, func(r *billing.Reason) string { return r.Message })),
				cell(join(s.Warnings, listSep, func(w *billing.Warning) string { return w.Code })),
				date(s.LastActive),
				cell(join(s.Plan, listSep, func(p *billing.PlanItem) string { return p.GroupName })),
				cell(join(s.Plan, listSep, func(p *billing.PlanItem) string { return p.GroupID })),
				cell(join(s.Collateral, listSep, func(p *string) string { return *p })),
				cell(compactPaths(s.Paths)),
				prices[s.Product],
			)
			if err := cw.Write(rec); err != nil {
				return fmt.Errorf("report: csv: %w", err)
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report: csv: %w", err)
	}
	return nil
}

func date(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

// join is strings.Join over a field of each element; one element, the
// usual case, costs no allocation.
func join[T any](xs []T, sep string, field func(*T) string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return field(&xs[0])
	}
	var b strings.Builder
	for i := range xs {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(field(&xs[i]))
	}
	return b.String()
}

func compactPaths(ps []billing.Path) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteString(listSep)
		}
		if p.Via == billing.ViaGroup {
			b.WriteString("group:")
			if p.GroupName != "" {
				b.WriteString(p.GroupName)
			} else {
				b.WriteString(p.GroupID)
			}
		} else {
			b.WriteString(p.Via)
		}
		b.WriteByte('(')
		b.WriteString(p.Role)
		if p.Default {
			b.WriteString(",default")
		}
		if p.Via == billing.ViaGroup {
			switch {
			case p.Synced == nil:
				b.WriteString(",sync-unknown")
			case *p.Synced:
				b.WriteString(",synced")
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

// formulaStart reports whether a spreadsheet reads a cell beginning with
// c as a formula (OWASP's list).
func formulaStart(c byte) bool {
	switch c {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// cell neutralises formulas where a spreadsheet could start reading a
// cell: at the start of s and after every ";" (see CSV).
func cell(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if formulaStart(s[i]) && (i == 0 || s[i-1] == ';') {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + n)
	for i := 0; i < len(s); i++ {
		if formulaStart(s[i]) && (i == 0 || s[i-1] == ';') {
			b.WriteByte('\'')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// IDPTasksCSV writes the work no API can do, for an identity provider's
// admin (DESIGN.md §7): for each group synced from the identity provider,
// the people whose billable seat (removable or in review) comes through
// it, and the other groups of the seat's paths to leave as well. One row
// per synced group × seat, groups in name order; cells are escaped
// against formula injection as in CSV.
func IDPTasksCSV(w io.Writer, f *billing.Findings) error {
	var rows [][]string
	for i := range f.Users {
		u := &f.Users[i]
		for j := range u.Seats {
			s := &u.Seats[j]
			if !s.Billable || (s.Verdict != billing.VerdictRemovable && s.Verdict != billing.VerdictReview) {
				continue
			}
			var others []string
			for _, p := range s.Paths {
				if p.Via == billing.ViaGroup && (p.Synced == nil || !*p.Synced) {
					others = append(others, p.GroupName)
				}
			}
			for _, p := range s.Paths {
				if p.Via != billing.ViaGroup || p.Synced == nil || !*p.Synced {
					continue
				}
				rows = append(rows, []string{p.GroupName, p.GroupID, u.DisplayName, u.Email, u.AccountID, s.Product, s.Verdict, strings.Join(others, ";")})
			}
		}
	}
	slices.SortStableFunc(rows, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"syncedGroup", "syncedGroupId", "displayName", "email", "accountId", "product", "verdict", "otherGroups"}); err != nil {
		return err
	}
	for _, r := range rows {
		for k := range r {
			r[k] = cell(r[k])
		}
		if err := cw.Write(r); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
