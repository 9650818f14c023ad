package app

import (
	"context"
	"errors"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/seatlens/seatlens/app/connect"
	"github.com/seatlens/seatlens/app/forge"
	"github.com/seatlens/seatlens/store"
)

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

// registerForge mounts the Forge Remote entry points of the manifest.
func (a *App) registerForge(g *echo.Group, v *forge.Verifier) {
	(&forge.Entry{Verifier: v, Tokens: a.tokens, Inbox: a.inbox, State: a.store, Now: a.now,
		Scheduled: func(ctx context.Context, clientKey string) error {
			_, err := a.scheduler.RunTenant(ctx, clientKey)
			return err
		}}).Register(g)
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
