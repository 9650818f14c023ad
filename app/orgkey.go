package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/seatlens/seatlens/descriptor"
)

// OrgCredential is an Organizations API key an org admin gives the app
// (DESIGN.md §1): where the API is, which organisation, and the key. It is
// kept sealed per tenant, like the Forge app token.
type OrgCredential struct {
	URL   string `json:"url"` // https://api.atlassian.com, or the simulated site's org-url
	OrgID string `json:"orgId"`
	Key   string `json:"key"`
}

const orgKeyName = "org-api-key"

// Validate checks an org credential before it is stored.
func (c OrgCredential) Validate() error {
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && descriptor.IsLoopbackHost(u.Hostname()))) {
		return errors.New("org API URL must be https (http only on loopback)")
	}
	if c.OrgID == "" || len(c.OrgID) > 128 || strings.ContainsAny(c.OrgID, "/?#% ") {
		return errors.New("org id is empty or not an id")
	}
	if c.Key == "" || len(c.Key) > 4096 {
		return errors.New("org API key is empty or too long")
	}
	return nil
}

// SetOrgCredential stores the tenant's org credential, sealed. (The panel's
// Settings page will call it; the demo configures the simulated site's.)
func (a *App) SetOrgCredential(ctx context.Context, clientKey string, c OrgCredential) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("app: org credential: %w", err)
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("app: org credential: %w", err)
	}
	return (vault{a.store}).PutSealed(ctx, clientKey, orgKeyName, raw)
}

// OrgCredential returns the tenant's org credential; ok is false when none
// is configured.
func (a *App) OrgCredential(ctx context.Context, clientKey string) (OrgCredential, bool, error) {
	raw, ok, err := (vault{a.store}).GetSealed(ctx, clientKey, orgKeyName)
	if err != nil || !ok {
		return OrgCredential{}, false, err
	}
	var c OrgCredential
	if err := json.Unmarshal(raw, &c); err != nil {
		return OrgCredential{}, false, fmt.Errorf("app: decode org credential: %w", err)
	}
	return c, true, nil
}
