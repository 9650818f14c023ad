package sitesim

import (
	"fmt"
	"net/http"
	"slices"
	"time"
)

// This file is the one place where the simulated site chooses behaviour
// that Atlassian's documentation and OpenAPI leave open. Each choice says
// what is known, what was chosen and why; each mode is switchable and
// tested both ways. Nothing else in the package may invent behaviour.

// Modes switch the unconfirmed behaviours.
type Modes struct {
	// SyncedRemoval: what happens when a member of an IdP-synced group is
	// removed through product REST (DELETE /rest/api/3/group/user). The
	// error code and message are undocumented (billing-model.md §3).
	//   SyncedRemovalRefused (a): refused with an Atlassian-style error
	//     body (400; Atlassian's Org API says "You can't add a user to a
	//     group synced from an identity provider").
	//   SyncedRemovalUndone (b): accepted, and undone by the next simulated
	//     IdP sync (Site.SyncIdP), as a cleanup vendor reports.
	SyncedRemoval string
	// AppMembershipRefused: whether the app's own account is refused when it
	// tries to remove or add group members through product REST with the Forge app token.
	// The operation is documented for site administrators; whether an
	// app's account passes that check is unconfirmed (DESIGN.md §4).
	//   false (c, the zero value): it may. true (d): 403 as for a user who
	//   is not a site admin.
	AppMembershipRefused bool
}

// Synced-group removal modes.
const (
	SyncedRemovalRefused = "refused" // (a)
	SyncedRemovalUndone  = "undone"  // (b)
)

// DefaultModes: synced removals are refused (an error a client must
// handle), and the app's account may change membership (otherwise no
// Forge-token cleanup could be exercised at all).
func DefaultModes() Modes {
	return Modes{SyncedRemoval: SyncedRemovalRefused}
}

// apiError is an error answer in Jira's ErrorCollection envelope.
type apiError struct {
	Status        int
	ErrorMessages []string          `json:"errorMessages"`
	Errors        map[string]string `json:"errors"`
	// raw replaces the envelope when the gateway, not Jira, answers.
	raw any
}

func (e *apiError) body() any {
	if e.raw != nil {
		return e.raw
	}
	if e.Errors == nil {
		e.Errors = map[string]string{}
	}
	if e.ErrorMessages == nil {
		e.ErrorMessages = []string{}
	}
	return struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
	}{e.ErrorMessages, e.Errors}
}

func jiraError(status int, msg string) *apiError {
	return &apiError{Status: status, ErrorMessages: []string{msg}}
}

// errNotAuthenticated: Jira answers an anonymous or badly signed request to
// these operations with 401 (the OpenAPI lists 401 "if the authentication
// credentials are incorrect or missing"). The message text is chosen.
func errNotAuthenticated() *apiError {
	return jiraError(http.StatusUnauthorized, "You are not authenticated. Authentication required to perform this operation.")
}

// errConnectScope: an operation whose x-atlassian-connect-scope is
// INACCESSIBLE, or above the app's descriptor scopes, is refused with 403
// (DESIGN.md §4: "Jira's 403"). The message text is chosen.
func errConnectScope(op operation) *apiError {
	if op.ConnectScope == "INACCESSIBLE" {
		return jiraError(http.StatusForbidden, fmt.Sprintf("Connect apps cannot access this resource (%s).", op.ID))
	}
	return jiraError(http.StatusForbidden, fmt.Sprintf("The app's scopes do not permit this operation (%s needs %s).", op.ID, op.ConnectScope))
}

// errOAuthUnauthorized and errScopeMismatch: the api.atlassian.com gateway
// answers OAuth bearer tokens with its own body, not Jira's envelope; the
// shape below is the gateway's as commonly reported ({"code","message"}),
// unconfirmed for Forge app tokens.
func errOAuthUnauthorized() *apiError {
	return &apiError{Status: http.StatusUnauthorized, raw: map[string]any{"code": 401, "message": "Unauthorized"}}
}

func errScopeMismatch() *apiError {
	return &apiError{Status: http.StatusUnauthorized, raw: map[string]any{"code": 401, "message": "Unauthorized; scope does not match"}}
}

// errNotSiteAdmin: group membership changes need site administration
// (OpenAPI description); the body is Jira's envelope with a chosen text.
func errNotSiteAdmin() *apiError {
	return jiraError(http.StatusForbidden, "You must be a site administrator to change group membership.")
}

