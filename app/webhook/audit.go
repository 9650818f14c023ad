package webhook

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/seatlens/seatlens/app/apperr"
)

// MaxAuditBodyBytes bounds one audit-log webhook delivery: Atlassian
// pushes events in batches, each a few kilobytes.
const MaxAuditBodyBytes = 4 << 20

// AuditSink takes the organisation audit-log webhook's deliveries
// (rescan.Inbox). ErrHookRefused and ErrBadDelivery are its refusals.
type AuditSink interface {
	Receive(ctx context.Context, token, header string, body []byte) (int, error)
}

// AuditHook serves POST /hooks/audit/{token}: the URL an org admin gives
// the organisation's audit-log webhook, with the header Seatlens showed.
type AuditHook struct {
	Sink AuditSink
	// Refused and Bad classify the sink's errors.
	Refused, Bad error
}

// Receive answers 204 once the delivery's accounts are recorded, 401 to a
// wrong URL or header (the same for both, so neither can be probed), 400
// to a body that is not audit events, 503 when it cannot be recorded.
func (h *AuditHook) Receive(c echo.Context) error {
	const op = "webhook.audit"
	ctx := c.Request().Context()
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, MaxAuditBodyBytes+1))
	if err != nil {
		return apperr.E(op, apperr.Invalid, "could not read the body", err)
	}
	if len(body) > MaxAuditBodyBytes {
		return apperr.E(op, apperr.TooLarge, "delivery larger than 4 MiB", nil)
	}
	n, err := h.Sink.Receive(ctx, c.Param("token"), c.Request().Header.Get("Authorization"), body)
	switch {
	case err == nil:
	case h.Refused != nil && errors.Is(err, h.Refused):
		return apperr.WithCode(op, apperr.Unauthorized, "unauthenticated", "This audit-log webhook URL or its header is not the one Seatlens gave; copy both again from Settings.", nil)
	case h.Bad != nil && errors.Is(err, h.Bad):
		return apperr.WithCode(op, apperr.Invalid, "bad-request", "The body is not audit-log events: "+err.Error(), nil)
	default:
		return apperr.E(op, apperr.Unavailable, "could not record the delivery; retry later", err)
	}
	zerolog.Ctx(ctx).Debug().Int("accounts", n).Msg("audit hook delivery recorded")
	return c.NoContent(http.StatusNoContent)
}
