package atlassian

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
)

// MemberPage is one page of a group's members.
type MemberPage struct {
	// Total is the member count Jira reports; -1 when it gives none (a
	// negative total in the answer is an error, not "none").
	Total  int
	IsLast bool
	Values []User
}

// GroupMemberPageSize is the page size GroupMembersPage asks for (Jira
// may still answer fewer: it clamps group/member to 50).
func (c *Client) GroupMemberPageSize() int { return c.size(groupMemberPage) }

// GroupMembersPage reads one page of a group's members, inactive ones
// included. EachGroupMember walks the pages one after another; a scan
// that knows the total from the first page asks for the others at once,
// so a 5,000-member group costs one latency per round of concurrent calls
// instead of a hundred in a row.
func (c *Client) GroupMembersPage(ctx context.Context, groupID string, startAt int) (MemberPage, error) {
	if groupID == "" {
		return MemberPage{}, errors.New("atlassian: group members: empty group ID")
	}
	r := request{op: "getUsersFromGroup", method: http.MethodGet, path: "/rest/api/3/group/member", idempotent: true,
		query: url.Values{"groupId": {groupID}, "includeInactiveUsers": {"true"},
			"startAt": {strconv.Itoa(startAt)}, "maxResults": {strconv.Itoa(c.GroupMemberPageSize())}}}
	var p offsetPage[User]
	if err := c.do(ctx, r, &p); err != nil {
		return MemberPage{}, err
	}
	if err := p.check(r); err != nil {
		return MemberPage{}, err
	}
	out := MemberPage{Total: -1, Values: p.Values.Items}
	if p.Total != nil {
		out.Total = *p.Total
	}
	out.IsLast = p.last(startAt + len(out.Values))
	return out, nil
}

// MaxListItems is the most entries one list walk collects
// (Options.MaxListItems); a caller walking pages itself keeps to it too.
func (c *Client) MaxListItems() int { return c.maxItems }
