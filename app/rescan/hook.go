package rescan

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/seatlens/seatlens/app/atlassian"
	"github.com/seatlens/seatlens/store"
)

// An org admin can point the organisation's audit-log webhook (an
// Enterprise or Guard Premium feature, registered by hand in Atlassian
// Administration:
// https://support.atlassian.com/security-and-access-policies/docs/learn-more-about-audit-log-webhooks)
// at a per-tenant URL, with one static header Seatlens checks. A
// delivery is never trusted for more than "read these accounts again".

// Names of the hook's records.
const (
	hookBucket     = "audit-hook"
	hookTokenKey   = "token"
	hookSecretName = "audit-hook-secret"
	// HookHeader is the header the org admin sets on the webhook.
	HookHeader = "Authorization"
)

// ErrHookRefused is a delivery whose URL or header does not match.
var ErrHookRefused = errors.New("rescan: audit hook delivery refused")

// Hook is a tenant's audit-log webhook as Settings shows it: the secret
// value appears only in the answer that makes it.
type Hook struct {
	Path       string    `json:"path"` // relative to the app's base URL
	Header     string    `json:"header"`
	Value      string    `json:"value,omitempty"`
	Configured bool      `json:"configured"`
	CreatedAt  time.Time `json:"createdAt,omitempty"`
	// Received counts deliveries taken; LastAt is the newest one's time.
	Received int        `json:"received"`
	LastAt   *time.Time `json:"lastAt,omitempty"`
}

type hookRecord struct {
	Token     string     `json:"token"`
	CreatedAt time.Time  `json:"createdAt"`
	Received  int        `json:"received"`
	LastAt    *time.Time `json:"lastAt,omitempty"`
}

// HookPath is the route a token is delivered to.
func HookPath(token string) string { return "/hooks/audit/" + token }

// Hook returns the tenant's hook without its secret.
func (i *Inbox) Hook(ctx context.Context, clientKey string) (Hook, error) {
	rec, ok, err := i.hookRecord(ctx, clientKey)
	if err != nil || !ok {
		return Hook{Header: HookHeader}, err
	}
	return Hook{Path: HookPath(rec.Token), Header: HookHeader, Configured: true, CreatedAt: rec.CreatedAt,
		Received: rec.Received, LastAt: rec.LastAt}, nil
}

// NewHook makes (or replaces) the tenant's hook URL and secret and returns
// them once; deliveries to an older URL or with an older secret are
// refused from then on.
func (i *Inbox) NewHook(ctx context.Context, clientKey string) (Hook, error) {
	id, secret := make([]byte, 16), make([]byte, 32)
	if _, err := rand.Read(id); err != nil {
		return Hook{}, err
	}
	if _, err := rand.Read(secret); err != nil {
		return Hook{}, err
	}
	rec := hookRecord{Token: base64.RawURLEncoding.EncodeToString([]byte(clientKey)) + "." + hex.EncodeToString(id), CreatedAt: i.now()}
	value := "Bearer " + base64.RawURLEncoding.EncodeToString(secret)
	if err := i.Store.PutSecret(ctx, clientKey, hookSecretName, []byte(value)); err != nil {
		return Hook{}, err
	}
	if err := i.putHook(ctx, clientKey, rec); err != nil {
		return Hook{}, err
	}
	return Hook{Path: HookPath(rec.Token), Header: HookHeader, Value: value, Configured: true, CreatedAt: rec.CreatedAt}, nil
}

// DeleteHook forgets the tenant's hook: its deliveries are refused.
func (i *Inbox) DeleteHook(ctx context.Context, clientKey string) error {
	if err := i.Store.DeleteSecret(ctx, clientKey, hookSecretName); err != nil {
		return err
	}
	return i.Store.TenantDelete(ctx, clientKey, hookBucket, []byte(hookTokenKey))
}

