package panel

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/seatlens/seatlens/app/apperr"
	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/rescan"
	"github.com/seatlens/seatlens/app/scan"
)

// Rescans is the rescan inbox (rescan.Inbox).
type Rescans interface {
	Pending(ctx context.Context, clientKey string) (int, error)
	Rescans(ctx context.Context, clientKey string, limit int) ([]rescan.Pending, []rescan.Rescan, error)
	NewSeats(ctx context.Context, clientKey, scanID string, since time.Time) ([]rescan.NewSeat, error)
	Hook(ctx context.Context, clientKey string) (rescan.Hook, error)
	NewHook(ctx context.Context, clientKey string) (rescan.Hook, error)
	DeleteHook(ctx context.Context, clientKey string) error
}

// Audit is the audit-log poller (rescan.Poller).
type Audit interface {
	AuditState(ctx context.Context, clientKey string) (rescan.AuditState, error)
}

func (a *API) registerRescans(v1 *echo.Group) {
	v1.GET("/rescans", a.rescans)
	v1.GET("/new-seats", a.newSeats)
	v1.GET("/audit-hook", a.getAuditHook)
	v1.POST("/audit-hook", a.postAuditHook)
	v1.DELETE("/audit-hook", a.deleteAuditHook)
}

// rescansView is GET /api/v1/rescans.
type rescansView struct {
	Pending []rescan.Pending `json:"pending"`
	Recent  []rescan.Rescan  `json:"recent"`
}

// maxRescansListed bounds one answer of /rescans.
const maxRescansListed = 200

func (a *API) rescans(c echo.Context) error {
	ctx, ck := c.Request().Context(), principal(c).ClientKey
	pending, recent, err := a.Rescans.Rescans(ctx, ck, maxRescansListed)
	if err != nil {
		return apperr.E("panel.rescans", apperr.Unavailable, "", err)
	}
	return c.JSON(http.StatusOK, rescansView{Pending: nonNil(pending), Recent: nonNil(recent)})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// newSeatsView is GET /api/v1/new-seats.
type newSeatsView struct {
	Scan  string           `json:"scan"`
	Since *time.Time       `json:"since"`
	Seats []rescan.NewSeat `json:"seats"`
	Total int              `json:"total"`
}

// maxDiffSeats bounds the seats a full scan found new that are explained
// one by one; more are listed without their group.
const maxDiffSeats = 500

// newSeats lists the billable seats that came in since the full scan
// before the latest: those the latest full scan found new, then those
// targeted rescans found since it.
func (a *API) newSeats(c echo.Context) error {
	const op = "panel.newSeats"
	ctx, ck := c.Request().Context(), principal(c).ClientKey
	var since time.Time
	out := newSeatsView{Seats: []rescan.NewSeat{}}
	if v := c.QueryParam("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return apperr.WithCode(op, apperr.Invalid, "bad-request", "since: want an RFC 3339 time, e.g. 2026-12-01T00:00:00Z", nil)
		}
		since = t.UTC()
		out.Since = &since
	}
	recs, err := a.Scans.Scans(ctx, ck)
	if err != nil {
		return apperr.E(op, apperr.Unavailable, "", err)
	}
	var done []scan.Record
	for _, r := range recs {
		if r.State == scan.StateDone {
			done = append(done, r)
		}
	}
	if len(done) == 0 {
		return noScan(op)
	}
	latest := done[0]
	out.Scan = latest.ID
	fresh, err := a.Rescans.NewSeats(ctx, ck, latest.ID, since)
	if err != nil {
		return apperr.E(op, apperr.Unavailable, "", err)
	}
	// Two scans read with different credentials see different things: a
	// seat the org key shows for the first time is no new seat.
	if len(done) > 1 && latest.StartedAt != nil && !latest.StartedAt.Before(since) && slices.Equal(done[1].Credentials, latest.Credentials) {
		found, err := a.seatsFoundNew(ctx, ck, done[1].ID, latest)
		if err != nil {
			return apperr.E(op, apperr.Unavailable, "", err)
		}
		// The latest scan's findings include what targeted rescans added
		// since; those seats are listed once, as the rescan saw them come.
		rescanned := map[[2]string]bool{}
		for _, s := range fresh {
			rescanned[[2]string{s.AccountID, s.Product}] = true
		}
		for _, s := range found {
			if !rescanned[[2]string{s.AccountID, s.Product}] {
				out.Seats = append(out.Seats, s)
			}
		}
	}
	out.Seats = append(out.Seats, fresh...)
	out.Total = len(out.Seats)
	return c.JSON(http.StatusOK, out)
}

