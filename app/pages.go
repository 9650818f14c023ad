package app

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/seatlens/seatlens/app/apperr"
	"github.com/seatlens/seatlens/app/connect"
	"github.com/seatlens/seatlens/descriptor"
	"github.com/seatlens/seatlens/static"
)

// adminPage serves the panel's HTML to a Jira page load (HS256 with a qsh
// over the full iframe URL, checked by the middleware).
func (a *App) adminPage(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	if host := localHost(a.cfg.BaseURL, c.QueryParam("xdm_e")); host != "" {
		// The simulated site of `seatlens demo` frames the page offline,
		// where Atlassian's CDN cannot be reached: its own AP stand-in
		// serves instead, so the console stays clean.
		return c.HTMLBlob(http.StatusOK, bytes.Replace(a.panelHTML, []byte(cdnAllJS), []byte(host+"/atlassian-connect/all.js"), 1))
	}
	return c.HTMLBlob(http.StatusOK, a.panelHTML)
}

// cdnAllJS is Atlassian's AP script, as the panel's page names it.
const cdnAllJS = "https://connect-cdn.atl-paas.net/all.js"

// localHost returns the origin of a loopback http host page when the app
// itself runs on a loopback base URL (development and the demo); "" for
// anything else, so a page framed by a real site always loads Atlassian's
// script, whatever xdm_e says.
func localHost(baseURL, xdmE string) string {
	base, err := url.Parse(baseURL)
	if err != nil || base.Scheme != "http" || !descriptor.IsLoopbackHost(base.Hostname()) {
		return ""
	}
	u, err := url.Parse(xdmE)
	if err != nil || u.Scheme != "http" || !descriptor.IsLoopbackHost(u.Hostname()) || u.User != nil {
		return ""
	}
	return "http://" + u.Host
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
