package sitesim

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
)

// openapiJSON is the subset of Atlassian's Jira platform OpenAPI this site
// implements (users, groups, application roles, licence, permissions).
// The credential rules below come from it, not from hand-written tables.
//
//go:embed openapi/jira-platform.json
var openapiJSON []byte

// OpenAPI returns the embedded document (the contract tests validate
// every response against it).
func OpenAPI() []byte { return openapiJSON }

// operation is what the site needs to know to authorise one REST call.
type operation struct {
	Method, Path string
	ID           string
	// ConnectScope is x-atlassian-connect-scope: the Connect scope an app
	// must hold, or "INACCESSIBLE" when no Connect JWT may call it.
	ConnectScope string
	// Classic and Granular are the OAuth 2.0 scope sets
	// (x-atlassian-oauth2-scopes, state Current and Beta): a Forge app
	// token may call the operation when it holds either set.
	Classic, Granular []string
}

func loadOperations() (map[string]operation, error) {
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID  string `json:"operationId"`
			ConnectScope string `json:"x-atlassian-connect-scope"`
			OAuth        []struct {
				Scopes []string `json:"scopes"`
				State  string   `json:"state"`
			} `json:"x-atlassian-oauth2-scopes"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openapiJSON, &doc); err != nil {
		return nil, fmt.Errorf("sitesim: embedded OpenAPI: %w", err)
	}
	ops := map[string]operation{}
	for path, methods := range doc.Paths {
		for method, o := range methods {
			op := operation{Method: strings.ToUpper(method), Path: path, ID: o.OperationID, ConnectScope: o.ConnectScope}
			for _, s := range o.OAuth {
				switch s.State {
				case "Current":
					op.Classic = s.Scopes
				case "Beta":
					op.Granular = s.Scopes
				}
			}
			ops[op.Method+" "+op.Path] = op
		}
	}
	return ops, nil
}

// connectScopeRank orders the Connect scopes that imply one another
// (connect-protocol.md §1.2): ADMIN ⊃ PROJECT_ADMIN ⊃ DELETE ⊃ WRITE ⊃ READ.
var connectScopeRank = map[string]int{"NONE": 0, "READ": 1, "WRITE": 2, "DELETE": 3, "PROJECT_ADMIN": 4, "ADMIN": 5}

// connectAllows reports whether an app with the descriptor scopes held may
// call an operation that needs scope need.
func connectAllows(held []string, need string) bool {
	need = strings.ToUpper(need)
	if need == "" || need == "INACCESSIBLE" {
		return false
	}
	want, ranked := connectScopeRank[need]
	for _, h := range held {
		h = strings.ToUpper(h)
		if h == need {
			return true
		}
		if r, ok := connectScopeRank[h]; ok && ranked && r >= want {
			return true
		}
	}
	return false
}

// oauthAllows reports whether a token holding scopes may call op.
func oauthAllows(held []string, op operation) bool {
	has := map[string]bool{}
	for _, s := range held {
		has[s] = true
	}
	covers := func(need []string) bool {
		if need == nil {
			return false
		}
		for _, s := range need {
			if !has[s] {
				return false
			}
		}
		return true
	}
	return covers(op.Granular) || covers(op.Classic)
}
