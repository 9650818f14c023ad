package descriptor

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Connect on Forge: the app is registered on Forge with a manifest.yml
// whose app.connect, remotes and connectModules carry the Connect
// descriptor, plus Forge modules that reach our server as Forge Remote
// (gaps-2026-11.md §3). The manifest is generated from the descriptor and
// the tables below, so the two cannot disagree.

// ForgeEndpoint is a Forge Remote entry point on our server.
type ForgeEndpoint struct {
	Key  string // manifest endpoint key (≤ 23 characters)
	Path string // route path, relative to the base URL
}

// The Forge entry points. All request the app system token.
var (
	ForgeScheduled  = ForgeEndpoint{Key: "ep-scheduled", Path: "/forge/scheduled"}
	ForgeUserEvents = ForgeEndpoint{Key: "ep-user-events", Path: "/forge/events/user"}
	ForgeLifecycle  = ForgeEndpoint{Key: "ep-app-lifecycle", Path: "/forge/events/app"}
)

// ForgeEndpoints lists every Forge entry point.
func ForgeEndpoints() []ForgeEndpoint {
	return []ForgeEndpoint{ForgeScheduled, ForgeUserEvents, ForgeLifecycle}
}

// ForgeUserEventTypes are the Jira user events routed to ForgeUserEvents.
var ForgeUserEventTypes = []string{"avi:jira:created:user", "avi:jira:updated:user", "avi:jira:deleted:user"}

// ForgeAppEventTypes are the Forge app lifecycle events routed to
// ForgeLifecycle: they deliver an app token right after install.
var ForgeAppEventTypes = []string{"avi:forge:installed:app", "avi:forge:upgraded:app"}

// ScheduledInterval keeps a fresh app token: a token delivered by a
// trigger that calls the remote directly lives at least 2 hours, and
// Atlassian recommends "hour" over "day"/"week" for refreshing tokens.
const ScheduledInterval = "hour"

// Operation is a Jira REST operation the product client may call with the
// Forge app token, and the granular OAuth scopes Atlassian's OpenAPI lists
// for it (x-atlassian-oauth2-scopes, the "Beta" granular set).
type Operation struct {
	Method, Path string
	Scopes       []string
}

// ProductOperations is the allow-list of the product client: DESIGN.md §4's
// credential table. A test checks each entry against Atlassian's OpenAPI.
var ProductOperations = []Operation{
	{"GET", "/rest/api/3/applicationrole", []string{"read:application-role:jira"}},
	{"GET", "/rest/api/3/applicationrole/{key}", []string{"read:application-role:jira"}},
	{"GET", "/rest/api/3/users/search", []string{"read:user:jira", "read:application-role:jira", "read:avatar:jira", "read:group:jira"}},
	{"GET", "/rest/api/3/group/bulk", []string{"read:group:jira"}},
	{"GET", "/rest/api/3/group/member", []string{"read:group:jira", "read:user:jira", "read:avatar:jira"}},
	{"GET", "/rest/api/3/user", []string{"read:application-role:jira", "read:group:jira", "read:user:jira", "read:avatar:jira"}},
	{"GET", "/rest/api/3/user/groups", []string{"read:group:jira"}},
	{"GET", "/rest/api/3/user/search", []string{"read:user:jira", "read:user.property:jira", "read:application-role:jira", "read:avatar:jira", "read:group:jira"}},
	{"GET", "/rest/api/3/myself", []string{"read:application-role:jira", "read:group:jira", "read:user:jira", "read:avatar:jira"}},
	{"POST", "/rest/api/3/permissions/check", []string{"read:permission:jira"}},
	{"GET", "/rest/api/3/instance/license", []string{"read:license:jira"}},
	{"GET", "/rest/api/3/license/approximateLicenseCount/product/{applicationKey}", []string{"read:license:jira"}},
	{"DELETE", "/rest/api/3/group/user", []string{"write:group:jira"}},
	{"POST", "/rest/api/3/group/user", []string{"write:group:jira", "read:avatar:jira", "read:group:jira", "read:user:jira"}},
}

// ForgeExtraScopes are scopes not tied to a product REST operation.
var ForgeExtraScopes = []string{
	"read:app-system-token", // the endpoints request the app system token
	"read:jira-user",        // Jira user events (avi:jira:*:user) are delivered with it
	"report:personal-data",  // personal data reporting (gaps-2026-11.md §1.4)
}

