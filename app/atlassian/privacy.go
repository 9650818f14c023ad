package atlassian

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The personal data reporting API
// (https://developer.atlassian.com/cloud/jira/platform/user-privacy-developer-guide/):
// an app reports the accounts it stores, at most ReportBatch a request,
// and hears which were closed or updated.

// ReportBatch is the documented limit of accounts a request.
const ReportBatch = 90

// DefaultCyclePeriod is the cycle when the answer names none: "By default,
// the cycle period is 7 days."
const DefaultCyclePeriod = 7 * 24 * time.Hour

// ReportedAccount is one stored account and when its data was retrieved.
type ReportedAccount struct {
	AccountID string    `json:"accountId"`
	UpdatedAt time.Time `json:"-"`
}

// AccountStatus is an account that needs action: closed (erase it) or
// updated (its stored data is stale; it may be fetched again).
type AccountStatus struct {
	AccountID string `json:"accountId"`
	Status    string `json:"status"`
}

func (a AccountStatus) ident() (string, string) { return a.AccountID, "accountId" }

// Account statuses the API answers.
const (
	AccountClosed  = "closed"
	AccountUpdated = "updated"
)

var reportableID = regexp.MustCompile(`^[A-Za-z0-9:-]{1,128}$`)

// Reportable reports whether an account ID may be reported: 1 to 128
// letters, digits, '-' and ':', and never "unknown".
func Reportable(accountID string) bool {
	return accountID != "unknown" && reportableID.MatchString(accountID)
}

// ReportAccounts sends one batch and returns the accounts that need action
// and the cycle the answer asks for. A 429 waits Retry-After and tries
// again, as every call of the client does.
func (c *Client) ReportAccounts(ctx context.Context, accounts []ReportedAccount) ([]AccountStatus, time.Duration, error) {
	if len(accounts) == 0 || len(accounts) > ReportBatch {
		return nil, 0, errors.New("atlassian: report accounts: 1 to 90 accounts a request")
	}
	type wire struct {
		AccountID string `json:"accountId"`
		UpdatedAt string `json:"updatedAt"`
	}
	body := struct {
		Accounts []wire `json:"accounts"`
	}{}
	for _, a := range accounts {
		if !Reportable(a.AccountID) {
			return nil, 0, errors.New("atlassian: report accounts: account ID " + describe(a.AccountID) + " may not be reported")
		}
		// RFC 3339 with a T and a Z: a space separator is refused.
		body.Accounts = append(body.Accounts, wire{a.AccountID, a.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000Z")})
	}
	var out struct {
		Accounts list[AccountStatus, inAccounts] `json:"accounts"`
	}
	ans := &answer{}
	// Reporting the same accounts twice is harmless, so a lost answer is
	// asked again.
	err := c.do(ctx, request{op: "reportAccounts", method: http.MethodPost, path: "/app/report-accounts/",
		body: body, idempotent: true, answer: ans}, &out)
	if err != nil {
		return nil, 0, err
	}
	cycle := CyclePeriod(ans.header.Get("Cycle-Period"))
	if ans.status == http.StatusNoContent {
		return nil, cycle, nil
	}
	if err := out.Accounts.need(); err != nil {
		return nil, 0, err
	}
	return out.Accounts.Items, cycle, nil
}

// CyclePeriod reads a Cycle-Period header: whole seconds ("604800") or an
// ISO 8601 duration ("P7D", "PT168H"); Atlassian does not give its format.
// Anything else, or nothing, is the default 7 days.
func CyclePeriod(v string) time.Duration {
	v = strings.TrimSpace(v)
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 && n < 366*24*3600 {
		return time.Duration(n) * time.Second
	}
	if d, ok := isoDuration(v); ok && d > 0 && d < 366*24*time.Hour {
		return d
	}
	return DefaultCyclePeriod
}

var isoDur = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$`)

func isoDuration(v string) (time.Duration, bool) {
	m := isoDur.FindStringSubmatch(strings.ToUpper(v))
	if m == nil || v == "P" || strings.HasSuffix(strings.ToUpper(v), "T") {
		return 0, false
	}
	var d time.Duration
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute, time.Second} {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.ParseInt(m[i+1], 10, 64)
		if err != nil || n > 1<<20 {
			return 0, false
		}
		d += time.Duration(n) * unit
	}
	return d, true
}
