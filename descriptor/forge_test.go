package descriptor_test

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/seatlens/seatlens/descriptor"
)

// TestCommittedManifestIsGenerated: manifest.yml at the root is exactly
// what the descriptor generates (run `go run ./cmd/seatlens manifest >
// manifest.yml` after changing atlassian-connect.json or the Forge tables).
func TestCommittedManifestIsGenerated(t *testing.T) {
	d := template(t).Descriptor()
	want, err := d.Manifest(descriptor.ManifestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../manifest.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("manifest.yml is stale; regenerate it with: go run ./cmd/seatlens manifest > manifest.yml\n--- generated ---\n%s", want)
	}
}

type manifest struct {
	App struct {
		ID      string            `yaml:"id"`
		Runtime map[string]string `yaml:"runtime"`
		Connect struct {
			Key, Remote, Authentication string
		} `yaml:"connect"`
	} `yaml:"app"`
	Remotes []struct {
		Key     string `yaml:"key"`
		BaseURL string `yaml:"baseUrl"`
	} `yaml:"remotes"`
	ConnectModules struct {
		AdminPages    []descriptor.Page   `yaml:"jira:adminPages"`
		ConfigurePage *descriptor.Page    `yaml:"jira:configurePage"`
		Lifecycle     []map[string]string `yaml:"jira:lifecycle"`
		Webhooks      []map[string]string `yaml:"jira:webhooks"`
	} `yaml:"connectModules"`
	Modules struct {
		ScheduledTrigger []struct{ Key, Endpoint, Interval string } `yaml:"scheduledTrigger"`
		Trigger          []struct {
			Key, Endpoint string
			Events        []string
		} `yaml:"trigger"`
		Endpoint []struct {
			Key, Remote string
			Route       struct{ Path string }
			Auth        struct {
				AppSystemToken struct{ Enabled bool } `yaml:"appSystemToken"`
			}
		} `yaml:"endpoint"`
	} `yaml:"modules"`
	Permissions struct {
		Scopes []string `yaml:"scopes"`
	} `yaml:"permissions"`
}

func parseManifest(t *testing.T, raw []byte) manifest {
	t.Helper()
	var m manifest
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("manifest does not parse: %v", err)
	}
	return m
}

// TestManifestCarriesTheDescriptor: a module, a lifecycle URL, a webhook or
// a scope missing from the manifest fails here.
func TestManifestCarriesTheDescriptor(t *testing.T) {
	tpl := template(t)
	out, err := tpl.Render("https://seatlens.example.com")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := descriptor.Parse(out)
	d := again.Descriptor()
	raw, err := d.Manifest(descriptor.ManifestOptions{AppID: "ari:cloud:ecosystem::app/11111111-2222-3333-4444-555555555555"})
	if err != nil {
		t.Fatal(err)
	}
	m := parseManifest(t, raw)
	if m.App.ID != "ari:cloud:ecosystem::app/11111111-2222-3333-4444-555555555555" || m.App.Runtime["name"] == "" {
		t.Fatalf("app: %+v", m.App)
	}
	if m.App.Connect.Key != d.Key || m.App.Connect.Authentication != "jwt" {
		t.Fatalf("app.connect: %+v", m.App.Connect)
	}
	if len(m.Remotes) != 1 || m.Remotes[0].Key != m.App.Connect.Remote || m.Remotes[0].BaseURL != d.BaseURL {
		t.Fatalf("remotes %+v do not name the connect remote at the base URL", m.Remotes)
	}
	// connectModules: every descriptor module, one lifecycle entry with every URL.
	lifecycle := m.ConnectModules.Lifecycle
	if len(lifecycle) != 1 {
		t.Fatal("jira:lifecycle must hold exactly one entry")
	}
	for ev, path := range d.Lifecycle {
		if lifecycle[0][ev] != path {
			t.Errorf("lifecycle %s: %q, want %q", ev, lifecycle[0][ev], path)
		}
	}
	hooks := m.ConnectModules.Webhooks
	if len(hooks) != len(d.Modules.Webhooks) {
		t.Fatalf("webhooks %v", hooks)
	}
	for i, w := range d.Modules.Webhooks {
		if hooks[i]["event"] != w.Event || hooks[i]["url"] != w.URL || hooks[i]["key"] == "" {
			t.Errorf("webhook %d: %v", i, hooks[i])
		}
	}
	pages := m.ConnectModules.AdminPages
	if len(pages) != len(d.Modules.AdminPages) || pages[0].URL != d.Modules.AdminPages[0].URL {
		t.Fatalf("adminPages %+v", pages)
	}
	if c := m.ConnectModules.ConfigurePage; c == nil || c.URL != d.Modules.ConfigurePage.URL {
		t.Fatalf("configurePage %+v", c)
	}
	// Forge modules: every endpoint asks for the system token and is used.
	used := map[string]bool{}
	for _, st := range m.Modules.ScheduledTrigger {
		used[st.Endpoint] = true
		if st.Interval != "hour" && st.Interval != "fiveMinute" {
			t.Errorf("scheduled trigger interval %q does not keep a fresh token", st.Interval)
		}
	}
	events := map[string]bool{}
	for _, tr := range m.Modules.Trigger {
		used[tr.Endpoint] = true
		for _, e := range tr.Events {
			events[e] = true
		}
	}
	for _, e := range []string{"avi:jira:created:user", "avi:jira:updated:user", "avi:jira:deleted:user"} {
		if !events[e] {
			t.Errorf("user event %s not routed", e)
		}
	}
	if len(m.Modules.Endpoint) != len(descriptor.ForgeEndpoints()) {
		t.Fatalf("endpoints %+v", m.Modules.Endpoint)
	}
	for _, ep := range m.Modules.Endpoint {
		if !ep.Auth.AppSystemToken.Enabled || ep.Remote != m.App.Connect.Remote || !used[ep.Key] || len(ep.Key) > 23 {
			t.Errorf("endpoint %+v", ep)
		}
	}
	// Scopes: the Connect scopes in Forge form, and what the tokens need.
	for _, s := range d.Scopes {
		if !slices.Contains(m.Permissions.Scopes, descriptor.ForgeConnectScope(s)) {
			t.Errorf("Connect scope %s missing as %s", s, descriptor.ForgeConnectScope(s))
		}
	}
	for _, s := range []string{"read:app-system-token", "write:group:jira", "read:application-role:jira", "read:avatar:jira"} {
		if !slices.Contains(m.Permissions.Scopes, s) {
			t.Errorf("scope %s missing", s)
		}
	}
}

