package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/seatlens/seatlens/app/atlassian"
	"github.com/seatlens/seatlens/app/atlassian/admincsv"
	"github.com/seatlens/seatlens/app/billing"
)

// Job is one whole scan, as the CLI and the app both run it: collect with
// the credentials in Source, apply the admin CSV where there is one, and
// explain with Settings.
type Job struct {
	Source   Source
	Settings billing.Settings
	// Activity is the admin "Export users" CSV for a scan without an org
	// key; nil: none.
	Activity *ActivityCSV
	// CheckJira and CheckOrg are unretried clients with the same
	// credentials as Source.Jira and Source.Org: they ask who the
	// credential belongs to beside the scan, so that a refused credential
	// stops it in a second rather than after the backoff meant for a
	// flaky network. Nil: no check.
	CheckJira, CheckOrg *atlassian.Client
}

// ActivityCSV is a parsed admin export, the day it was exported and the
// name to show for it.
type ActivityCSV struct {
	Export *admincsv.Export
	Date   time.Time
	Name   string
}

// Result is a finished scan.
type Result struct {
	Snapshot *billing.Snapshot
	// Basis is what a targeted rescan of this scan's accounts needs.
	Basis    *Basis
	Findings *billing.Findings
	// Activity is what the admin CSV added; nil without one.
	Activity *ActivityReport
	// Calls counts every call, the credential checks included; Points
	// what the Jira calls cost in Atlassian's points.
	Calls, Points int
	// Collected is how long collecting took; Explained how long
	// explaining took after it.
	Collected, Explained time.Duration
}

// Run runs a job. A failure is a *Failure that says what went wrong in
// terms a person can act on; nothing of a failed scan is returned.
func Run(ctx context.Context, job Job) (*Result, error) {
	start := time.Now()
	scanCtx, stop := context.WithCancel(ctx)
	defer stop()
	type collected struct {
		snap  *billing.Snapshot
		basis *Basis
		err   error
		took  time.Duration
	}
	result := make(chan collected, 1)
	go func() {
		snap, basis, err := collect(scanCtx, job.Source)
		result <- collected{snap, basis, err, time.Since(start)}
	}()
	checks, err := checkCredentials(ctx, job)
	if err != nil {
		stop()
		<-result
		return nil, err
	}
	r := <-result
	if r.err != nil {
		return nil, Classify(r.err)
	}
	res := &Result{Snapshot: r.snap, Basis: r.basis, Collected: r.took, Calls: checks + job.calls(), Points: job.points()}
	if job.Activity != nil {
		rep, err := ApplyActivityCSV(r.snap, job.Activity.Export, job.Activity.Date, job.Activity.Name)
		if err != nil {
			return nil, &Failure{Kind: FailSettings, Err: err}
		}
		res.Activity = &rep
		res.Basis.Snapshot.Sources = r.snap.Sources
	}
	explained := time.Now()
	if res.Findings, err = billing.Explain(r.snap, job.Settings); err != nil {
		return nil, &Failure{Kind: FailSettings, Err: err}
	}
	res.Explained = time.Since(explained)
	return res, nil
}

// calls sums the calls of the job's clients, each client once.
func (j Job) calls() int {
	n := 0
	seen := map[*atlassian.Client]bool{}
	for _, c := range []*atlassian.Client{j.Source.Jira, j.Source.JiraAdmin, j.Source.Org} {
		if c != nil && !seen[c] {
			seen[c] = true
			n += c.Stats().Total.Calls
		}
	}
	return n
}

// points sums what the job's Jira calls cost in Atlassian's points (the
// Organizations API has limits of its own).
func (j Job) points() int {
	n := 0
	seen := map[*atlassian.Client]bool{}
	for _, c := range []*atlassian.Client{j.Source.Jira, j.Source.JiraAdmin} {
		if c != nil && !seen[c] {
			seen[c] = true
			n += c.Stats().Total.Points
		}
	}
	return n
}

// checkCredentials asks who the Jira credential belongs to and which
// organisations the org key opens; it returns the number of calls made.
func checkCredentials(ctx context.Context, job Job) (int, error) {
	n := 0
	if job.CheckJira != nil {
		n++
		if _, err := job.CheckJira.Myself(ctx); err != nil {
			return n, Classify(err)
		}
	}
	if job.CheckOrg == nil {
		return n, nil
	}
	n++
	orgs, err := job.CheckOrg.Orgs(ctx)
	if err != nil {
		return n, Classify(err)
	}
	if !slices.ContainsFunc(orgs, func(o atlassian.Org) bool { return o.ID == job.Source.OrgID }) {
		return n, &Failure{Kind: FailWrongOrg, Err: fmt.Errorf("the org key does not belong to organisation %s", job.Source.OrgID)}
	}
	return n, nil
}

