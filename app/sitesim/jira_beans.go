package sitesim

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// This file is the one place where Jira's JSON beans are built, so every
// endpoint renders a user, group or application role the same way. The
// builders read the Site without locking: callers hold s.site.mu.

// view is what a response depends on besides the site's state: where the
// request arrived (self links must be absolute URLs valid on that mount)
// and what the caller may see.
type view struct {
	base     string // scheme://host + mount (context path or api mount)
	siteBase string // scheme://host + context path: the site's own URLs
	// showEmail is false for a Connect app without ACCESS_EMAIL_ADDRESSES,
	// the descriptor scope Atlassian requires for users' e-mail addresses
	// (connect-protocol.md §1.2).
	showEmail bool
}

// viewOf derives the view of request r from caller c. The scheme and host
// are the request's own, so a site served on a loopback test server, behind
// `seatlens sim` or on both mounts at once hands out links that work.
func (s *Server) viewOf(r *http.Request, c caller) view {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	origin := scheme + "://" + r.Host
	v := view{base: origin + s.opts.ContextPath, siteBase: origin + s.opts.ContextPath, showEmail: true}
	if r.Context().Value(apiMountKey{}) != nil {
		v.base = origin + s.APIBasePath()
	}
	if c.Kind == CredConnect && c.App != nil {
		v.showEmail = slices.ContainsFunc(c.App.Scopes, func(sc string) bool { return strings.EqualFold(sc, "ACCESS_EMAIL_ADDRESSES") })
	}
	return v
}

func (v view) userSelf(accountID string) string {
	return v.base + "/rest/api/3/user?accountId=" + url.QueryEscape(accountID)
}

func (v view) groupSelf(groupID string) string {
	return v.base + "/rest/api/3/group?groupId=" + url.QueryEscape(groupID)
}

// avatarURLs is AvatarUrlsBean.
type avatarURLs struct {
	X16 string `json:"16x16"`
	X24 string `json:"24x24"`
	X32 string `json:"32x32"`
	X48 string `json:"48x48"`
}

// avatarsOf gives an account stable avatar URLs on the site itself (not on
// Atlassian's avatar CDN, so a demo never reaches out to the internet): the
// same account always gets the same URLs, whatever mount asked.
func (v view) avatarsOf(accountID string) avatarURLs {
	sum := sha256.Sum256([]byte(accountID))
	u := v.siteBase + "/secure/useravatar?avatarId=" + hex.EncodeToString(sum[:8]) + "&ownerId=" + url.QueryEscape(accountID) + "&size="
	return avatarURLs{X16: u + "16", X24: u + "24", X32: u + "32", X48: u + "48"}
}

// userBean is Jira's User. Groups and ApplicationRoles are present only on
// the single-user endpoints (/user, /myself), as in Jira.
type userBean struct {
	Self             string         `json:"self"`
	AccountID        string         `json:"accountId"`
	AccountType      string         `json:"accountType"`
	AppType          string         `json:"appType,omitempty"`
	Active           bool           `json:"active"`
	DisplayName      string         `json:"displayName"`
	EmailAddress     string         `json:"emailAddress,omitempty"`
	TimeZone         string         `json:"timeZone,omitempty"`
	Locale           string         `json:"locale,omitempty"`
	AvatarURLs       avatarURLs     `json:"avatarUrls"`
	Groups           *groupNameList `json:"groups,omitempty"`
	ApplicationRoles *roleBeanList  `json:"applicationRoles,omitempty"`
	Expand           string         `json:"expand,omitempty"`
}

// userDetails is Jira's UserDetails (group/member, Group.users): no
// locale, no appType, no expansions — the schema forbids them.
type userDetails struct {
	Self         string     `json:"self"`
	AccountID    string     `json:"accountId"`
	AccountType  string     `json:"accountType"`
	Active       bool       `json:"active"`
	DisplayName  string     `json:"displayName"`
	EmailAddress string     `json:"emailAddress,omitempty"`
	TimeZone     string     `json:"timeZone,omitempty"`
	AvatarURLs   avatarURLs `json:"avatarUrls"`
}

// defaultTimeZone is what Jira returns for a user whose time zone is unset
// ("the instance's default time zone will be returned").
const defaultTimeZone = "UTC"

