package lifecycle

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/seatlens/seatlens/app/apperr"
	"github.com/seatlens/seatlens/app/connect"
	"github.com/seatlens/seatlens/store"
)

// Tenants is the part of the store the lifecycle needs.
type Tenants interface {
	Tenant(ctx context.Context, clientKey string) (store.Tenant, error)
	TenantByInstallation(ctx context.Context, installationID string) (store.Tenant, error)
	PutTenant(ctx context.Context, t store.Tenant) error
	UpdateTenant(ctx context.Context, clientKey string, fn func(*store.Tenant) error) error
}

// Handlers serves the four lifecycle callbacks.
type Handlers struct {
	AppKey   string
	Tenants  Tenants
	Install  *connect.InstallVerifier // installed, uninstalled
	Requests *connect.Verifier        // enabled, disabled
	Now      func() time.Time
	// Installed, when set, hears of every new install (not of upgrades or
	// secret rotations) after it is stored: the app queues the first scan.
	// It must return quickly; its error is logged, never answered.
	Installed func(ctx context.Context, clientKey string) error
}

// Register mounts the callbacks at the descriptor's lifecycle URLs.
func (h *Handlers) Register(g *echo.Group, paths map[string]string) error {
	if h.Tenants == nil || h.Install == nil || h.Requests == nil || h.AppKey == "" {
		return errors.New("lifecycle: handlers need an app key, tenants and both verifiers")
	}
	if h.Now == nil {
		h.Now = time.Now
	}
	handlers := map[string]echo.HandlerFunc{
		EventInstalled: h.installed, EventUninstalled: h.uninstalled,
		EventEnabled: h.enabled, EventDisabled: h.disabled,
	}
	for event, path := range paths {
		fn, ok := handlers[event]
		if !ok {
			return errors.New("lifecycle: descriptor declares unknown lifecycle event " + event)
		}
		g.POST(path, fn)
	}
	return nil
}

// read decodes and validates the body; the payload is checked before the
// signature only so that a malformed body is answered 400 (ACE and
// atlassian-connect-spring-boot do the same); nothing is stored before
// both checks pass.
func (h *Handlers) read(c echo.Context, op, event string) (Payload, error) {
	p, err := DecodePayload(c.Request().Body)
	if errors.Is(err, ErrTooLarge) {
		return Payload{}, apperr.E(op, apperr.TooLarge, err.Error(), nil)
	}
	if err != nil {
		return Payload{}, apperr.E(op, apperr.Invalid, err.Error(), nil)
	}
	if err := p.Validate(event, h.AppKey); err != nil {
		return Payload{}, apperr.E(op, apperr.Invalid, err.Error(), nil)
	}
	return p, nil
}

// signedBy checks that the verified token was issued for the body's tenant.
func signedBy(op string, p connect.Principal, body Payload) error {
	if p.ClientKey != body.ClientKey {
		return apperr.E(op, apperr.Unauthorized, "clientKey in the payload does not match the signed token", nil)
	}
	return nil
}

