package atlassian

import (
	"errors"
	"net/http"
	"strings"
)

// Authorizer puts a credential on an outgoing request. The client calls it
// on every attempt (a retry is a new request), so an implementation that
// holds an expiring token can hand out the freshest one each time.
//
// A nil Authorizer leaves requests as they are: that is how a credential
// living in the transport is plugged in, such as the Connect
// SigningTransport, which must see the final URL to compute the qsh.
type Authorizer interface {
	Authorize(req *http.Request) error
}

// AuthorizerFunc adapts a function, for example one reading the sealed
// Forge app token of a tenant, to an Authorizer.
type AuthorizerFunc func(req *http.Request) error

// Authorize calls f.
func (f AuthorizerFunc) Authorize(req *http.Request) error { return f(req) }

// Basic authorises Jira product REST as a human admin with an API token
// (billing-model.md §5; the CLI's credential).
func Basic(email, token string) Authorizer { return basicAuth{email: email, token: token} }

// Bearer authorises with a bearer token: the Organizations API key
// (billing-model.md §7.1) or a Forge app system token on the api mount.
func Bearer(token string) Authorizer { return bearerAuth{token: token} }

type basicAuth struct{ email, token string }

func (a basicAuth) Authorize(req *http.Request) error {
	if a.email == "" || a.token == "" {
		return errors.New("atlassian: basic credential needs an e-mail and an API token")
	}
	req.SetBasicAuth(a.email, a.token)
	return nil
}

// String and GoString keep the token out of logs and %v / %#v output of
// any struct that holds the credential.
func (a basicAuth) String() string   { return "Basic(" + a.email + ", [redacted])" }
func (a basicAuth) GoString() string { return a.String() }

type bearerAuth struct{ token string }

func (a bearerAuth) Authorize(req *http.Request) error {
	if strings.TrimSpace(a.token) == "" {
		return errors.New("atlassian: bearer credential is empty")
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	return nil
}

func (a bearerAuth) String() string   { return "Bearer([redacted])" }
func (a bearerAuth) GoString() string { return a.String() }