// errSyncedGroup is mode (a)'s refusal.
func errSyncedGroup(group string) *apiError {
	return jiraError(http.StatusBadRequest, fmt.Sprintf("Group %s is synced from an identity provider; change its membership there.", group))
}

// errSeatLimit: adding a member beyond a product's licence limit fails.
// Jira's exact status and text for this are unconfirmed; 400 with a
// message naming the product is chosen.
func errSeatLimit(product string) *apiError {
	return jiraError(http.StatusBadRequest, fmt.Sprintf("Adding the user would exceed the licence limit of %s.", product))
}

// Bare-array endpoints (users/search, user/groups, user/search) return no
// total: callers page until a short page (billing-model.md §5.1 inference).
// group/member clamps maxResults to 50 silently (its OpenAPI text says
// "between 1 and 50"); users/search clamps to 1000 ("limited to 1000").
const (
	memberPageMax = 50
	usersPageMax  = 1000
)

// The site mount (https://<site>.atlassian.net[/context]) takes Basic and
// Connect JWTs; the api mount (https://api.atlassian.com/ex/jira/<cloudId>)
// takes OAuth bearer tokens. That the site URL refuses a Forge app token is
// assumed from Atlassian's "The apiBaseUrl is NOT the same as your site URL".

// userSearchMax: user/search "takes the filtered users … up to the
// thousandth user" (OpenAPI), so it never pages past the 1000th match.
const userSearchMax = 1000

// ---- Jira product REST: choices made by the endpoints of routes.go ----

// unlimitedSeats is numberOfSeats and remainingSeats of a product with an
// unlimited licence (hasUnlimitedSeats true). The OpenAPI gives no value;
// -1 is Jira Server's convention for "unlimited" in the same bean.
const unlimitedSeats = -1

// errBadParam: a query parameter Jira cannot use (not a number, startAt
// below 0, maxResults below 1, an accessType or applicationKey outside the
// OpenAPI's "Valid values", includeInactiveUsers not a boolean) is 400 for
// every operation that documents 400. The text is chosen.
func errBadParam(name, value string) *apiError {
	return &apiError{Status: http.StatusBadRequest, ErrorMessages: []string{fmt.Sprintf("Invalid value %q for parameter %s.", value, name)},
		Errors: map[string]string{name: "invalid value"}}
}

// errBadBody: a request body that is not the JSON object the operation
// takes is 400 (Jira's usual answer to unreadable JSON; text chosen).
func errBadBody(err error) *apiError {
	return jiraError(http.StatusBadRequest, "Request body is not valid JSON: "+err.Error())
}

// errMissingAccountID: accountId is required. group/user documents 400 for
// it; GET /user and /user/groups document no 400 (only 401/403/404), and
// answer 400 too — an undocumented status, see specDeviation.
func errMissingAccountID() *apiError {
	return &apiError{Status: http.StatusBadRequest, ErrorMessages: []string{"The accountId parameter is required."},
		Errors: map[string]string{"accountId": "required"}}
}

// errNotMember: DELETE group/user for an account that is not in the group.
// The OpenAPI's 404 is for a group or user that does not exist; Jira (Data
// Center's GroupService, which clients such as Artemis match on) answers
// 400 "Cannot remove user … since user is not a member of …". Unconfirmed
// for Cloud; 400 with that text is chosen.
func errNotMember(accountID, group string) *apiError {
	return jiraError(http.StatusBadRequest, fmt.Sprintf("Cannot remove user '%s' from group '%s' since user is not a member of '%s'", accountID, group, group))
}

// errAlreadyMember: POST group/user for an account already in the group.
// Undocumented; 400 is chosen to mirror errNotMember (Data Center refuses
// it as a validation error), so a client must read before it re-adds.
func errAlreadyMember(accountID, group string) *apiError {
	return jiraError(http.StatusBadRequest, fmt.Sprintf("Cannot add user. '%s' is already a member of '%s'", accountID, group))
}

// errCustomerNotGroupable: "JSM portal-only customers can't be added to
// groups" (billing-model.md §1.5). Status and text through product REST
// are undocumented; 400 is chosen.
func errCustomerNotGroupable(accountID string) *apiError {
	return jiraError(http.StatusBadRequest, fmt.Sprintf("Customer account %s cannot be added to groups.", accountID))
}

