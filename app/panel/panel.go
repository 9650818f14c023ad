// Package panel is the JSON API under /api/v1 (DESIGN.md §9a): what the
// admin panel and every automation call. Callers are authenticated by the
// app's middleware (a context token or a Forge Invocation Token) and must
// be Jira administrators of their tenant's site.
package panel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/seatlens/seatlens/app/apperr"
	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/connect"
	"github.com/seatlens/seatlens/app/privacy"
	"github.com/seatlens/seatlens/app/proof"
	"github.com/seatlens/seatlens/app/report"
	"github.com/seatlens/seatlens/app/rescan"
	"github.com/seatlens/seatlens/app/review"
	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/app/seats"
	"github.com/seatlens/seatlens/app/tenancy"
)

// Tenancy is the tenants' side of the app (tenancy.Service).
type Tenancy interface {
	CredentialStatus(ctx context.Context, clientKey string) (tenancy.Status, error)
	SetOrgKey(ctx context.Context, clientKey, orgID, key string, expires *time.Time) (tenancy.OrgCredential, error)
	KeyStatus(c tenancy.OrgCredential) tenancy.OrgKeyStatus
	DeleteOrgKey(ctx context.Context, clientKey string) error
	Settings(ctx context.Context, clientKey string) (tenancy.Settings, error)
	PutSettings(ctx context.Context, clientKey string, s tenancy.Settings) error
	PutActivityCSV(ctx context.Context, clientKey string, date time.Time, body []byte) (tenancy.ActivityUpload, error)
	IsJiraAdmin(ctx context.Context, clientKey, accountID string) (bool, error)
	FindPeople(ctx context.Context, clientKey, query string) ([]tenancy.Person, error)
}

// Scans is the scan queue (scan.Queue).
type Scans interface {
	Enqueue(ctx context.Context, clientKey, cause string) (scan.Record, error)
	Scans(ctx context.Context, clientKey string) ([]scan.Record, error)
	Scan(ctx context.Context, clientKey, id string) (scan.Record, error)
	Findings(ctx context.Context, clientKey, id string) (scan.Record, *billing.Findings, error)
	Seats(ctx context.Context, clientKey, id string) (*seats.Index, error)
	Summary(ctx context.Context, clientKey, id string) (*billing.Findings, error)
	User(ctx context.Context, clientKey, id, accountID string) (billing.UserFindings, error)
}

// API serves /api/v1.
type API struct {
	Tenancy Tenancy
	Scans   Scans
	Rescans Rescans
	Audit   Audit
	// BaseURL is the app's public base URL (the audit hook's URL).
	BaseURL  string
	Reviews  Reviews
	Executor Executor
	Proof    Proof
	// PersonalData is where the tenant's personal data reporting stands.
	PersonalData PersonalData
	Now          func() time.Time

	admins adminCache
}

// PersonalData is what the panel shows of the personal data duty.
type PersonalData interface {
	State(ctx context.Context, clientKey string) (privacy.State, error)
}

// adminTTL is how long a permissions check is believed (DESIGN.md §9a).
const adminTTL = 60 * time.Second

// Register mounts the routes on g, which the caller has already put
// behind authentication.
func (a *API) Register(g *echo.Group) {
	if a.Now == nil {
		a.Now = time.Now
	}
	v1 := g.Group("/v1", a.requireAdmin)
	v1.GET("/status", a.status)
	v1.GET("/settings", a.getSettings)
	v1.PUT("/settings", a.putSettings)
	v1.PUT("/org-key", a.putOrgKey)
	v1.DELETE("/org-key", a.deleteOrgKey)
	v1.POST("/activity-csv", a.postActivityCSV)
	v1.POST("/scans", a.postScan)
	v1.GET("/scans", a.listScans)
	v1.GET("/scans/:id", a.getScan)
	v1.GET("/scans/:id/findings.json", a.findings("json"))
	v1.GET("/scans/:id/findings.csv", a.findings("csv"))
	v1.GET("/scans/:id/report.html", a.findings("html"))
	v1.GET("/scans/:id/diff", a.diff)
	v1.GET("/seats", a.seats)
	v1.GET("/users/:accountId", a.user)
	v1.GET("/people", a.people)
	if a.Rescans != nil {
		a.registerRescans(v1)
	}
	if a.Reviews != nil {
		a.registerReviews(v1)
	}
}

// requireAdmin admits only context tokens and Forge Invocation Tokens of
// a Jira administrator of the tenant's site. A token signed for one URL
// (a real qsh) belongs to a page load, not to the API.
func (a *API) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		const op = "panel.requireAdmin"
		ctx := c.Request().Context()
		p, ok := connect.PrincipalFrom(ctx)
		if !ok || (p.Kind != connect.KindContext && p.Kind != connect.KindForge) {
			return apperr.WithCode(op, apperr.Unauthorized, "unauthenticated", "The API takes a context token (AP.context.getToken) or a Forge Invocation Token.", nil)
		}
		if p.AccountID == "" {
			return apperr.WithCode(op, apperr.Forbidden, "not-admin", "The token names no user; only a Jira administrator may use Seatlens.", nil)
		}
		admin, err := a.admins.check(ctx, a.Now(), p.ClientKey, p.AccountID, a.Tenancy.IsJiraAdmin)
		if err != nil {
			return apperr.E(op, apperr.Unavailable, "Jira could not be asked whether you are an administrator; try again.", err)
		}
		if !admin {
			return apperr.WithCode(op, apperr.Forbidden, "not-admin", "Only Jira administrators may use Seatlens.", nil)
		}
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