// TestProductOperationScopesMatchAtlassianOpenAPI: each operation the
// product client may call exists in Atlassian's OpenAPI (the subset kept
// in testdata) with exactly the granular scopes the table lists, and the
// manifest declares all of them. The credential table of DESIGN.md §4 is
// covered in full.
func TestProductOperationScopesMatchAtlassianOpenAPI(t *testing.T) {
	raw, err := os.ReadFile("../app/sitesim/openapi/jira-platform.json") // the simulated site embeds the same copy
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	d := template(t).Descriptor()
	scopes := d.ForgeScopes()
	for _, op := range descriptor.ProductOperations {
		rawOp, ok := spec.Paths[op.Path][strings.ToLower(op.Method)]
		if !ok {
			t.Errorf("%s %s is not in Atlassian's OpenAPI", op.Method, op.Path)
			continue
		}
		var o struct {
			OAuth []struct {
				Scopes []string `json:"scopes"`
				State  string   `json:"state"`
			} `json:"x-atlassian-oauth2-scopes"`
		}
		if err := json.Unmarshal(rawOp, &o); err != nil {
			t.Fatal(err)
		}
		var granular []string
		for _, s := range o.OAuth {
			if s.State == "Beta" {
				granular = s.Scopes
			}
		}
		if granular == nil || !sameSet(granular, op.Scopes) {
			t.Errorf("%s %s: table lists %v, Atlassian lists %v", op.Method, op.Path, op.Scopes, granular)
		}
		for _, s := range granular {
			if !slices.Contains(scopes, s) {
				t.Errorf("%s %s needs %s, which the manifest lacks", op.Method, op.Path, s)
			}
		}
	}
	// DESIGN.md §4: every operation of the credential table is callable.
	table := []string{
		"GET /rest/api/3/applicationrole", "GET /rest/api/3/users/search", "GET /rest/api/3/group/bulk",
		"GET /rest/api/3/group/member", "GET /rest/api/3/user", "GET /rest/api/3/user/groups",
		"GET /rest/api/3/user/search", "POST /rest/api/3/permissions/check", "GET /rest/api/3/instance/license",
		"DELETE /rest/api/3/group/user", "POST /rest/api/3/group/user",
	}
	for _, want := range table {
		if !slices.ContainsFunc(descriptor.ProductOperations, func(o descriptor.Operation) bool { return o.Method+" "+o.Path == want }) {
			t.Errorf("credential table operation %s is not in ProductOperations", want)
		}
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
