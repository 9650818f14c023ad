package atlassian

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Atlassian pages two ways: Jira by offset (startAt/maxResults, with a
// PageBean or a bare array), the Organizations API by cursor (links.next,
// a token or a URL). The walkers below hand each page to a callback as it
// arrives, so a 100k-user directory never has to sit in memory twice.
//
// No answer may make a walk hang, grow without bound or end early without
// a word: a page that is not the last must bring an entry not seen before
// (a server repeating a page, or handing out new cursors to the same
// accounts, ends the walk with an error); a walk collects at most
// Options.MaxListItems entries; nothing is sized from a count the server
// claims; and a total below zero, a missing list or a next link that
// cannot be followed are errors, never a shorter list.

// size is the page size to ask an endpoint for: its largest, unless
// Options.PageSize is smaller.
func (c *Client) size(largest int) int {
	if c.pageSize > 0 && c.pageSize < largest {
		return c.pageSize
	}
	return largest
}

// walkError is an error of a walk: the answers were valid one by one but
// do not add up to a complete list.
func walkError(r request, format string, args ...any) error {
	return fmt.Errorf("atlassian: %s %s (%s): %w", r.method, r.path, r.op, &ShapeError{Msg: fmt.Sprintf(format, args...)})
}

// progress is what a walk has collected: the identifiers seen, so a page
// can be told to bring nothing new, and how many.
type progress struct {
	r    request
	max  int
	seen map[string]struct{}
}

func (c *Client) progress(r request) *progress {
	return &progress{r: r, max: c.maxItems, seen: map[string]struct{}{}}
}

// addPage records a page and reports how many of its entries are new.
func addPage[T identified](p *progress, items []T) (int, error) {
	fresh := 0
	for i := range items {
		id, _ := items[i].ident()
		if _, ok := p.seen[id]; !ok {
			p.seen[id] = struct{}{}
			fresh++
		}
	}
	if len(p.seen) > p.max {
		return fresh, walkError(p.r, "the list goes on past %d entries, more than any site holds; stopped", p.max)
	}
	return fresh, nil
}

// offsetPage is Jira's PageBean (group/bulk, group/member).
type offsetPage[T any] struct {
	Total  *int              `json:"total"`
	IsLast *bool             `json:"isLast"`
	Values list[T, inValues] `json:"values"`
}

// check refuses a page the walkers cannot rely on.
func (p *offsetPage[T]) check(r request) error {
	if err := p.Values.need(); err != nil {
		return fmt.Errorf("atlassian: %s %s (%s): %w", r.method, r.path, r.op, err)
	}
	if p.Total != nil && *p.Total < 0 {
		return fmt.Errorf("atlassian: %s %s (%s): %w", r.method, r.path, r.op, wrongValue("total", strconv.Itoa(*p.Total), "not a count of anything"))
	}
	return nil
}

// eachOffsetPage walks a PageBean endpoint. The next startAt is counted
// from the values received, not from the maxResults asked, because Jira
// clamps maxResults silently (group/member to 50).
func eachOffsetPage[T identified](ctx context.Context, c *Client, r request, size int, fn func([]T) error) error {
	q := cloneValues(r.query)
	r.query = q
	prog := c.progress(r)
	for start := 0; ; {
		q.Set("startAt", strconv.Itoa(start))
		q.Set("maxResults", strconv.Itoa(size))
		var p offsetPage[T]
		if err := c.do(ctx, r, &p); err != nil {
			return err
		}
		if err := p.check(r); err != nil {
			return err
		}
		fresh, err := addPage(prog, p.Values.Items)
		if err != nil {
			return err
		}
		if len(p.Values.Items) > 0 {
			if err := fn(p.Values.Items); err != nil {
				return err
			}
		}
		start += len(p.Values.Items)
		if p.last(start) {
			return nil
		}
		if fresh == 0 {
			return walkError(r, "the page at startAt=%d brought no entry not seen before, yet is not the last (isLast %s, total %s)",
				start-len(p.Values.Items), boolText(p.IsLast), countText(p.Total))
		}
	}
}

// last reports whether a page ends the walk, end being the offset after
// it. An explicit isLast decides: a total lower than the truth must not cut
// a walk short. Without isLast the total does, and without either an
// empty page.
func (p *offsetPage[T]) last(end int) bool {
	switch {
	case p.IsLast != nil:
		return *p.IsLast
	case p.Total != nil:
		return end >= *p.Total
	}
	return len(p.Values.Items) == 0
}

func boolText(b *bool) string {
	if b == nil {
		return "missing"
	}
	return strconv.FormatBool(*b)
}

func countText(n *int) string {
	if n == nil {
		return "missing"
	}
	return strconv.Itoa(*n)
}

// eachArrayPage walks an endpoint answering a bare array without a total
// (users/search) until a page comes back empty. A short page is not taken
// as the last: that Jira never answers fewer than asked while more remain
// is only an inference (billing-model.md §5.1), and a missed page would
// hide accounts silently; the certainty costs one call.
func eachArrayPage[T identified](ctx context.Context, c *Client, r request, size int, fn func([]T) error) error {
	q := cloneValues(r.query)
	r.query = q
	prog := c.progress(r)
	for start := 0; ; {
		q.Set("startAt", strconv.Itoa(start))
		q.Set("maxResults", strconv.Itoa(size))
		var page list[T, atRoot]
		if err := c.do(ctx, r, &page); err != nil {
			return err
		}
		if len(page.Items) == 0 {
			return nil
		}
		fresh, err := addPage(prog, page.Items)
		if err != nil {
			return err
		}
		if err := fn(page.Items); err != nil {
			return err
		}
		if fresh == 0 {
			return walkError(r, "the page at startAt=%d brought no account not seen before: the list never runs dry", start)
		}
		start += len(page.Items)
	}
}

// cursorPage is an Organizations API page: v2 lists put the entries in
// data, the service-accounts API in items; both link the next page in
// links.next, as a cursor token or as a URL.
type cursorPage[T any] struct {
	Data  list[T, inData]  `json:"data"`
	Items list[T, inItems] `json:"items"`
	Links struct {
		Next *string `json:"next"`
	} `json:"links"`
}

// entries is the page's list under key ("data" or "items").
func (p *cursorPage[T]) entries(r request, key string) ([]T, error) {
	items, err := p.Data.Items, p.Data.need()
	if key == "items" {
		items, err = p.Items.Items, p.Items.need()
	}
	if err != nil {
		return nil, fmt.Errorf("atlassian: %s %s (%s): %w", r.method, r.path, r.op, err)
	}
	return items, nil
}

// next is where a cursor page's links.next points: a cursor token to send
// back, or a URL on the client's own origin to follow.
type next struct {
	cursor string
	url    *url.URL
}

// nextOf reads links.next. Atlassian documents it as a cursor token on
// the v2 directory lists and as a URL ("URL to fetch the Next Page") on
// /v1/orgs, workspaces and events-stream
// (https://dac-static.atlassian.com/cloud/admin/organization/swagger.v3.json,
// LinkPageCursor and LinkPageModel); a URL elsewhere than the client's
// origin is never followed, since the org key would go with it.
func (c *Client) nextOf(r request, raw *string) (next, bool, error) {
	if raw == nil || strings.TrimSpace(*raw) == "" {
		return next{}, false, nil
	}
	s := strings.TrimSpace(*raw)
	if !strings.HasPrefix(s, "https://") && !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "/") {
		if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return next{}, false, walkError(r, "links.next %s is neither a cursor nor a URL", describe(s))
		}
		return next{cursor: s}, true, nil
	}
	u, err := c.baseURL.Parse(s)
	if err != nil {
		return next{}, false, walkError(r, "links.next %s is not a URL that can be followed: %v", describe(s), err)
	}
	if !c.sameOrigin(u) {
		return next{}, false, walkError(r, "links.next points to %s, not to %s; not followed", describe(redactURL(u)), c.base)
	}
	return next{url: u}, true, nil
}

