// Package apperr is the one error type of the application: an operation
// name for the logs, a kind that decides the HTTP status, a message that is
// safe to show a client, and the wrapped cause that never reaches one.
package apperr

import (
	"errors"
	"net/http"
)

// Kind classifies an error. The values are logged, so the list is append
// only: never reorder or remove an entry.
type Kind uint8

const (
	Other         Kind = iota // unexpected: 500
	Invalid                   // bad input: 400
	Unauthorized              // authentication failed: 401
	Forbidden                 // authenticated but not allowed: 403
	NotFound                  // 404
	Conflict                  // 409
	Unavailable               // dependency down or shutting down: 503
	TooLarge                  // request body over its limit: 413
	Unprocessable             // well-formed but refused on its merits: 422
)

var kindNames = [...]string{"other", "invalid", "unauthorized", "forbidden", "not_found", "conflict", "unavailable", "too_large", "unprocessable"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Error is the application's error value.
type Error struct {
	Op   string // where it happened, e.g. "lifecycle.installed"
	Kind Kind
	Safe string // shown to the client as {"message": Safe}
	Err  error  // cause, logged only
	// Code is the stable kebab-case code the API answers with (DESIGN.md
	// §9a); empty: the kind's (CodeFor).
	Code string
}

func (e *Error) Error() string {
	switch {
	case e.Err == nil:
		return e.Op + ": " + e.Safe
	case e.Safe == "":
		return e.Op + ": " + e.Err.Error()
	default:
		return e.Op + ": " + e.Safe + ": " + e.Err.Error()
	}
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an Error.
func E(op string, kind Kind, safe string, cause error) *Error {
	return &Error{Op: op, Kind: kind, Safe: safe, Err: cause}
}

// WithCode builds an Error with an API code.
func WithCode(op string, kind Kind, code, safe string, cause error) *Error {
	return &Error{Op: op, Kind: kind, Safe: safe, Err: cause, Code: code}
}

// CodeFor returns the API code of err: the outermost *Error's that has one,
// else its kind's.
func CodeFor(err error) string {
	for cur := err; cur != nil; {
		var e *Error
		if !errors.As(cur, &e) {
			break
		}
		if e.Code != "" {
			return e.Code
		}
		cur = e.Err
	}
	return kindCodes[KindOf(err)]
}

var kindCodes = map[Kind]string{
	Other: "internal", Invalid: "bad-request", Unauthorized: "unauthenticated", Forbidden: "forbidden",
	NotFound: "not-found", Conflict: "conflict", Unavailable: "unavailable", TooLarge: "too-large",
	Unprocessable: "unprocessable",
}

// KindOf returns the kind of the outermost *Error in err's chain whose kind
// is set, or Other.
func KindOf(err error) Kind {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return Other
		}
		if e.Kind != Other {
			return e.Kind
		}
		err = e.Err
	}
	return Other
}

// SafeMessage returns the client-safe message of the outermost *Error that
// has one, or the generic text for the status.
func SafeMessage(err error) string {
	for cur := err; cur != nil; {
		var e *Error
		if !errors.As(cur, &e) {
			break
		}
		if e.Safe != "" {
			return e.Safe
		}
		cur = e.Err
	}
	return http.StatusText(StatusFor(err))
}

// StatusFor maps an error to its HTTP status.
func StatusFor(err error) int {
	switch KindOf(err) {
	case Invalid:
		return http.StatusBadRequest
	case Unauthorized:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case Unavailable:
		return http.StatusServiceUnavailable
	case TooLarge:
		return http.StatusRequestEntityTooLarge
	case Unprocessable:
		return http.StatusUnprocessableEntity
	default:
		return http.StatusInternalServerError
	}
}
