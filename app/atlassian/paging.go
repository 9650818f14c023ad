package atlassian

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Atlassian pages two ways: Jira by offset (startAt/maxResults, with a
// PageBean or a bare array), the Organizations API by cursor (links.next).
// The walkers below hand each page to a callback as it arrives, so a
// 100k-user directory never has to sit in memory twice.

// size is the page size to ask an endpoint for: its largest, unless
// Options.PageSize is smaller.
func (c *Client) size(largest int) int {
	if c.pageSize > 0 && c.pageSize < largest {
		return c.pageSize
	}
	return largest
}

// offsetPage is Jira's PageBean (group/bulk, group/member).
type offsetPage[T any] struct {
	StartAt    int   `json:"startAt"`
	MaxResults int   `json:"maxResults"`
	Total      *int  `json:"total"`
	IsLast     *bool `json:"isLast"`
	Values     []T   `json:"values"`
}

// eachOffsetPage walks a PageBean endpoint. The next startAt is counted
// from the values received, not from the maxResults asked, because Jira
// clamps maxResults silently (group/member to 50).
func eachOffsetPage[T any](ctx context.Context, c *Client, r request, size int, fn func([]T) error) error {
	q := cloneValues(r.query)
	r.query = q
	for start := 0; ; {
		q.Set("startAt", strconv.Itoa(start))
		q.Set("maxResults", strconv.Itoa(size))
		var p offsetPage[T]
		if err := c.do(ctx, r, &p); err != nil {
			return err
		}
		if len(p.Values) > 0 {
			if err := fn(p.Values); err != nil {
				return err
			}
		}
		start += len(p.Values)
		switch {
		case p.IsLast != nil && *p.IsLast, len(p.Values) == 0:
			return nil
		case p.Total != nil && start >= *p.Total:
			return nil // isLast missing or wrong: total still ends the walk
		}
	}
}

// eachArrayPage walks an endpoint answering a bare array without a total
// (users/search) until a page comes back empty. A short page is not taken
// as the last: that Jira never answers fewer than asked while more remain
// is only an inference (billing-model.md §5.1), and a missed page would
// hide accounts silently; the certainty costs one call.
func eachArrayPage[T any](ctx context.Context, c *Client, r request, size int, fn func([]T) error) error {
	q := cloneValues(r.query)
	r.query = q
	for start := 0; ; {
		q.Set("startAt", strconv.Itoa(start))
		q.Set("maxResults", strconv.Itoa(size))
		var page []T
		if err := c.do(ctx, r, &page); err != nil {
			return err
		}
		if len(page) > 0 {
			if err := fn(page); err != nil {
				return err
			}
		}
		if len(page) == 0 {
			return nil
		}
		start += len(page)
	}
}

// cursorPage is an Organizations API page: v2 lists put the items in
// data, the service-accounts API in items; both link the next page in
// links.next.
type cursorPage[T any] struct {
	Data  []T `json:"data"`
	Items []T `json:"items"`
	Links struct {
		Next *string `json:"next"`
	} `json:"links"`
}

func (p *cursorPage[T]) values() []T {
	if len(p.Data) > 0 {
		return p.Data
	}
	return p.Items
}

// walkCursors calls fetch with "" and then each next cursor until there is
// none. A cursor seen before ends the walk with an error rather than a
// loop that never stops.
func walkCursors(r request, fetch func(cursor string) (next *string, err error)) error {
	seen := map[string]bool{}
	for cursor := ""; ; {
		next, err := fetch(cursor)
		if err != nil {
			return err
		}
		n, err := cursorOf(next)
		if err != nil {
			return fmt.Errorf("atlassian: %s %s: links.next: %w", r.method, r.path, err)
		}
		if n == "" {
			return nil
		}
		if seen[n] {
			return fmt.Errorf("atlassian: %s %s: the server repeated a page cursor", r.method, r.path)
		}
		seen[n] = true
		cursor = n
	}
}

// cursorOf reads links.next: a bare cursor token (v2), or a full URL
// carrying it as ?cursor= (v1, billing-model.md §7.1).
func cursorOf(next *string) (string, error) {
	if next == nil {
		return "", nil
	}
	s := strings.TrimSpace(*next)
	if strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") ||
		(strings.HasPrefix(s, "/") && strings.Contains(s, "cursor=")) {
		u, err := url.Parse(s)
		if err != nil {
			return "", err
		}
		return u.Query().Get("cursor"), nil
	}
	return s, nil
}

// eachGetCursorPage walks a GET cursor endpoint (cursor and limit in the
// query).
func eachGetCursorPage[T any](ctx context.Context, c *Client, r request, limit int, fn func([]T) error) error {
	q := cloneValues(r.query)
	r.query = q
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	return walkCursors(r, func(cursor string) (*string, error) {
		if cursor == "" {
			q.Del("cursor")
		} else {
			q.Set("cursor", cursor)
		}
		var p cursorPage[T]
		if err := c.do(ctx, r, &p); err != nil {
			return nil, err
		}
		if v := p.values(); len(v) > 0 {
			if err := fn(v); err != nil {
				return nil, err
			}
		}
		return p.Links.Next, nil
	})
}

// eachPostCursorPage walks a POST search (cursor in the body, which body
// builds for each cursor).
func eachPostCursorPage[T any](ctx context.Context, c *Client, r request, body func(cursor string) any, fn func([]T) error) error {
	return walkCursors(r, func(cursor string) (*string, error) {
		r.body = body(cursor)
		var p cursorPage[T]
		if err := c.do(ctx, r, &p); err != nil {
			return nil, err
		}
		if v := p.values(); len(v) > 0 {
			if err := fn(v); err != nil {
				return nil, err
			}
		}
		return p.Links.Next, nil
	})
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
