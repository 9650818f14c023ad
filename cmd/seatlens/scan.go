package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/seatlens/seatlens/app/atlassian"
	"github.com/seatlens/seatlens/app/atlassian/admincsv"
	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/report"
	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/descriptor"
)

// defaultOrgURL is where the Organizations API lives.
const defaultOrgURL = "https://api.atlassian.com"

// scanClock is the scan's "now"; tests pin it to the fixture's date.
var scanClock = time.Now

// The bounds of one call (zero: atlassian's defaults, which give up on a
// dead or dripping server within 90 seconds); tests shorten them.
var scanAttemptTimeout, scanCallTimeout time.Duration

// scanFlags are the flags of `seatlens scan`; their names are a contract
// for scripts.
type scanFlags struct {
	site, email, token           string
	orgURL, orgID, orgKey        string
	activityCSV, activityCSVDate string
	settings                     string
	inactiveDays                 int
	format, out                  string
	concurrency                  int
	progress                     string
}

func (f *scanFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.site, "site", "", "the Jira site, e.g. https://acme.atlassian.net (required)")
	fs.StringVar(&f.email, "email", "", "e-mail of a site admin's Atlassian account (required)")
	fs.StringVar(&f.token, "token", "", "that account's API token (required; prefer SEATLENS_TOKEN over the flag, which shows in the process list)")
	fs.StringVar(&f.orgURL, "org-url", defaultOrgURL, "base URL of the Organizations API")
	fs.StringVar(&f.orgID, "org-id", "", "organisation ID, with --org-key")
	fs.StringVar(&f.orgKey, "org-key", "", "Organizations API key: unlocks Confluence, last-active dates, synced groups, direct roles and service accounts (prefer SEATLENS_ORG_KEY)")
	fs.StringVar(&f.activityCSV, "activity-csv", "", "without an org key: the admin \"Export users\" CSV as the activity source")
	fs.StringVar(&f.activityCSVDate, "activity-csv-date", "", "the date the CSV was exported, YYYY-MM-DD (default: the file's modification date)")
	fs.StringVar(&f.settings, "settings", "", "settings JSON: inactiveDays, manualHolds, integrationUsers, seatPrices (DESIGN.md §2)")
	fs.IntVar(&f.inactiveDays, "inactive-days", 0, "days without activity after which a seat is inactive (overrides the settings; default 90)")
	fs.StringVar(&f.format, "format", "json", "output: json (the findings document), csv (one row per seat) or html (a printable report)")
	fs.StringVar(&f.out, "out", "", "write the output to this file instead of stdout")
	fs.IntVar(&f.concurrency, "concurrency", scan.DefaultConcurrency, "requests in flight at once")
	fs.StringVar(&f.progress, "progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), always or never")
}

func (f *scanFlags) validate() error {
	if f.site == "" || f.email == "" || f.token == "" {
		return errors.New("--site, --email and --token are required")
	}
	if err := checkURL("--site", f.site); err != nil {
		return err
	}
	if f.orgKey != "" || f.orgID != "" {
		if f.orgKey == "" || f.orgID == "" {
			return errors.New("--org-key and --org-id go together")
		}
		if err := checkURL("--org-url", f.orgURL); err != nil {
			return err
		}
		if f.activityCSV != "" {
			return errors.New("--activity-csv is for scans without an org key: the org key gives last-active dates")
		}
	}
	if f.activityCSVDate != "" {
		if f.activityCSV == "" {
			return errors.New("--activity-csv-date needs --activity-csv")
		}
		if _, err := time.Parse(time.DateOnly, f.activityCSVDate); err != nil {
			return fmt.Errorf("--activity-csv-date %q: want YYYY-MM-DD", f.activityCSVDate)
		}
	}
	if f.inactiveDays != 0 && (f.inactiveDays < 1 || f.inactiveDays > 3650) {
		return fmt.Errorf("--inactive-days %d: want 1..3650", f.inactiveDays)
	}
	switch f.format {
	case "json", "csv", "html":
	default:
		return fmt.Errorf("--format %q: want json, csv or html", f.format)
	}
	if f.concurrency < 1 || f.concurrency > 100 {
		return fmt.Errorf("--concurrency %d: want 1..100", f.concurrency)
	}
	switch f.progress {
	case "auto", "always", "never":
	default:
		return fmt.Errorf("--progress %q: want auto, always or never", f.progress)
	}
	return nil
}

// checkURL accepts https, or http to a loopback host (the simulated site).
func checkURL(name, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil ||
		!(u.Scheme == "https" || u.Scheme == "http" && descriptor.IsLoopbackHost(u.Hostname())) {
		return fmt.Errorf("%s %q: want an https URL (http only to a loopback host)", name, raw)
	}
	return nil
}

