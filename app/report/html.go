package report

import (
	"bufio"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"iter"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seatlens/seatlens/app/billing"
)

// The page and its style live in files of their own so that they read as
// HTML and CSS; both are compiled into the binary, and the CSS is inlined
// because the page must stand alone (offline, mailed, printed).
var (
	//go:embed report.html.tmpl
	pageTemplate string
	//go:embed report.css
	pageCSS string
)

var pageTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"num":        num,
	"money":      money,
	"seats":      seatCount,
	"credential": credentialName,
}).Parse(pageTemplate))

// HTML writes the findings as one self-contained page for people who do
// not use the app, typically finance: what was scanned and with which
// credentials, the totals, products, site findings and settings, then
// every seat in a table per verdict (removable, review, hold, not
// billable). It loads nothing (no scripts, fonts, images or links off the
// page) and prints on A4 landscape with a page per verdict.
//
// Every string from the document goes through html/template, so markup a
// person put in a display name or group name is shown, never run.
func HTML(w io.Writer, f *billing.Findings) error {
	if f == nil {
		return errors.New("report: html: no findings")
	}
	// The template writes in many small pieces; without a buffer each
	// would be a syscall on a file or a response.
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := pageTmpl.Execute(bw, newPage(f)); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	return nil
}

// page is what the template sees: the document plus what it cannot
// compute itself. Its fields and methods are the template's vocabulary.
type page struct {
	F         *billing.Findings
	CSS       template.CSS
	ScannedAt string
	Activity  string
	// Priced: some product has a seat price, so savings mean something.
	Priced bool
	// ShowLikely: the "likely removable" figures matter, because there is
	// no org key or the engine found some.
	ShowLikely bool
	Prices     []price
	Sections   []*section
	names      map[string]string
}

type price struct {
	Name  string
	Price float64
}

// section is one verdict's table.
type section struct {
	ID, Title, Class, Blurb string
	Count                   int
	match                   func(verdict string) bool
	p                       *page
}

// row is one seat as its table row shows it. Its fields are filled in Go
// rather than computed by template methods because the template engine
// reaches fields far faster than methods, and a big page has 150k rows.
type row struct {
	Name, AccountID, Class, Email string
	Product, Role, LastActive     string
	// Likely: under review only for want of an org key.
	Likely     bool
	Reasons    []billing.Reason
	Warnings   []billing.Warning
	Plan       []billing.PlanItem
	Collateral string
}

var verdictOrder = []string{billing.VerdictRemovable, billing.VerdictReview, billing.VerdictHold, billing.VerdictNotBillable}

func newPage(f *billing.Findings) *page {
	p := &page{
		F:          f,
		CSS:        template.CSS(pageCSS),
		ScannedAt:  f.ScannedAt.UTC().Format("2006-01-02 15:04 UTC"),
		Activity:   activityText(f.Sources.Activity),
		Priced:     len(f.Settings.SeatPrices) > 0,
		ShowLikely: !f.Sources.OrgAPI || f.Totals.LikelyRemovable > 0,
		names:      make(map[string]string, len(f.Products)),
	}
	for _, pr := range f.Products {
		p.names[pr.Key] = pr.Name
	}
	for key, v := range f.Settings.SeatPrices {
		p.Prices = append(p.Prices, price{p.productName(key), v})
	}
	slices.SortFunc(p.Prices, func(a, b price) int { return strings.Compare(a.Name, b.Name) })

	counts := make(map[string]int, len(verdictOrder)+1)
	for i := range f.Users {
		for j := range f.Users[i].Seats {
			counts[f.Users[i].Seats[j].Verdict]++
		}
	}
	other := 0
	for v, n := range counts {
		if !slices.Contains(verdictOrder, v) {
			other += n
		}
	}
	days := f.Settings.InactiveDays
	blurbs := map[string]string{
		billing.VerdictRemovable: fmt.Sprintf("Billable seats unused for %d days or more, freed by leaving the groups of the plan.", days),
		billing.VerdictReview:    "Billable seats a person must look at before removal: the reasons say what to check.",
		billing.VerdictHold:      "Billable seats to keep: recently active, admins, new accounts, integration users and manual holds.",
		billing.VerdictNotBillable: "Seats that take no licence (app, service and customer accounts, suspended or deactivated users, guests, free roles). " +
			"They are listed so the totals add up and never count towards savings.",
	}
	if p.ShowLikely {
		blurbs[billing.VerdictReview] += " Seats marked likely removable need only an org key to confirm."
	}
	titles := map[string]string{
		billing.VerdictRemovable: "Removable", billing.VerdictReview: "Review",
		billing.VerdictHold: "Hold", billing.VerdictNotBillable: "Not billable",
	}
	for _, v := range verdictOrder {
		p.Sections = append(p.Sections, &section{
			ID: v, Title: titles[v], Class: v, Blurb: blurbs[v], Count: counts[v],
			match: func(s string) bool { return s == v }, p: p,
		})
	}
	// A verdict this renderer does not know would otherwise vanish from
	// the page while still counting in the document.
	if other > 0 {
		p.Sections = append(p.Sections, &section{
			ID: "other", Title: "Other verdict", Class: "other", Count: other,
			Blurb: "Seats whose verdict this report does not know; see the reasons.",
			match: func(s string) bool { return !slices.Contains(verdictOrder, s) }, p: p,
		})
	}
	return p
}

