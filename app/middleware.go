package app

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/rs/zerolog"

	"github.com/seatlens/seatlens/app/apperr"
	"github.com/seatlens/seatlens/app/connect"
	"github.com/seatlens/seatlens/descriptor"
)

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// requestID gives every request an id of our own (an incoming X-Request-Id
// is ignored: it is client-controlled and unbounded), returns it in the
// response and puts a logger carrying it into the request context.
func (a *App) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := newRequestID()
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		l := a.log.With().Str("request_id", id).Logger()
		c.SetRequest(c.Request().WithContext(l.WithContext(c.Request().Context())))
		return next(c)
	}
}

// accessLog writes one line per request: id, method, path (never the query,
// which carries the jwt), status, latency, tenant, and why it failed.
func (a *App) accessLog() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogLatency: true, LogMethod: true, LogURIPath: true,
		LogRemoteIP: true, LogError: true, HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			lvl := zerolog.InfoLevel
			switch {
			case v.Status >= 500:
				lvl = zerolog.ErrorLevel
			case v.Status >= 400:
				lvl = zerolog.WarnLevel
			}
			ev := a.log.WithLevel(lvl).
				Str("request_id", c.Response().Header().Get(echo.HeaderXRequestID)).Str("method", v.Method).Str("path", v.URIPath).
				Int("status", v.Status).Dur("latency", v.Latency).Str("remote_ip", v.RemoteIP)
			if p, ok := connect.PrincipalFrom(c.Request().Context()); ok {
				ev = ev.Str("client_key", p.ClientKey).Stringer("auth", p.Kind)
			}
			if v.Error != nil {
				ev = ev.Str("reason", reasonOf(v.Error))
				if v.Status >= 500 {
					ev = ev.Str("error", v.Error.Error()) // causes only: no tokens or secrets reach errors
				}
			}
			ev.Msg("request")
			return nil
		},
	})
}

func reasonOf(err error) string {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return fmt.Sprint(he.Message)
	}
	return apperr.SafeMessage(err)
}

// recoverPanics turns a panic into a 500 JSON answer and a log line with
// the stack; the client never sees the panic value.
func recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			if r == http.ErrAbortHandler {
				panic(r)
			}
			stack := make([]byte, 8<<10)
			stack = stack[:runtime.Stack(stack, false)]
			zerolog.Ctx(c.Request().Context()).Error().Str("panic", fmt.Sprint(r)).Bytes("stack", stack).Msg("handler panicked")
			err = apperr.E("panic", apperr.Other, "internal error", fmt.Errorf("panic: %v", r))
		}()
		return next(c)
	}
}

// securityHeaders lets the app be framed by Jira (and, for a loopback base
// URL, by the local simulated site), and nothing else.
func securityHeaders(baseURL string) echo.MiddlewareFunc {
	ancestors := "'self' https://*.atlassian.net https://*.jira.com"
	scripts := "'self' https://connect-cdn.atl-paas.net"
	if err := descriptor.CheckBaseURL(baseURL); err == nil && strings.HasPrefix(baseURL, "http://") {
		// Development and the demo: the simulated site frames the page and
		// serves an AP stand-in, since the CDN's all.js needs real Jira.
		// No IPv6 literal: Chromium refuses http://[::1]:* as a source and
		// says so on the console of every load.
		loopback := " http://localhost:* http://127.0.0.1:*"
		ancestors += loopback
		scripts += loopback
	}
	csp := "default-src 'self'; script-src " + scripts + "; style-src 'self' 'unsafe-inline'; " +
		"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors " + ancestors
	hsts := strings.HasPrefix(baseURL, "https://")
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", csp)
			h.Set("X-Content-Type-Options", "nosniff")
			// Page URLs carry a jwt: never leak them through Referer.
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("Cross-Origin-Opener-Policy", "same-origin-allow-popups")
			if hsts {
				h.Set("Strict-Transport-Security", "max-age=31536000")
			}
			return next(c)
		}
	}
}

// handleError writes every error as JSON {"message": …} with its status.
func (a *App) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, msg, code := http.StatusInternalServerError, "internal error", "internal"
	var he *echo.HTTPError
	if errors.As(err, &he) {
		status, msg = he.Code, fmt.Sprint(he.Message)
		code = httpCodes[status]
	} else {
		status, msg, code = apperr.StatusFor(err), apperr.SafeMessage(err), apperr.CodeFor(err)
	}
	if status == http.StatusUnauthorized {
		c.Response().Header().Set("WWW-Authenticate", `JWT realm="`+a.descriptor.Key+`"`)
	}
	if status >= 500 {
		zerolog.Ctx(c.Request().Context()).Error().Err(err).Msg("request failed")
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	if code == "" {
		code = "error"
	}
	_ = c.JSON(status, map[string]string{"code": code, "message": msg})
}

// httpCodes are the API codes (DESIGN.md §9a) of echo's own errors.
var httpCodes = map[int]string{
	http.StatusBadRequest: "bad-request", http.StatusUnauthorized: "unauthenticated", http.StatusForbidden: "forbidden",
	http.StatusNotFound: "not-found", http.StatusMethodNotAllowed: "method-not-allowed", http.StatusRequestEntityTooLarge: "too-large",
	http.StatusUnsupportedMediaType: "unsupported-media-type", http.StatusTooManyRequests: "too-many-requests",
	http.StatusInternalServerError: "internal", http.StatusServiceUnavailable: "unavailable",
}