// Synced groups and POST group/user: Atlassian's Org API refuses adding a
// user to a group synced from an identity provider ("You can't add a user
// to a group synced from an identity provider", billing-model.md §3).
// Product REST is chosen to refuse it the same way, errSyncedGroup, in
// both SyncedRemoval modes: mode (b) is about removals being undone later,
// and an addition the IdP would undo is refused up front.

// errUnknownApplicationKey: approximateLicenseCount/product/{applicationKey}
// with a key outside the OpenAPI's enum. The operation documents no 4xx
// besides 401/403; 404, as for an unknown application role, is chosen —
// an undocumented status, see specDeviation.
func errUnknownApplicationKey(key string) *apiError {
	return jiraError(http.StatusNotFound, fmt.Sprintf("No Jira application with key '%s'.", key))
}

// errPermissionsUserNotFound: permissions/check for an accountId the site
// does not know. The OpenAPI lists 200/400/403 only; 400 is chosen.
func errPermissionsUserNotFound(accountID string) *apiError {
	return &apiError{Status: http.StatusBadRequest, ErrorMessages: []string{fmt.Sprintf("User %s does not exist.", accountID)},
		Errors: map[string]string{"accountId": "unknown user"}}
}

// hasAccess is group/bulk's accessType / applicationKey filter. The
// OpenAPI only names the valid values; the combinations are chosen:
//   - accessType=site-admin: groups granting site administration
//     (Group.SiteAdmin). Site administration is not per product, so an
//     applicationKey does not narrow it.
//   - accessType=admin|user: groups with a grant of exactly that role,
//     on applicationKey's product when given (an admin grant does not
//     match "user", though both cost a seat).
//   - applicationKey alone: groups with any grant on that product.
//   - groupId and groupName (both repeatable) select the union of the
//     groups they name; unknown ones match nothing (no 404).
func hasAccess(g *Group, access, app string) bool {
	switch access {
	case AccessSiteAdmin:
		return g.SiteAdmin
	case "":
		return app == "" || slices.ContainsFunc(g.Grants, func(gr Grant) bool { return gr.Product == app })
	}
	return slices.ContainsFunc(g.Grants, func(gr Grant) bool { return gr.Role == access && (app == "" || gr.Product == app) })
}

// globalPermissions is who holds which global permission (permissions/
// check). Jira's grants live in its permission configuration, which the
// site does not model; chosen, in the spirit of a default Cloud site:
//   - SYSTEM_ADMIN: the API-token admin and members of a site-admin group.
//   - ADMINISTER: those, members of a group with an admin grant on any
//     product (jira-administrators), and the account of an installed
//     Connect app whose descriptor holds ADMIN (Jira puts it in
//     atlassian-addons-admin); appAdmin says so.
//   - USER_PICKER (Browse users and groups): every holder of a product
//     and every app account (apps browse users through it).
//   - CREATE_SHARED_OBJECTS, MANAGE_GROUP_FILTER_SUBSCRIPTIONS,
//     BULK_CHANGE: atlassian accounts holding a product.
//
// Inactive or unknown accounts hold nothing. Project permissions are never
// granted: the site has no projects, so every project and issue ID is
// invalid and ignored.
func (s *Site) globalPermissions(accountID string, appAdmin bool) map[string]bool {
	held := map[string]bool{}
	u := s.users[accountID]
	if u == nil || !u.Active {
		return held
	}
	siteAdmin := accountID == s.admin
	admin := siteAdmin || (u.AccountType == AccountApp && appAdmin)
	for _, g := range s.groupsOf(accountID) {
		if g.SiteAdmin {
			siteAdmin, admin = true, true
		}
		if slices.ContainsFunc(g.Grants, func(gr Grant) bool { return gr.Role == RoleAdmin }) {
			admin = true
		}
	}
	user := admin || u.AccountType == AccountApp || len(s.productsOf(accountID)) > 0
	for _, p := range knownGlobalPermissions() {
		switch p {
		case "SYSTEM_ADMIN":
			held[p] = siteAdmin
		case "ADMINISTER":
			held[p] = admin
		case "USER_PICKER":
			held[p] = user
		default:
			held[p] = user && u.AccountType == AccountAtlassian
		}
	}
	return held
}

