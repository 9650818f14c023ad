// Package descriptor parses the Connect app descriptor template
// (atlassian-connect.json), validates it against the rules Atlassian
// documents (connect-protocol.md §1), renders it for a base URL, and lists
// the URLs it declares so that a test can prove each one is served.
package descriptor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Descriptor is the part of atlassian-connect.json the app relies on.
// Parsing refuses unknown fields so that a module added to the template
// cannot go unnoticed by the route test.
type Descriptor struct {
	Key            string            `json:"key"`
	Name           string            `json:"name"`
	Description    string            `json:"description"`
	Vendor         Vendor            `json:"vendor"`
	BaseURL        string            `json:"baseUrl"`
	Authentication Authentication    `json:"authentication"`
	APIVersion     int               `json:"apiVersion"`
	Lifecycle      map[string]string `json:"lifecycle"`
	Scopes         []string          `json:"scopes"`
	APIMigrations  map[string]bool   `json:"apiMigrations"`
	Modules        Modules           `json:"modules"`
}

// Vendor names who publishes the app.
type Vendor struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Authentication is always {"type":"jwt"} for this app.
type Authentication struct {
	Type string `json:"type"`
}

// Modules are the descriptor modules the app declares.
type Modules struct {
	AdminPages    []Page    `json:"adminPages,omitempty"`
	ConfigurePage *Page     `json:"configurePage,omitempty"`
	Webhooks      []Webhook `json:"webhooks,omitempty"`
}

// Page is an adminPages or configurePage module.
type Page struct {
	Key        string      `json:"key" yaml:"key"`
	Name       I18n        `json:"name" yaml:"name"`
	URL        string      `json:"url" yaml:"url"`
	Conditions []Condition `json:"conditions,omitempty" yaml:"conditions,omitempty"`
}

// I18n is a translatable text.
type I18n struct {
	Value string `json:"value" yaml:"value"`
}

// Condition is a module display condition such as user_is_admin.
type Condition struct {
	Condition string `json:"condition" yaml:"condition"`
}

// Webhook subscribes to a product event.
type Webhook struct {
	Event string `json:"event"`
	URL   string `json:"url"`
}

// Template is a parsed descriptor template.
type Template struct {
	d Descriptor
}

// Parse reads and validates a template.
func Parse(raw []byte) (*Template, error) {
	var d Descriptor
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("descriptor: parse template: %w", err)
	}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("descriptor: template: %w", err)
	}
	return &Template{d: d}, nil
}

// Descriptor returns a copy of the template's descriptor.
func (t *Template) Descriptor() Descriptor { return t.d }

// Render returns the descriptor JSON for baseURL, validated.
func (t *Template) Render(baseURL string) ([]byte, error) {
	d := t.d
	d.BaseURL = strings.TrimSuffix(baseURL, "/")
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("descriptor: render for %q: %w", baseURL, err)
	}
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("descriptor: render: %w", err)
	}
	return append(out, '\n'), nil
}

var (
	keyPattern       = regexp.MustCompile(`^[a-zA-Z0-9-._]+$`)
	moduleKeyPattern = regexp.MustCompile(`^[a-zA-Z0-9-]+$`)
	// Connect scopes for Jira (connect-protocol.md §1.2).
	knownScopes = []string{"NONE", "READ", "WRITE", "DELETE", "PROJECT_ADMIN", "ADMIN", "ACT_AS_USER", "ACCESS_EMAIL_ADDRESSES"}
	// The lifecycle callbacks Connect defines.
	lifecycleEvents = []string{"installed", "uninstalled", "enabled", "disabled"}
)