// scanCmd runs `seatlens scan`: collect, explain, write. Stdout carries
// only the output; a summary and any warning go to stderr; a failure is
// one line and a non-zero exit, and nothing is written.
func scanCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var f scanFlags
	fs := newFlagSet("scan", stderr)
	f.register(fs)
	if err := parseFlags(fs, args, getenv, f.validate); err != nil {
		return err
	}
	settings := billing.Settings{}
	if f.settings != "" {
		file, err := os.Open(f.settings)
		if err != nil {
			return fmt.Errorf("%w: --settings: %v", errUsage, err)
		}
		settings, err = billing.ParseSettings(file)
		file.Close()
		if err != nil {
			return fmt.Errorf("%w: --settings %s: %v", errUsage, f.settings, err)
		}
	}
	if f.inactiveDays != 0 {
		settings.InactiveDays = f.inactiveDays
	}
	var export *admincsv.Export
	var exportDate time.Time
	if f.activityCSV != "" {
		var err error
		if export, exportDate, err = readActivityCSV(f.activityCSV, f.activityCSVDate); err != nil {
			return err
		}
	}

	opts := atlassian.Options{MaxInFlight: f.concurrency, UserAgent: "seatlens-scan", AttemptTimeout: scanAttemptTimeout, CallTimeout: scanCallTimeout}
	// Keep a connection per call in flight: the default transport keeps two
	// idle ones per host, so a scan would open a new connection for most
	// calls.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = f.concurrency + 2
	// One limit for both APIs: --concurrency is what the scan keeps in
	// flight in total, whichever client sends. Each call bounds its own
	// attempts (atlassian.Options' timeouts), so the http.Client has none.
	hc := &http.Client{Transport: scan.LimitInFlight(transport, f.concurrency)}
	jira, err := atlassian.New(hc, f.site, atlassian.Basic(f.email, f.token), opts)
	if err != nil {
		return fmt.Errorf("%w: --site: %v", errUsage, err)
	}
	// An API token may call every operation: it is both Jira clients.
	job := scan.Job{Settings: settings, Source: scan.Source{SiteURL: f.site, Jira: jira, JiraCredential: billing.CredentialAPIToken,
		JiraAdmin: jira, Concurrency: f.concurrency, Now: scanClock}}
	checkOpts := atlassian.Options{MaxRetries: -1, UserAgent: opts.UserAgent, AttemptTimeout: scanAttemptTimeout, CallTimeout: scanCallTimeout}
	if job.CheckJira, err = atlassian.New(hc, f.site, atlassian.Basic(f.email, f.token), checkOpts); err != nil {
		return fmt.Errorf("%w: --site: %v", errUsage, err)
	}
	if f.orgKey != "" {
		if job.Source.Org, err = atlassian.New(hc, f.orgURL, atlassian.Bearer(f.orgKey), opts); err != nil {
			return fmt.Errorf("%w: --org-url: %v", errUsage, err)
		}
		job.Source.OrgID = f.orgID
		if job.CheckOrg, err = atlassian.New(hc, f.orgURL, atlassian.Bearer(f.orgKey), checkOpts); err != nil {
			return fmt.Errorf("%w: --org-url: %v", errUsage, err)
		}
	}
	if export != nil {
		job.Activity = &scan.ActivityCSV{Export: export, Date: exportDate, Name: filepath.Base(f.activityCSV)}
	}
	bar := newProgressBar(stderr, f.progress)
	job.Source.Progress = bar.update
	start := time.Now()
	res, err := scan.Run(ctx, job)
	bar.done()
	if err != nil {
		return explainScanError(f, err)
	}
	if res.Activity != nil {
		reportActivity(stderr, f.activityCSV, exportDate, *res.Activity)
	}
	snap, findings := res.Snapshot, res.Findings
	// JSON is indented for a person at a terminal; a file or a pipe gets it
	// compact, ten times faster to write (jq indents it when wanted). A
	// terminal also gets no control character: names come from Atlassian.
	terminal := f.out == "" && isTerminal(stdout)
	out := stdout
	if terminal {
		out = &controlFilter{w: stdout}
	}
	if err := writeOutput(f.out, out, func(w io.Writer) error { return render(w, f.format, terminal, findings) }); err != nil {
		return err
	}
	t := findings.Totals
	fmt.Fprintf(stderr, "seatlens: scanned %s: %d users, %d seats, %d billable: %d removable, %d review, %d hold; %d calls in %s, explained and written in %s\n",
		f.site, t.Users, t.Seats, t.BillableSeats, t.Removable, t.Review, t.Hold, res.Calls, res.Collected.Round(time.Millisecond), (time.Since(start) - res.Collected).Round(time.Millisecond))
	for _, o := range snap.Sources.Offline {
		fmt.Fprintf(stderr, "seatlens: %s is %s on this site (the Organizations API says so); its seats are not explained\n", productLabel(o.Product), o.Status)
	}
	if !snap.Sources.OrgAPI && t.LikelyRemovable > 0 {
		fmt.Fprintf(stderr, "seatlens: without an org key nothing is removable yet; %d seats are likely removable (connect an org key to confirm)\n", t.LikelyRemovable)
	}
	return nil
}

