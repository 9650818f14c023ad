package sitesim

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The simulator's admin API, at /sim/admin/… on the server's root: what
// a site admin does in admin.atlassian.com's UI, driven by tests and
// demos. It is not an Atlassian API and takes NO credentials: the
// simulator is meant to listen on loopback only, and anyone who can reach
// it can change the site. Changes go through the same Site mutations as
// product REST (licence limits, synced groups, audit log as the site
// admin) and send the same webhooks (webhooks.go):
//
//	POST   /sim/admin/users                             {accountId?, displayName, email?, groups?: [groupId], products?: [key]} → 201 user; user_created
//	DELETE /sim/admin/users/{accountId}                 → 204; deactivates the account, user_deleted (see below)
//	POST   /sim/admin/users/{accountId}/close           → 204; closes the account: gone from the site, reported closed (privacy.go)
//	PUT    /sim/admin/users/{accountId}                 {displayName} → 204; user_updated, reported updated (privacy.go)
//	POST   /sim/admin/groups/{groupId}/members          {accountId} → 204; user_updated
//	DELETE /sim/admin/groups/{groupId}/members/{accountId} → 204; user_updated
//	POST   /sim/admin/activity                          {accountId, product, at?} → 204; records lastActive (at: RFC 3339, default now)
//	PUT    /sim/admin/groups/{groupId}                  {synced} → 204; the group is (or stops being) synced from the identity provider, which keeps its members as they are now
//	POST   /sim/admin/access-requests                   {accountId, product} → 204; an org admin approves the account's request for the product: it joins the product's default group (user_updated)
//	PUT    /sim/admin/audit-webhooks                    {url, header, value} → 204; the org's audit-log webhook (audithooks.go)
//	DELETE /sim/admin/audit-webhooks                    → 204
//
// products puts a new user into each product's default groups. Removing
// a user deactivates the account (memberships are kept, as Atlassian
// keeps them) and sends user_deleted, the event an app watching for
// "this account lost access" must handle; whether Jira sends
// user_updated instead on a mere deactivation is not confirmed.
// Errors are JSON {"message": "…"} with 400 or 404.

const adminPrefix = "/sim/admin/"

// adminError is the admin API's error.
type adminError struct {
	status  int
	message string
}

func adminErr(status int, msg string) *adminError { return &adminError{status, msg} }

// fromAPI turns a Site mutation's refusal into an admin error.
func fromAPI(e *apiError) *adminError {
	msg := strings.Join(e.ErrorMessages, "; ")
	for k, v := range e.Errors {
		msg = strings.TrimPrefix(msg+"; "+k+": "+v, "; ")
	}
	status := e.Status
	if status != http.StatusNotFound {
		status = http.StatusBadRequest
	}
	return adminErr(status, msg)
}

// serveAdmin answers the admin API; it reports whether path was in it.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) bool {
	if !strings.HasPrefix(r.URL.Path, adminPrefix) {
		return false
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, adminPrefix), "/")
	var err *adminError
	switch {
	case len(parts) == 1 && parts[0] == "users" && r.Method == http.MethodPost:
		err = s.adminCreateUser(w, r)
	case len(parts) == 2 && parts[0] == "users" && r.Method == http.MethodDelete:
		err = s.adminDeactivate(w, parts[1])
	case len(parts) == 3 && parts[0] == "users" && parts[2] == "close" && r.Method == http.MethodPost:
		err = s.adminCloseUser(w, parts[1])
	case len(parts) == 2 && parts[0] == "users" && r.Method == http.MethodPut:
		err = s.adminUpdateUser(w, r, parts[1])
	case len(parts) == 3 && parts[0] == "groups" && parts[2] == "members" && r.Method == http.MethodPost:
		err = s.adminAddMember(w, r, parts[1])
	case len(parts) == 4 && parts[0] == "groups" && parts[2] == "members" && r.Method == http.MethodDelete:
		err = s.adminRemoveMember(w, parts[1], parts[3])
	case len(parts) == 1 && parts[0] == "activity" && r.Method == http.MethodPost:
		err = s.adminActivity(w, r)
	case len(parts) == 2 && parts[0] == "groups" && r.Method == http.MethodPut:
		err = s.adminSetGroup(w, r, parts[1])
	case len(parts) == 1 && parts[0] == "access-requests" && r.Method == http.MethodPost:
		err = s.adminApproveAccess(w, r)
	case len(parts) == 1 && parts[0] == "audit-webhooks" && (r.Method == http.MethodPut || r.Method == http.MethodDelete):
		err = s.adminAuditWebhooks(w, r)
	default:
		err = adminErr(http.StatusNotFound, "no admin operation "+r.Method+" "+r.URL.Path)
	}
	if err != nil {
		writeJSON(w, err.status, map[string]string{"message": err.message})
	}
	return true
}

