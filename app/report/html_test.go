package report_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/report"
)

func renderHTML(t *testing.T, f *billing.Findings) string {
	t.Helper()
	var buf bytes.Buffer
	if err := report.HTML(&buf, f); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

var tagRE = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9]*)(\s[^<>]*)?>`)

var voidElements = map[string]bool{"meta": true, "br": true, "hr": true, "link": true, "img": true, "input": true, "col": true, "wbr": true}

// checkMarkup is a small stand-in for an HTML parser, which the module
// does not have: html/template escapes every "<" that comes from data, so
// every "<" in the page must open one of the template's own tags, and
// those must nest. Injected markup that escaped escaping breaks one or the
// other. It also holds the page to the accessibility rules it promises.
func checkMarkup(t *testing.T, page string) {
	t.Helper()
	body, ok := strings.CutPrefix(page, "<!DOCTYPE html>\n")
	if !ok {
		t.Fatal("no doctype")
	}
	tags := tagRE.FindAllStringSubmatch(body, -1)
	if lt := strings.Count(body, "<"); lt != len(tags) {
		t.Errorf("%d '<' but %d tags: something wrote raw markup", lt, len(tags))
	}
	var open []string
	for _, m := range tags {
		name := strings.ToLower(m[2])
		switch {
		case voidElements[name]:
		case m[1] == "":
			open = append(open, name)
		case len(open) == 0 || open[len(open)-1] != name:
			t.Fatalf("</%s> closes %v", name, open)
		default:
			open = open[:len(open)-1]
		}
		if name == "th" && m[1] == "" && !strings.Contains(m[3], `scope="`) {
			t.Errorf("a header cell without scope: %s", m[0])
		}
	}
	if len(open) != 0 {
		t.Errorf("unclosed %v", open)
	}
	if !strings.HasPrefix(body, `<html lang="en">`) {
		t.Error("no language on <html>")
	}
	if n, c := strings.Count(body, "<table>"), strings.Count(body, "<table>\n<caption>"); n != c {
		t.Errorf("%d tables, %d with a caption first", n, c)
	}
}

// checkSelfContained: the page may name the site, but load or link
// nothing outside itself.
func checkSelfContained(t *testing.T, page, siteURL string) {
	t.Helper()
	rest := strings.ToLower(page)
	if siteURL != "" {
		rest = strings.ReplaceAll(rest, strings.ToLower(siteURL), "")
	}
	for _, bad := range []string{"<script", "http", "url(", "@import", "<link", "<img", "<iframe", "<object", "<embed", "//"} {
		if strings.Contains(rest, bad) {
			i := strings.Index(rest, bad)
			t.Errorf("page contains %q: …%s…", bad, rest[max(0, i-60):min(len(rest), i+60)])
		}
	}
	for _, m := range tagRE.FindAllStringSubmatch(page, -1) {
		attrs := m[3]
		if strings.Contains(attrs, "src=") || strings.Contains(attrs, "href=") && !strings.Contains(attrs, `href="#`) {
			t.Errorf("a tag that reaches outside the page: %s", m[0])
		}
	}
}

func TestHTMLFixtures(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			f := loadFindings(t, name)
			page := renderHTML(t, f)
			checkMarkup(t, page)
			checkSelfContained(t, page, f.Site.URL)

			mustContain(t, page,
				"<title>Billable seats — https://fixture.atlassian.net — 2026-11-26 00:00 UTC</title>",
				"<h1>Billable seats on https://fixture.atlassian.net</h1>",
				fmt.Sprintf("<dt>Seats</dt><dd>%d</dd>", f.Totals.Seats),
				fmt.Sprintf("<dt>Billable seats</dt><dd>%d</dd>", f.Totals.BillableSeats),
				fmt.Sprintf(`<dt><span class="lz lz-removable">Removable</span></dt><dd>%d</dd>`, f.Totals.Removable),
				fmt.Sprintf(`<dt><span class="lz lz-review">Review</span></dt><dd>%d</dd>`, f.Totals.Review),
				fmt.Sprintf(`<dt><span class="lz lz-hold">Hold</span></dt><dd>%d</dd>`, f.Totals.Hold),
				fmt.Sprintf(`<dt><span class="lz lz-not-billable">Not billable</span></dt><dd>%d</dd>`, f.Totals.NotBillable),
				fmt.Sprintf("<dt>Monthly saving (removable)</dt><dd>%.2f</dd>", f.Totals.MonthlySaving),
				"<dt>Inactive after</dt><dd>90 days without use</dd>",
				"<dt>Manual holds</dt><dd>3</dd>",
				"<dt>Integration users</dt><dd>1</dd>",
				"Jira Software: 8.60",
				"API token (e-mail and token, Basic auth)",
				// Markup in a display name is shown as text.
				"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;Mallory&#34; O&#39;Brien &lt;b&gt;",
				"@media print", "thead { display: table-header-group; }", "break-before: page",
				".lz-removable { background: #E3FCEF; color: #006644; }",
			)
			for _, sf := range f.SiteFindings {
				mustContain(t, page, "<li>"+strings.ReplaceAll(sf.Message, "'", "&#39;")+" <code")
			}
			for _, p := range f.Products {
				mustContain(t, page, fmt.Sprintf(`<tr><th scope="row">%s <span class="id">%s`, p.Name, p.Key))
			}

			// Sections come in verdict order, each with one row per seat
			// of that verdict.
			want := map[string]int{}
			for _, u := range f.Users {
				for _, s := range u.Seats {
					want[s.Verdict]++
				}
			}
			last := -1
			for _, v := range []string{"removable", "review", "hold", "not-billable"} {
				start := strings.Index(page, `<section class="verdict" id="`+v+`"`)
				if start < last {
					t.Fatalf("section %s missing or out of order", v)
				}
				last = start
				sec := page[start:]
				sec = sec[:strings.Index(sec, "</section>")]
				if got := strings.Count(sec, `<th scope="row">`); got != want[v] {
					t.Errorf("section %s has %d rows, want %d", v, got, want[v])
				}
				if want[v] == 0 && !strings.Contains(sec, "0 seats") {
					t.Errorf("empty section %s does not say so", v)
				}
			}
			if strings.Contains(page, `id="other"`) {
				t.Error("an 'other' section for a document with only known verdicts")
			}
		})
	}
}