// FailureKind classifies a failed scan. The values are stored with a
// scan and shown by the API, so they are stable.
type FailureKind string

const (
	FailInterrupted     FailureKind = "interrupted"      // the context was cancelled
	FailRedirect        FailureKind = "redirect-refused" // a redirect to another host
	FailJiraCredentials FailureKind = "jira-credentials" // the site refused the credential (401)
	FailOrgKey          FailureKind = "org-key-refused"  // the Organizations API refused the key (401)
	FailNotAdmin        FailureKind = "not-allowed"      // the site answered 403
	FailOrgForbidden    FailureKind = "org-key-forbidden"
	FailWrongOrg        FailureKind = "wrong-org"   // the key opens other organisations
	FailTimeout         FailureKind = "timeout"     // no complete answer in time
	FailUnreachable     FailureKind = "unreachable" // connection refused, DNS, dial timeout
	FailIncomplete      FailureKind = "incomplete"  // any other failed step
	FailSettings        FailureKind = "settings"    // the settings or the CSV do not fit the site
)

// Failure is a scan that ended without findings: its kind, and the cause.
type Failure struct {
	Kind FailureKind
	Err  error
}

func (f *Failure) Error() string { return string(f.Kind) + ": " + f.Err.Error() }
func (f *Failure) Unwrap() error { return f.Err }

// Message is the failure in one line a person can act on; site and orgID
// fill in what the caller knows.
func (f *Failure) Message(site, orgID string) string {
	e := atlassian.Printable(f.Err.Error())
	switch f.Kind {
	case FailInterrupted:
		return "scan interrupted; nothing was written"
	case FailRedirect:
		return "scan stopped, nothing was written: a redirect to another host was refused (check the site and Organizations API URLs): " + e
	case FailJiraCredentials:
		return "bad credentials: " + site + " refused the credential (" + e + ")"
	case FailOrgKey:
		return "bad credentials: the Organizations API refused the org key (" + e + ")"
	case FailNotAdmin:
		return "not allowed: the credential is not a site administrator's (" + e + ")"
	case FailOrgForbidden:
		return "not allowed: the org key may not read organisation " + orgID + " (" + e + ")"
	case FailWrongOrg:
		return e
	case FailTimeout:
		return "the site or the Organizations API stopped answering, nothing was written: " + e
	case FailUnreachable:
		return "cannot reach the site or the Organizations API: " + e
	case FailSettings:
		return e
	}
	return "scan incomplete, nothing was written: " + e
}

// Classify turns an error of a scan into a *Failure (one already
// classified is returned as it is).
func Classify(err error) *Failure {
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	var apiErr *atlassian.APIError
	isOrg := errors.As(err, &apiErr) && strings.HasPrefix(apiErr.Path, "/admin")
	var netErr net.Error
	var opErr *net.OpError
	kind := FailIncomplete
	switch {
	case errors.Is(err, context.Canceled):
		kind = FailInterrupted
	case errors.Is(err, atlassian.ErrRedirect):
		// Checked before the statuses: a refused redirect is no verdict
		// on the credentials.
		kind = FailRedirect
	case errors.Is(err, atlassian.ErrUnauthorized) && isOrg:
		kind = FailOrgKey
	case errors.Is(err, atlassian.ErrUnauthorized):
		kind = FailJiraCredentials
	case errors.Is(err, atlassian.ErrForbidden) && !isOrg:
		kind = FailNotAdmin
	case errors.Is(err, atlassian.ErrForbidden):
		kind = FailOrgForbidden
	case errors.Is(err, atlassian.ErrTimeout):
		kind = FailTimeout
	case errors.As(err, &opErr) && opErr.Op == "dial", errors.As(err, &netErr) && netErr.Timeout():
		kind = FailUnreachable
	}
	return &Failure{Kind: kind, Err: err}
}

// LimitInFlight wraps a transport so that at most n calls are in flight
// at once, whichever client sends them: a slot is taken before the
// request goes and given back when the answer's body is closed.
func LimitInFlight(next http.RoundTripper, n int) http.RoundTripper {
	return &limitedTransport{next: next, slots: make(chan struct{}, n)}
}

type limitedTransport struct {
	next  http.RoundTripper
	slots chan struct{}
}

func (t *limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	select {
	case t.slots <- struct{}{}:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		<-t.slots
		return nil, err
	}
	resp.Body = &slotBody{ReadCloser: resp.Body, release: func() { <-t.slots }}
	return resp, nil
}

// slotBody gives its call's slot back once, on Close.
type slotBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *slotBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}
