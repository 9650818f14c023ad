// Package sitesim is a simulated Atlassian Cloud site: Jira product REST
// shaped exactly like Atlassian's OpenAPI (openapi/jira-platform.json),
// with Atlassian's credential rules — a Connect JWT may call only what its
// x-atlassian-connect-scope allows, a Forge app token only what its OAuth
// scopes cover, an API token acts as a human site admin. It serves tests,
// `seatlens sim` and `seatlens demo`, so it is a real package.
//
// It shares no logic with the explanation engine (it must not import
// app/billing): it is the world the engine is checked against. Behaviour
// Atlassian does not document is chosen in one place, unconfirmed.go.
package sitesim