// adminCache remembers permission checks for adminTTL, bounded so that a
// flood of accounts cannot grow it without end.
type adminCache struct {
	mu      sync.Mutex
	entries map[[2]string]adminEntry
}

type adminEntry struct {
	admin bool
	until time.Time
}

const adminCacheMax = 10000

func (ac *adminCache) check(ctx context.Context, now time.Time, clientKey, accountID string, ask func(context.Context, string, string) (bool, error)) (bool, error) {
	key := [2]string{clientKey, accountID}
	ac.mu.Lock()
	e, ok := ac.entries[key]
	ac.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.admin, nil
	}
	admin, err := ask(ctx, clientKey, accountID)
	if err != nil {
		return false, err
	}
	ac.mu.Lock()
	defer ac.mu.Unlock()
	if ac.entries == nil || len(ac.entries) >= adminCacheMax {
		ac.entries = map[[2]string]adminEntry{}
	}
	ac.entries[key] = adminEntry{admin: admin, until: now.Add(adminTTL)}
	return admin, nil
}

func principal(c echo.Context) connect.Principal {
	p, _ := connect.PrincipalFrom(c.Request().Context())
	return p
}

// statusView is GET /api/v1/status.
type statusView struct {
	tenancy.Status
	LatestScan     *scan.Record `json:"latestScan"`
	RunningScan    *scan.Record `json:"runningScan"`
	PendingRescans int          `json:"pendingRescans"`
	// RescanFailure is the newest targeted rescan when it failed and
	// accounts still wait: why they are not read again yet.
	RescanFailure *rescan.Rescan `json:"rescanFailure,omitempty"`
	// AuditLog is how polling the org audit log stands (nil before the
	// first poll, and without an org key).
	AuditLog *rescan.AuditState `json:"auditLog,omitempty"`
	// PersonalData is how reporting to Atlassian's personal data API
	// stands (nil before the first run).
	PersonalData *privacy.State `json:"personalData,omitempty"`
}

func (a *API) status(c echo.Context) error {
	const op = "panel.status"
	ctx := c.Request().Context()
	ck := principal(c).ClientKey
	st, err := a.Tenancy.CredentialStatus(ctx, ck)
	if err != nil {
		return apperr.E(op, apperr.Unavailable, "", err)
	}
	out := statusView{Status: st}
	scans, err := a.Scans.Scans(ctx, ck)
	if err != nil {
		return apperr.E(op, apperr.Unavailable, "", err)
	}
	for i := range scans {
		s := &scans[i]
		switch {
		case (s.State == scan.StateRunning || s.State == scan.StateQueued) && out.RunningScan == nil:
			out.RunningScan = s
		case s.State == scan.StateDone && out.LatestScan == nil:
			out.LatestScan = s
		}
	}
	if a.Rescans != nil {
		if out.PendingRescans, err = a.Rescans.Pending(ctx, ck); err != nil {
			return apperr.E(op, apperr.Unavailable, "", err)
		}
		if out.PendingRescans > 0 {
			// The newest rescan failed, and its account still waits: not a
			// failure that something since (an erasure, a full scan) made moot.
			pending, recent, err := a.Rescans.Rescans(ctx, ck, maxRescansListed)
			if err != nil {
				return apperr.E(op, apperr.Unavailable, "", err)
			}
			if len(recent) > 0 && recent[0].State == rescan.StateFailed &&
				slices.ContainsFunc(pending, func(p rescan.Pending) bool { return p.AccountID == recent[0].AccountID }) {
				out.RescanFailure = &recent[0]
			}
		}
	}
	if a.Audit != nil {
		st, err := a.Audit.AuditState(ctx, ck)
		if err != nil {
			return apperr.E(op, apperr.Unavailable, "", err)
		}
		if !st.PolledAt.IsZero() {
			out.AuditLog = &st
		}
	}
	if a.PersonalData != nil {
		st, err := a.PersonalData.State(ctx, ck)
		if err != nil {
			return apperr.E(op, apperr.Unavailable, "", err)
		}
		if !st.CheckedAt.IsZero() {
			out.PersonalData = &st
		}
	}
	return c.JSON(http.StatusOK, out)
}

func (a *API) getSettings(c echo.Context) error {
	set, err := a.Tenancy.Settings(c.Request().Context(), principal(c).ClientKey)
	if err != nil {
		return apperr.E("panel.getSettings", apperr.Unavailable, "", err)
	}
	return c.JSON(http.StatusOK, set)
}

// maxJSONBody bounds the JSON bodies of the API (settings, org key).
const maxJSONBody = 1 << 20

