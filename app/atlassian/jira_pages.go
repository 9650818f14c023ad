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
	StartAt int
	// Total is the member count Jira reports; -1 when it gives none.
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
	out := MemberPage{StartAt: p.StartAt, Total: -1, Values: p.Values}
	if p.Total != nil {
		out.Total = *p.Total
	}
	out.IsLast = p.IsLast != nil && *p.IsLast || len(p.Values) == 0 || out.Total >= 0 && startAt+len(p.Values) >= out.Total
	return out, nil
}