// specDeviation names the answers whose status or body the OpenAPI does
// not describe, and why the site gives them anyway. The contract test
// checks only the ErrorCollection envelope of these; any other answer must
// match the OpenAPI exactly.
func specDeviation(method, path string, status int) string {
	switch {
	case status == http.StatusUnauthorized && (path == "/rest/api/3/users/search" || path == "/rest/api/3/permissions/check"):
		return "401 for missing or bad credentials is Jira's answer on every operation (errNotAuthenticated); these two do not list it"
	case (status == http.StatusUnauthorized || status == http.StatusForbidden) && path == "/rest/api/3/license/approximateLicenseCount":
		return "the OpenAPI's ErrorCollections schema admits only {}; Jira's documented 403 body is the ErrorCollection envelope (billing-model.md §5.8)"
	case status == http.StatusBadRequest && method == http.MethodGet && (path == "/rest/api/3/user" || path == "/rest/api/3/user/groups"):
		return "errMissingAccountID: accountId is required but no 400 is documented"
	case status == http.StatusNotFound && path == "/rest/api/3/license/approximateLicenseCount/product/{applicationKey}":
		return "errUnknownApplicationKey: a key outside the enum has no documented answer"
	}
	return ""
}

// Smaller choices of shape, where the OpenAPI is silent:
//   - applicationrole "groups"/"groupDetails" ("groups associated with the
//     application role") list every group with any grant on the product,
//     admin grants included, sorted by name; userCountDescription is
//     "N users" (Jira's text names the user type, e.g. "5 developers").
//     userCount ("the number of users counting against your license")
//     counts every active atlassian account holding a licensed role on the
//     product by any path: a group, a direct or inferred role, org admin
//     (Site.countUsers). A scan without an org key sees only the groups, so
//     its count can be lower, which the engine reports as a mismatch.
//   - user/search matches query as a case-insensitive substring of the
//     display name or the visible e-mail (Jira matches word prefixes, a
//     subset of this); a well-formed property query matches nobody, since
//     the site stores no user properties.
//   - group/bulk does not clamp maxResults (no limit is documented);
//     group/member and users/search clamp silently (memberPageMax,
//     usersPageMax).
//   - POST group/user answers the Group with its "users" expansion (the
//     first memberPageMax members, inactive ones included), as the
//     createGroup example shows the same bean.
//   - Permission is checked before parameters: a Forge app token in mode
//     (d) gets 403 even for a malformed request.
//   - /myself for an app token whose account the site does not know
//     answers a minimal active app User rather than an error.
//   - Avatar URLs are stable per account and point at the site itself
//     (/secure/useravatar), not at Atlassian's avatar CDN, so demos stay
//     offline.

// Rate limits and faults (ratelimit.go, faults.go; billing-model.md §9
// leaves these open, the full reasoning is in the "CHOICES" block of
// ratelimit.go and the doc comment of Faults):
//   - one points pool per site, shared by every Connect app and Forge
//     token on it (Atlassian's tier-1 pool is per app across its tenants);
//   - identity reads are the GETs of users, groups and members, 2 points
//     per returned object counted in the 2xx body; licence and
//     application-role GETs, POST permissions/check, writes and error
//     answers cost the base 1 point; 401s cost nothing;
//   - the base point is drawn on admission, the per-object part after the
//     answer (a call may overdraw the pool; Remaining stops at 0);
//   - burst buckets are per operation and method, shared by all callers,
//     holding one second of their rate; the quota is checked first;
//   - success answers carry only X-RateLimit-NearLimit (below 20% left);
//   - injected faults are fixed latency plus a seeded 500/503 draw after
//     the limits; a 503 carries Retry-After: 1; faults cost no points;
//   - limits and faults are off in the zero Options.