// Validate checks the rules the Connect schema and docs set, plus the ones
// this app depends on (signed install, context-qsh, gdpr, ADMIN scope).
func (d *Descriptor) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if len(d.Key) == 0 || len(d.Key) > 64 || !keyPattern.MatchString(d.Key) {
		add("key %q must be 1..64 characters of [a-zA-Z0-9-._]", d.Key)
	}
	if d.Name == "" || len(d.Name) > 80 {
		add("name must be 1..80 characters")
	}
	if err := CheckBaseURL(d.BaseURL); err != nil {
		errs = append(errs, err)
	}
	if !strings.EqualFold(d.Authentication.Type, "jwt") {
		add("authentication.type must be jwt")
	}
	for _, ev := range lifecycleEvents {
		if err := checkRelativeURL("lifecycle."+ev, d.Lifecycle[ev]); err != nil {
			errs = append(errs, err)
		}
	}
	for ev := range d.Lifecycle {
		if !slices.Contains(lifecycleEvents, ev) {
			add("lifecycle.%s is not a Connect lifecycle event", ev)
		}
	}
	for _, s := range d.Scopes {
		if !slices.Contains(knownScopes, strings.ToUpper(s)) || (s != strings.ToUpper(s) && s != strings.ToLower(s)) {
			add("scope %q is not a Jira Connect scope", s)
		}
	}
	if !d.HasScope("ADMIN") {
		add("scopes must include ADMIN (group/bulk and group/member need it)")
	}
	if len(d.Modules.Webhooks) > 0 && !d.HasScope("READ") {
		add("webhooks require the READ scope")
	}
	for _, m := range []string{"signed-install", "context-qsh", "gdpr"} {
		if !d.APIMigrations[m] {
			add("apiMigrations.%s must be true", m)
		}
	}
	keys := map[string]bool{}
	pages := d.Modules.AdminPages
	if d.Modules.ConfigurePage != nil {
		pages = append(slices.Clone(pages), *d.Modules.ConfigurePage)
	}
	if len(d.Modules.AdminPages) == 0 {
		add("modules.adminPages must declare the admin page")
	}
	for _, p := range pages {
		if !moduleKeyPattern.MatchString(p.Key) || keys[p.Key] {
			add("module key %q must be unique and of [a-zA-Z0-9-]", p.Key)
		}
		keys[p.Key] = true
		if p.Name.Value == "" {
			add("module %s needs a name", p.Key)
		}
		if err := checkRelativeURL("module "+p.Key, p.URL); err != nil {
			errs = append(errs, err)
		}
	}
	for _, w := range d.Modules.Webhooks {
		if w.Event == "" {
			add("webhook without event")
		}
		if err := checkRelativeURL("webhook "+w.Event, w.URL); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// HasScope reports whether the descriptor declares scope (any case).
func (d *Descriptor) HasScope(scope string) bool {
	return slices.ContainsFunc(d.Scopes, func(s string) bool { return strings.EqualFold(s, scope) })
}

// CheckBaseURL accepts an https URL, or http on a loopback host with a port
// (local development and the simulated site), at most 200 characters, with
// no query, fragment or credentials.
func CheckBaseURL(raw string) error {
	if raw == "" || len(raw) > 200 {
		return fmt.Errorf("baseUrl must be 1..200 characters")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || strings.HasSuffix(raw, "?") {
		return fmt.Errorf("baseUrl %q must be an absolute URL without credentials, query or fragment", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if !IsLoopbackHost(u.Hostname()) {
			return fmt.Errorf("baseUrl %q: http is allowed only for a loopback host", raw)
		}
		if u.Port() == "" {
			return fmt.Errorf("baseUrl %q: a loopback base URL needs a port", raw)
		}
		return nil
	}
	return fmt.Errorf("baseUrl %q must use https", raw)
}

// IsLoopbackHost reports whether host is "localhost" or a loopback IP: the
// one case where plain http is acceptable (local development, the
// simulated site).
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func checkRelativeURL(what, raw string) error {
	if raw == "" || !strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "//") {
		return fmt.Errorf("%s url %q must be a path relative to baseUrl", what, raw)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return fmt.Errorf("%s url %q must be a path relative to baseUrl", what, raw)
	}
	return nil
}

// Route is a URL the descriptor tells Atlassian to call.
type Route struct {
	Method string // POST for lifecycle and webhooks, GET for pages
	Path   string // without query
	Kind   string // "lifecycle", "page" or "webhook"
	Name   string // lifecycle event, module key or webhook event
}

// Routes lists every URL the descriptor declares, sorted by path.
func (d *Descriptor) Routes() []Route {
	var rs []Route
	for ev, p := range d.Lifecycle {
		rs = append(rs, Route{Method: "POST", Path: pathOf(p), Kind: "lifecycle", Name: ev})
	}
	pages := d.Modules.AdminPages
	if d.Modules.ConfigurePage != nil {
		pages = append(slices.Clone(pages), *d.Modules.ConfigurePage)
	}
	for _, p := range pages {
		rs = append(rs, Route{Method: "GET", Path: pathOf(p.URL), Kind: "page", Name: p.Key})
	}
	for _, w := range d.Modules.Webhooks {
		rs = append(rs, Route{Method: "POST", Path: pathOf(w.URL), Kind: "webhook", Name: w.Event})
	}
	slices.SortFunc(rs, func(a, b Route) int {
		return strings.Compare(a.Method+" "+a.Path+" "+a.Name, b.Method+" "+b.Path+" "+b.Name)
	})
	return rs
}

func pathOf(raw string) string {
	p, _, _ := strings.Cut(raw, "?")
	return p
}