// seatsFoundNew is the billable seats of the latest scan that the one
// before it did not have, with how each came in as its paths tell.
func (a *API) seatsFoundNew(ctx context.Context, ck, prevID string, latest scan.Record) ([]rescan.NewSeat, error) {
	to, err := a.Scans.Seats(ctx, ck, latest.ID)
	if err != nil {
		return nil, err
	}
	from, err := a.Scans.Seats(ctx, ck, prevID)
	if errors.Is(err, scan.ErrNoScan) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	head, err := a.Scans.Summary(ctx, ck, latest.ID)
	if err != nil {
		return nil, err
	}
	defaultFor := map[string][]string{}
	for _, g := range head.Groups {
		defaultFor[g.ID] = g.DefaultFor
	}
	var out []rescan.NewSeat
	for i, s := range to.DiffFrom(from).Added {
		if !s.Billable {
			continue
		}
		ns := rescan.NewSeat{AccountID: s.AccountID, DisplayName: s.DisplayName, Product: s.Product, How: rescan.HowUnknown,
			At: *latest.StartedAt, Cause: "full-scan", Scan: latest.ID}
		if i < maxDiffSeats {
			if u, err := a.Scans.User(ctx, ck, latest.ID, s.AccountID); err == nil {
				ns.How, ns.GroupID, ns.GroupName = howOf(u, s.Product, defaultFor)
			}
		}
		out = append(out, ns)
	}
	return out, nil
}

func howOf(u billing.UserFindings, product string, defaultFor map[string][]string) (how, groupID, groupName string) {
	i := slices.IndexFunc(u.Seats, func(s billing.Seat) bool { return s.Product == product })
	if i < 0 {
		return rescan.HowUnknown, "", ""
	}
	var groups []string
	direct := false
	for _, p := range u.Seats[i].Paths {
		if p.GroupID != "" {
			groups = append(groups, p.GroupID)
		} else {
			direct = true
		}
	}
	how, groupID = rescan.HowCame(product, groups, direct, defaultFor)
	for _, p := range u.Seats[i].Paths {
		if p.GroupID == groupID {
			groupName = p.GroupName
		}
	}
	return how, groupID, groupName
}

// auditHookView is GET /api/v1/audit-hook: the webhook's URL and header
// (its value only in the answer of POST, which makes it) and how polling
// stands.
type auditHookView struct {
	URL     string             `json:"url,omitempty"`
	Polling *rescan.AuditState `json:"polling,omitempty"`
	rescan.Hook
}

func (a *API) hookView(c echo.Context, h rescan.Hook) (auditHookView, error) {
	out := auditHookView{Hook: h}
	if h.Path != "" && a.BaseURL != "" {
		out.URL = a.BaseURL + h.Path
	}
	if a.Audit != nil {
		st, err := a.Audit.AuditState(c.Request().Context(), principal(c).ClientKey)
		if err != nil {
			return out, err
		}
		if !st.PolledAt.IsZero() {
			out.Polling = &st
		}
	}
	return out, nil
}

func (a *API) getAuditHook(c echo.Context) error {
	const op = "panel.getAuditHook"
	h, err := a.Rescans.Hook(c.Request().Context(), principal(c).ClientKey)
	if err != nil {
		return apperr.E(op, apperr.Unavailable, "", err)
	}
	out, err := a.hookView(c, h)
	if err != nil {
		return apperr.E(op, apperr.Unavailable, "", err)
	}
	return c.JSON(http.StatusOK, out)
}

// postAuditHook makes a new URL and header value (the old ones stop
// working) and shows the value this once.
func (a *API) postAuditHook(c echo.Context) error {
	const op = "panel.postAuditHook"
	h, err := a.Rescans.NewHook(c.Request().Context(), principal(c).ClientKey)
	if err != nil {
		return apperr.E(op, apperr.Unavailable, "could not make the webhook's URL", err)
	}
	if err := a.record(c, "audit-hook.created", map[string]any{"header": h.Header}); err != nil {
		return err
	}
	out, err := a.hookView(c, h)
	if err != nil {
		return apperr.E(op, apperr.Unavailable, "", err)
	}
	return c.JSON(http.StatusCreated, out)
}

func (a *API) deleteAuditHook(c echo.Context) error {
	const op = "panel.deleteAuditHook"
	if err := a.Rescans.DeleteHook(c.Request().Context(), principal(c).ClientKey); err != nil {
		return apperr.E(op, apperr.Unavailable, "", err)
	}
	if err := a.record(c, "audit-hook.deleted", map[string]any{}); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
