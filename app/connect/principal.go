// Package connect authenticates what Atlassian sends the app under the
// Connect protocol: HS256 request and context tokens signed with a tenant's
// shared secret, and RS256 signed-install tokens whose public keys come from
// Atlassian's install-keys service. See ../shared/atlassian/connect-protocol.md
// §2–§3; the canonical request is in package qsh.
package connect

import "context"

// TokenKind says how a request was authenticated.
type TokenKind uint8

// Append only: the values appear in logs.
const (
	KindNone    TokenKind = iota
	KindRequest           // HS256 with a qsh bound to this request
	KindContext           // HS256 context token (qsh "context-qsh"), /api only
	KindInstall           // RS256 signed install/uninstall
	KindForge             // Forge Invocation Token
)

func (k TokenKind) String() string {
	switch k {
	case KindRequest:
		return "request"
	case KindContext:
		return "context"
	case KindInstall:
		return "install"
	case KindForge:
		return "forge"
	default:
		return "none"
	}
}

// Principal is who a verified request comes from.
type Principal struct {
	ClientKey string    // tenant
	AccountID string    // Atlassian account of the acting user ("sub"); empty when none
	Kind      TokenKind // how it was proven
}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal stored by the authentication
// middleware, if any.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