// walkCursors fetches page after page until links.next is absent. fetch
// gets the next link of the previous page (zero for the first) and
// returns the page's entries and its links.next.
func walkCursors[T identified](c *Client, r request, fetch func(n next) ([]T, *string, error), fn func([]T) error) error {
	prog := c.progress(r)
	links := map[string]bool{}
	for n := (next{}); ; {
		items, raw, err := fetch(n)
		if err != nil {
			return err
		}
		if len(items) == 0 && r.stream {
			return nil // the stream's tip
		}
		fresh, err := addPage(prog, items)
		if err != nil {
			return err
		}
		if len(items) > 0 {
			if err := fn(items); err != nil {
				return err
			}
		}
		nx, more, err := c.nextOf(r, raw)
		if err != nil || !more {
			return err
		}
		if fresh == 0 {
			return walkError(r, "a page with a next link brought no entry not seen before (%d entries): the server repeats itself", len(items))
		}
		link := nx.cursor
		if nx.url != nil {
			link = nx.url.String()
		}
		if links[link] {
			return walkError(r, "links.next repeats an earlier page's link")
		}
		links[link] = true
		n = nx
	}
}

// eachGetCursorPage walks a GET cursor endpoint whose entries are under
// key. A cursor token is sent back as ?cursor= (Atlassian: "If present,
// all other parameters are discarded", so the others may stay); a URL is
// followed as given.
func eachGetCursorPage[T identified](ctx context.Context, c *Client, r request, key string, limit int, fn func([]T) error) error {
	first := cloneValues(r.query)
	if limit > 0 {
		first.Set("limit", strconv.Itoa(limit))
	}
	return walkCursors(c, r, func(n next) ([]T, *string, error) {
		req := r
		switch {
		case n.url != nil:
			req.path = strings.TrimPrefix(n.url.EscapedPath(), c.baseURL.Path)
			req.query = n.url.Query()
		case n.cursor != "":
			req.query = cloneValues(first)
			req.query.Set("cursor", n.cursor)
		default:
			req.query = first
		}
		var p cursorPage[T]
		if err := c.do(ctx, req, &p); err != nil {
			return nil, nil, err
		}
		items, err := p.entries(req, key)
		return items, p.Links.Next, err
	}, fn)
}

// eachPostCursorPage walks a POST search: body builds the request body for
// a cursor ("" for the first page). A next link given as a URL must carry
// the cursor as its ?cursor= parameter: a POST search has no other way to
// send it.
func eachPostCursorPage[T identified](ctx context.Context, c *Client, r request, body func(cursor string) any, fn func([]T) error) error {
	return walkCursors(c, r, func(n next) ([]T, *string, error) {
		cursor := n.cursor
		if n.url != nil {
			if cursor = n.url.Query().Get("cursor"); cursor == "" {
				return nil, nil, walkError(r, "links.next %s carries no cursor to send in the next search", describe(redactURL(n.url)))
			}
		}
		req := r
		req.body = body(cursor)
		var p cursorPage[T]
		if err := c.do(ctx, req, &p); err != nil {
			return nil, nil, err
		}
		items, err := p.entries(req, "data")
		return items, p.Links.Next, err
	}, fn)
}

// collect turns a page walker into a slice.
func collect[T any](walk func(fn func([]T) error) error) ([]T, error) {
	var all []T
	err := walk(func(page []T) error {
		all = append(all, page...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return all, nil
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v)+2)
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