// Rows yields the section's seats in document order. It walks every user
// again rather than keeping per-verdict lists, so a 100k-user page costs
// no more memory than the document already does.
func (s *section) Rows() iter.Seq[row] {
	return func(yield func(row) bool) {
		us := s.p.F.Users
		for i := range us {
			u := &us[i]
			for j := range u.Seats {
				if st := &u.Seats[j]; s.match(st.Verdict) && !yield(s.p.row(u, st)) {
					return
				}
			}
		}
	}
}

func (p *page) row(u *billing.UserFindings, s *billing.Seat) row {
	return row{
		Name: u.DisplayName, AccountID: u.AccountID, Class: u.Class, Email: u.Email,
		Product: p.productName(s.Product), Role: roleName(s), LastActive: date(s.LastActive),
		Likely:  likelyRemovable(s),
		Reasons: s.Reasons, Warnings: s.Warnings, Plan: s.Plan,
		Collateral: join(s.Collateral, ", ", func(k *string) string { return p.productName(*k) }),
	}
}

func (p *page) productName(key string) string {
	if n, ok := p.names[key]; ok && n != "" {
		return n
	}
	if pi, ok := billing.LookupProduct(key); ok {
		return pi.Name
	}
	return key
}

// roleName names the licensed role the way each product's admin screens
// do: JSM calls its users agents and JPD its users creators.
func roleName(s *billing.Seat) string {
	if s.Role == billing.RoleUser {
		switch s.Product {
		case billing.JiraServiceManagement:
			return "agent (user)"
		case billing.JiraProductDiscovery:
			return "creator (user)"
		}
	}
	return s.Role
}

// reasonNeedsOrgData is §6 rule 8's code; billing exports the codes only
// as a list, and this one's meaning is part of the document's contract.
const reasonNeedsOrgData = "needs-org-data"

// likelyRemovable is Totals.LikelyRemovable's test for one seat: its only
// review reason is the missing org key.
func likelyRemovable(s *billing.Seat) bool {
	if s.Verdict != billing.VerdictReview {
		return false
	}
	found := false
	for _, r := range s.Reasons {
		if r.Category != billing.VerdictReview {
			continue
		}
		if r.Code != reasonNeedsOrgData {
			return false
		}
		found = true
	}
	return found
}

func activityText(a *billing.ActivitySource) string {
	if a == nil {
		return "none: no org key and no admin users export, so no seat can be judged inactive; billable seats are under review (no-activity-data)"
	}
	asOf := a.AsOf.UTC().Format(time.DateOnly)
	switch a.Kind {
	case billing.ActivityOrgAPI:
		return "last-active dates from the Organizations API, measured from the scan (" + asOf + ")"
	case billing.ActivityAdminCSV:
		file := ""
		if a.File != "" {
			file = " (" + a.File + ")"
		}
		return "the admin users export" + file + " of " + asOf + ": inactivity is measured up to that date"
	}
	return a.Kind + ", as of " + asOf
}

var credentialNames = map[string]string{
	billing.CredentialAPIToken:   "API token (e-mail and token, Basic auth)",
	billing.CredentialConnectJWT: "Connect app JWT",
	billing.CredentialForgeToken: "Forge app system token",
	billing.CredentialOrgKey:     "Organizations API key",
}

func credentialName(c string) string {
	if n, ok := credentialNames[c]; ok {
		return n
	}
	return c
}

// num groups thousands with commas: finance reads 100,000 faster than
// 100000.
func num(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	s = group(s)
	if neg {
		return "-" + s
	}
	return s
}

// seatCount is n with the noun agreeing: "1 seat", "12 seats".
func seatCount(n int) string {
	if n == 1 {
		return "1 seat"
	}
	return num(n) + " seats"
}

// money prints a monthly amount with two decimals and grouped thousands;
// the currency is whatever the seat prices were given in.
func money(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	s = group(whole) + "." + frac
	if neg {
		return "-" + s
	}
	return s
}

func group(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	lead := len(digits) % 3
	if lead == 0 {
		lead = 3
	}
	b.WriteString(digits[:lead])
	for i := lead; i < len(digits); i += 3 {
		b.WriteByte(',')
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}
