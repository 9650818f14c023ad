// Package tenancy holds what a tenant gives Seatlens besides its install:
// the Organizations API key, the settings, the admin CSV, and access to
// the Forge app token; and it turns them into the scan job of the best
// credential for each call (DESIGN.md §4's credential table).
package tenancy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/seatlens/seatlens/app/apperr"
	"github.com/seatlens/seatlens/app/atlassian"
	"github.com/seatlens/seatlens/app/atlassian/admincsv"
	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/forge"
	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/store"
)

// Names in the tenant's data.
const (
	orgKeySecret   = "org-api-key"
	configBucket   = "config"
	settingsKey    = "settings"
	activityKey    = "activity-csv"
	activityMeta   = "activity-csv-meta"
	adminPermision = "ADMINISTER"
)

// AppTokenMinLifetime is how long the Forge app token must still be valid
// for a scan to use it: the calls it makes (applicationrole, users/search)
// come early in a scan, and each call checks the token again.
const AppTokenMinLifetime = 10 * time.Minute

// Service is the tenants' side of the app.
type Service struct {
	Store  *store.Store
	Tokens *forge.Tokens
	// OrgAPIURL is the operator's Organizations API (--org-api-url).
	OrgAPIURL string
	// Transport sends every call to Atlassian; nil: http.DefaultTransport.
	Transport   http.RoundTripper
	Concurrency int // calls in flight per scan; 0: scan.DefaultConcurrency
	// AttemptTimeout and CallTimeout bound each call (zero: the client's
	// defaults).
	AttemptTimeout, CallTimeout time.Duration
	Now                         func() time.Time
	// Budget meters the calls of the app's credentials in Atlassian's
	// points, across every tenant; nil: unmetered.
	Budget atlassian.Budget
	// Observer, when set, hears of every call to Atlassian (metrics).
	Observer atlassian.Observer

	mu     sync.Mutex
	pacers map[string]*atlassian.Pacer // per tenant: its burst buckets outlive one scan
}

// pacer is the tenant's burst pacer, shared by all its app clients.
func (s *Service) pacer(clientKey string) *atlassian.Pacer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pacers == nil {
		s.pacers = map[string]*atlassian.Pacer{}
	}
	p := s.pacers[clientKey]
	if p == nil {
		p = &atlassian.Pacer{}
		s.pacers[clientKey] = p
	}
	return p
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) transport() http.RoundTripper {
	if s.Transport != nil {
		return s.Transport
	}
	return http.DefaultTransport
}

func (s *Service) options(retries bool) atlassian.Options {
	o := atlassian.Options{UserAgent: "seatlens", AttemptTimeout: s.AttemptTimeout, CallTimeout: s.CallTimeout, MaxInFlight: s.concurrency(), Observer: s.Observer}
	if !retries {
		o.MaxRetries = -1
	}
	return o
}

// appOptions are the options of a client with an app credential (Connect
// JWT, Forge app token): its calls draw on the points budget.
func (s *Service) appOptions(clientKey string, retries bool) atlassian.Options {
	o := s.options(retries)
	o.Pacer = s.pacer(clientKey)
	if s.Budget != nil {
		o.Budget, o.BudgetKey = s.Budget, clientKey
		// A window that ran dry is waited out in the budget, not in a
		// call: a 429 means another app of the pool spent it.
		o.MaxWait = time.Hour + time.Minute
	}
	return o
}

func (s *Service) concurrency() int {
	if s.Concurrency > 0 {
		return s.Concurrency
	}
	return scan.DefaultConcurrency
}

