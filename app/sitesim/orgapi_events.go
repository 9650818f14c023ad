package sitesim

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The organisation's audit log: the only org-level change feed (§7.7,
// §10.3). Site.addMemberAs/removeMemberAs and SyncIdP record here, so a
// change through product REST, the Org API or the IdP all appear once.

// Audit actions the sim records (names chosen: unconfirmed.go).
const (
	evUserAddedToGroup     = "user_added_to_group"
	evUserRemovedFromGroup = "user_removed_from_group"
	evProductAccessGranted = "product_access_granted"
	evProductAccessRevoked = "product_access_revoked"
)

// Actors of changes not made by an account: orgActor is the org API key,
// actorIdP the identity provider's sync; "" is the product REST caller.
const (
	orgActor = "org-api-key"
	actorIdP = "identity-provider"
)

// auditEvent is one recorded change.
type auditEvent struct {
	Seq       int
	Time      time.Time
	Action    string
	Actor     string
	AccountID string
	GroupID   string
	GroupName string
	Product   string // product-access events only
}

// logMembership records a membership change of accountID in g, followed
// by the product-access changes it caused (access before vs now). Caller
// holds s.mu for writing.
func (s *Site) logMembership(actor, action string, g *Group, accountID string, before map[string]bool) {
	s.membershipChanged() // every membership change is logged here
	s.logEvent(auditEvent{Action: action, Actor: actor, AccountID: accountID, GroupID: g.ID, GroupName: g.Name})
	after := s.accessOf(accountID)
	for _, p := range s.all { // product order: a stable log
		switch {
		case after[p.Key] && !before[p.Key]:
			s.logEvent(auditEvent{Action: evProductAccessGranted, Actor: actor, AccountID: accountID, GroupID: g.ID, GroupName: g.Name, Product: p.Key})
		case !after[p.Key] && before[p.Key]:
			s.logEvent(auditEvent{Action: evProductAccessRevoked, Actor: actor, AccountID: accountID, GroupID: g.ID, GroupName: g.Name, Product: p.Key})
		}
	}
}

// maxEvents bounds the audit log of a long-running sim; the oldest half
// is dropped when it fills (as the request log).
const maxEvents = 100_000

func (s *Site) logEvent(e auditEvent) {
	now := time.Now
	if s.now != nil {
		now = s.now
	}
	s.eventSeq++
	e.Seq, e.Time = s.eventSeq, now().UTC()
	if len(s.events) >= maxEvents {
		s.events = append(s.events[:0], s.events[maxEvents/2:]...)
	}
	s.events = append(s.events, e)
}

// orgEvent is one event of events-stream (shape: unconfirmed.go).
type orgEvent struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Attributes struct {
		Time      string         `json:"time"`
		Action    string         `json:"action"`
		Actor     eventActor     `json:"actor"`
		Context   []eventContext `json:"context"`
		Container []eventContext `json:"container"`
	} `json:"attributes"`
	Links struct {
		Self string `json:"self"`
	} `json:"links"`
}

type eventActor struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type eventContext struct {
	ID         string            `json:"id"`
	Type       string            `json:"type"`
	Attributes map[string]string `json:"attributes"`
}

// Event cursors name the last event a page held, so a poller that
// follows links.next sees each event once even while new ones arrive.
func encodeEventCursor(seq int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("e:" + strconv.Itoa(seq)))
}

func decodeEventCursor(c string) (int, *orgError) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(raw), "e:") {
		return 0, errInvalidCursor(c)
	}
	n, err := strconv.Atoi(string(raw[2:]))
	if err != nil || n < 0 {
		return 0, errInvalidCursor(c)
	}
	return n, nil
}

// epochMillis reads a from/to parameter (epoch ms, §7.7).
func epochMillis(r *http.Request, name string) (*time.Time, *orgError) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, newOrgError(http.StatusBadRequest, orgCodeBadRequest, "Bad Request", name+" must be epoch milliseconds")
	}
	t := time.UnixMilli(n)
	return &t, nil
}