func (i *Inbox) hookRecord(ctx context.Context, clientKey string) (hookRecord, bool, error) {
	var rec hookRecord
	v, err := i.Store.TenantGet(ctx, clientKey, hookBucket, []byte(hookTokenKey))
	if errors.Is(err, store.ErrNotFound) {
		return rec, false, nil
	}
	if err != nil {
		return rec, false, err
	}
	if err := json.Unmarshal(v, &rec); err != nil {
		return rec, false, fmt.Errorf("rescan: decode audit hook: %w", err)
	}
	return rec, true, nil
}

func (i *Inbox) putHook(ctx context.Context, clientKey string, rec hookRecord) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("rescan: encode audit hook: %w", err)
	}
	return i.Store.TenantPut(ctx, clientKey, hookBucket, []byte(hookTokenKey), v)
}

// Receive takes one delivery of a tenant's audit-log webhook: token from
// its URL, header the value of HookHeader. It returns the accounts newly
// marked. ErrHookRefused when the URL or the header is not the tenant's
// current one; an error wrapping ErrBadDelivery when the body is not
// audit events.
func (i *Inbox) Receive(ctx context.Context, token, header string, body []byte) (int, error) {
	enc, _, ok := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if !ok || err != nil || len(raw) == 0 {
		return 0, ErrHookRefused
	}
	clientKey := string(raw)
	t, err := i.Store.Tenant(ctx, clientKey)
	if errors.Is(err, store.ErrNotFound) || err == nil && !t.Installed {
		return 0, ErrHookRefused
	}
	if err != nil {
		return 0, err
	}
	rec, ok, err := i.hookRecord(ctx, clientKey)
	if err != nil {
		return 0, err
	}
	secret, has, err := i.Store.Secret(ctx, clientKey, hookSecretName)
	if err != nil {
		return 0, err
	}
	// Both compared in constant time, both always compared.
	tokenOK := subtle.ConstantTimeCompare([]byte(rec.Token), []byte(token)) == 1
	secretOK := subtle.ConstantTimeCompare(secret, []byte(strings.TrimSpace(header))) == 1
	if !ok || !has || !tokenOK || !secretOK {
		return 0, ErrHookRefused
	}
	events, err := DecodeAuditPush(body)
	if err != nil {
		return 0, err
	}
	n, _, err := i.MarkAudit(ctx, clientKey, CauseAuditHook, events, time.Time{})
	if err != nil {
		return 0, err
	}
	now := i.now()
	rec.Received++
	rec.LastAt = &now
	if err := i.putHook(ctx, clientKey, rec); err != nil {
		return n, err
	}
	return n, nil
}

// ErrBadDelivery is a delivery whose body is not audit events.
var ErrBadDelivery = errors.New("rescan: not a delivery of audit events")

// maxPushedEvents bounds one delivery.
const maxPushedEvents = 5000

// DecodeAuditPush reads a pushed delivery: an array of events, an object
// holding them under "data", or one event (unconfirmed.go).
func DecodeAuditPush(body []byte) ([]atlassian.AuditEvent, error) {
	body = bytes.TrimSpace(body)
	var events []atlassian.AuditEvent
	switch {
	case len(body) == 0:
		return nil, fmt.Errorf("%w: the body is empty", ErrBadDelivery)
	case body[0] == '[':
		if err := json.Unmarshal(body, &events); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadDelivery, err)
		}
	case body[0] == '{':
		var wrapped struct {
			Data *[]atlassian.AuditEvent `json:"data"`
		}
		if err := json.Unmarshal(body, &wrapped); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadDelivery, err)
		}
		if wrapped.Data != nil {
			events = *wrapped.Data
			break
		}
		var one atlassian.AuditEvent
		if err := json.Unmarshal(body, &one); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadDelivery, err)
		}
		if one.ID == "" {
			return nil, fmt.Errorf("%w: an object without data or an event id", ErrBadDelivery)
		}
		events = []atlassian.AuditEvent{one}
	default:
		return nil, fmt.Errorf("%w: the body is not JSON", ErrBadDelivery)
	}
	if len(events) > maxPushedEvents {
		return nil, fmt.Errorf("%w: %d events in one delivery, more than %d", ErrBadDelivery, len(events), maxPushedEvents)
	}
	return events, nil
}