func (h *Handlers) installed(c echo.Context) error {
	const op = "lifecycle.installed"
	ctx := c.Request().Context()
	body, err := h.read(c, op, EventInstalled)
	if err != nil {
		return err
	}
	if _, err := h.Install.Verify(ctx, c.Request(), body.ClientKey); err != nil {
		return err
	}
	prev, err := h.Tenants.Tenant(ctx, body.ClientKey)
	known := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return apperr.E(op, apperr.Unavailable, "", err)
	}
	// The body is not covered by the signature (qsh covers method and path
	// only), and Forge invocations find their tenant by installationId: a
	// payload must not take over the id of another installed tenant.
	if body.InstallationID != "" {
		owner, err := h.Tenants.TenantByInstallation(ctx, body.InstallationID)
		switch {
		case err == nil && owner.ClientKey != body.ClientKey && owner.Installed:
			return apperr.E(op, apperr.Conflict, "installationId belongs to another installed tenant", nil)
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return apperr.E(op, apperr.Unavailable, "", err)
		}
	}
	now := h.Now().UTC()
	t := store.Tenant{
		ClientKey: body.ClientKey, AppKey: body.Key, BaseURL: body.BaseURL, DisplayURL: body.DisplayURL,
		ProductType: body.ProductType, Description: body.Description,
		ServerVersion: body.ServerVersion, PluginsVersion: body.PluginsVersion,
		OAuthClientID: body.OAuthClientID, InstallationID: body.InstallationID,
		SharedSecret: body.SharedSecret,
		// Apps registered on Forge receive no enabled callback (§2.1).
		Installed: true, Enabled: true,
		InstalledAt: now,
	}
	if known && prev.Installed {
		t.InstalledAt = prev.InstalledAt // an upgrade or secret rotation, not a new install
	}
	if err := h.Tenants.PutTenant(ctx, t); err != nil {
		return apperr.E(op, apperr.Unavailable, "", err)
	}
	zerolog.Ctx(ctx).Info().Str("event", EventInstalled).Str("client_key", t.ClientKey).
		Str("base_url", t.BaseURL).Bool("known", known).Bool("restored", known && !prev.Installed).
		Bool("secret_rotated", known && prev.SharedSecret != "" && prev.SharedSecret != t.SharedSecret).
		Msg("tenant installed")
	if h.Installed != nil && !(known && prev.Installed) {
		if err := h.Installed(ctx, t.ClientKey); err != nil {
			zerolog.Ctx(ctx).Error().Err(err).Str("client_key", t.ClientKey).Msg("after install")
		}
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *Handlers) uninstalled(c echo.Context) error {
	const op = "lifecycle.uninstalled"
	ctx := c.Request().Context()
	body, err := h.read(c, op, EventUninstalled)
	if err != nil {
		return err
	}
	if _, err := h.Install.Verify(ctx, c.Request(), body.ClientKey); err != nil {
		return err
	}
	now := h.Now().UTC()
	err = h.Tenants.UpdateTenant(ctx, body.ClientKey, func(t *store.Tenant) error {
		if !t.Installed {
			return nil // a repeated delivery keeps the first uninstall time
		}
		t.Installed, t.Enabled = false, false
		t.UninstalledAt = now
		t.SharedSecret = "" // the next install brings a new one; nothing may verify with this
		return nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		zerolog.Ctx(ctx).Info().Str("event", EventUninstalled).Str("client_key", body.ClientKey).Msg("uninstall of an unknown tenant ignored")
	case err != nil:
		return apperr.E(op, apperr.Unavailable, "", err)
	default:
		zerolog.Ctx(ctx).Info().Str("event", EventUninstalled).Str("client_key", body.ClientKey).Msg("tenant uninstalled; data kept for the grace period")
	}
	return c.NoContent(http.StatusNoContent)
}

// enabled and disabled only record the flag. A disabled app's pages and
// webhooks are not called by Jira, and apps registered on Forge receive
// neither callback (connect-protocol.md §2.1), so refusing a disabled
// tenant's requests would add a failure mode without closing any hole.
func (h *Handlers) enabled(c echo.Context) error {
	return h.toggle(c, "lifecycle.enabled", EventEnabled, true)
}

func (h *Handlers) disabled(c echo.Context) error {
	return h.toggle(c, "lifecycle.disabled", EventDisabled, false)
}

func (h *Handlers) toggle(c echo.Context, op, event string, enabled bool) error {
	ctx := c.Request().Context()
	r := c.Request()
	body, err := h.read(c, op, event)
	if err != nil {
		return err
	}
	token, tokErr := connect.ExtractToken(r)
	if tokErr != nil && event == EventDisabled {
		// Jira sometimes sends disabled after uninstalled, without a JWT
		// (AC-2561). For a tenant that is gone it is a no-op; for a live
		// tenant an unsigned request changes nothing either.
		t, err := h.Tenants.Tenant(ctx, body.ClientKey)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !t.Installed) {
			return c.NoContent(http.StatusNoContent)
		}
		if err != nil {
			return apperr.E(op, apperr.Unavailable, "", err)
		}
	}
	if tokErr != nil {
		return apperr.E(op, apperr.Unauthorized, tokErr.Error(), nil)
	}
	p, err := h.Requests.Verify(ctx, r, token, false)
	if err != nil {
		return err
	}
	if err := signedBy(op, p, body); err != nil {
		return err
	}
	err = h.Tenants.UpdateTenant(ctx, body.ClientKey, func(t *store.Tenant) error {
		t.Enabled = enabled
		return nil
	})
	if err != nil {
		return apperr.E(op, apperr.Unavailable, "", err)
	}
	zerolog.Ctx(ctx).Info().Str("event", event).Str("client_key", body.ClientKey).Msg("tenant " + event)
	return c.NoContent(http.StatusNoContent)
}