// GET /admin/v1/orgs/{orgId}/events-stream: cursor, from, to, limit,
// sortOrder (§7.7).
func (s *Server) orgEventsStream(w http.ResponseWriter, r *http.Request) *orgError {
	q := r.URL.Query()
	limit, oerr := queryLimit(r, eventsDefaultLimit, eventsMaxLimit)
	if oerr != nil {
		return oerr
	}
	from, oerr := epochMillis(r, "from")
	if oerr != nil {
		return oerr
	}
	to, oerr := epochMillis(r, "to")
	if oerr != nil {
		return oerr
	}
	order := q.Get("sortOrder")
	switch order {
	case "":
		order = eventsDefaultOrder
	case "asc", "desc":
	default:
		return newOrgError(http.StatusBadRequest, orgCodeBadRequest, "Bad Request", "sortOrder must be asc or desc")
	}
	after := -1 // no cursor
	if c := q.Get("cursor"); c != "" {
		if after, oerr = decodeEventCursor(c); oerr != nil {
			return oerr
		}
	}
	s.site.mu.RLock()
	evs := slices.Clone(s.site.events)
	names := map[string]string{}
	for _, e := range evs {
		if u := s.site.users[e.AccountID]; u != nil {
			names[e.AccountID] = u.DisplayName
		}
	}
	admin := s.site.adminLocked()
	s.site.mu.RUnlock()
	if order == "desc" {
		slices.Reverse(evs)
	}
	var sel []auditEvent
	for _, e := range evs {
		if from != nil && e.Time.Before(*from) || to != nil && e.Time.After(*to) {
			continue
		}
		if after >= 0 && (order == "asc" && e.Seq <= after || order == "desc" && e.Seq >= after) {
			continue
		}
		sel = append(sel, e)
	}
	more := len(sel) > limit
	sel = sel[:min(len(sel), limit)]
	self := absBase(r) + r.URL.RequestURI()
	out := struct {
		Data  []orgEvent `json:"data"`
		Links struct {
			Self string  `json:"self"`
			Prev *string `json:"prev"`
			Next *string `json:"next"`
		} `json:"links"`
		Meta struct {
			Next     *string `json:"next"`
			PageSize int     `json:"page_size"`
		} `json:"meta"`
	}{Data: []orgEvent{}}
	out.Links.Self = self
	out.Meta.PageSize = len(sel)
	for _, e := range sel {
		out.Data = append(out.Data, s.orgEventOf(r, e, names, admin))
	}
	if more {
		c := encodeEventCursor(sel[len(sel)-1].Seq)
		// links.next carries only the cursor (and limit/sortOrder), not
		// from/to: the documented quirk of ACCESS-1603.
		next := absBase(r) + "/admin/v1/orgs/" + s.opts.OrgID + "/events-stream?cursor=" + c + "&limit=" + strconv.Itoa(limit) + "&sortOrder=" + order
		out.Links.Next, out.Meta.Next = &next, &c
	}
	return writeOrg(w, out)
}

// adminLocked is Admin for a caller already holding s.mu.
func (s *Site) adminLocked() User { return *s.users[s.admin] }

func (s *Server) orgEventOf(r *http.Request, e auditEvent, names map[string]string, admin User) orgEvent {
	var o orgEvent
	o.ID, o.Type = strconv.Itoa(e.Seq), "events"
	o.Attributes.Time, o.Attributes.Action = e.Time.Format(time.RFC3339Nano), e.Action
	switch e.Actor {
	case "": // product REST: the site admin whose API token acts (unconfirmed.go)
		o.Attributes.Actor = eventActor{admin.AccountID, admin.DisplayName}
	case orgActor:
		o.Attributes.Actor = eventActor{orgActor, "Organization API key"}
	default:
		o.Attributes.Actor = eventActor{e.Actor, "Identity provider"}
	}
	o.Attributes.Context = []eventContext{
		{ID: e.AccountID, Type: "users", Attributes: map[string]string{"name": names[e.AccountID]}},
		{ID: e.GroupID, Type: "groups", Attributes: map[string]string{"name": e.GroupName}},
	}
	if e.Product != "" {
		o.Attributes.Context = append(o.Attributes.Context, eventContext{ID: s.resourceID(e.Product), Type: "products", Attributes: map[string]string{"key": e.Product}})
	}
	o.Attributes.Container = []eventContext{{ID: s.opts.OrgID, Type: "orgs", Attributes: map[string]string{"name": OrgName}}}
	o.Links.Self = absBase(r) + "/admin/v1/orgs/" + s.opts.OrgID + "/events/" + o.ID
	return o
}
