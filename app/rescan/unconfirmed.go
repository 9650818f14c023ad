package rescan

import "strings"

// UNCONFIRMED: Atlassian documents the audit log's event shape
// (https://dac-static.atlassian.com/cloud/admin/organization/swagger.v3.json,
// pollEvents) but neither its action names nor which context entries each
// action carries, and it does not document the body its audit-log webhooks
// push (https://support.atlassian.com/security-and-access-policies/docs/learn-more-about-audit-log-webhooks).
// This file holds every guess Seatlens makes about them, and the guesses
// only ever decide which accounts to read again: a wrong guess costs a
// rescan or misses one, never a wrong verdict, because the verdict comes
// from reading the account.
//
//   - An event concerns accounts through its context entries of type
//     "users" (or "user"); its group, if any, through type "groups" (or
//     "group").
//   - The actions that can change a seat are those whose name speaks of
//     a group membership, product or app access, a role, an invitation,
//     an access request, or an account's status (touchesSeats). Any
//     other action with a user in its context is ignored.
//   - A pushed delivery is a JSON array of events in the events-stream
//     shape, or an object with such an array under "data", or one event.

// touchesSeats reports whether an audit action may change seats.
func touchesSeats(action string) bool {
	a := strings.ToLower(action)
	for _, w := range []string{"group", "access", "role", "product", "invite", "invitation", "user_created", "user_added",
		"activated", "deactivated", "suspended", "restored", "granted", "revoked"} {
		if strings.Contains(a, w) {
			return true
		}
	}
	return false
}

func isAccessRequest(event string) bool {
	e := strings.ToLower(event)
	return strings.Contains(e, "access_request") || strings.Contains(e, "access-request") || strings.Contains(e, "accessrequest")
}

func isInvite(event string) bool {
	e := strings.ToLower(event)
	return strings.Contains(e, "invite") || strings.Contains(e, "invitation")
}

// isUserCreated: Jira's user_created webhook and Forge's avi:jira:created:user.
func isUserCreated(event string) bool {
	return event == "user_created" || event == "avi:jira:created:user"
}

func isUserType(t string) bool  { return t == "users" || t == "user" }
func isGroupType(t string) bool { return t == "groups" || t == "group" }