func readBody(c echo.Context, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, limit+1))
	if err != nil {
		return nil, apperr.WithCode("panel.readBody", apperr.Invalid, "bad-request", "body: could not be read", err)
	}
	if int64(len(body)) > limit {
		return nil, apperr.WithCode("panel.readBody", apperr.TooLarge, "too-large", "body: larger than the limit", nil)
	}
	return body, nil
}

func (a *API) putSettings(c echo.Context) error {
	const op = "panel.putSettings"
	body, err := readBody(c, maxJSONBody)
	if err != nil {
		return err
	}
	set, err := tenancy.ParseSettings(body)
	if err != nil {
		return apperr.WithCode(op, apperr.Invalid, "bad-request", err.Error(), nil)
	}
	ctx := c.Request().Context()
	if err := a.Tenancy.PutSettings(ctx, principal(c).ClientKey, set); err != nil {
		return apperr.E(op, apperr.Unavailable, "could not store the settings", err)
	}
	// Settings hold account IDs (holds, approvers): the chain records
	// what changed in kind, not whom.
	if err := a.record(c, "settings.changed", map[string]any{"inactiveDays": set.InactiveDays, "manualHolds": len(set.ManualHolds),
		"integrationUsers": len(set.IntegrationUsers), "approvers": len(set.Approvers), "schedule": set.Schedule}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, set)
}

func (a *API) putOrgKey(c echo.Context) error {
	const op = "panel.putOrgKey"
	body, err := readBody(c, maxJSONBody)
	if err != nil {
		return err
	}
	var in struct {
		OrgID     string `json:"orgId"`
		Key       string `json:"key"`
		ExpiresAt string `json:"expiresAt"` // as admin.atlassian.com showed it: a date or an RFC 3339 time
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return apperr.WithCode(op, apperr.Invalid, "bad-request", "body: want {\"orgId\": \"…\", \"key\": \"…\"}", nil)
	}
	var expires *time.Time
	if in.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339, in.ExpiresAt)
		if err != nil {
			if t, err = time.Parse(time.DateOnly, in.ExpiresAt); err != nil {
				return apperr.WithCode(op, apperr.Invalid, "bad-request", "expiresAt: want a date (YYYY-MM-DD) or an RFC 3339 time", nil)
			}
		}
		expires = &t
	}
	cred, err := a.Tenancy.SetOrgKey(c.Request().Context(), principal(c).ClientKey, in.OrgID, in.Key, expires)
	if err != nil {
		return err
	}
	if err := a.record(c, "org-key.set", map[string]any{"orgId": cred.OrgID}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a.Tenancy.KeyStatus(cred))
}

