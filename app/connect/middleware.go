package connect

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/seatlens/seatlens/app/apperr"
)

// Middleware authenticates every request of the routes it wraps with a
// tenant HS256 token and stores the Principal in the request context.
// allowContext admits context tokens and must be set only for /api.
func Middleware(v *Verifier, allowContext bool) (echo.MiddlewareFunc, error) {
	if v == nil {
		return nil, errors.New("connect: Middleware needs a verifier")
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			token, err := ExtractToken(r)
			if err != nil {
				return apperr.E("connect.middleware", apperr.Unauthorized, err.Error(), nil)
			}
			p, err := v.Verify(r.Context(), r, token, allowContext)
			if err != nil {
				return err
			}
			c.SetRequest(r.WithContext(WithPrincipal(r.Context(), p)))
			return next(c)
		}
	}, nil
}
