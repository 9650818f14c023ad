package forge

import (
	"context"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/seatlens/seatlens/app/apperr"
	"github.com/seatlens/seatlens/app/webhook"
	"github.com/seatlens/seatlens/descriptor"
)

// StateBucket holds per-tenant Forge state (the last scheduled run).
const StateBucket = "forge"

// maxEventBody bounds an event body; Forge bodies are small.
const maxEventBody = 256 << 10

// State records what Forge invocations leave behind.
type State interface {
	TenantPut(ctx context.Context, clientKey, bucket string, key, value []byte) error
}

// Entry serves the Forge Remote entry points of the manifest. Each answers
// within Forge's 5 s limit: it only records what happened; the middleware
// keeps the app token an invocation carries.
type Entry struct {
	Verifier *Verifier // nil: every invocation is refused
	Tokens   *Tokens
	Inbox    webhook.Inbox
	State    State
	Now      func() time.Time
	// Scheduled, when set, runs at each scheduled trigger of a tenant:
	// the tenant's scheduled scan is queued there when due (rescan).
	Scheduled func(ctx context.Context, clientKey string) error
}

// Register mounts the endpoints on g.
func (e *Entry) Register(g *echo.Group) {
	if e.Now == nil {
		e.Now = time.Now
	}
	fit := Middleware(e.Verifier, e.Tokens)
	handlers := map[string]echo.HandlerFunc{
		descriptor.ForgeScheduled.Key:  e.scheduled,
		descriptor.ForgeUserEvents.Key: e.userEvent,
		descriptor.ForgeLifecycle.Key:  e.appEvent,
	}
	for _, ep := range descriptor.ForgeEndpoints() {
		g.POST(ep.Path, handlers[ep.Key], fit)
	}
}

func ok(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]bool{"ok": true})
}

// scheduled is the hourly trigger: it exists to deliver a fresh app token
// and records when it last ran.
func (e *Entry) scheduled(c echo.Context) error {
	ctx := c.Request().Context()
	inv, _ := InvocationFrom(ctx)
	at := e.Now().UTC().Format(time.RFC3339)
	if err := e.State.TenantPut(ctx, inv.Principal.ClientKey, StateBucket, []byte("scheduled-at"), []byte(at)); err != nil {
		return apperr.E("forge.scheduled", apperr.Unavailable, "could not record the run", err)
	}
	if e.Scheduled != nil {
		if err := e.Scheduled(ctx, inv.Principal.ClientKey); err != nil {
			return apperr.E("forge.scheduled", apperr.Unavailable, "could not queue the scheduled scan", err)
		}
	}
	return ok(c)
}

// userEvent turns a Forge user event into a pending targeted rescan, like
// the Connect user webhooks.
func (e *Entry) userEvent(c echo.Context) error {
	const op = "forge.userEvent"
	ctx := c.Request().Context()
	inv, _ := InvocationFrom(ctx)
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxEventBody+1))
	if err != nil || len(body) > maxEventBody {
		return apperr.E(op, apperr.Invalid, "event body unreadable or larger than 256 KiB", err)
	}
	ev, err := ParseUserEvent(body)
	if err != nil {
		return apperr.E(op, apperr.Invalid, err.Error(), nil)
	}
	if !strings.HasPrefix(ev.EventType, "avi:jira:") || !strings.HasSuffix(ev.EventType, ":user") {
		return apperr.E(op, apperr.Invalid, "not a Jira user event: "+ev.EventType, nil)
	}
	if err := webhook.CheckAccountID(ev.AccountID); err != nil {
		return apperr.E(op, apperr.Invalid, err.Error(), nil)
	}
	we := webhook.Event{Name: ev.EventType, AccountID: ev.AccountID, ReceivedAt: e.Now().UTC(), Retry: ev.RetryCount}
	if err := e.Inbox.MarkPending(ctx, inv.Principal.ClientKey, we); err != nil {
		// Forge redelivers on a non-2xx answer.
		return apperr.E(op, apperr.Unavailable, "could not record the event", err)
	}
	return ok(c)
}

// appEvent receives avi:forge:installed:app and upgraded:app; the token
// they carry is kept by the middleware.
func (e *Entry) appEvent(c echo.Context) error {
	inv, _ := InvocationFrom(c.Request().Context())
	zerolog.Ctx(c.Request().Context()).Info().Str("client_key", inv.Principal.ClientKey).Msg("Forge app event")
	return ok(c)
}
