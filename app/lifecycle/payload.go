// Package lifecycle handles the Connect lifecycle callbacks: installed,
// uninstalled, enabled and disabled (connect-protocol.md §2).
package lifecycle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/seatlens/seatlens/descriptor"
)

// MaxPayloadBytes bounds a lifecycle body; real ones are under 2 KiB.
const MaxPayloadBytes = 64 << 10

// Payload is the JSON body of every lifecycle callback (§2.2). Unknown
// fields are ignored: Atlassian adds fields over time.
type Payload struct {
	Key                             string `json:"key"`
	ClientKey                       string `json:"clientKey"`
	SharedSecret                    string `json:"sharedSecret,omitempty"`
	ServerVersion                   string `json:"serverVersion,omitempty"`
	PluginsVersion                  string `json:"pluginsVersion,omitempty"`
	BaseURL                         string `json:"baseUrl"`
	DisplayURL                      string `json:"displayUrl,omitempty"`
	DisplayURLServicedeskHelpCenter string `json:"displayUrlServicedeskHelpCenter,omitempty"`
	ProductType                     string `json:"productType"`
	Description                     string `json:"description,omitempty"`
	ServiceEntitlementNumber        string `json:"serviceEntitlementNumber,omitempty"`
	EntitlementID                   string `json:"entitlementId,omitempty"`
	EntitlementNumber               string `json:"entitlementNumber,omitempty"`
	EventType                       string `json:"eventType"`
	OAuthClientID                   string `json:"oauthClientId,omitempty"`
	InstallationID                  string `json:"installationId,omitempty"`
}

// Event names as they appear in eventType and in our routes.
const (
	EventInstalled   = "installed"
	EventUninstalled = "uninstalled"
	EventEnabled     = "enabled"
	EventDisabled    = "disabled"
)

// ErrTooLarge marks a body over MaxPayloadBytes.
var ErrTooLarge = errors.New("lifecycle payload larger than 64 KiB")

// DecodePayload reads one JSON object of at most MaxPayloadBytes.
func DecodePayload(r io.Reader) (Payload, error) {
	body, err := io.ReadAll(io.LimitReader(r, MaxPayloadBytes+1))
	if err != nil {
		return Payload{}, fmt.Errorf("reading lifecycle payload: %w", err)
	}
	if len(body) > MaxPayloadBytes {
		return Payload{}, ErrTooLarge
	}
	return ParsePayload(body)
}

// ParsePayload decodes a lifecycle body. Every field must have its
// documented JSON type; trailing data is refused.
func ParsePayload(body []byte) (Payload, error) {
	var p Payload
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&p); err != nil {
		return Payload{}, fmt.Errorf("lifecycle payload is not a JSON object of the documented shape: %w", err)
	}
	if dec.More() {
		return Payload{}, errors.New("lifecycle payload has data after the JSON object")
	}
	return p, nil
}

// Field bounds. Atlassian documents a shared secret of up to 128
// characters; the others are generous bounds on identifiers and URLs.
const (
	maxIDLen     = 255
	maxSecretLen = 512
	maxURLLen    = 255
	maxTextLen   = 1024
)

// Validate checks a payload for the given event and app key. Its messages
// are safe to return to the caller.
func (p Payload) Validate(event, appKey string) error {
	if p.EventType != event {
		return fmt.Errorf("eventType %q does not match the %s callback", clip(p.EventType), event)
	}
	if p.Key != appKey {
		return fmt.Errorf("payload key %q is not this app (%s)", clip(p.Key), appKey)
	}
	if err := token("clientKey", p.ClientKey, maxIDLen, true); err != nil {
		return err
	}
	if err := token("sharedSecret", p.SharedSecret, maxSecretLen, event == EventInstalled); err != nil {
		return err
	}
	if err := siteURL("baseUrl", p.BaseURL, true, true); err != nil {
		return err
	}
	if err := siteURL("displayUrl", p.DisplayURL, false, false); err != nil {
		return err
	}
	if err := siteURL("displayUrlServicedeskHelpCenter", p.DisplayURLServicedeskHelpCenter, false, false); err != nil {
		return err
	}
	if p.ProductType == "" || len(p.ProductType) > 32 || strings.Trim(p.ProductType, "abcdefghijklmnopqrstuvwxyz-") != "" {
		return fmt.Errorf("productType %q must be a lower-case product name such as jira", clip(p.ProductType))
	}
	for _, f := range [...]struct{ name, v string }{
		{"installationId", p.InstallationID}, {"oauthClientId", p.OAuthClientID},
		{"serverVersion", p.ServerVersion}, {"pluginsVersion", p.PluginsVersion},
		{"serviceEntitlementNumber", p.ServiceEntitlementNumber}, {"entitlementId", p.EntitlementID},
		{"entitlementNumber", p.EntitlementNumber},
	} {
		if err := token(f.name, f.v, maxIDLen, false); err != nil {
			return err
		}
	}
	if len(p.Description) > maxTextLen {
		return fmt.Errorf("description is longer than %d bytes", maxTextLen)
	}
	return nil
}

// token checks an identifier: printable ASCII without spaces.
func token(name, v string, max int, required bool) error {
	switch {
	case v == "" && required:
		return fmt.Errorf("%s is required", name)
	case len(v) > max:
		return fmt.Errorf("%s is longer than %d bytes", name, max)
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] > '~' {
			return fmt.Errorf("%s has characters outside printable ASCII", name)
		}
	}
	return nil
}

// siteURL accepts an absolute https URL, or http on a loopback host (the
// simulated site and local development), without credentials, query or
// fragment. atlassianOnly restricts https hosts to Atlassian Cloud's: the
// baseUrl is where the app sends the tenant's signed requests, while
// display URLs may be a customer's own domain.
func siteURL(name, v string, required, atlassianOnly bool) error {
	if v == "" {
		if required {
			return fmt.Errorf("%s is required", name)
		}
		return nil
	}
	if len(v) > maxURLLen {
		return fmt.Errorf("%s is longer than %d bytes", name, maxURLLen)
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return fmt.Errorf("%s must be an absolute URL without credentials, query or fragment", name)
	}
	host := strings.ToLower(u.Hostname())
	if descriptor.IsLoopbackHost(host) {
		if u.Scheme == "https" || u.Scheme == "http" {
			return nil // the simulated site and local development
		}
	} else if u.Scheme == "https" && (!atlassianOnly || atlassianHost(host)) {
		return nil
	}
	if !atlassianOnly {
		return fmt.Errorf("%s must use https (http only for a loopback host)", name)
	}
	return fmt.Errorf("%s must be an https URL on an Atlassian Cloud host (%s), or a loopback URL", name, strings.Join(siteDomains, ", "))
}

// siteDomains are the host suffixes of Atlassian Cloud sites: production,
// Atlassian's staging and FedRAMP hosts (connect-protocol.md §2.3). Like
// ACE's host whitelist, this stops a replayed install token from pointing
// a tenant's shared secret at a host that is not Atlassian's.
var siteDomains = []string{".atlassian.net", ".jira.com", ".jira-dev.com", ".atlassian-us-gov-mod.net", ".atlassian-stg-fedm.net"}

func atlassianHost(host string) bool {
	for _, d := range siteDomains {
		if strings.HasSuffix(host, d) && len(host) > len(d) {
			return true
		}
	}
	return false
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