func (a *API) deleteOrgKey(c echo.Context) error {
	if err := a.Tenancy.DeleteOrgKey(c.Request().Context(), principal(c).ClientKey); err != nil {
		return apperr.E("panel.deleteOrgKey", apperr.Unavailable, "could not forget the key", err)
	}
	if err := a.record(c, "org-key.deleted", map[string]any{}); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// maxCSVBody bounds an uploaded admin CSV; the server's --body-limit
// applies first.
const maxCSVBody = 64 << 20

func (a *API) postActivityCSV(c echo.Context) error {
	const op = "panel.postActivityCSV"
	raw := c.QueryParam("date")
	date, err := time.Parse(time.DateOnly, raw)
	if err != nil {
		return apperr.WithCode(op, apperr.Invalid, "bad-request", "date: want the day the CSV was exported, YYYY-MM-DD", nil)
	}
	if date.After(a.Now()) {
		return apperr.WithCode(op, apperr.Invalid, "bad-request", "date: the export date is in the future", nil)
	}
	body, err := readBody(c, maxCSVBody)
	if err != nil {
		return err
	}
	up, err := a.Tenancy.PutActivityCSV(c.Request().Context(), principal(c).ClientKey, date, body)
	if err != nil {
		return err
	}
	if err := a.record(c, "activity-csv.uploaded", map[string]any{"date": up.Date, "accounts": up.Accounts, "bytes": up.Bytes}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, up)
}

func (a *API) postScan(c echo.Context) error {
	rec, err := a.Scans.Enqueue(c.Request().Context(), principal(c).ClientKey, scan.CauseRequest)
	if errors.Is(err, scan.ErrScanRunning) {
		return c.JSON(http.StatusConflict, map[string]string{"code": "scan-running", "message": "A scan is already " + rec.State + "; wait for it to end.", "id": rec.ID})
	}
	if err != nil {
		return apperr.E("panel.postScan", apperr.Unavailable, "could not queue the scan", err)
	}
	return c.JSON(http.StatusAccepted, rec)
}

func (a *API) listScans(c echo.Context) error {
	scans, err := a.Scans.Scans(c.Request().Context(), principal(c).ClientKey)
	if err != nil {
		return apperr.E("panel.listScans", apperr.Unavailable, "", err)
	}
	return c.JSON(http.StatusOK, map[string][]scan.Record{"scans": scans})
}

func noScan(op string) error {
	return apperr.WithCode(op, apperr.NotFound, "no-scan", "No such scan, or it has no findings yet.", nil)
}

func (a *API) getScan(c echo.Context) error {
	const op = "panel.getScan"
	ctx, ck := c.Request().Context(), principal(c).ClientKey
	rec, err := a.Scans.Scan(ctx, ck, c.Param("id"))
	if errors.Is(err, scan.ErrNoScan) {
		return noScan(op)
	}
	if err != nil {
		return apperr.E(op, apperr.Unavailable, "", err)
	}
	out := scanView{Record: rec}
	if rec.State == scan.StateDone {
		if out.Summary, err = a.Scans.Summary(ctx, ck, rec.ID); err != nil && !errors.Is(err, scan.ErrNoScan) {
			return apperr.E(op, apperr.Unavailable, "", err)
		}
	}
	return c.JSON(http.StatusOK, out)
}

// scanView is one scan with, once it is done, its findings' summary: the
// findings document without its users (products, groups, site findings,
// totals, sources), what the overview draws.
type scanView struct {
	scan.Record
	Summary *billing.Findings `json:"summary,omitempty"`
}

// findings serves a finished scan's findings as JSON (exactly the
// document of `seatlens scan --format json`), CSV or printable HTML.
func (a *API) findings(format string) echo.HandlerFunc {
	return func(c echo.Context) error {
		const op = "panel.findings"
		_, f, err := a.Scans.Findings(c.Request().Context(), principal(c).ClientKey, c.Param("id"))
		if errors.Is(err, scan.ErrNoScan) {
			return noScan(op)
		}
		if err != nil {
			return apperr.E(op, apperr.Unavailable, "", err)
		}
		w := c.Response()
		switch format {
		case "csv":
			w.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
			w.Header().Set(echo.HeaderContentDisposition, `attachment; filename="findings.csv"`)
			w.WriteHeader(http.StatusOK)
			return report.CSV(w, f)
		case "html":
			w.Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
			w.WriteHeader(http.StatusOK)
			return report.HTML(w, f)
		}
		w.Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		w.WriteHeader(http.StatusOK)
		return json.NewEncoder(w).Encode(f)
	}
}

// seatsView is GET /api/v1/seats: a page of the latest scan's seats.
type seatsView struct {
	Scan string `json:"scan"`
	seats.Page
}

// seats answers one page of the latest scan's seats table.
func (a *API) seats(c echo.Context) error {
	const op = "panel.seats"
	p := c.QueryParams()
	q := seats.Query{
		Products: seats.ParseList(p.Get("product")), Verdicts: seats.ParseList(p.Get("verdict")),
		Reason: p.Get("reason"), Warning: p.Get("warning"), Group: p.Get("group"), Classes: seats.ParseList(p.Get("account")),
		Text: p.Get("q"), Sort: p.Get("sort"), Cursor: p.Get("cursor"),
	}
	var err error
	if q.Inactive, err = seats.ParseInt("inactive", p.Get("inactive")); err != nil {
		return badQuery(op, err)
	}
	if q.Limit, err = seats.ParseInt("limit", p.Get("limit")); err != nil {
		return badQuery(op, err)
	}
	switch p.Get("billable") {
	case "":
	case "true", "false":
		b := p.Get("billable") == "true"
		q.Billable = &b
	default:
		return badQuery(op, errors.New("billable: want true or false"))
	}
	idx, err := a.Scans.Seats(c.Request().Context(), principal(c).ClientKey, scan.Latest)
	if errors.Is(err, scan.ErrNoScan) {
		return noScan(op)
	}
	if err != nil {
		return apperr.E(op, apperr.Unavailable, "", err)
	}
	page, err := idx.Search(q)
	if err != nil {
		return badQuery(op, err)
	}
	return c.JSON(http.StatusOK, seatsView{Scan: idx.ScanID, Page: page})
}

func badQuery(op string, err error) error {
	return apperr.WithCode(op, apperr.Invalid, "bad-request", strings.TrimPrefix(err.Error(), seats.ErrBadQuery.Error()+": "), nil)
}

// user answers one account's whole explanation in the latest scan.
func (a *API) user(c echo.Context) error {
	const op = "panel.user"
	ctx, ck := c.Request().Context(), principal(c).ClientKey
	if _, err := a.Scans.Scan(ctx, ck, scan.Latest); errors.Is(err, scan.ErrNoScan) {
		return noScan(op)
	}
	// Echo hands over the path segment as sent: an account ID such as
	// 712020:… arrives escaped.
	id, err := url.PathUnescape(c.Param("accountId"))
	if err != nil {
		return apperr.WithCode(op, apperr.Invalid, "bad-request", "accountId: not a valid path segment", nil)
	}
	u, err := a.Scans.User(ctx, ck, scan.Latest, id)
	if errors.Is(err, scan.ErrNoScan) {
		return apperr.WithCode(op, apperr.NotFound, "not-found", "No such account in the latest scan.", nil)
	}
	if err != nil {
		return apperr.E(op, apperr.Unavailable, "", err)
	}
	return c.JSON(http.StatusOK, u)
}

// diff answers what changed between two scans.
func (a *API) diff(c echo.Context) error {
	const op = "panel.diff"
	from := c.QueryParam("from")
	if from == "" {
		return apperr.WithCode(op, apperr.Invalid, "bad-request", "from: the id of the scan to compare with is required", nil)
	}
	ctx, ck := c.Request().Context(), principal(c).ClientKey
	to, err := a.Scans.Seats(ctx, ck, c.Param("id"))
	if err == nil {
		var old *seats.Index
		if old, err = a.Scans.Seats(ctx, ck, from); err == nil {
			return c.JSON(http.StatusOK, to.DiffFrom(old))
		}
	}
	if errors.Is(err, scan.ErrNoScan) {
		return noScan(op)
	}
	return apperr.E(op, apperr.Unavailable, "", err)
}

// Reviews is the four-eyes workflow (review.Service).
type Reviews interface {
	Create(ctx context.Context, clientKey, by, scanID string, scannedAt time.Time, grants map[string][]string, title string, asks []review.Ask) (*review.Review, error)
	Get(ctx context.Context, clientKey, id string) (*review.Review, error)
	List(ctx context.Context, clientKey string) ([]review.Review, error)
	AddItems(ctx context.Context, clientKey, id string, asks []review.Ask) (*review.Review, error)
	Exclude(ctx context.Context, clientKey, id, by string, ex []review.Exclusion) (*review.Review, error)
	Submit(ctx context.Context, clientKey, id, by string) (*review.Review, error)
	Decide(ctx context.Context, clientKey, id, by string, approvers []string, approve bool, reason string) (*review.Review, error)
}

// Proof builds a review's evidence (proof.Chain).
type Proof interface {
	Evidence(ctx context.Context, clientKey, reviewID string, review any) (*proof.Evidence, error)
	Append(ctx context.Context, clientKey, kind, actorAccount string, data map[string]any) (proof.Event, error)
	Recent(ctx context.Context, clientKey string, before int64, limit int) ([]proof.Event, int64, error)
	Refs(ctx context.Context, clientKey string, accountIDs []string) (map[string]string, error)
	KeyFingerprint(ctx context.Context, clientKey string) (string, error)
	OldKeys(ctx context.Context, clientKey string) ([]proof.OldKey, error)
	RotateKey(ctx context.Context, clientKey, actorAccount string) (string, error)
}

// record appends a settings or credential change to the proof chain.
func (a *API) record(c echo.Context, kind string, data map[string]any) error {
	if a.Proof == nil {
		return nil
	}
	p := principal(c)
	if _, err := a.Proof.Append(c.Request().Context(), p.ClientKey, kind, p.AccountID, data); err != nil {
		return apperr.E("panel.record", apperr.Unavailable, "the change was made but could not be recorded in the activity", err)
	}
	return nil
}

// Executor runs approved reviews (review.Executor).
type Executor interface {
	Execute(ctx context.Context, clientKey, id, by string, approvers []string) (*review.Review, error)
	Undo(ctx context.Context, clientKey, id string, only []review.Ask) (*review.Review, error)
}

func (a *API) registerReviews(v1 *echo.Group) {
	v1.POST("/reviews", a.createReview)
	v1.GET("/reviews", a.listReviews)
	v1.GET("/reviews/:id", a.getReview)
	v1.POST("/reviews/:id/items", a.addReviewItems)
	v1.DELETE("/reviews/:id/items", a.excludeReviewItems)
	v1.GET("/reviews/:id/idp-tasks.csv", a.idpTasks)
	if a.Proof != nil {
		v1.GET("/reviews/:id/evidence.json", a.evidence("json"))
		v1.GET("/reviews/:id/evidence.csv", a.evidence("csv"))
		v1.GET("/reviews/:id/evidence.html", a.evidence("html"))
		v1.GET("/activity", a.activity)
		v1.GET("/signing-key", a.signingKey)
		v1.POST("/signing-key/rotate", a.rotateSigningKey)
	}
	v1.POST("/reviews/:id/submit", a.submitReview)
	v1.POST("/reviews/:id/approve", a.decideReview(true))
	v1.POST("/reviews/:id/reject", a.decideReview(false))
	if a.Executor != nil {
		v1.POST("/reviews/:id/execute", a.executeReview)
		v1.POST("/reviews/:id/undo", a.undoReview)
	}
}

// executeReview starts an approved review: 202, and it runs in the
// background; GET the review for its progress.
func (a *API) executeReview(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	set, err := a.Tenancy.Settings(ctx, p.ClientKey)
	if err != nil {
		return apperr.E("panel.executeReview", apperr.Unavailable, "", err)
	}
	r, err := a.Executor.Execute(ctx, p.ClientKey, c.Param("id"), p.AccountID, set.Approvers)
	if err != nil {
		return reviewError(c, err)
	}
	return c.JSON(http.StatusAccepted, r)
}

// reviewError answers a refusal of seats with their list.
func reviewError(c echo.Context, err error) error {
	var nr *review.NotRemovableError
	if errors.As(err, &nr) {
		return c.JSON(http.StatusUnprocessableEntity, map[string]any{"code": "not-removable",
			"message": fmt.Sprintf("%d seats cannot be part of a review; nothing was changed.", len(nr.Seats)), "seats": nr.Seats})
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	return apperr.E("panel.reviews", apperr.Unavailable, "", err)
}

// decodeBody reads a JSON body into v, refusing unknown fields.
func decodeBody(c echo.Context, v any) error {
	body, err := readBody(c, 16<<20)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return apperr.WithCode("panel.decodeBody", apperr.Invalid, "bad-request", "body: "+err.Error(), nil)
	}
	return nil
}

func (a *API) createReview(c echo.Context) error {
	const op = "panel.createReview"
	var in struct {
		Title         string            `json:"title"`
		Items         []review.Ask      `json:"items"`
		Filter        map[string]string `json:"filter"`
		Justification string            `json:"justification"`
	}
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	ctx, p := c.Request().Context(), principal(c)
	rec, err := a.Scans.Scan(ctx, p.ClientKey, scan.Latest)
	if errors.Is(err, scan.ErrNoScan) {
		return noScan(op)
	}
	if err != nil {
		return apperr.E(op, apperr.Unavailable, "", err)
	}
	asks := in.Items
	switch {
	case in.Filter != nil && len(in.Items) > 0:
		return apperr.WithCode(op, apperr.Invalid, "bad-request", "items, filter: give one or the other", nil)
	case in.Filter != nil:
		if asks, err = a.filterAsks(ctx, p.ClientKey, rec.ID, in.Filter, in.Justification); err != nil {
			return err
		}
	}
	sum, err := a.Scans.Summary(ctx, p.ClientKey, rec.ID)
	if err != nil {
		return apperr.E(op, apperr.Unavailable, "", err)
	}
	grants := map[string][]string{}
	for _, g := range sum.Groups {
		for _, gr := range g.Grants {
			if !slices.Contains(grants[gr.Product], g.ID) {
				grants[gr.Product] = append(grants[gr.Product], g.ID)
			}
		}
	}
	r, err := a.Reviews.Create(ctx, p.ClientKey, p.AccountID, rec.ID, sum.ScannedAt, grants, in.Title, asks)
	if err != nil {
		return reviewError(c, err)
	}
	return c.JSON(http.StatusCreated, r)
}

// filterAsks turns a seats filter into the seats it selects.
func (a *API) filterAsks(ctx context.Context, clientKey, scanID string, f map[string]string, justification string) ([]review.Ask, error) {
	const op = "panel.filterAsks"
	q := seats.Query{Products: seats.ParseList(f["product"]), Verdicts: seats.ParseList(f["verdict"]), Reason: f["reason"],
		Warning: f["warning"], Group: f["group"], Classes: seats.ParseList(f["account"]), Text: f["q"], Limit: 200}
	for k := range f {
		if !slices.Contains([]string{"product", "verdict", "reason", "warning", "group", "account", "q", "inactive", "billable"}, k) {
			return nil, apperr.WithCode(op, apperr.Invalid, "bad-request", "filter."+k+": not a filter of /api/v1/seats", nil)
		}
	}
	var err error
	if q.Inactive, err = seats.ParseInt("filter.inactive", f["inactive"]); err != nil {
		return nil, badQuery(op, err)
	}
	if v := f["billable"]; v != "" {
		b := v == "true"
		q.Billable = &b
	}
	idx, err := a.Scans.Seats(ctx, clientKey, scanID)
	if err != nil {
		return nil, apperr.E(op, apperr.Unavailable, "", err)
	}
	var asks []review.Ask
	for {
		page, err := idx.Search(q)
		if err != nil {
			return nil, badQuery(op, err)
		}
		for _, s := range page.Seats {
			asks = append(asks, review.Ask{AccountID: s.AccountID, Product: s.Product, Justification: justification})
		}
		if page.Next == "" {
			return asks, nil
		}
		q.Cursor = page.Next
	}
}

func (a *API) listReviews(c echo.Context) error {
	rs, err := a.Reviews.List(c.Request().Context(), principal(c).ClientKey)
	if err != nil {
		return reviewError(c, err)
	}
	return c.JSON(http.StatusOK, map[string][]review.Review{"reviews": rs})
}

func (a *API) getReview(c echo.Context) error {
	r, err := a.Reviews.Get(c.Request().Context(), principal(c).ClientKey, c.Param("id"))
	if err != nil {
		return reviewError(c, err)
	}
	return c.JSON(http.StatusOK, r)
}

func (a *API) addReviewItems(c echo.Context) error {
	var in struct {
		Items []review.Ask `json:"items"`
	}
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	r, err := a.Reviews.AddItems(c.Request().Context(), principal(c).ClientKey, c.Param("id"), in.Items)
	if err != nil {
		return reviewError(c, err)
	}
	return c.JSON(http.StatusOK, r)
}

// excludeReviewItems takes seats out of a draft, each with a reason; a
// seat excluded with "hold" becomes a manual hold in Settings (until
// "expires"), so that later scans keep it out of cleanups too.
func (a *API) excludeReviewItems(c echo.Context) error {
	const op = "panel.excludeReviewItems"
	var in struct {
		Items []review.Exclusion `json:"items"`
	}
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	ctx, p := c.Request().Context(), principal(c)
	r, err := a.Reviews.Exclude(ctx, p.ClientKey, c.Param("id"), p.AccountID, in.Items)
	if err != nil {
		return reviewError(c, err)
	}
	var holds []billing.ManualHold
	for _, e := range in.Items {
		if e.Hold {
			holds = append(holds, billing.ManualHold{AccountID: e.AccountID, Products: []string{e.Product}, Reason: e.Reason, Expires: e.Expires})
		}
	}
	if len(holds) > 0 {
		set, err := a.Tenancy.Settings(ctx, p.ClientKey)
		if err != nil {
			return apperr.E(op, apperr.Unavailable, "", err)
		}
		set.ManualHolds = append(set.ManualHolds, holds...)
		if err := a.Tenancy.PutSettings(ctx, p.ClientKey, set); err != nil {
			return apperr.E(op, apperr.Unavailable, "the seats were excluded, but the holds could not be saved", err)
		}
	}
	return c.JSON(http.StatusOK, r)
}

// idpTasks exports the work no API can do for the review's scan: the
// seats that come through groups synced from the identity provider.
func (a *API) idpTasks(c echo.Context) error {
	const op = "panel.idpTasks"
	ctx, ck := c.Request().Context(), principal(c).ClientKey
	r, err := a.Reviews.Get(ctx, ck, c.Param("id"))
	if err != nil {
		return reviewError(c, err)
	}
	_, f, err := a.Scans.Findings(ctx, ck, r.ScanID)
	if errors.Is(err, scan.ErrNoScan) {
		return apperr.WithCode(op, apperr.NotFound, "no-scan", "The review's scan is no longer kept (see --keep-scans).", nil)
	}
	if err != nil {
		return apperr.E(op, apperr.Unavailable, "", err)
	}
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	w.Header().Set(echo.HeaderContentDisposition, `attachment; filename="idp-tasks.csv"`)
	w.WriteHeader(http.StatusOK)
	return report.IDPTasksCSV(w, f)
}

func (a *API) submitReview(c echo.Context) error {
	p := principal(c)
	r, err := a.Reviews.Submit(c.Request().Context(), p.ClientKey, c.Param("id"), p.AccountID)
	if err != nil {
		return reviewError(c, err)
	}
	return c.JSON(http.StatusOK, r)
}

func (a *API) decideReview(approve bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		var in struct {
			Reason string `json:"reason"`
		}
		if c.Request().ContentLength != 0 {
			if err := decodeBody(c, &in); err != nil {
				return err
			}
		}
		ctx, p := c.Request().Context(), principal(c)
		set, err := a.Tenancy.Settings(ctx, p.ClientKey)
		if err != nil {
			return apperr.E("panel.decideReview", apperr.Unavailable, "", err)
		}
		r, err := a.Reviews.Decide(ctx, p.ClientKey, c.Param("id"), p.AccountID, set.Approvers, approve, in.Reason)
		if err != nil {
			return reviewError(c, err)
		}
		return c.JSON(http.StatusOK, r)
	}
}