// jira is a Jira client signing as the Connect app of the tenant.
func (s *Service) jira(t store.Tenant, rt http.RoundTripper, retries bool) (*atlassian.Client, error) {
	signing, err := atlassian.NewSigningTransport(atlassian.SigningConfig{
		AppKey: t.AppKey, ClientKey: t.ClientKey, SharedSecret: t.SharedSecret, BaseURL: t.BaseURL, Next: rt, Now: s.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("tenancy: sign for %s: %w", t.ClientKey, err)
	}
	return atlassian.New(&http.Client{Transport: signing}, t.BaseURL, nil, s.appOptions(t.ClientKey, retries))
}

// installed returns the tenant if it is installed.
func (s *Service) installed(ctx context.Context, clientKey string) (store.Tenant, error) {
	t, err := s.Store.Tenant(ctx, clientKey)
	if err != nil {
		return store.Tenant{}, fmt.Errorf("tenancy: tenant %s: %w", clientKey, err)
	}
	if !t.Installed {
		return store.Tenant{}, fmt.Errorf("tenancy: tenant %s is uninstalled", clientKey)
	}
	return t, nil
}

// Prepare builds a scan job with the best credential for each call: the
// Connect JWT for what it may call, the Forge app token (while it has
// AppTokenMinLifetime left) for applicationrole and users/search, and the
// org key at the operator's Organizations API.
func (s *Service) Prepare(ctx context.Context, clientKey string) (scan.Job, string, error) {
	t, err := s.installed(ctx, clientKey)
	if err != nil {
		return scan.Job{}, "", err
	}
	rt := scan.LimitInFlight(s.transport(), s.concurrency())
	jira, err := s.jira(t, rt, true)
	if err != nil {
		return scan.Job{}, t.BaseURL, err
	}
	job := scan.Job{Source: scan.Source{SiteURL: t.BaseURL, Jira: jira, JiraCredential: billing.CredentialConnectJWT,
		Concurrency: s.concurrency(), Now: s.Now}}
	if s.Tokens != nil {
		if tok, err := s.Tokens.Get(ctx, clientKey, AppTokenMinLifetime); err == nil {
			auth := s.appTokenAuth(clientKey)
			if job.Source.JiraAdmin, err = atlassian.New(&http.Client{Transport: rt}, tok.APIBaseURL, auth, s.appOptions(clientKey, true)); err != nil {
				return scan.Job{}, t.BaseURL, fmt.Errorf("tenancy: app token client: %w", err)
			}
			job.Source.JiraAdminCredential = billing.CredentialForgeToken
		} else if !errors.Is(err, forge.ErrNoToken) {
			return scan.Job{}, t.BaseURL, err
		}
	}
	cred, ok, err := s.orgCredential(ctx, clientKey)
	if err != nil {
		return scan.Job{}, t.BaseURL, err
	}
	if ok {
		if job.Source.Org, err = atlassian.New(&http.Client{Transport: rt}, s.OrgAPIURL, atlassian.Bearer(cred.Key), s.options(true)); err != nil {
			return scan.Job{}, t.BaseURL, fmt.Errorf("tenancy: org client: %w", err)
		}
		job.Source.OrgID = cred.OrgID
		if job.CheckOrg, err = atlassian.New(&http.Client{Transport: rt}, s.OrgAPIURL, atlassian.Bearer(cred.Key), s.options(false)); err != nil {
			return scan.Job{}, t.BaseURL, fmt.Errorf("tenancy: org client: %w", err)
		}
	}
	set, err := s.Settings(ctx, clientKey)
	if err != nil {
		return scan.Job{}, t.BaseURL, err
	}
	job.Settings = set.Settings
	if !ok {
		if job.Activity, err = s.activity(ctx, clientKey); err != nil {
			return scan.Job{}, t.BaseURL, err
		}
	}
	return job, t.BaseURL, nil
}

// appTokenAuth puts the tenant's current app token on each call, so that
// a token Forge renews during a long scan is used, and one that expired
// is never sent.
func (s *Service) appTokenAuth(clientKey string) atlassian.Authorizer {
	return atlassian.AuthorizerFunc(func(req *http.Request) error {
		tok, err := s.Tokens.Get(req.Context(), clientKey, time.Minute)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		return nil
	})
}

// IsJiraAdmin asks the tenant's site whether an account holds Jira's
// ADMINISTER global permission, with the Connect JWT (which may call
// permissions/check).
func (s *Service) IsJiraAdmin(ctx context.Context, clientKey, accountID string) (bool, error) {
	t, err := s.installed(ctx, clientKey)
	if err != nil {
		return false, err
	}
	jira, err := s.jira(t, s.transport(), true)
	if err != nil {
		return false, err
	}
	return jira.HasGlobalPermission(ctx, accountID, adminPermision)
}

// OrgCredential is a tenant's Organizations API key, kept sealed, and the
// result of its last check.
type OrgCredential struct {
	OrgID     string    `json:"orgId"`
	Key       string    `json:"key"`
	CheckedAt time.Time `json:"checkedAt"`
	OK        bool      `json:"ok"`
	Message   string    `json:"message,omitempty"`
	// ExpiresAt is when the key stops working: the date the admin read in
	// admin.atlassian.com when creating it (ExpiryStated), else a year
	// after it was given to Seatlens, the longest an API key lasts. The
	// Organizations API does not say.
	ExpiresAt    time.Time `json:"expiresAt"`
	ExpiryStated bool      `json:"expiryStated"`
}

// keyLifetime is the longest an Organizations API key lasts.
const keyLifetime = 365 * 24 * time.Hour

// expiryWarning is how long before a key's expiry Seatlens warns.
const expiryWarning = 30 * 24 * time.Hour

func (s *Service) orgCredential(ctx context.Context, clientKey string) (OrgCredential, bool, error) {
	raw, ok, err := s.Store.Secret(ctx, clientKey, orgKeySecret)
	if err != nil || !ok {
		return OrgCredential{}, false, err
	}
	var c OrgCredential
	if err := json.Unmarshal(raw, &c); err != nil {
		return OrgCredential{}, false, fmt.Errorf("tenancy: decode org credential: %w", err)
	}
	return c, true, nil
}

// ValidOrgID reports whether id can be an organisation id in a URL path.
func ValidOrgID(id string) bool {
	return id != "" && len(id) <= 128 && !strings.ContainsAny(id, "/?#%\\ \t\r\n")
}

// SetOrgKey checks an org key with one Organizations API call (the orgs
// it opens must include orgID) and stores it sealed. A key Atlassian
// refuses, or one for other organisations, is an apperr with code
// org-key-refused and Atlassian's words; it is not stored.
func (s *Service) SetOrgKey(ctx context.Context, clientKey, orgID, key string, expires *time.Time) (OrgCredential, error) {
	const op = "tenancy.SetOrgKey"
	switch {
	case !ValidOrgID(orgID):
		return OrgCredential{}, apperr.WithCode(op, apperr.Invalid, "bad-request", "orgId: not an organisation id", nil)
	case strings.TrimSpace(key) == "" || len(key) > 4096:
		return OrgCredential{}, apperr.WithCode(op, apperr.Invalid, "bad-request", "key: empty or longer than 4096 characters", nil)
	}
	if _, err := s.installed(ctx, clientKey); err != nil {
		return OrgCredential{}, apperr.E(op, apperr.NotFound, "tenant not installed", err)
	}
	c, err := atlassian.New(&http.Client{Transport: s.transport()}, s.OrgAPIURL, atlassian.Bearer(key), s.options(false))
	if err != nil {
		return OrgCredential{}, apperr.E(op, apperr.Other, "", err)
	}
	orgs, err := c.Orgs(ctx)
	var apiErr *atlassian.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.StatusCode < 500:
		return OrgCredential{}, apperr.WithCode(op, apperr.Unprocessable, "org-key-refused",
			"The Organizations API refused the key: "+atlassian.Printable(apiErr.Message()), nil)
	case err != nil:
		return OrgCredential{}, apperr.E(op, apperr.Unavailable, "The Organizations API could not be reached to check the key; try again.", err)
	case !slices.ContainsFunc(orgs, func(o atlassian.Org) bool { return o.ID == orgID }):
		return OrgCredential{}, apperr.WithCode(op, apperr.Unprocessable, "org-key-refused",
			"The key is valid but does not open organisation "+orgID+"; check the organisation id in admin.atlassian.com.", nil)
	}
	now := s.now().UTC()
	cred := OrgCredential{OrgID: orgID, Key: key, CheckedAt: now, OK: true, ExpiresAt: now.Add(keyLifetime)}
	if expires != nil {
		switch {
		case !expires.After(now):
			return OrgCredential{}, apperr.WithCode(op, apperr.Invalid, "bad-request", "expiresAt: the key would already have expired", nil)
		case expires.After(now.Add(keyLifetime + 24*time.Hour)):
			return OrgCredential{}, apperr.WithCode(op, apperr.Invalid, "bad-request", "expiresAt: Organizations API keys last at most a year", nil)
		}
		cred.ExpiresAt, cred.ExpiryStated = expires.UTC(), true
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		return OrgCredential{}, apperr.E(op, apperr.Other, "", err)
	}
	if err := s.Store.PutSecret(ctx, clientKey, orgKeySecret, raw); err != nil {
		return OrgCredential{}, apperr.E(op, apperr.Unavailable, "could not store the key", err)
	}
	return cred, nil
}

