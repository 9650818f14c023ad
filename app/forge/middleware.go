package forge

import (
	"context"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/seatlens/seatlens/app/apperr"
	"github.com/seatlens/seatlens/app/connect"
)

type invocationKey struct{}

// InvocationFrom returns the verified invocation of a Forge request.
func InvocationFrom(ctx context.Context) (Invocation, bool) {
	inv, ok := ctx.Value(invocationKey{}).(Invocation)
	return inv, ok
}

// Authenticate verifies the FIT of r, keeps the app system token that came
// with it, and returns a context carrying the invocation and its
// connect.Principal. A nil verifier means Forge is not configured.
func Authenticate(ctx context.Context, c echo.Context, v *Verifier, tokens *Tokens) (context.Context, error) {
	const op = "forge.authenticate"
	if v == nil {
		return nil, apperr.E(op, apperr.Unauthorized, "Forge Remote is not configured on this server (--forge-app-id)", nil)
	}
	inv, err := v.Verify(ctx, c.Request())
	if err != nil {
		return nil, err
	}
	if tokens != nil && inv.SystemToken != "" {
		tok, saved, err := tokens.Keep(ctx, inv)
		if err != nil {
			// The request itself is authentic; a token we could not keep
			// only means a later action may lack it, so log and go on.
			zerolog.Ctx(ctx).Error().Err(err).Str("client_key", inv.Principal.ClientKey).Msg("could not keep the Forge app token")
		} else if saved {
			zerolog.Ctx(ctx).Debug().Str("client_key", inv.Principal.ClientKey).Time("expires", tok.ExpiresAt).
				Bool("expiry_known", tok.ExpiryKnown).Msg("kept Forge app token")
		}
	}
	ctx = context.WithValue(ctx, invocationKey{}, inv)
	return connect.WithPrincipal(ctx, inv.Principal), nil
}

// Middleware authenticates every request of the routes it wraps as a
// Forge Remote invocation.
func Middleware(v *Verifier, tokens *Tokens) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx, err := Authenticate(c.Request().Context(), c, v, tokens)
			if err != nil {
				return err
			}
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}