func decodeAdmin(r *http.Request, v any) *adminError {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return adminErr(http.StatusBadRequest, "invalid JSON body: "+err.Error())
	}
	return nil
}

type adminUserIn struct {
	AccountID   string   `json:"accountId"`
	DisplayName string   `json:"displayName"`
	Email       string   `json:"email"`
	Groups      []string `json:"groups"`
	Products    []string `json:"products"`
}

func (s *Server) adminCreateUser(w http.ResponseWriter, r *http.Request) *adminError {
	var in adminUserIn
	if err := decodeAdmin(r, &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.DisplayName) == "" {
		return adminErr(http.StatusBadRequest, "displayName is required")
	}
	if in.AccountID == "" {
		in.AccountID = "557058:" + newUUID()
	}
	if strings.ContainsAny(in.AccountID, "/ ") {
		return adminErr(http.StatusBadRequest, "accountId may not contain spaces or slashes")
	}
	site := s.site
	site.mu.Lock()
	defer site.mu.Unlock()
	if site.users[in.AccountID] != nil {
		return adminErr(http.StatusBadRequest, "account "+in.AccountID+" already exists")
	}
	var groups []*Group
	for _, gid := range in.Groups {
		g := site.groups[gid]
		if g == nil {
			return adminErr(http.StatusNotFound, "no group "+gid)
		}
		groups = append(groups, g)
	}
	for _, key := range in.Products {
		if !slices.ContainsFunc(site.all, func(p Product) bool { return p.Key == key }) {
			return adminErr(http.StatusNotFound, "no product "+key)
		}
		for _, g := range site.groupsByName() {
			if slices.Contains(g.DefaultFor, key) && !slices.Contains(groups, g) {
				groups = append(groups, g)
			}
		}
	}
	now := s.now().UTC()
	u := &User{AccountID: in.AccountID, AccountType: AccountAtlassian, Active: true, DisplayName: in.DisplayName,
		Email: in.Email, TimeZone: defaultTimeZone, Locale: "en_US", AddedToOrg: &now}
	site.users[u.AccountID] = u
	i, _ := slices.BinarySearchFunc(site.order, u.DisplayName, func(id, name string) int {
		if compareStrings(site.users[id].DisplayName, name) <= 0 {
			return -1 // after existing equal names
		}
		return 1
	})
	site.order = slices.Insert(site.order, i, u.AccountID)
	site.reindex()
	// One user_created, not a user_updated per group as well.
	notify := site.notify
	site.notify = nil
	defer func() { site.notify = notify }()
	var added []*Group
	for _, g := range groups {
		if aerr := site.addMemberAs(g, u.AccountID, ""); aerr != nil {
			for _, a := range added { // undo: the user is not created
				_ = site.removeMemberAs(a, u.AccountID, SyncedRemovalUndone, "")
			}
			delete(site.users, u.AccountID)
			site.order = slices.DeleteFunc(site.order, func(id string) bool { return id == u.AccountID })
			site.reindex()
			return fromAPI(aerr)
		}
		added = append(added, g)
	}
	site.logEvent(auditEvent{Action: evUserInvited, AccountID: u.AccountID})
	if notify != nil {
		notify(webhookUserCreated, u.AccountID)
	}
	writeJSON(w, http.StatusCreated, u)
	return nil
}

