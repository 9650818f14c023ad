package rescan

import (
	"errors"
	"testing"
)

// FuzzDecodeAuditPush: whatever a caller of the public audit hook sends
// is audit events or ErrBadDelivery, never a panic.
func FuzzDecodeAuditPush(f *testing.F) {
	for _, s := range []string{
		`[{"id":"e1","attributes":{"time":"2026-12-01T10:00:00Z","action":"user_added_to_group","context":[{"id":"557058:a","type":"users"}]}}]`,
		`{"data":[{"id":"e2","attributes":{"time":1764583200000,"action":"x"}}]}`,
		`{"id":"e3"}`, `[]`, `{}`, `null`, `[null]`, `{"data":null}`, `"x"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := DecodeAuditPush(body)
		if err != nil {
			if !errors.Is(err, ErrBadDelivery) {
				t.Fatalf("error %v is not ErrBadDelivery", err)
			}
			return
		}
		if len(events) > maxPushedEvents {
			t.Fatalf("%d events accepted", len(events))
		}
	})
}
