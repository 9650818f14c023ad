// Package webhook receives the descriptor's user webhooks. A delivery is
// authenticated by the Connect middleware (HS256 with a real qsh), decoded
// to the little it needs, recorded durably as "this account needs a
// rescan" and answered 204 at once; the rescan itself happens elsewhere.
package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/seatlens/seatlens/app/apperr"
	"github.com/seatlens/seatlens/app/connect"
)

// MaxBodyBytes bounds a delivery; a user event is a few hundred bytes.
const MaxBodyBytes = 256 << 10

// Event is what the app keeps of a delivery. Atlassian confirms only
// webhookEvent and user.accountId for user events (connect-protocol.md
// §5.2); nothing else is relied on.
type Event struct {
	Name       string    `json:"event"`
	AccountID  string    `json:"accountId"`
	Timestamp  int64     `json:"timestamp,omitempty"` // ms, as sent
	ReceivedAt time.Time `json:"receivedAt"`
	Retry      int       `json:"retry,omitempty"` // X-Atlassian-Webhook-Retry
}

// Inbox records that an account needs a rescan. Recording the same account
// twice must coalesce (the latest event wins), so retried and duplicate
// deliveries are harmless.
type Inbox interface {
	MarkPending(ctx context.Context, clientKey string, e Event) error
}

// Handler serves the webhook routes.
type Handler struct {
	Inbox Inbox
	Now   func() time.Time
}

// For returns the handler of one webhook event.
func (h *Handler) For(event string) echo.HandlerFunc {
	return func(c echo.Context) error {
		const op = "webhook.receive"
		ctx := c.Request().Context()
		p, ok := connect.PrincipalFrom(ctx)
		if !ok || p.Kind != connect.KindRequest {
			return apperr.E(op, apperr.Unauthorized, "webhook needs a qsh-bound Connect JWT", nil)
		}
		e, err := decode(c.Request().Body, event)
		if err != nil {
			return err
		}
		now := time.Now
		if h.Now != nil {
			now = h.Now
		}
		e.ReceivedAt = now().UTC()
		e.Retry, _ = strconv.Atoi(c.Request().Header.Get("X-Atlassian-Webhook-Retry"))
		if err := h.Inbox.MarkPending(ctx, p.ClientKey, e); err != nil {
			// 503 makes Jira retry the delivery (408/409/425/429/5xx).
			return apperr.E(op, apperr.Unavailable, "could not record the event; retry later", err)
		}
		zerolog.Ctx(ctx).Debug().Str("event", e.Name).Str("client_key", p.ClientKey).Int("retry", e.Retry).Msg("webhook recorded")
		return c.NoContent(http.StatusNoContent)
	}
}

func decode(r io.Reader, event string) (Event, error) {
	const op = "webhook.decode"
	body, err := io.ReadAll(io.LimitReader(r, MaxBodyBytes+1))
	if err != nil {
		return Event{}, apperr.E(op, apperr.Invalid, "could not read the body", err)
	}
	if len(body) > MaxBodyBytes {
		return Event{}, apperr.E(op, apperr.TooLarge, fmt.Sprintf("webhook body larger than %d bytes", MaxBodyBytes), nil)
	}
	var in struct {
		Timestamp    json.Number `json:"timestamp"`
		WebhookEvent string      `json:"webhookEvent"`
		User         struct {
			AccountID string `json:"accountId"`
		} `json:"user"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return Event{}, apperr.E(op, apperr.Invalid, "webhook body is not the JSON of a user event", err)
	}
	if in.WebhookEvent != event {
		name := in.WebhookEvent
		if len(name) > 64 {
			name = name[:64] + "…"
		}
		return Event{}, apperr.E(op, apperr.Invalid, fmt.Sprintf("webhookEvent %q delivered to the %s route", name, event), nil)
	}
	if err := CheckAccountID(in.User.AccountID); err != nil {
		return Event{}, apperr.E(op, apperr.Invalid, err.Error(), nil)
	}
	ts, _ := in.Timestamp.Int64()
	return Event{Name: event, AccountID: in.User.AccountID, Timestamp: ts}, nil
}

// CheckAccountID accepts Atlassian account ids ("557058:uuid", 24-hex,
// "qm:…"): printable ASCII without spaces or slashes, at most 128 bytes.
func CheckAccountID(id string) error {
	if id == "" {
		return errors.New("user.accountId is required")
	}
	if len(id) > 128 {
		return errors.New("user.accountId is longer than 128 bytes")
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' || c == '/' {
			return errors.New("user.accountId has characters outside printable ASCII")
		}
	}
	return nil
}