func TestHTMLSourcesAndMissingData(t *testing.T) {
	org := renderHTML(t, loadFindings(t, "fixture-org"))
	mustContain(t, org, "Organizations API key", "last-active dates from the Organizations API, measured from the scan (2026-11-26)",
		"<dt>Organizations API</dt><dd>read:")
	mustNotContain(t, org, "No org key was used", "Likely monthly saving")

	keyless := renderHTML(t, loadFindings(t, "fixture-keyless"))
	mustContain(t, keyless,
		"<strong>No org key was used.</strong>",
		`12 seats are <span class="lz lz-likely">likely removable</span> — connect an org key to confirm.`,
		"<dt>Likely monthly saving</dt><dd>144.75</dd>",
		"<dt>Organizations API</dt><dd>not read (no org key)",
		"the admin users export (activity.csv) of 2026-11-26",
	)
	mustNotContain(t, keyless, "Organizations API key")
	if got := strings.Count(keyless, `<br><span class="lz lz-likely">likely removable</span>`); got != 12 {
		t.Errorf("%d seats marked likely removable, want the 12 of Totals.LikelyRemovable", got)
	}
}

func TestHTMLEscapesHostileStrings(t *testing.T) {
	f := hostile()
	page := renderHTML(t, f)
	checkMarkup(t, page)
	checkSelfContained(t, page, f.Site.URL)
	mustContain(t, page,
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;",
		"=cmd|&#39; /C calc&#39;!A0",
		"Jira &lt;b&gt;Software&lt;/b&gt;",
		"&lt;img src=x onerror=alert(1)&gt;",
		"Last used &lt;i&gt;long&lt;/i&gt; ago.",
		`@SUM(1&#43;1) <span class="lz lz-default">default</span>`,
	)
	mustNotContain(t, page, "<script", "<img", "<b>Software", "<i>long")
}

func TestHTMLGolden(t *testing.T) {
	checkGolden(t, "fixture-org.html.golden", []byte(renderHTML(t, loadFindings(t, "fixture-org"))))
}

func TestHTMLUnknownVerdictIsNotDropped(t *testing.T) {
	f := hostile()
	f.Users[1].Seats[0].Verdict = "pending"
	page := renderHTML(t, f)
	checkMarkup(t, page)
	mustContain(t, page, `<section class="verdict" id="other"`, "Other verdict", "acc-2")
}

func TestHTMLEmptyDocument(t *testing.T) {
	page := renderHTML(t, &billing.Findings{})
	checkMarkup(t, page)
	checkSelfContained(t, page, "")
	mustContain(t, page, "an unnamed site", "No products were found", "none recorded", "none given: no savings are estimated")
}

func TestHTMLReportsWriteErrors(t *testing.T) {
	err := report.HTML(&failWriter{n: 1000}, loadFindings(t, "fixture-org"))
	if !errors.Is(err, errFull) {
		t.Fatalf("HTML on a failing writer = %v, want the writer's error", err)
	}
	if err := report.HTML(&bytes.Buffer{}, nil); err == nil {
		t.Fatal("HTML(nil) succeeded")
	}
}

func mustContain(t *testing.T, page string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(page, w) {
			t.Errorf("page lacks %q", w)
		}
	}
}

func mustNotContain(t *testing.T, page string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(page, b) {
			t.Errorf("page contains %q", b)
		}
	}
}

// TestLozengeContrast holds every lozenge to WCAG AA for small text
// (4.5:1): they carry the verdict, so they must stay readable in print
// and for people with low vision.
func TestLozengeContrast(t *testing.T) {
	page := renderHTML(t, loadFindings(t, "fixture-org"))
	rule := regexp.MustCompile(`\.lz-([a-z-]+)[^{]*\{ background: #([0-9A-Fa-f]{6}); color: #([0-9A-Fa-f]{6}); \}`)
	found := rule.FindAllStringSubmatch(page, -1)
	if len(found) < 5 {
		t.Fatalf("found %d lozenge colour rules, want one per verdict and the likely/default markers", len(found))
	}
	for _, m := range found {
		if r := contrast(m[2], m[3]); r < 4.5 {
			t.Errorf("lozenge %s: contrast %.2f:1 is below 4.5:1", m[1], r)
		}
	}
}

// contrast is WCAG 2's contrast ratio of two sRGB colours in hex.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

func luminance(hex string) float64 {
	var rgb [3]float64
	for i := range rgb {
		var v int
		fmt.Sscanf(hex[2*i:2*i+2], "%02x", &v)
		c := float64(v) / 255
		if c <= 0.03928 {
			rgb[i] = c / 12.92
		} else {
			rgb[i] = math.Pow((c+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*rgb[0] + 0.7152*rgb[1] + 0.0722*rgb[2]
}