// ---- Organizations API (orgapi*.go) -----------------------------------
// The shapes Atlassian documents are written up in
// /work/shared/atlassian/orgapi-documented.md (§1–§15) and restated as
// testdata/orgapi-documented.openapi.json; its sources are Atlassian's
// reference pages and OpenAPI:
//
//	[OAS]      https://dac-static.atlassian.com/cloud/admin/organization/swagger.v3.json
//	[INTRO]    https://developer.atlassian.com/cloud/admin/organization/rest/intro/
//	[WS-PAGE]  https://developer.atlassian.com/cloud/admin/organization/rest/api-group-workspaces/
//	[SA-PAGE]  https://developer.atlassian.com/cloud/admin/api-access/rest/api-group-service-account/
//	[POLL]     https://developer.atlassian.com/cloud/admin/organization/poll-events-migration
//	[AX-296]   https://jira.atlassian.com/browse/AX-296 (tracker; illustration)
//	[ACCESS-1603] https://jira.atlassian.com/browse/ACCESS-1603 (tracker)
//
// Everything below is chosen where those are silent; each choice is one
// behaviour, not a mode.
//
// Errors and codes
//   - Envelopes are documented per family ([OAS]): v1 operations answer
//     401/429 with the gateway's ProxyError {"code":401,"message":
//     "Unauthorized"}, other errors with the errors list; workspaces
//     answers 401 with a ProxyError and 400/403/404/500 with a bare
//     application error object; v2 directory, user, group, role-assignment
//     and membership operations use the errors list. CHOICE: the
//     service-accounts API, whose error bodies are undocumented [SA-PAGE],
//     uses the errors list too, and so do a path the mount lacks (404
//     ADMIN-404-1, "unknown resource") and a method it does not serve on
//     a path (405 ADMIN-405-1, "method not supported", with Allow).
//   - CHOICE: a v2 (and service-accounts) 401 carries ADMIN-401-2, the
//     code [OAS] lists on the v1 membership 401s (no code is documented
//     for v2 401s); the message of a ProxyError 401 is "Unauthorized".
//   - Documented codes used as documented: ADMIN-400-1 invalid cursor,
//     ADMIN-400-3 from/to of events-stream not epoch milliseconds
//     ("invalid time date"), ADMIN-400-24 invalid request body, ADMIN-403-5
//     synced group, ADMIN-404-2 organization not found, ADMIN-404-8 user
//     not found, ADMIN-404-10 group not found, ADMIN-409-3 licence limit,
//     ADMIN-500-1 internal error.
//   - CHOICE: an unknown directoryId (path, or directoryIds of a search
//     body) is 404 ADMIN-404-1 ("unknown resource"; no directory code is
//     documented). A bad query parameter (limit not a number or out of
//     range, sortOrder not asc|desc, more than 10 items in a
//     role-assignment filter) is 400 ADMIN-400-4 ("invalid resource").
//     Anything wrong in a body — not a JSON object, a wrong type, limit
//     out of range, a sortBy other than one {field, asc|desc} entry,
//     combinations the docs forbid (searchTerm with emails; groupNames
//     with searchTerm or groupIds; a workspaces cursor with any other
//     property), a membership body without accountId — is 400
//     ADMIN-400-24, on workspaces too (whose documented 400 example code
//     is ADMIN-400-4).
//   - Error ids are a hash of code and detail, so answers are
//     reproducible; title is the HTTP reason phrase.
//   - Statuses the sim gives that the documents do not list for the
//     operation are named by orgSpecDeviation below; the contract test
//     checks only their envelope.
//
// Cursors and links
//   - Every cursor is an opaque token (base64url JSON, walkCursor) that
//     carries the whole walk: the list it belongs to, the offset, the page
//     size and the filters. For GET lists [OAS] says "If present, all other
//     parameters are discarded", and the sim does discard them. CHOICE: the
//     POST users and groups searches do the same: a body with a cursor is
//     answered from the cursor, its other properties ignored (neither
//     refused nor applied). Workspaces refuses them, as documented. A token
//     the sim did not issue, or one of another list, is 400 ADMIN-400-1.
//   - LinkPageCursor (directories, searches, role assignments): links.self
//     is the token of the page itself, prev/next those of its neighbours.
//     Where the docs type them string|null (searches, role assignments)
//     a missing page is null; where they type them string (directories) it
//     is left out.
//   - LinkPageModel (/v1/orgs, workspaces, events-stream): absolute URLs
//     on the host the request came to, left out when there is no such
//     page. CHOICE: a workspaces link is <base>/admin/v2/orgs/{orgId}/
//     workspaces?cursor=<token>, the token being what the next request
//     sends as its body "cursor" (the docs do not say how a URL maps to the
//     body cursor); self carries this page's token.
//   - CHOICE: /v1/orgs is one page (links.self only); a cursor it did not
//     issue is 400 ADMIN-400-1. last-active-dates is one page (links {}).
//
// Page sizes (documented defaults and maxima in orgapi.go)
//   - CHOICE: users search 50 by default (documented), at most
//     usersSearchMax; groups search 20 by default (documented), at most
//     groupsSearchMax (neither maximum is documented). A limit outside the
//     range is a 400, not clamped. Array filters of the searches have no
//     size limit (only the role-assignment lists document 10).
//   - CHOICE: the service-accounts list takes no parameters (none are
//     documented): the first call ignores any, pages hold
//     serviceAccountsPage items, links.next/prev are URLs
//     <base>/admin/api-access/v1/orgs/{orgId}/service-accounts?cursor=<token>
//     and are left out when there is no such page; the sim reads only the
//     cursor it put there. X-RateLimit-Limit and X-RateLimit-Remaining are
//     serviceAccountsRateLimit (the mount does not rate-limit, so nothing is
//     ever drawn) and X-RateLimit-Reset is the next full minute in RFC 3339.
//   - The Org API mount has no rate limits or injected failures (no numbers
//     are documented, [INTRO]); the latency fault applies.
//
// Directory and users
//   - One directory (DefaultDirectoryID, named OrgName); "-" means it too.
//     Its members are the atlassian accounts; app and customer accounts are
//     not directory users (service accounts have their own API), so the
//     user and membership endpoints answer ADMIN-404-8 for them.
//     GET /directories matches searchTerm against the name, accountId
//     against membership; icon is an avatar-style URL on the sim's host.
//   - User objects. CHOICE where the scenario leaves org fields empty:
//     status active (deactivated when Jira's active is false); claimStatus
//     managed; managementSource synced for a member of a synced group, else
//     invited; nickname = name = display name; emailVerified = e-mail
//     visible; the e-mail is left out when hidden; mfaEnabled false (so an
//     mfaEnabled:true filter matches nobody); jobTitle ""; department,
//     organization, location and timeZone null (Jira's time zone is not the
//     org profile's); picture and avatar stable URLs on the sim's host
//     (sizes 48 and 24); addedToOrg (typed string, not nullable) left out
//     when unknown; deactivatedOn the scenario's DeactivatedOn for
//     deactivated and for_deletion accounts, else null; forDeletion true
//     exactly for status for_deletion.
//   - accountStatus and membershipStatus follow the documented composite
//     rule. CHOICE for the combinations it leaves open: deactivated and
//     for_deletion accounts are accountStatus inactive with membershipStatus
//     active. userDirectoryStatus of a role assignment is the
//     membershipStatus.
//   - Users search returns platformRoles ("atlassian/<role>", including
//     site-admin for a member of a site-admin group), counts, productAccess
//     and groups only with the matching expand value (an unknown expand or
//     filter value selects nothing extra, it is not refused). counts.
//     resources is the number of entries of the user's role-assignment
//     list. Users are ordered by nickname (sortBy nick_name desc reverses
//     it). GET users/{accountId} wraps the user in "data", takes no expand,
//     and always carries platformRoles and counts (the §12 field list).
//   - productAccess lists the products a user holds any role on through a
//     group, a direct or inferred role, or org admin. CHOICE: key is the
//     v1 last-active product enum's key (jira-software, jira-service-desk,
//     jira-core, confluence; the site's own key otherwise) and
//     "jira-product-discovery" for Jira Product Discovery, which that enum
//     lacks; id is the resource ARI "ari:cloud:<site product
//     key>::site/<cloudId>"; lastActiveTimestamp is the model's LastActive,
//     and the key is left out for a product never used (the docs type it
//     string, not nullable). last-active-dates uses the same keys (see
//     orgSchemaEnumExtensions for JPD) and leaves out products never used;
//     added_to_org(_timestamp) is null when unknown.
//   - The groups expansion of a user gives name and description as
//     strings (the group's description, "" when it has none), never null.
//
// Role assignments
//   - Group grants → group_direct, DirectRoles → direct, InferredRoles →
//     inferred, and an org-admin holds an inferred atlassian/admin on every
//     product. resourceOwner is the site product key (format undocumented;
//     the example is jira-core). Platform roles are entries with
//     resourceOwner "platform", resourceId ari:cloud:platform::org/<orgId>
//     (org-admin) or ::site/<cloudId> (others), method direct, null
//     directoryId and userDirectoryStatus.
//   - defaultRole (for a product the group is the default group of) is
//     atlassian/user when the group grants it, else its first role there.
//   - directoryIds "-" matches every directory.
//
// Groups
//   - managedBy: the scenario's Group.ManagedBy, else "external" for a
//     synced group and "admins" otherwise; description the scenario's, ""
//     when none. A synced group is neither modifiable nor deletable, a
//     default or site-admin group is not deletable. counts in a search only
//     with expand counts.users / counts.resources (each key with its own
//     value); GET groups/{groupId} wraps the group in "data" and always
//     carries both counts. Groups are ordered by name (sortBy name desc
//     reverses it).
//   - Membership add body is {"accountId"}; success is 204 with no body
//     (undocumented); adding an existing member or removing a non-member
//     is a 204 no-op, logging nothing. Synced groups refuse both with 403
//     ADMIN-403-5 whatever Modes.SyncedRemoval says (that mode is about
//     product REST). Beyond a licence limit: 409 ADMIN-409-3, the same seat
//     rule as product REST (Site.addMember).
//
// Workspaces
//   - Every product of the site, in site order: id the product's ARI
//     "ari:cloud:<product key>::site/<cloudId>" (the ARI owner segment is
//     undocumented; [AX-296] shows another), type "workspaces" (as [AX-296]
//     shows), typeKey and attributes.type the site product key, status
//     Product.WorkspaceStatus (online by default), statusDetails [], icons
//     and avatars {}, labels [], owner null, sandbox {"type":"NONE"}, usage
//     the product's licensed users (as applicationrole's userCount),
//     capacity the licence limit (null when unlimited), createdAt
//     workspaceCreatedAt, createdBy and updatedAt null, hostUrl the sim's
//     own absolute URL, realm workspaceRealm, regions [], links.self
//     <base>/admin/v2/orgs/{orgId}/workspaces/<escaped id> (not served),
//     relationships {}. query and sort are accepted and not applied.
//   - meta: pageSize the page size in force, startIndex/endIndex the
//     0-based indexes of the page's first and last workspace (null on an
//     empty page), total the number of workspaces.
//
// Audit log (events-stream)
//   - Actions are user_added_to_group, user_removed_from_group,
//     product_access_granted, product_access_revoked (one per product whose
//     access the membership change gave or took), and user_invited when
//     the admin API creates a user (after the memberships its products
//     give; its context names the user alone), and
//     access_request_approved before the default-group membership an
//     approved request gives (its context names the user and the product). Product REST changes are
//     attributed to the site admin (the sim does not tell the API token
//     from the Forge app's account there), Org API changes to
//     "org-api-key", IdP syncs to "identity-provider"; every actor has auth
//     {authType "api-token", tokenId, tokenLabel} and links.self (the
//     account's v2 user URL, else the org's URL); email only for accounts.
//     processedAt equals time. context holds the user, the group and (for
//     product events) the product, container the org, each with
//     attributes and links.self; location is {"ip": eventsLocationIP};
//     message is an English sentence in format eventsMessageFormat.
//   - The cursor names the last event seen, so new events never shift a
//     walk; it carries the sort order and page size, and from/to are not
//     carried (links.next drops them: the ACCESS-1603 quirk), so the pages
//     after the first of a from/to query are not filtered. meta.next is
//     the bare cursor and links.next the URL
//     <base>/admin/v1/orgs/{orgId}/events-stream?cursor=<token>; both are
//     left out on the last page; links.prev is never given; page_size is
//     the number of events on the page.
//
// Organizations API rate limit (orgapi_ratelimit.go), off unless
// Options.OrgRateLimit: one token bucket per org key over the whole mount,
// one second of the rate deep, checked after the key; a refusal is 429
// with X-RateLimit-Limit, X-RateLimit-Remaining 0 and X-RateLimit-Reset
// (RFC 3339, rounded up to the second a token is due) and no Retry-After;
// the body is the family's (ProxyError on v1 and workspaces, ADMIN-429-1
// in the errors list on v2). Atlassian publishes no numbers and no reset
// format; workspaces and service accounts document no 429 at all.
//
// Personal data reporting (privacy.go): a Connect app reports on its
// site's host, {site}/app/report-accounts/, signed as the app (an
// Atlassian staff answer says "using JWTs … in the context of each
// site"; the URL is inferred), and a Forge app token on the api mount
// ({api}/app/report-accounts/). Cycle-Period is whole seconds (Atlassian
// does not give its format); the rate limit is reportRatePerSecond
// requests a second per site, then 429 with Retry-After: 1 (Atlassian
// publishes no number).
//
// Audit-log webhooks (audithooks.go): a delivery is a POST of a JSON
// array of at most auditBatch events, each exactly as events-stream's
// data shows it, with the registered header; events logged within 5 ms
// go together; a non-2xx answer is retried as webhooks are. Atlassian
// documents the feature (up to three URLs, one static header, batches)
// but not the body.
//
// Service accounts: id is serviceAccountIDPrefix + account ID
// (atlassianId is the account ID), container the org ARI, status
// ACTIVE/INACTIVE, updatedAt addedToOrg in epoch ms (0 when unknown),
// createdById the site admin, description "".
const (
	orgCodeUnauthorized      = "ADMIN-401-2"
	OrgName                  = "Seatlens Sim Org"
	workspaceCreatedAt       = "2023-01-01T00:00:00Z"
	workspaceType            = "workspaces"
	workspaceRealm           = "us"
	usersSearchMax           = 100
	groupsSearchMax          = 100
	serviceAccountsPage      = 50
	serviceAccountsRateLimit = 100
	eventsLocationIP         = "127.0.0.1"
	eventsMessageFormat      = "plain"
	reportRatePerSecond      = 10
	reportCyclePeriod        = 7 * 24 * time.Hour

	serviceAccountIDPrefix = "sa-"
)