func render(w io.Writer, format string, indent bool, f *billing.Findings) error {
	switch format {
	case "csv":
		return report.CSV(w, f)
	case "html":
		return report.HTML(w, f)
	}
	enc := json.NewEncoder(w)
	if indent {
		enc.SetIndent("", "  ")
	}
	return enc.Encode(f)
}

// explainScanError turns a failed scan into the one line a person needs,
// in the flags' terms: which credential was refused, or that the site is
// unreachable, or which step left the data incomplete.
func explainScanError(f scanFlags, err error) error {
	fail := scan.Classify(err)
	switch fail.Kind {
	case scan.FailRedirect:
		return fmt.Errorf("scan stopped, nothing was written: a redirect to another host was refused (check --site and --org-url): %v", fail.Err)
	case scan.FailJiraCredentials:
		return fmt.Errorf("bad credentials: %s refused the e-mail and API token (%v)", f.site, fail.Err)
	case scan.FailNotAdmin:
		return fmt.Errorf("not allowed: %s is not a site administrator's account (%v)", f.email, fail.Err)
	}
	return errors.New(fail.Message(f.site, f.orgID))
}

// productLabel names a product in a message.
func productLabel(key string) string {
	if p, ok := billing.LookupProduct(key); ok {
		return p.Name
	}
	return key
}

// controlFilter drops the control characters a terminal would act on
// (ESC and the rest of C0 but newline and tab, DEL, and C1 as UTF-8)
// from output bound for it.
type controlFilter struct {
	w   io.Writer
	buf []byte
}

func (c *controlFilter) Write(p []byte) (int, error) {
	c.buf = c.buf[:0]
	for i := 0; i < len(p); i++ {
		b := p[i]
		switch {
		case b == '\n' || b == '\t':
		case b < 0x20 || b == 0x7f:
			continue
		case b == 0xc2 && i+1 < len(p) && p[i+1] >= 0x80 && p[i+1] <= 0x9f:
			i++ // a C1 control, U+0080–U+009F
			continue
		}
		c.buf = append(c.buf, b)
	}
	if _, err := c.w.Write(c.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

func readActivityCSV(path, date string) (*admincsv.Export, time.Time, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: --activity-csv: %v", errUsage, err)
	}
	defer file.Close()
	exportDate := time.Time{}
	if date != "" {
		exportDate, _ = time.Parse(time.DateOnly, date)
	} else {
		st, err := file.Stat()
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("--activity-csv: %w", err)
		}
		// The file carries no export date; its modification day is the
		// best guess, and the summary says so.
		y, m, d := st.ModTime().UTC().Date()
		exportDate = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	exp, err := admincsv.Parse(bufio.NewReader(file))
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("--activity-csv %s: %w", path, err)
	}
	return exp, exportDate, nil
}

func reportActivity(w io.Writer, path string, date time.Time, rep scan.ActivityReport) {
	fmt.Fprintf(w, "seatlens: activity from %s (exported %s): %d accounts, %d on this site\n",
		path, date.Format(time.DateOnly), rep.Accounts, rep.Matched)
	if len(rep.Missing) > 0 {
		fmt.Fprintf(w, "seatlens: activity CSV has no \"Last seen in\" column for %s; those seats have no activity data\n", strings.Join(rep.Missing, ", "))
	}
	for i, p := range rep.Problems {
		if i == 5 {
			fmt.Fprintf(w, "seatlens: activity CSV: %d more problems\n", len(rep.Problems)-5+rep.ProblemsOmitted)
			break
		}
		fmt.Fprintf(w, "seatlens: activity CSV: %s\n", atlassian.Printable(p.String()))
	}
}

// writeOutput writes to stdout, or to a file that appears whole or not at
// all (a temporary file renamed into place), so a failed scan never leaves
// half a report where a script expects one.
func writeOutput(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "" {
		bw := bufio.NewWriterSize(stdout, 1<<16)
		if err := write(bw); err != nil {
			return err
		}
		return bw.Flush()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriterSize(tmp, 1<<16)
	if err := write(bw); err != nil {
		tmp.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("--out: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}
