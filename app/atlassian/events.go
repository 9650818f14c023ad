package atlassian

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// AuditEvent is what Seatlens reads of an org audit-log event: which
// action touched which users, groups and products, and when. Atlassian
// documents the event (pollEvents,
// https://dac-static.atlassian.com/cloud/admin/organization/swagger.v3.json)
// but not its action names or which context entries an action carries, so
// the rest is read as it comes and judged by the caller.
type AuditEvent struct {
	ID         string `json:"id"`
	Attributes struct {
		Time    Timestamp      `json:"time"`
		Action  string         `json:"action"`
		Context []EventContext `json:"context"`
	} `json:"attributes"`
}

func (e AuditEvent) ident() (string, string) { return e.ID, "id" }

// EventContext is one thing an event names (a user, a group, a product).
type EventContext struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// eventsPage is the most events-stream asks for; Atlassian documents a
// maximum of 500 and a default of 200
// (https://developer.atlassian.com/cloud/admin/organization/poll-events-migration).
const eventsPage = 500

// EventsSince walks the org's audit log from the instant from (inclusive,
// to the millisecond), oldest first, up to the newest event: the walk
// ends at a page with no event or without a next link. Later pages follow
// links.next alone (its cursor keeps the order; Atlassian's tracker,
// https://jira.atlassian.com/browse/ACCESS-1603, shows from and to are not
// carried, which the caller absorbs by filtering on time itself).
func (c *Client) EventsSince(ctx context.Context, orgID string, from time.Time, fn func([]AuditEvent) error) error {
	if err := need("events-stream", orgID); err != nil {
		return err
	}
	r := request{op: "org.pollEvents", method: http.MethodGet,
		path: "/admin/v1/orgs/" + url.PathEscape(orgID) + "/events-stream", idempotent: true, stream: true,
		query: url.Values{"from": {strconv.FormatInt(from.UnixMilli(), 10)}, "sortOrder": {"asc"}}}
	return eachGetCursorPage(ctx, c, r, "data", c.size(eventsPage), fn)
}