func errOrgUnauthorized() *orgError {
	return newOrgError(http.StatusUnauthorized, orgCodeUnauthorized, "Unauthorized", "The API key is missing, invalid or expired.")
}

func errOrgNotFound(orgID string) *orgError {
	return newOrgError(http.StatusNotFound, orgCodeOrgNotFound, "Not Found", "Organization "+orgID+" was not found.")
}

func errDirectoryNotFound(id string) *orgError {
	return newOrgError(http.StatusNotFound, orgCodeNoResource, "Not Found", "Directory "+id+" was not found.")
}

// orgSpecDeviation names the Org API answers whose status
// orgapi-documented.md does not list for the operation, and why the sim
// gives them anyway (path is the route's pattern path). The contract test
// checks only the envelope of these; every other answer must match the
// schema exactly.
func orgSpecDeviation(method, path string, status int) string {
	const (
		v1     = "/admin/v1/orgs/{orgId}"
		dir    = "/admin/v2/orgs/{orgId}/directories/{directoryId}"
		member = dir + "/groups/{groupId}/memberships"
	)
	switch {
	case path == "/admin/api-access/v1/orgs/{orgId}/service-accounts" && status != http.StatusOK:
		return "the service-accounts page documents no error at all; 400 (cursor), 401 and 404 (org) use the errors list"
	case (path == member || path == member+"/{accountId}") && status == http.StatusNoContent:
		return "v2 membership success is undocumented: 204 with no body"
	case path == v1+"/directory/users/{accountId}/last-active-dates" && (status == http.StatusBadRequest || status == http.StatusNotFound):
		return "last-active-dates lists no 400/404; a cursor the sim did not issue is 400, an unknown org or user 404"
	case path == v1+"/events-stream" && status == http.StatusNotFound:
		return "events-stream lists no 404; an unknown org is 404 ADMIN-404-2"
	case path == "/admin/v2/orgs/{orgId}/directories" && status == http.StatusNotFound:
		return "directories lists no 404; an unknown org is 404 ADMIN-404-2"
	case (path == dir+"/users/search" || path == dir+"/groups/search") && (status == http.StatusUnauthorized || status == http.StatusNotFound || status == http.StatusTooManyRequests):
		return "the searches document only their 400; 401, 404 (org, directory) and 429 use the v2 errors list"
	case path == dir+"/users/{accountId}" && (status == http.StatusUnauthorized || status == http.StatusNotFound || status == http.StatusTooManyRequests):
		return "user details lists no error; 401, 404 (org, directory, user) and 429 use the v2 errors list"
	case path == "/admin/v2/orgs/{orgId}/workspaces" && status == http.StatusTooManyRequests:
		return "workspaces documents no 429; the gateway's ProxyError, as its 401"
	}
	return ""
}

// orgSchemaEnumExtension is a value the sim sends outside a documented
// enum of the schema (testdata/orgapi-documented.openapi.json keeps the
// documented list; the contract test adds these before validating).
type orgSchemaEnumExtension struct {
	Schema, Property string // a component schema and one of its properties
	Values           []string
	Why              string
}

func orgSchemaEnumExtensions() []orgSchemaEnumExtension {
	return []orgSchemaEnumExtension{{
		Schema: "LastActiveProduct", Property: "key", Values: []string{"jira-product-discovery"},
		Why: "the v1 product enum has no Jira Product Discovery; the sim reports its activity under the key productAccess uses (the generated client treats the enum as open)",
	}}
}

// defaultRoleOf picks the role a default group grants by default.
func defaultRoleOf(roles []string) *string {
	if len(roles) == 0 {
		return nil
	}
	r := roles[0]
	if slices.Contains(roles, "atlassian/"+RoleUser) {
		r = "atlassian/" + RoleUser
	}
	return &r
}
