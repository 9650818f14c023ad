package sitesim

import (
	"net/http"
	"slices"
)

// Queries and mutations of the Site behind the group and user endpoints.
// Unexported methods expect the caller to hold s.mu (read lock for
// queries, write lock for mutations); exported ones lock for themselves.

// groupsByName returns every group, sorted by name (Jira lists groups so).
func (s *Site) groupsByName() []*Group {
	out := make([]*Group, 0, len(s.groups))
	for _, g := range s.groups {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *Group) int { return compareStrings(a.Name, b.Name) })
	return out
}

// membersOf returns the account IDs in group gid in display order, the
// order group/member pages in.
//
// The ordered list of a group is cached until a membership or the order
// changes: every page of a 5,000-member group would otherwise sort (or
// walk every user of the site) again. The result is shared; callers must
// not modify it.
func (s *Site) membersOf(gid string, includeInactive bool) []string {
	s.cacheMu.Lock()
	all, ok := s.memberCache[gid]
	if !ok {
		in := s.members[gid]
		byPos := make([]int, 0, len(in))
		for id := range in {
			byPos = append(byPos, s.pos[id])
		}
		slices.Sort(byPos)
		all = make([]string, len(byPos))
		for i, at := range byPos {
			all[i] = s.order[at]
		}
		if s.memberCache == nil {
			s.memberCache = map[string][]string{}
		}
		s.memberCache[gid] = all
	}
	s.cacheMu.Unlock()
	if includeInactive {
		return all
	}
	var out []string
	for _, id := range all {
		if s.users[id].Active {
			out = append(out, id)
		}
	}
	return out
}

// membershipChanged drops the cached member lists and user counts; every
// change of s.members, s.order or an account's active flag calls it (with
// s.mu held for writing).
func (s *Site) membershipChanged() {
	s.cacheMu.Lock()
	clear(s.memberCache)
	clear(s.countCache)
	s.cacheMu.Unlock()
}

// reindex records every account's position in s.order; call it after
// every change of s.order (the caller holds s.mu for writing).
func (s *Site) reindex() {
	if s.pos == nil {
		s.pos = make(map[string]int, len(s.order))
	}
	clear(s.pos)
	for i, id := range s.order {
		s.pos[id] = i
	}
	s.membershipChanged()
}

// addMember puts accountID into g, refusing what Jira refuses. A product
// the group grants costs a seat only for an active atlassian account that
// does not already hold it (Site.userCount's rule), so only such an
// account can hit a licence limit.
func (s *Site) addMember(g *Group, accountID string) *apiError {
	return s.addMemberAs(g, accountID, "")
}

// addMemberAs is addMember on behalf of actor ("" = the product REST
// caller, see auditEvent), recording the change in the audit log.
func (s *Site) addMemberAs(g *Group, accountID, actor string) *apiError {
	u := s.users[accountID]
	switch {
	case u == nil:
		return errUserNotFound(accountID)
	case g.Synced:
		return errSyncedGroup(g.Name)
	case s.members[g.ID][accountID]:
		return errAlreadyMember(accountID, g.Name)
	case u.AccountType == AccountCustomer:
		return errCustomerNotGroupable(accountID)
	}
	if u.Active && u.AccountType == AccountAtlassian {
		held := s.productsOf(accountID)
		for _, gr := range g.Grants {
			if held[gr.Product] != "" || !licensedRole(gr.Role) {
				continue // already counted, or a role that takes no seat
			}
			held[gr.Product] = gr.Role // a group granting user and admin costs one seat
			p, ok := s.product(gr.Product)
			if ok && !p.Unlimited && s.userCount(p.Key) >= p.Seats {
				return errSeatLimit(p.Name)
			}
		}
	}
	before := s.accessOf(accountID)
	s.members[g.ID][accountID] = true
	s.logMembership(actor, evUserAddedToGroup, g, accountID, before)
	s.emitUserEvent(webhookUserUpdated, accountID) // hook: webhooks.go
	return nil
}

// removeMember takes accountID out of g. A synced group's membership
// belongs to the identity provider: refused or undone later, per mode.
func (s *Site) removeMember(g *Group, accountID string, syncedRemoval string) *apiError {
	return s.removeMemberAs(g, accountID, syncedRemoval, "")
}

// removeMemberAs is removeMember on behalf of actor, recording the change
// in the audit log.
func (s *Site) removeMemberAs(g *Group, accountID, syncedRemoval, actor string) *apiError {
	switch {
	case s.users[accountID] == nil:
		return errUserNotFound(accountID)
	case !s.members[g.ID][accountID]:
		return errNotMember(accountID, g.Name)
	case g.Synced && syncedRemoval != SyncedRemovalUndone:
		return errSyncedGroup(g.Name)
	}
	before := s.accessOf(accountID)
	delete(s.members[g.ID], accountID)
	s.logMembership(actor, evUserRemovedFromGroup, g, accountID, before)
	s.emitUserEvent(webhookUserUpdated, accountID) // hook: webhooks.go
	return nil
}

// SyncIdP simulates the identity provider's next sync (mode (b)): every
// synced group's membership becomes again what the IdP says, undoing any
// change made through product REST since.
func (s *Site) SyncIdP() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.groupsByName() { // by name: a stable audit-log order
		if !g.Synced {
			continue
		}
		// Replay the IdP's changes one member at a time so the audit log
		// records each, as it does for a change made through an API.
		want := s.idp[g.ID]
		for _, id := range s.order {
			before := s.accessOf(id)
			switch {
			case want[id] && !s.members[g.ID][id]:
				s.members[g.ID][id] = true
				s.logMembership(actorIdP, evUserAddedToGroup, g, id, before)
				s.emitUserEvent(webhookUserUpdated, id)
			case !want[id] && s.members[g.ID][id]:
				delete(s.members[g.ID], id)
				s.logMembership(actorIdP, evUserRemovedFromGroup, g, id, before)
				s.emitUserEvent(webhookUserUpdated, id)
			}
		}
	}
}

// ensureAppAccount gives the site the account an installed app acts as, so
// /myself, /user and users/search know it as Jira does (accountType app).
// It never counts against a licence (Site.userCount counts atlassian
// accounts only).
func (s *Site) ensureAppAccount(accountID, name string) {
	if accountID == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users[accountID] != nil {
		return
	}
	u := &User{AccountID: accountID, AccountType: AccountApp, Active: true, DisplayName: name, TimeZone: defaultTimeZone, Locale: "en_US"}
	s.users[accountID] = u
	i, _ := slices.BinarySearchFunc(s.order, name, func(id, name string) int {
		c := compareStrings(s.users[id].DisplayName, name)
		if c == 0 {
			return -1 // after existing equal names, as NewSite's stable sort would put it
		}
		return c
	})
	s.order = slices.Insert(s.order, i, accountID)
	s.reindex()
}

// errUserNotFound is Jira's 404 for an unknown account (the OpenAPI's
// "Returned if the user is not found"); the text is the one Jira Cloud is
// reported to answer POST group/user with (pycontribs/jira#975).
func errUserNotFound(accountID string) *apiError {
	return jiraError(http.StatusNotFound, "Specified user does not exist or you do not have required permissions")
}
