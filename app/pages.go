package app

import (
	"fmt"
	"io/fs"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/seatlens/seatlens/app/apperr"
	"github.com/seatlens/seatlens/app/connect"
	"github.com/seatlens/seatlens/static"
)

// adminPage serves the panel's HTML to a Jira page load (HS256 with a qsh
// over the full iframe URL, checked by the middleware).
func (a *App) adminPage(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(http.StatusOK, a.panelHTML)
}

// loadPanel reads the page once: it is embedded, so it cannot change.
func loadPanel() ([]byte, error) {
	html, err := fs.ReadFile(static.Panel(), "index.html")
	if err != nil {
		return nil, fmt.Errorf("app: panel page: %w", err)
	}
	return html, nil
}

// tenantView is what the panel learns about its own tenant.
type tenantView struct {
	ClientKey   string `json:"clientKey"`
	BaseURL     string `json:"baseUrl"`
	DisplayURL  string `json:"displayUrl,omitempty"`
	ProductType string `json:"productType"`
	InstalledAt string `json:"installedAt"`
	Enabled     bool   `json:"enabled"`
	AccountID   string `json:"accountId,omitempty"`
	Auth        string `json:"auth"`
}

// apiTenant answers with the caller's own tenant: the tenant comes from the
// verified token, never from a parameter.
func (a *App) apiTenant(c echo.Context) error {
	const op = "app.apiTenant"
	ctx := c.Request().Context()
	p, ok := connect.PrincipalFrom(ctx)
	if !ok {
		return apperr.E(op, apperr.Unauthorized, "not authenticated", nil)
	}
	t, err := a.store.Tenant(ctx, p.ClientKey)
	if err != nil {
		return apperr.E(op, apperr.Unavailable, "", err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, tenantView{
		ClientKey: t.ClientKey, BaseURL: t.BaseURL, DisplayURL: t.DisplayURL, ProductType: t.ProductType,
		InstalledAt: t.InstalledAt.UTC().Format(time.RFC3339), Enabled: t.Enabled,
		AccountID: p.AccountID, Auth: p.Kind.String(),
	})
}
