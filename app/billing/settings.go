package billing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// DefaultInactiveDays is §6 rule 2's default threshold.
const DefaultInactiveDays = 90

// Settings are the admin's choices (DESIGN.md §2): the same JSON in the
// app's Settings page and in `seatlens scan --settings FILE`.
type Settings struct {
	InactiveDays     int                `json:"inactiveDays"`
	ManualHolds      []ManualHold       `json:"manualHolds"`
	IntegrationUsers []IntegrationUser  `json:"integrationUsers"`
	SeatPrices       map[string]float64 `json:"seatPrices"`
}

// ManualHold keeps an account's seats (all of them when Products is empty)
// out of any cleanup until Expires.
type ManualHold struct {
	AccountID string     `json:"accountId"`
	Products  []string   `json:"products"`
	Reason    string     `json:"reason"`
	Expires   *time.Time `json:"expires,omitempty"`
}

// UnmarshalJSON accepts expires as an RFC 3339 time or a bare date
// ("2027-01-31", midnight UTC), the form a person writes by hand.
func (h *ManualHold) UnmarshalJSON(b []byte) error {
	type plain ManualHold
	var raw struct {
		plain
		Expires *string `json:"expires"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	*h = ManualHold(raw.plain)
	h.Expires = nil
	if raw.Expires != nil && *raw.Expires != "" {
		t, err := parseDateOrTime(*raw.Expires)
		if err != nil {
			return fmt.Errorf("manual hold of %s: expires: %w", raw.AccountID, err)
		}
		h.Expires = &t
	}
	return nil
}

func parseDateOrTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a date (2006-01-02) nor an RFC 3339 time", s)
	}
	return t, nil
}

// IntegrationUser marks an account as an integration the admin knows of.
type IntegrationUser struct {
	AccountID string `json:"accountId"`
	Note      string `json:"note"`
}

// ParseSettings reads the settings JSON, refusing unknown fields (a typo
// must not silently drop a hold) and filling defaults.
func ParseSettings(r io.Reader) (Settings, error) {
	var s Settings
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Settings{}, fmt.Errorf("billing: settings: %w", err)
	}
	if dec.More() {
		return Settings{}, fmt.Errorf("billing: settings: more than one JSON value")
	}
	s = s.WithDefaults()
	if err := s.Validate(); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// WithDefaults fills what was left out.
func (s Settings) WithDefaults() Settings {
	if s.InactiveDays == 0 {
		s.InactiveDays = DefaultInactiveDays
	}
	if s.ManualHolds == nil {
		s.ManualHolds = []ManualHold{}
	}
	if s.IntegrationUsers == nil {
		s.IntegrationUsers = []IntegrationUser{}
	}
	if s.SeatPrices == nil {
		s.SeatPrices = map[string]float64{}
	}
	return s
}

// Validate checks values a person could get wrong.
func (s Settings) Validate() error {
	if s.InactiveDays < 1 || s.InactiveDays > 3650 {
		return fmt.Errorf("billing: settings: inactiveDays must be between 1 and 3650, not %d", s.InactiveDays)
	}
	for i, h := range s.ManualHolds {
		if strings.TrimSpace(h.AccountID) == "" {
			return fmt.Errorf("billing: settings: manualHolds[%d] has no accountId", i)
		}
		for _, p := range h.Products {
			if _, ok := LookupProduct(p); !ok {
				return fmt.Errorf("billing: settings: manualHolds[%d]: unknown product %q (use one of %s)", i, p, productKeyList())
			}
		}
	}
	for i, u := range s.IntegrationUsers {
		if strings.TrimSpace(u.AccountID) == "" {
			return fmt.Errorf("billing: settings: integrationUsers[%d] has no accountId", i)
		}
	}
	for p, price := range s.SeatPrices {
		if _, ok := LookupProduct(p); !ok {
			return fmt.Errorf("billing: settings: seatPrices: unknown product %q (use one of %s)", p, productKeyList())
		}
		if price < 0 || price != price {
			return fmt.Errorf("billing: settings: seatPrices[%s] must be a price ≥ 0", p)
		}
	}
	return nil
}

func productKeyList() string {
	keys := make([]string, len(Products))
	for i, p := range Products {
		keys[i] = p.Key
	}
	return strings.Join(keys, ", ")
}

// Names reports whether the settings name an account (a manual hold or an
// integration user).
func (s Settings) Names(accountID string) bool {
	for _, h := range s.ManualHolds {
		if h.AccountID == accountID {
			return true
		}
	}
	for _, u := range s.IntegrationUsers {
		if u.AccountID == accountID {
			return true
		}
	}
	return false
}

// Without is the settings with no hold or integration user of an account.
func (s Settings) Without(accountID string) Settings {
	out := s
	out.ManualHolds = nil
	for _, h := range s.ManualHolds {
		if h.AccountID != accountID {
			out.ManualHolds = append(out.ManualHolds, h)
		}
	}
	out.IntegrationUsers = nil
	for _, u := range s.IntegrationUsers {
		if u.AccountID != accountID {
			out.IntegrationUsers = append(out.IntegrationUsers, u)
		}
	}
	if out.ManualHolds == nil {
		out.ManualHolds = []ManualHold{}
	}
	if out.IntegrationUsers == nil {
		out.IntegrationUsers = []IntegrationUser{}
	}
	return out
}
