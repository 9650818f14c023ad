package sitesim

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestScenarioJSONRoundTrip: a scenario written as JSON loads back into the
// same site (the format of `seatlens sim --scenario FILE`), and the
// organisation-only fields stay invisible to Jira's view.
func TestScenarioJSONRoundTrip(t *testing.T) {
	sc := DefaultScenario()
	added := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	sc.Products = append(sc.Products, Product{Key: Confluence, Name: "Confluence", Seats: 10, Plan: "PAID"})
	sc.Groups = append(sc.Groups, Group{ID: "g-conf", Name: "confluence-users", Grants: []Grant{{Confluence, RoleUser}}, DefaultFor: []string{Confluence}},
		Group{ID: "g-jpd-contrib", Name: "jpd-contributors", Grants: []Grant{{JiraProductDisco, RoleContributor}}})
	sc.Members["g-conf"] = []string{"5b10a2844c20165700ede202"}
	sc.Members["g-jpd-contrib"] = []string{"5b10a2844c20165700ede204"}
	sc.Users[1].AddedToOrg = &added
	sc.Users[1].LastActive = map[string]time.Time{JiraSoftware: added}
	sc.Users[1].PlatformRoles = []string{"org-admin"}
	sc.Users[1].DirectRoles = []Grant{{Confluence, RoleGuest}}
	raw, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	back, err := LoadScenario(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(back)
	if !bytes.Equal(raw, again) {
		t.Fatalf("round trip changed the scenario:\n%s\n%s", raw, again)
	}
	site, err := NewSite(back)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range site.products {
		if p.Key == Confluence {
			t.Fatal("Confluence is listed as a Jira application role")
		}
	}
	if _, ok := site.productsOf("5b10a2844c20165700ede204")[JiraProductDisco]; ok {
		t.Fatal("a JPD contributor counts as a licensed Jira user")
	}
	for name, bad := range map[string]string{
		"unknown field": strings.Replace(string(raw), `"admin":`, `"bogus":1,"admin":`, 1),
		"unknown role":  strings.Replace(string(raw), `"role":"contributor"`, `"role":"overlord"`, 1),
	} {
		if _, err := LoadScenario(strings.NewReader(bad)); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}
