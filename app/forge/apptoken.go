package forge

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// AppToken is the app system token of one tenant: the credential that may
// call the product operations a Connect JWT may not (applicationrole,
// users/search, group membership changes).
type AppToken struct {
	Token          string    `json:"token"`
	ExpiresAt      time.Time `json:"expiresAt"`
	ExpiryKnown    bool      `json:"expiryKnown"` // false: ExpiresAt is our conservative guess
	APIBaseURL     string    `json:"apiBaseUrl"`
	InstallationID string    `json:"installationId"`
	ReceivedAt     time.Time `json:"receivedAt"`
}

// Vault keeps one sealed secret per tenant (the app wires it to the store,
// which seals with AES-GCM bound to the tenant).
type Vault interface {
	PutSecret(ctx context.Context, clientKey, name string, plaintext []byte) error
	Secret(ctx context.Context, clientKey, name string) (plaintext []byte, ok bool, err error)
}

// unknownExpiryTTL is used when a token's exp cannot be read. Atlassian
// treats the token as opaque but says to use its exp claim; when that
// fails we assume the least lifetime Atlassian has ever documented
// ("valid for at least 55 minutes", superseded by "at least 2 hours").
const unknownExpiryTTL = 55 * time.Minute

const vaultName = "forge-app-token"

// Tokens stores and hands out app system tokens.
type Tokens struct {
	vault Vault
	now   func() time.Time
}

// NewTokens builds a token store.
func NewTokens(v Vault, now func() time.Time) *Tokens {
	if now == nil {
		now = time.Now
	}
	return &Tokens{vault: v, now: now}
}

// NoTokenError says why no usable token is held.
type NoTokenError struct{ Reason string }

func (e *NoTokenError) Error() string { return "forge: no valid app token: " + e.Reason }

// ErrNoToken matches every *NoTokenError with errors.Is.
var ErrNoToken = errors.New("forge: no valid app token")

func (e *NoTokenError) Is(target error) bool { return target == ErrNoToken }

// Keep stores the system token of a verified invocation unless the one
// already held is for the same installation and lives longer.
func (t *Tokens) Keep(ctx context.Context, inv Invocation) (AppToken, bool, error) {
	if inv.SystemToken == "" {
		return AppToken{}, false, nil
	}
	now := t.now().UTC()
	tok := AppToken{
		Token: inv.SystemToken, APIBaseURL: inv.APIBaseURL, InstallationID: inv.InstallationID, ReceivedAt: now,
	}
	if exp, ok := tokenExpiry(inv.SystemToken); ok {
		tok.ExpiresAt, tok.ExpiryKnown = exp, true
	} else {
		tok.ExpiresAt = now.Add(unknownExpiryTTL)
	}
	if !tok.ExpiresAt.After(now) {
		return AppToken{}, false, nil // already expired: nothing worth keeping
	}
	held, err := t.load(ctx, inv.Principal.ClientKey)
	if err != nil && !errors.Is(err, ErrNoToken) {
		return AppToken{}, false, err
	}
	if err == nil && held.InstallationID == tok.InstallationID && held.APIBaseURL == tok.APIBaseURL && !held.ExpiresAt.Before(tok.ExpiresAt) {
		return held, false, nil
	}
	raw, err := json.Marshal(tok)
	if err != nil {
		return AppToken{}, false, fmt.Errorf("forge: encode app token: %w", err)
	}
	if err := t.vault.PutSecret(ctx, inv.Principal.ClientKey, vaultName, raw); err != nil {
		return AppToken{}, false, fmt.Errorf("forge: save app token: %w", err)
	}
	return tok, true, nil
}

// Get returns the tenant's app token if it stays valid for at least
// minRemaining; otherwise a *NoTokenError saying why. It never returns a
// stale token.
func (t *Tokens) Get(ctx context.Context, clientKey string, minRemaining time.Duration) (AppToken, error) {
	tok, err := t.load(ctx, clientKey)
	if err != nil {
		return AppToken{}, err
	}
	now := t.now()
	left := tok.ExpiresAt.Sub(now)
	switch {
	case left <= 0:
		return AppToken{}, &NoTokenError{Reason: "the last token expired at " + tok.ExpiresAt.UTC().Format(time.RFC3339) +
			"; Forge delivers a new one with the next invocation (the hourly scheduled trigger)"}
	case left < minRemaining:
		return AppToken{}, &NoTokenError{Reason: fmt.Sprintf("the held token has %s left, less than the %s needed", left.Round(time.Second), minRemaining)}
	}
	return tok, nil
}

func (t *Tokens) load(ctx context.Context, clientKey string) (AppToken, error) {
	raw, ok, err := t.vault.Secret(ctx, clientKey, vaultName)
	if err != nil {
		return AppToken{}, fmt.Errorf("forge: load app token: %w", err)
	}
	if !ok {
		return AppToken{}, &NoTokenError{Reason: "none received yet: it arrives with a Forge invocation (scheduled trigger, product event or invokeRemote)"}
	}
	var tok AppToken
	if err := json.Unmarshal(raw, &tok); err != nil {
		return AppToken{}, fmt.Errorf("forge: decode app token: %w", err)
	}
	return tok, nil
}

// tokenExpiry reads exp from a JWT-shaped token without trusting anything
// else in it (Atlassian: treat the token as opaque, use its exp).
func tokenExpiry(token string) (time.Time, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var c struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(payload, &c) != nil {
		return time.Time{}, false
	}
	sec, err := c.Exp.Int64()
	if err != nil || sec <= 0 {
		return time.Time{}, false
	}
	return time.Unix(sec, 0).UTC(), true
}