func (v view) user(u *User) userBean {
	b := userBean{
		Self: v.userSelf(u.AccountID), AccountID: u.AccountID, AccountType: u.AccountType,
		Active: u.Active, DisplayName: u.DisplayName, TimeZone: u.TimeZone, Locale: u.Locale,
		AvatarURLs: v.avatarsOf(u.AccountID),
	}
	if b.TimeZone == "" {
		b.TimeZone = defaultTimeZone
	}
	if v.showEmail {
		b.EmailAddress = u.Email
	}
	if u.AccountType == AccountApp {
		b.AppType = u.AppType
		if b.AppType == "" {
			b.AppType = "unknown"
		}
	}
	return b
}

func (v view) userDetails(u *User) userDetails {
	b := v.user(u)
	return userDetails{Self: b.Self, AccountID: b.AccountID, AccountType: b.AccountType, Active: b.Active,
		DisplayName: b.DisplayName, EmailAddress: b.EmailAddress, TimeZone: b.TimeZone, AvatarURLs: b.AvatarURLs}
}

// userExpanded is /user and /myself: groups and applicationRoles always
// carry their size, and their items only when expand asks for them.
func (v view) userExpanded(s *Site, u *User, expand string) userBean {
	b := v.user(u)
	b.Expand = "groups,applicationRoles"
	wantGroups, wantRoles := false, false
	for _, e := range strings.Split(expand, ",") {
		switch strings.TrimSpace(e) {
		case "groups":
			wantGroups = true
		case "applicationRoles":
			wantRoles = true
		}
	}
	groups := s.groupsOf(u.AccountID)
	b.Groups = &groupNameList{Size: len(groups), Items: []groupName{}}
	if wantGroups {
		for _, g := range groups {
			b.Groups.Items = append(b.Groups.Items, v.groupName(g))
		}
	}
	held := s.productsOf(u.AccountID)
	b.ApplicationRoles = &roleBeanList{Size: len(held), Items: []roleBean{}}
	if wantRoles {
		for _, p := range s.products {
			if held[p.Key] != "" {
				b.ApplicationRoles.Items = append(b.ApplicationRoles.Items, v.role(s, p))
			}
		}
	}
	return b
}

// groupName is Jira's GroupName.
type groupName struct {
	GroupID string `json:"groupId"`
	Name    string `json:"name"`
	Self    string `json:"self"`
}

// groupDetails is Jira's GroupDetails (group/bulk): no self link.
type groupDetails struct {
	GroupID string `json:"groupId"`
	Name    string `json:"name"`
}

type groupNameList struct {
	Size  int         `json:"size"`
	Items []groupName `json:"items"`
}

type roleBeanList struct {
	Size  int        `json:"size"`
	Items []roleBean `json:"items"`
}

func (v view) groupName(g *Group) groupName {
	return groupName{GroupID: g.ID, Name: g.Name, Self: v.groupSelf(g.ID)}
}

// groupBean is Jira's Group with its members expanded (the answer of
// POST group/user), first page only, as Jira's "users" expansion gives.
type groupBean struct {
	Expand  string        `json:"expand"`
	GroupID string        `json:"groupId"`
	Name    string        `json:"name"`
	Self    string        `json:"self"`
	Users   groupUserPage `json:"users"`
}

type groupUserPage struct {
	Size       int           `json:"size"`
	Items      []userDetails `json:"items"`
	MaxResults int           `json:"max-results"`
	StartIndex int           `json:"start-index"`
	EndIndex   int           `json:"end-index"`
}

func (v view) group(s *Site, g *Group) groupBean {
	members := s.membersOf(g.ID, true)
	page := groupUserPage{Size: len(members), Items: []userDetails{}, MaxResults: memberPageMax}
	for i, id := range members {
		if i == memberPageMax {
			break
		}
		page.Items = append(page.Items, v.userDetails(s.users[id]))
	}
	if n := len(page.Items); n > 0 {
		page.EndIndex = n - 1
	}
	return groupBean{Expand: "users", GroupID: g.ID, Name: g.Name, Self: v.groupSelf(g.ID), Users: page}
}

// roleBean is Jira's ApplicationRole.
type roleBean struct {
	Key                  string      `json:"key"`
	Name                 string      `json:"name"`
	Groups               []string    `json:"groups"`
	GroupDetails         []groupName `json:"groupDetails"`
	DefaultGroups        []string    `json:"defaultGroups"`
	DefaultGroupsDetails []groupName `json:"defaultGroupsDetails"`
	NumberOfSeats        int         `json:"numberOfSeats"`
	RemainingSeats       int         `json:"remainingSeats"`
	UserCount            int         `json:"userCount"`
	UserCountDescription string      `json:"userCountDescription"`
	HasUnlimitedSeats    bool        `json:"hasUnlimitedSeats"`
	Platform             bool        `json:"platform"`
	SelectedByDefault    bool        `json:"selectedByDefault"`
	Defined              bool        `json:"defined"`
}