// PutOrgCredential stores an org credential without checking it (the demo
// configures its own site's key this way).
func (s *Service) PutOrgCredential(ctx context.Context, clientKey string, c OrgCredential) error {
	if !ValidOrgID(c.OrgID) || c.Key == "" {
		return errors.New("tenancy: org credential needs an org id and a key")
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("tenancy: encode org credential: %w", err)
	}
	return s.Store.PutSecret(ctx, clientKey, orgKeySecret, raw)
}

// DeleteOrgKey forgets the tenant's org key.
func (s *Service) DeleteOrgKey(ctx context.Context, clientKey string) error {
	return s.Store.DeleteSecret(ctx, clientKey, orgKeySecret)
}

// Status is what the tenant's credentials give (GET /api/v1/status).
type Status struct {
	Connect       bool           `json:"connect"`
	ForgeAppToken AppTokenStatus `json:"forgeAppToken"`
	OrgKey        OrgKeyStatus   `json:"orgKey"`
	// Unlocks says, per credential, what it adds to a scan; Missing what
	// connecting the absent ones would add.
	Missing []string `json:"missing"`
}

// AppTokenStatus is the Forge app token as the API shows it.
type AppTokenStatus struct {
	Present   bool       `json:"present"`
	ExpiresAt *time.Time `json:"expiresAt"`
}