// ForgeConnectScope is the Forge form of a Connect scope: lower case,
// "_" → "-", suffix ":connect-jira" (Atlassian's connect-to-forge rule).
func ForgeConnectScope(connectScope string) string {
	return strings.ReplaceAll(strings.ToLower(connectScope), "_", "-") + ":connect-jira"
}

// ForgeScopes is the sorted, de-duplicated scope list of the manifest.
func (d *Descriptor) ForgeScopes() []string {
	var all []string
	for _, s := range d.Scopes {
		all = append(all, ForgeConnectScope(s))
	}
	for _, op := range ProductOperations {
		all = append(all, op.Scopes...)
	}
	all = append(all, ForgeExtraScopes...)
	slices.Sort(all)
	return slices.Compact(all)
}

// ManifestOptions are the Forge-side settings of a manifest.
type ManifestOptions struct {
	AppID string // ari:cloud:ecosystem::app/<uuid> from `forge register`
}

// PlaceholderAppID stands in for the id `forge register` assigns.
const PlaceholderAppID = "ari:cloud:ecosystem::app/00000000-0000-0000-0000-000000000000"

// RemoteKey names the remote that is our server.
const RemoteKey = "seatlens"

// Manifest renders manifest.yml for a descriptor rendered for its base URL.
func (d *Descriptor) Manifest(o ManifestOptions) ([]byte, error) {
	if o.AppID == "" {
		o.AppID = PlaceholderAppID
	}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("descriptor: manifest: %w", err)
	}
	connectModules := map[string]any{}
	var admin []any
	for _, p := range d.Modules.AdminPages {
		admin = append(admin, p)
	}
	connectModules["jira:adminPages"] = admin
	if p := d.Modules.ConfigurePage; p != nil {
		connectModules["jira:configurePage"] = p
	}
	lifecycle := map[string]string{"key": "lifecycle-events"}
	for ev, path := range d.Lifecycle {
		lifecycle[ev] = path
	}
	connectModules["jira:lifecycle"] = []any{lifecycle} // exactly one entry is allowed
	var hooks []any
	for i, w := range d.Modules.Webhooks {
		hooks = append(hooks, map[string]string{"key": fmt.Sprintf("webhook-%d", i+1), "event": w.Event, "url": w.URL})
	}
	if len(hooks) > 0 {
		connectModules["jira:webhooks"] = hooks
	}
	systemToken := map[string]any{"appSystemToken": map[string]bool{"enabled": true}}
	var endpoints []any
	for _, ep := range ForgeEndpoints() {
		endpoints = append(endpoints, map[string]any{
			"key": ep.Key, "remote": RemoteKey, "route": map[string]string{"path": ep.Path}, "auth": systemToken,
		})
	}
	m := map[string]any{
		"app": map[string]any{
			"id":      o.AppID,
			"runtime": map[string]string{"name": "nodejs22.x"}, // required by the schema, though no function runs
			"connect": map[string]string{"key": d.Key, "remote": RemoteKey, "authentication": "jwt"},
		},
		"remotes": []any{map[string]any{
			"key": RemoteKey, "baseUrl": d.BaseURL, "operations": []string{"storage", "compute"},
			"storage": map[string]bool{"inScopeEUD": true},
		}},
		"connectModules": connectModules,
		"modules": map[string]any{
			"scheduledTrigger": []any{map[string]string{"key": "token-refresh", "endpoint": ForgeScheduled.Key, "interval": ScheduledInterval}},
			"trigger": []any{
				map[string]any{"key": "user-events", "endpoint": ForgeUserEvents.Key, "events": ForgeUserEventTypes},
				map[string]any{"key": "app-events", "endpoint": ForgeLifecycle.Key, "events": ForgeAppEventTypes},
			},
			"endpoint": endpoints,
		},
		"permissions": map[string]any{"scopes": d.ForgeScopes()},
	}
	var b bytes.Buffer
	b.WriteString("# Generated by `seatlens manifest` from atlassian-connect.json: do not edit by hand.\n")
	b.WriteString("# Deploy: seatlens manifest --base-url https://… --forge-app-id <id from forge register> > manifest.yml\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("descriptor: manifest: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("descriptor: manifest: %w", err)
	}
	return b.Bytes(), nil
}
