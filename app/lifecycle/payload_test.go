package lifecycle

import (
	"strings"
	"testing"
)

const sample = `{"key":"io.seatlens.app","clientKey":"a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607","sharedSecret":"s3cret","serverVersion":"100","pluginsVersion":"1001.0.0-SNAPSHOT","baseUrl":"https://example.atlassian.net","displayUrl":"https://example.atlassian.net","productType":"jira","description":"Atlassian JIRA at https://example.atlassian.net","eventType":"installed","installationId":"ari:cloud:ecosystem::installation/6f0b1c1e","someFutureField":{"x":1}}`

func TestParseAndValidate(t *testing.T) {
	p, err := ParsePayload([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(EventInstalled, "io.seatlens.app"); err != nil {
		t.Fatalf("documented payload refused: %v", err)
	}
	if err := p.Validate(EventUninstalled, "io.seatlens.app"); err == nil {
		t.Fatal("eventType mismatch accepted")
	}
	p.SharedSecret = ""
	if err := p.Validate(EventInstalled, "io.seatlens.app"); err == nil {
		t.Fatal("installed without a secret accepted")
	}
	p.EventType = EventUninstalled
	if err := p.Validate(EventUninstalled, "io.seatlens.app"); err != nil {
		t.Fatalf("uninstalled without a secret refused: %v", err)
	}
	for _, u := range []string{"http://localhost:8080", "http://127.0.0.1:1", "http://[::1]:2990"} {
		p.BaseURL = u
		if err := p.Validate(EventUninstalled, "io.seatlens.app"); err != nil {
			t.Errorf("loopback %s refused: %v", u, err)
		}
	}
}

func TestDecodeLimits(t *testing.T) {
	if _, err := DecodePayload(strings.NewReader(strings.Repeat(" ", MaxPayloadBytes+1))); err != ErrTooLarge {
		t.Fatalf("oversize: %v", err)
	}
	if _, err := DecodePayload(strings.NewReader(sample + " ")); err != nil {
		t.Fatalf("trailing whitespace: %v", err)
	}
	if _, err := DecodePayload(strings.NewReader(sample + `{"a":1}`)); err == nil {
		t.Fatal("two objects accepted")
	}
}

// FuzzParsePayload: decoding and validating arbitrary bodies never panics,
// and whatever validates has the required fields within bounds.
func FuzzParsePayload(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte(`{"key":1}`))
	f.Add([]byte(`[`))
	f.Add([]byte(`{"baseUrl":"http://[::1]:1","clientKey":"\u0000"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := ParsePayload(body)
		if err != nil {
			return
		}
		for _, ev := range []string{EventInstalled, EventUninstalled, EventEnabled, EventDisabled} {
			if p.Validate(ev, "io.seatlens.app") != nil {
				continue
			}
			if p.ClientKey == "" || len(p.ClientKey) > maxIDLen || p.BaseURL == "" || p.Key != "io.seatlens.app" {
				t.Fatalf("validated a bad payload: %+v", p)
			}
			if ev == EventInstalled && p.SharedSecret == "" {
				t.Fatal("validated an install without a secret")
			}
		}
	})
}