// undoReview puts back what a finished review removed: all of it, or the
// items named ({"items": [...]}); 202, and it runs in the background.
func (a *API) undoReview(c echo.Context) error {
	var in struct {
		Items []review.Ask `json:"items"`
	}
	if c.Request().ContentLength != 0 {
		if err := decodeBody(c, &in); err != nil {
			return err
		}
	}
	r, err := a.Executor.Undo(c.Request().Context(), principal(c).ClientKey, c.Param("id"), in.Items)
	if err != nil {
		return reviewError(c, err)
	}
	return c.JSON(http.StatusAccepted, r)
}

// evidence serves a review's evidence: the chain segment from its first
// event to the head, signed (seatlens verify checks the JSON offline), as
// JSON, as a CSV of the events, or as a page to print and sign.
func (a *API) evidence(format string) echo.HandlerFunc {
	return func(c echo.Context) error {
		const op = "panel.evidence"
		ctx, ck := c.Request().Context(), principal(c).ClientKey
		r, err := a.Reviews.Get(ctx, ck, c.Param("id"))
		if err != nil {
			return reviewError(c, err)
		}
		ev, err := a.Proof.Evidence(ctx, ck, r.ID, r)
		if err != nil {
			return apperr.E(op, apperr.Unavailable, "", err)
		}
		w := c.Response()
		name := "evidence-review-" + r.ID + "." + format
		switch format {
		case "csv":
			ids := []string{r.CreatedBy, r.SubmittedBy, r.ApprovedBy, r.RejectedBy, r.ExecutedBy}
			for _, it := range r.Items {
				ids = append(ids, it.AccountID)
			}
			names, err := a.Proof.Refs(ctx, ck, ids)
			if err != nil {
				return apperr.E(op, apperr.Unavailable, "", err)
			}
			w.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
			w.Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
			w.WriteHeader(http.StatusOK)
			return proof.WriteCSV(w, ev, names)
		case "html":
			x := proof.ExportReview{ID: r.ID, Title: r.Title, State: r.State, SubmittedBy: r.SubmittedBy, ApprovedBy: r.ApprovedBy, ExecutedBy: r.ExecutedBy}
			for _, it := range r.Items {
				x.Items = append(x.Items, proof.ExportItem{AccountID: it.AccountID, DisplayName: it.DisplayName, Product: it.Product,
					Verdict: it.Verdict, Outcome: it.Outcome, Reason: it.Reason})
			}
			w.Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
			w.WriteHeader(http.StatusOK)
			return proof.WriteHTML(w, ev, x)
		}
		w.Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
		return c.JSON(http.StatusOK, ev)
	}
}