// OrgKeyStatus is the org key as the API shows it (never the key).
type OrgKeyStatus struct {
	Present      bool       `json:"present"`
	OrgID        string     `json:"orgId,omitempty"`
	CheckedAt    *time.Time `json:"checkedAt,omitempty"`
	OK           bool       `json:"ok"`
	Message      string     `json:"message,omitempty"`
	ExpiresAt    *time.Time `json:"expiresAt,omitempty"`
	ExpiryStated bool       `json:"expiryStated,omitempty"`
	ExpiresSoon  bool       `json:"expiresSoon,omitempty"` // within a month (or past)
}

// KeyStatus is what the API shows of an org credential: never the key.
func (s *Service) KeyStatus(c OrgCredential) OrgKeyStatus {
	at := c.CheckedAt
	st := OrgKeyStatus{Present: true, OrgID: c.OrgID, CheckedAt: &at, OK: c.OK, Message: c.Message}
	if !c.ExpiresAt.IsZero() {
		exp := c.ExpiresAt
		st.ExpiresAt, st.ExpiryStated, st.ExpiresSoon = &exp, c.ExpiryStated, exp.Sub(s.now()) < expiryWarning
	}
	return st
}

// CredentialStatus reports the tenant's credentials.
func (s *Service) CredentialStatus(ctx context.Context, clientKey string) (Status, error) {
	st := Status{Connect: true, Missing: []string{}}
	if s.Tokens != nil {
		tok, err := s.Tokens.Get(ctx, clientKey, 0)
		switch {
		case err == nil:
			exp := tok.ExpiresAt.UTC()
			st.ForgeAppToken = AppTokenStatus{Present: true, ExpiresAt: &exp}
		case !errors.Is(err, forge.ErrNoToken):
			return Status{}, err
		}
	}
	cred, ok, err := s.orgCredential(ctx, clientKey)
	if err != nil {
		return Status{}, err
	}
	if ok {
		st.OrgKey = s.KeyStatus(cred)
	}
	if !st.ForgeAppToken.Present {
		st.Missing = append(st.Missing, "forge-app-token: default groups, seat limits, app and customer accounts; the second cleanup path")
	}
	if !st.OrgKey.Present {
		st.Missing = append(st.Missing, "org-key: Confluence and every other product, last-active dates, synced groups, direct and inferred roles, service accounts; the documented cleanup path")
	}
	return st, nil
}