// role renders product p. "Groups associated with the application role"
// are all groups with any grant on it (user or admin), because both put
// their members on the product's licence (Site.userCount).
func (v view) role(s *Site, p Product) roleBean {
	b := roleBean{
		Key: p.Key, Name: p.Name, Groups: []string{}, GroupDetails: []groupName{},
		DefaultGroups: []string{}, DefaultGroupsDetails: []groupName{},
		HasUnlimitedSeats: p.Unlimited, Platform: p.Key == JiraCore,
	}
	for _, g := range s.groupsByName() {
		if slices.ContainsFunc(g.Grants, func(gr Grant) bool { return gr.Product == p.Key }) {
			b.Groups = append(b.Groups, g.Name)
			b.GroupDetails = append(b.GroupDetails, v.groupName(g))
		}
		if slices.Contains(g.DefaultFor, p.Key) {
			b.DefaultGroups = append(b.DefaultGroups, g.Name)
			b.DefaultGroupsDetails = append(b.DefaultGroupsDetails, v.groupName(g))
		}
	}
	b.UserCount = s.userCount(p.Key)
	b.UserCountDescription = strconv.Itoa(b.UserCount) + " users"
	if b.UserCount == 1 {
		b.UserCountDescription = "1 user"
	}
	if p.Unlimited {
		b.NumberOfSeats, b.RemainingSeats = unlimitedSeats, unlimitedSeats
	} else {
		b.NumberOfSeats, b.RemainingSeats = p.Seats, max(0, p.Seats-b.UserCount)
	}
	return b
}

// pageBean is Jira's PageBean (PageBeanGroupDetails, PageBeanUserDetails).
type pageBean[T any] struct {
	Self       string `json:"self,omitempty"`
	NextPage   string `json:"nextPage,omitempty"`
	MaxResults int    `json:"maxResults"`
	StartAt    int    `json:"startAt"`
	Total      int    `json:"total"`
	IsLast     bool   `json:"isLast"`
	Values     []T    `json:"values"`
}

// window returns the bounds of page [startAt, startAt+maxResults) of n
// items, without overflow for a huge maxResults (group/bulk's is not
// clamped).
func window(n, startAt, maxResults int) (lo, hi int) {
	lo = min(startAt, n)
	return lo, lo + min(maxResults, n-lo)
}

// intParam reads an optional integer query parameter of at least least.
// Jira refuses what is not a number with 400; so does the site.
func intParam(q url.Values, name string, def, least int) (int, *apiError) {
	raw := q.Get(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < least {
		return 0, errBadParam(name, raw)
	}
	return n, nil
}

// paging reads startAt and maxResults, clamping maxResults to limit.
func paging(q url.Values, def, limit int) (startAt, maxResults int, aerr *apiError) {
	if startAt, aerr = intParam(q, "startAt", 0, 0); aerr != nil {
		return 0, 0, aerr
	}
	if maxResults, aerr = intParam(q, "maxResults", def, 1); aerr != nil {
		return 0, 0, aerr
	}
	if limit > 0 {
		maxResults = min(maxResults, limit)
	}
	return startAt, maxResults, nil
}

// groupParam resolves the groupId / groupname pair that group/member and
// group/user take: exactly one of them (OpenAPI: "cannot be used with").
func (s *Site) groupParam(q url.Values) (*Group, *apiError) {
	id, name := q.Get("groupId"), q.Get("groupname")
	switch {
	case id != "" && name != "":
		return nil, jiraError(http.StatusBadRequest, "You must specify either groupId or groupname, not both.")
	case id == "" && name == "":
		return nil, jiraError(http.StatusBadRequest, "You must specify a group with groupId or groupname.")
	}
	g := s.groupByRef(id, name)
	if g == nil {
		ref := id
		if ref == "" {
			ref = name
		}
		return nil, jiraError(http.StatusNotFound, "Group "+ref+" does not exist.")
	}
	return g, nil
}

func writeOK(w http.ResponseWriter, v any) *apiError {
	writeJSON(w, http.StatusOK, v)
	return nil
}
