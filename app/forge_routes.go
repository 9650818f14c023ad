package app

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/seatlens/seatlens/app/apperr"
	"github.com/seatlens/seatlens/app/connect"
	"github.com/seatlens/seatlens/app/forge"
	"github.com/seatlens/seatlens/app/webhook"
	"github.com/seatlens/seatlens/descriptor"
	"github.com/seatlens/seatlens/store"
)

// ForgeBucket holds per-tenant Forge state (last scheduled run).
const ForgeBucket = "forge"

// maxForgeBody bounds an event body; Forge bodies are small.
const maxForgeBody = 256 << 10

func (a *App) buildForge() (*forge.Verifier, error) {
	a.tokens = forge.NewTokens(a.store, a.now)
	if a.cfg.ForgeAppID == "" {
		return nil, nil
	}
	return forge.NewVerifier(forge.VerifierConfig{
		AppID: a.cfg.ForgeAppID, JWKSURL: a.cfg.ForgeJWKSURL, ICJWKSTemplate: a.cfg.ForgeICJWKSURL,
		Installations: installations{a.store}, Client: a.httpClient, ClockSkew: a.cfg.ClockSkew, Now: a.now,
	})
}

// registerForge mounts the Forge Remote entry points of the manifest. Each
// answers within Forge's 5 s limit: it only records what happened.
func (a *App) registerForge(g *echo.Group, v *forge.Verifier) {
	fit := forge.Middleware(v, a.tokens)
	handlers := map[string]echo.HandlerFunc{
		descriptor.ForgeScheduled.Key:  a.forgeScheduled,
		descriptor.ForgeUserEvents.Key: a.forgeUserEvent,
		descriptor.ForgeLifecycle.Key:  a.forgeAppEvent,
	}
	for _, ep := range descriptor.ForgeEndpoints() {
		g.POST(ep.Path, handlers[ep.Key], fit)
	}
}

func forgeOK(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]bool{"ok": true})
}

// forgeScheduled is the hourly trigger: it exists to deliver a fresh app
// token (kept by the middleware) and records when it last ran.
func (a *App) forgeScheduled(c echo.Context) error {
	ctx := c.Request().Context()
	inv, _ := forge.InvocationFrom(ctx)
	at := a.now().UTC().Format(time.RFC3339)
	if err := a.store.TenantPut(ctx, inv.Principal.ClientKey, ForgeBucket, []byte("scheduled-at"), []byte(at)); err != nil {
		return apperr.E("app.forgeScheduled", apperr.Unavailable, "could not record the run", err)
	}
	return forgeOK(c)
}

// forgeUserEvent turns a Forge user event into a pending targeted rescan,
// like the Connect user webhooks.
func (a *App) forgeUserEvent(c echo.Context) error {
	const op = "app.forgeUserEvent"
	ctx := c.Request().Context()
	inv, _ := forge.InvocationFrom(ctx)
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxForgeBody+1))
	if err != nil || len(body) > maxForgeBody {
		return apperr.E(op, apperr.Invalid, "event body unreadable or larger than 256 KiB", err)
	}
	ev, err := forge.ParseUserEvent(body)
	if err != nil {
		return apperr.E(op, apperr.Invalid, err.Error(), nil)
	}
	if !strings.HasPrefix(ev.EventType, "avi:jira:") || !strings.HasSuffix(ev.EventType, ":user") {
		return apperr.E(op, apperr.Invalid, "not a Jira user event: "+ev.EventType, nil)
	}
	if err := webhook.CheckAccountID(ev.AccountID); err != nil {
		return apperr.E(op, apperr.Invalid, err.Error(), nil)
	}
	e := webhook.Event{Name: ev.EventType, AccountID: ev.AccountID, ReceivedAt: a.now().UTC(), Retry: ev.RetryCount}
	if err := (inbox{a.store}).MarkPending(ctx, inv.Principal.ClientKey, e); err != nil {
		// Forge redelivers on a non-2xx answer.
		return apperr.E(op, apperr.Unavailable, "could not record the event", err)
	}
	return forgeOK(c)
}

// forgeAppEvent receives avi:forge:installed:app and upgraded:app; the
// token they carry is kept by the middleware.
func (a *App) forgeAppEvent(c echo.Context) error {
	inv, _ := forge.InvocationFrom(c.Request().Context())
	zerolog.Ctx(c.Request().Context()).Info().Str("client_key", inv.Principal.ClientKey).Msg("Forge app event")
	return forgeOK(c)
}

// apiAuth admits the panel's API calls: a Forge Invocation Token (Bearer)
// from Forge UI, or a Connect JWT (context token or qsh-bound).
func (a *App) apiAuth(v *forge.Verifier, requests *connect.Verifier) (echo.MiddlewareFunc, error) {
	connectAuth, err := connect.Middleware(requests, true)
	if err != nil {
		return nil, err
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		viaConnect := connectAuth(next)
		return func(c echo.Context) error {
			if !forge.IsFIT(c.Request()) {
				return viaConnect(c)
			}
			ctx, err := forge.Authenticate(c.Request().Context(), c, v, a.tokens)
			if err != nil {
				return err
			}
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}, nil
}

// installations maps a Forge installation to its installed Connect
// tenant. Ids arrive as ARIs on both sides; a bare UUID is tried in the
// other form too, since some integrations strip the prefix.
type installations struct{ s *store.Store }

func (i installations) TenantForInstallation(ctx context.Context, id string) (string, bool, error) {
	candidates := []string{id}
	if bare, ok := strings.CutPrefix(id, forge.InstallationARIPrefix); ok {
		candidates = append(candidates, bare)
	} else {
		candidates = append(candidates, forge.InstallationARIPrefix+id)
	}
	for _, c := range candidates {
		t, err := i.s.TenantByInstallation(ctx, c)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return "", false, err
		}
		return t.ClientKey, t.Installed, nil
	}
	return "", false, nil
}