// Settings is the settings document of the API: exactly `seatlens scan
// --settings` plus the scan schedule and the approvers.
type Settings struct {
	billing.Settings
	Schedule  string   `json:"schedule"`
	Approvers []string `json:"approvers"`
}

// Schedules.
var schedules = []string{"daily", "weekly", "off"}

// ParseSettings reads a settings document, refusing unknown fields and
// naming the field that is wrong.
func ParseSettings(body []byte) (Settings, error) {
	var set Settings
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&set); err != nil {
		return Settings{}, fmt.Errorf("settings: %w", err)
	}
	if dec.More() {
		return Settings{}, errors.New("settings: more than one JSON value")
	}
	set = set.withDefaults()
	if err := set.Settings.Validate(); err != nil {
		return Settings{}, errors.New(strings.TrimPrefix(err.Error(), "billing: "))
	}
	if !slices.Contains(schedules, set.Schedule) {
		return Settings{}, fmt.Errorf("settings: schedule must be daily, weekly or off, not %q", set.Schedule)
	}
	for i, a := range set.Approvers {
		if strings.TrimSpace(a) == "" || len(a) > 128 {
			return Settings{}, fmt.Errorf("settings: approvers[%d] is not an account id", i)
		}
	}
	return set, nil
}

func (s Settings) withDefaults() Settings {
	s.Settings = s.Settings.WithDefaults()
	if s.Schedule == "" {
		s.Schedule = "daily"
	}
	if s.Approvers == nil {
		s.Approvers = []string{}
	}
	return s
}

// Settings returns the tenant's settings (the defaults until some are put).
func (s *Service) Settings(ctx context.Context, clientKey string) (Settings, error) {
	raw, err := s.Store.TenantGet(ctx, clientKey, configBucket, []byte(settingsKey))
	if errors.Is(err, store.ErrNotFound) {
		return Settings{}.withDefaults(), nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("tenancy: settings of %s: %w", clientKey, err)
	}
	var set Settings
	if err := json.Unmarshal(raw, &set); err != nil {
		return Settings{}, fmt.Errorf("tenancy: decode settings of %s: %w", clientKey, err)
	}
	return set.withDefaults(), nil
}

// PutSettings replaces the tenant's settings.
func (s *Service) PutSettings(ctx context.Context, clientKey string, set Settings) error {
	raw, err := json.Marshal(set.withDefaults())
	if err != nil {
		return fmt.Errorf("tenancy: encode settings: %w", err)
	}
	return s.Store.TenantPut(ctx, clientKey, configBucket, []byte(settingsKey), raw)
}

// ActivityUpload describes a stored admin CSV.
type ActivityUpload struct {
	Date       string    `json:"date"` // the day it was exported, YYYY-MM-DD
	UploadedAt time.Time `json:"uploadedAt"`
	Accounts   int       `json:"accounts"`
	Problems   int       `json:"problems"`
	Bytes      int       `json:"bytes"`
}