// activity pages the tenant's proof chain, newest first: {events, next}
// where next is the cursor of the older page ("" at the chain's start).
func (a *API) activity(c echo.Context) error {
	const op = "panel.activity"
	var before int64
	if cur := c.QueryParam("cursor"); cur != "" {
		n, err := strconv.ParseInt(cur, 10, 64)
		if err != nil || n < 1 {
			return apperr.WithCode(op, apperr.Invalid, "bad-request", "cursor: not a cursor of this API", nil)
		}
		before = n
	}
	events, next, err := a.Proof.Recent(c.Request().Context(), principal(c).ClientKey, before, 100)
	if err != nil {
		return apperr.E(op, apperr.Unavailable, "", err)
	}
	fp, err := a.Proof.KeyFingerprint(c.Request().Context(), principal(c).ClientKey)
	if err != nil {
		return apperr.E(op, apperr.Unavailable, "", err)
	}
	out := struct {
		Events []proof.Event `json:"events"`
		Next   string        `json:"next,omitempty"`
		Key    string        `json:"keyFingerprint"`
	}{Events: events, Key: fp}
	if next > 0 {
		out.Next = strconv.FormatInt(next, 10)
	}
	return c.JSON(http.StatusOK, out)
}

// signingKeyView is the tenant's evidence signing key: the fingerprint
// an auditor notes (seatlens verify --key), and the retired ones whose
// evidence still verifies.
type signingKeyView struct {
	Fingerprint string         `json:"keyFingerprint"`
	Retired     []proof.OldKey `json:"retired"`
}