func (s *Server) adminDeactivate(w http.ResponseWriter, accountID string) *adminError {
	site := s.site
	site.mu.Lock()
	defer site.mu.Unlock()
	u := site.users[accountID]
	if u == nil {
		return adminErr(http.StatusNotFound, "no account "+accountID)
	}
	if u.Active {
		u.Active, u.Status = false, "deactivated"
		site.membershipChanged() // user counts count active accounts only
		site.emitUserEvent(webhookUserDeleted, accountID)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) adminGroup(groupID string) (*Group, *adminError) {
	g := s.site.groups[groupID]
	if g == nil {
		return nil, adminErr(http.StatusNotFound, "no group "+groupID)
	}
	return g, nil
}

func (s *Server) adminAddMember(w http.ResponseWriter, r *http.Request, groupID string) *adminError {
	var in struct {
		AccountID string `json:"accountId"`
	}
	if err := decodeAdmin(r, &in); err != nil {
		return err
	}
	if in.AccountID == "" {
		return adminErr(http.StatusBadRequest, "accountId is required")
	}
	s.site.mu.Lock()
	defer s.site.mu.Unlock()
	g, err := s.adminGroup(groupID)
	if err != nil {
		return err
	}
	if aerr := s.site.addMemberAs(g, in.AccountID, ""); aerr != nil {
		return fromAPI(aerr)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// adminApproveAccess approves an access request: "Approval adds the user
// to the app's default group and billing starts"
// (https://support.atlassian.com/user-management/docs/approve-or-deny-product-access-requests).
// Which default group, when a product has several, is not documented:
// the first by name.
func (s *Server) adminApproveAccess(w http.ResponseWriter, r *http.Request) *adminError {
	var in struct {
		AccountID string `json:"accountId"`
		Product   string `json:"product"`
	}
	if err := decodeAdmin(r, &in); err != nil {
		return err
	}
	site := s.site
	site.mu.Lock()
	defer site.mu.Unlock()
	if site.users[in.AccountID] == nil {
		return adminErr(http.StatusNotFound, "no account "+in.AccountID)
	}
	var def *Group
	for _, g := range site.groupsByName() {
		if slices.Contains(g.DefaultFor, in.Product) {
			def = g
			break
		}
	}
	if def == nil {
		return adminErr(http.StatusNotFound, "no default group of product "+in.Product)
	}
	site.logEvent(auditEvent{Action: evAccessRequestApproved, AccountID: in.AccountID, Product: in.Product})
	if aerr := site.addMemberAs(def, in.AccountID, ""); aerr != nil {
		return fromAPI(aerr)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) adminRemoveMember(w http.ResponseWriter, groupID, accountID string) *adminError {
	s.site.mu.Lock()
	defer s.site.mu.Unlock()
	g, err := s.adminGroup(groupID)
	if err != nil {
		return err
	}
	if aerr := s.site.removeMemberAs(g, accountID, s.opts.Modes.SyncedRemoval, ""); aerr != nil {
		return fromAPI(aerr)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) adminActivity(w http.ResponseWriter, r *http.Request) *adminError {
	var in struct {
		AccountID string    `json:"accountId"`
		Product   string    `json:"product"`
		At        time.Time `json:"at"`
	}
	if err := decodeAdmin(r, &in); err != nil {
		return err
	}
	if in.AccountID == "" || in.Product == "" {
		return adminErr(http.StatusBadRequest, "accountId and product are required")
	}
	if in.At.IsZero() {
		in.At = s.now()
	}
	site := s.site
	site.mu.Lock()
	defer site.mu.Unlock()
	u := site.users[in.AccountID]
	if u == nil {
		return adminErr(http.StatusNotFound, "no account "+in.AccountID)
	}
	if !slices.ContainsFunc(site.all, func(p Product) bool { return p.Key == in.Product }) {
		return adminErr(http.StatusNotFound, "no product "+in.Product)
	}
	if u.LastActive == nil {
		u.LastActive = map[string]time.Time{}
	}
	u.LastActive[in.Product] = in.At.UTC()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// adminSetGroup makes a group synced from the identity provider, or not
// (an org admin connecting or disconnecting SCIM): the IdP's membership is
// the group's as it is now.
func (s *Server) adminSetGroup(w http.ResponseWriter, r *http.Request, groupID string) *adminError {
	var in struct {
		Synced *bool `json:"synced"`
	}
	if aerr := decodeAdmin(r, &in); aerr != nil {
		return aerr
	}
	if in.Synced == nil {
		return adminErr(http.StatusBadRequest, "synced is required")
	}
	site := s.site
	site.mu.Lock()
	defer site.mu.Unlock()
	g := site.groups[groupID]
	if g == nil {
		return adminErr(http.StatusNotFound, "no group "+groupID)
	}
	g.Synced = *in.Synced
	if g.Synced {
		site.idp[g.ID] = maps(site.members[g.ID])
	} else {
		delete(site.idp, g.ID)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
