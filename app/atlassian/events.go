package atlassian

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
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
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	Attributes map[string]any `json:"attributes"`
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
		path: "/admin/v1/orgs/" + url.PathEscape(orgID) + "/events-stream", idempotent: true,
		query: url.Values{"from": {strconv.FormatInt(from.UnixMilli(), 10)}, "sortOrder": {"asc"},
			"limit": {strconv.Itoa(c.size(eventsPage))}}}
	prog := c.progress(r)
	links := map[string]bool{}
	req := r
	for {
		var p cursorPage[AuditEvent]
		if err := c.do(ctx, req, &p); err != nil {
			return err
		}
		items, err := p.entries(req, "data")
		if err != nil {
			return err
		}
		if len(items) == 0 {
			return nil // the stream's tip
		}
		fresh, err := addPage(prog, items)
		if err != nil {
			return err
		}
		if err := fn(items); err != nil {
			return err
		}
		nx, more, err := c.nextOf(r, p.Links.Next)
		if err != nil || !more {
			return err
		}
		if fresh == 0 {
			return walkError(r, "a page with a next link brought no event not seen before: the server repeats itself")
		}
		link := nx.cursor
		if nx.url != nil {
			link = nx.url.String()
		}
		if links[link] {
			return walkError(r, "links.next repeats an earlier page's link")
		}
		links[link] = true
		req = r
		if nx.url != nil {
			req.path = strings.TrimPrefix(nx.url.EscapedPath(), c.baseURL.Path)
			req.query = nx.url.Query()
		} else {
			req.query = url.Values{"cursor": {nx.cursor}}
		}
	}
}
