package atlassian

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"time"
)

// Budget meters app traffic (a Connect JWT or a Forge app token) in
// Atlassian's points, against the hourly pool every tenant of the app
// shares: "base 1 per request + per-object cost"; identity and access
// reads (users, groups, permissions) cost 2 points an object; quotas reset
// at the top of each UTC hour
// (https://developer.atlassian.com/cloud/jira/platform/rate-limiting/).
// API-token and Organizations API traffic is not charged points and runs
// without one.
type Budget interface {
	// Reserve blocks until points may be spent by key (the tenant), or
	// ctx ends.
	Reserve(ctx context.Context, key string, points int) error
	// Settle corrects a reservation once the answer says what it cost:
	// delta is the actual cost minus the reserved points (negative gives
	// points back).
	Settle(key string, delta int)
	// Exhausted says Atlassian refused a call for the quota: nothing is
	// reserved for anyone before until.
	Exhausted(until time.Time)
}

// identityOps are the operations whose answers cost 2 points an object:
// they return users, groups or permissions. Which operations Atlassian
// counts as "identity and access" is its category name only; this list is
// our reading of it, and applicationrole (roles carrying group names) is
// counted as one.
var identityOps = map[string]bool{
	"getUsersFromGroup": true, "getAllUsers": true, "getAllUsersDefault": true, "bulkGetGroups": true,
	"getUser": true, "getCurrentUser": true, "getAllApplicationRoles": true, "getBulkPermissions": true,
}

// estimatePoints is what a call may cost at most, reserved before it is
// sent: a page of identity objects costs 1 + 2 per object it may hold.
func estimatePoints(op string, q url.Values) int {
	if !identityOps[op] {
		return 1
	}
	n := 50 // Jira's default and largest member page
	if v, err := strconv.Atoi(q.Get("maxResults")); err == nil && v > 0 {
		n = min(v, 1000)
	}
	switch op {
	case "getUser", "getCurrentUser":
		n = 1
	case "getBulkPermissions":
		n = 1
	}
	return 1 + 2*n
}

// pointsOf is what an answered call cost: 1, plus 2 per object of an
// identity answer (the entries of its list, or 1 for one object).
func pointsOf(op string, body []byte) int {
	if !identityOps[op] {
		return 1
	}
	return 1 + 2*countObjects(body)
}

// countObjects counts the entries of an answer's list: a bare array, or
// the first array under values, items, data, applications or
// globalPermissions; an object without one is one object.
func countObjects(body []byte) int {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return 0
	}
	if body[0] == '[' {
		var list []json.RawMessage
		if json.Unmarshal(body, &list) != nil {
			return 0
		}
		return len(list)
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return 0
	}
	for _, k := range []string{"values", "items", "data", "applications", "globalPermissions"} {
		var list []json.RawMessage
		if raw, ok := obj[k]; ok && json.Unmarshal(raw, &list) == nil {
			return len(list)
		}
	}
	return 1
}