func (a *API) signingKeyOf(c echo.Context, op string) error {
	ctx, ck := c.Request().Context(), principal(c).ClientKey
	fp, err := a.Proof.KeyFingerprint(ctx, ck)
	if err != nil {
		return apperr.E(op, apperr.Unavailable, "", err)
	}
	old, err := a.Proof.OldKeys(ctx, ck)
	if err != nil {
		return apperr.E(op, apperr.Unavailable, "", err)
	}
	return c.JSON(http.StatusOK, signingKeyView{Fingerprint: fp, Retired: nonNil(old)})
}

func (a *API) signingKey(c echo.Context) error { return a.signingKeyOf(c, "panel.signingKey") }

// rotateSigningKey replaces the tenant's signing key (a suspected leak, a
// policy's schedule): evidence made before still verifies with the key it
// carries, and the rotation is in the chain. Where Settings names
// approvers, only they rotate it, as only they approve.
func (a *API) rotateSigningKey(c echo.Context) error {
	const op = "panel.rotateSigningKey"
	ctx, p := c.Request().Context(), principal(c)
	set, err := a.Tenancy.Settings(ctx, p.ClientKey)
	if err != nil {
		return apperr.E(op, apperr.Unavailable, "", err)
	}
	if len(set.Approvers) > 0 && !slices.Contains(set.Approvers, p.AccountID) {
		return apperr.WithCode(op, apperr.Forbidden, "not-an-approver", "Only the approvers named in Settings may rotate the signing key.", nil)
	}
	if _, err := a.Proof.RotateKey(ctx, p.ClientKey, p.AccountID); err != nil {
		return apperr.E(op, apperr.Unavailable, "the signing key could not be rotated; the old one stays", err)
	}
	return a.signingKeyOf(c, op)
}

// people finds accounts of the site by name or e-mail (at least two
// characters), for picking approvers: {"people": [{accountId, displayName}]}.
func (a *API) people(c echo.Context) error {
	const op = "panel.people"
	q := strings.TrimSpace(c.QueryParam("q"))
	if len([]rune(q)) < 2 || len(q) > 100 {
		return apperr.WithCode(op, apperr.Invalid, "bad-request", "q: 2 to 100 characters of a name or an e-mail", nil)
	}
	found, err := a.Tenancy.FindPeople(c.Request().Context(), principal(c).ClientKey, q)
	if err != nil {
		return apperr.E(op, apperr.Unavailable, "Jira could not be searched; try again.", err)
	}
	return c.JSON(http.StatusOK, map[string][]tenancy.Person{"people": found})
}