// PutActivityCSV checks and stores an admin "Export users" CSV, used by
// the next scans without an org key until replaced.
func (s *Service) PutActivityCSV(ctx context.Context, clientKey string, date time.Time, body []byte) (ActivityUpload, error) {
	exp, err := admincsv.Parse(bytes.NewReader(body))
	if err != nil {
		return ActivityUpload{}, apperr.WithCode("tenancy.PutActivityCSV", apperr.Invalid, "bad-request", "body: "+atlassian.Printable(err.Error()), nil)
	}
	up := ActivityUpload{Date: date.UTC().Format(time.DateOnly), UploadedAt: s.now().UTC(), Accounts: len(exp.Users),
		Problems: len(exp.Problems) + exp.ProblemsOmitted, Bytes: len(body)}
	meta, err := json.Marshal(up)
	if err != nil {
		return ActivityUpload{}, err
	}
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.Put(clientKey, configBucket, []byte(activityKey), body); err != nil {
			return err
		}
		return tx.Put(clientKey, configBucket, []byte(activityMeta), meta)
	})
	if err != nil {
		return ActivityUpload{}, fmt.Errorf("tenancy: store the activity CSV of %s: %w", clientKey, err)
	}
	return up, nil
}

// activity returns the stored CSV for a scan, nil when there is none.
func (s *Service) activity(ctx context.Context, clientKey string) (*scan.ActivityCSV, error) {
	exp, up, err := s.storedCSV(ctx, clientKey)
	if err != nil || exp == nil {
		return nil, err
	}
	date, err := time.Parse(time.DateOnly, up.Date)
	if err != nil {
		return nil, fmt.Errorf("tenancy: activity CSV date: %w", err)
	}
	return &scan.ActivityCSV{Export: exp, Date: date, Name: "export-users.csv"}, nil
}

// storedCSV reads and parses the stored admin CSV and its upload record;
// a nil export when there is none.
func (s *Service) storedCSV(ctx context.Context, clientKey string) (*admincsv.Export, ActivityUpload, error) {
	var body, meta []byte
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		if body, err = tx.Get(clientKey, configBucket, []byte(activityKey)); err != nil {
			return err
		}
		meta, err = tx.Get(clientKey, configBucket, []byte(activityMeta))
		return err
	})
	var up ActivityUpload
	if errors.Is(err, store.ErrNotFound) {
		return nil, up, nil
	}
	if err != nil {
		return nil, up, fmt.Errorf("tenancy: activity CSV of %s: %w", clientKey, err)
	}
	if err := json.Unmarshal(meta, &up); err != nil {
		return nil, up, fmt.Errorf("tenancy: decode activity CSV meta: %w", err)
	}
	exp, err := admincsv.Parse(bytes.NewReader(body))
	if err != nil {
		return nil, up, fmt.Errorf("tenancy: activity CSV: %w", err)
	}
	return exp, up, nil
}

// Person is an account an admin can pick by name.
type Person struct {
	AccountID   string `json:"accountId"`
	DisplayName string `json:"displayName"`
}

// FindPeople searches the tenant's site for people by name or e-mail,
// with the Connect JWT (Jira's user search): how Settings picks approvers.
func (s *Service) FindPeople(ctx context.Context, clientKey, query string) ([]Person, error) {
	t, err := s.installed(ctx, clientKey)
	if err != nil {
		return nil, err
	}
	jira, err := s.jira(t, s.transport(), true)
	if err != nil {
		return nil, err
	}
	users, err := jira.FindUsers(ctx, query, 20)
	if err != nil {
		return nil, err
	}
	out := []Person{}
	for _, u := range users {
		if u.AccountType == billing.AccountAtlassian && u.Active {
			out = append(out, Person{AccountID: u.AccountID, DisplayName: atlassian.Printable(u.DisplayName)})
		}
	}
	return out, nil
}

// AuditLog gives a client of the Organizations API with the tenant's org
// key, for reading its audit log; ok is false without a key.
func (s *Service) AuditLog(ctx context.Context, clientKey string) (c *atlassian.Client, orgID string, ok bool, err error) {
	if _, err := s.installed(ctx, clientKey); err != nil {
		return nil, "", false, err
	}
	cred, ok, err := s.orgCredential(ctx, clientKey)
	if err != nil || !ok {
		return nil, "", false, err
	}
	c, err = atlassian.New(&http.Client{Transport: s.transport()}, s.OrgAPIURL, atlassian.Bearer(cred.Key), s.options(true))
	if err != nil {
		return nil, "", false, fmt.Errorf("tenancy: org client: %w", err)
	}
	return c, cred.OrgID, true, nil
}
