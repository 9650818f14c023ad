package billing

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
)

// render turns a user's worked seats into the findings document, with
// every reason in words.
func (e *engine) render(u *User, w *userWork, marked string) UserFindings {
	uf := UserFindings{
		AccountID: u.AccountID, DisplayName: u.DisplayName, Email: u.Email,
		AccountType: u.AccountType, Status: u.Status, ClaimStatus: u.ClaimStatus,
		PlatformRoles: u.PlatformRoles,
		Seats:         w.seatsOut(len(w.seats)),
	}
	_, isMarked := e.marked[u.AccountID]
	uf.Class = e.class(u, w, isMarked)
	for i := range w.seats {
		uf.Seats[i] = e.renderSeat(u, w, &w.seats[i], marked)
	}
	return uf
}

func (e *engine) class(u *User, w *userWork, marked bool) string {
	nb := e.rule1User(u)
	switch {
	case nb.has(cServiceAccount):
		return ClassServiceAccount
	case nb.has(cAppAccount):
		return ClassAppAccount
	case nb.has(cCustomer):
		return ClassCustomer
	case marked:
		return ClassIntegrationUser
	}
	guest, licensed := false, false
	for i := range w.seats {
		guest = guest || w.seats[i].role == RoleGuest
		licensed = licensed || Billable(w.seats[i].role)
	}
	switch {
	case guest && !licensed:
		return ClassGuest
	case u.ClaimStatus == "unmanaged":
		return ClassUnmanaged
	case u.ClaimStatus == "managed":
		return ClassManaged
	}
	return ClassUnknown
}

func (e *engine) renderSeat(u *User, w *userWork, s *seatWork, marked string) Seat {
	p := e.products[s.product]
	out := Seat{
		Product: p.Key, Role: s.role, Billable: s.billable, LastActive: s.lastActive,
		Verdict: s.final.verdict(), Reasons: w.reasonsOut(bits.OnesCount32(uint32(s.final))),
		Warnings: []Warning{}, Plan: []PlanItem{}, Collateral: []string{},
	}
	slices.SortFunc(s.paths, func(a, b pathTmp) int {
		if c := cmp.Compare(a.via, b.via); c != 0 {
			return c
		}
		if a.via == pGroup && a.group != b.group {
			return strings.Compare(e.groups[a.group].g.Name, e.groups[b.group].g.Name)
		}
		return cmp.Compare(roleRank(b.role), roleRank(a.role))
	})
	out.Paths = w.pathsOut(len(s.paths))
	for i, pt := range s.paths {
		out.Paths[i] = e.path(pt)
	}
	for c := code(0); c < numCodes; c++ {
		if s.final.has(c) {
			ri := reasonTable[c]
			out.Reasons = append(out.Reasons, Reason{ri.Code, ri.Category, ri.Scope, e.message(c, u, s, marked)})
		}
	}
	if !s.billable {
		return out
	}
	for c := wcode(0); c < numWarnings; c++ {
		if s.warnings[c] {
			out.Warnings = append(out.Warnings, Warning{warningTable[c], e.warningMessage(c, s)})
		}
	}
	if !s.executable {
		return out
	}
	for _, c := range s.collateral {
		out.Collateral = append(out.Collateral, e.products[c].Key)
	}
	slices.Sort(out.Collateral)
	for _, gi := range s.plan {
		g := e.groups[gi].g
		item := PlanItem{GroupID: g.ID, GroupName: g.Name, DirectoryID: g.DirectoryID, Default: e.groups[gi].isDefault, AlsoFrees: []string{}}
		for _, c := range s.collateral {
			t := &w.seats[w.byProduct[c]]
			if slices.ContainsFunc(t.paths, func(pt pathTmp) bool { return pt.via == pGroup && pt.group == gi }) {
				item.AlsoFrees = append(item.AlsoFrees, e.products[c].Key)
			}
		}
		slices.Sort(item.AlsoFrees)
		out.Plan = append(out.Plan, item)
	}
	return out
}

func (e *engine) path(pt pathTmp) Path {
	switch pt.via {
	case pDirect:
		return Path{Via: ViaDirect, Role: pt.role}
	case pInferred:
		return Path{Via: ViaInferred, Role: pt.role}
	}
	gi := &e.groups[pt.group]
	p := Path{Via: ViaGroup, Role: pt.role, GroupID: gi.g.ID, GroupName: gi.g.Name, Default: gi.isDefault}
	switch gi.synced {
	case syncYes:
		p.Synced = &yes
	case syncNo:
		p.Synced = &no
	}
	return p
}

var yes, no = true, false

// thresholdNote closes an activity sentence with the threshold used.
func (e *engine) thresholdNote() string {
	return " (threshold " + strconv.Itoa(e.settings.InactiveDays) + " days)."
}

// activityRef names the instant activity is measured from.
func (e *engine) activityRef() string {
	if e.activity == nil {
		return "the scan"
	}
	if e.activity.Kind == ActivityAdminCSV {
		return "the users export of " + fmtDate(e.activity.AsOf)
	}
	return "the scan"
}

// groupNames lists groups the way a sentence does: "a", "a and b",
// "a, b and c".
func (e *engine) groupNames(idx []int) string {
	names := make([]string, len(idx))
	for i, g := range idx {
		names[i] = e.groups[g].g.Name
	}
	return andList(names)
}

func andList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// isAre picks the verb for a list of n groups.
func isAre(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (e *engine) message(c code, u *User, s *seatWork, marked string) string {
	pn := e.products[s.product].Name
	switch c {
	case cServiceAccount:
		return "A service account: Atlassian does not charge for service accounts."
	case cAppAccount:
		return "An app account (accountType app): app and bot accounts are not billed."
	case cCustomer:
		return "A customer account (accountType customer): customers take no licence."
	case cSuspended:
		return "Access is suspended in the organisation: suspended users are not billed."
	case cDeactivated:
		if u.Status == "" {
			return "Inactive in Jira (active=false): deactivated accounts are not billed."
		}
		return "The account is deactivated: deactivated accounts are not billed."
	case cGuest:
		return fmt.Sprintf("A guest of %s: guests are free.", pn)
	case cNonBillableRole:
		return fmt.Sprintf("The %s role on %s takes no licence.", s.role, pn)
	case cRecentlyActive:
		return "Used " + pn + " on " + fmtDate(*s.lastActive) + ", " + nDays(e.activity.AsOf.Sub(*s.lastActive)) + " before " + e.activityRef() + e.thresholdNote()
	case cNewAccount:
		return fmt.Sprintf("Added to the organisation on %s, %s before %s, and has not used %s yet.", fmtDate(*u.AddedToOrg), nDays(e.activity.AsOf.Sub(*u.AddedToOrg)), e.activityRef(), pn)
	case cPlatformAdmin:
		return "A platform admin (" + e.platformRoles(u) + "): admins keep their access."
	case cProductAdmin:
		return fmt.Sprintf("Holds the admin role on %s.", pn)
	case cIntegrationUser:
		if marked != "" {
			return "Marked as an integration user in Settings: " + marked
		}
		return "Marked as an integration user in Settings."
	case cManualHold:
		return e.holdMessage(u.AccountID, e.products[s.product].Key)
	case cNoActivityData:
		switch {
		case e.activity == nil:
			return "No activity source: connect an org key or give the admin users export."
		case u.ActivityCovered && slices.Contains(u.ActivityUnknown, e.products[s.product].Key):
			return fmt.Sprintf("The activity source has no entry for %s for this account.", pn)
		case u.ActivityCovered:
			return fmt.Sprintf("Never seen in %s, and the date the account joined is unknown.", pn)
		}
		return "The activity source does not cover this account."
	case cDirectRole:
		return fmt.Sprintf("A role on %s is assigned to the user directly: leaving groups cannot free the seat.", pn)
	case cInferredRole:
		return fmt.Sprintf("Atlassian infers a role on %s that no group grants: leaving groups cannot free the seat.", pn)
	case cSyncedGroup:
		var synced []int
		for _, g := range s.plan {
			if e.groups[g].synced == syncYes {
				synced = append(synced, g)
			}
		}
		return fmt.Sprintf("Reached through the IdP-synced group %s: in the identity provider, remove the user from %s.", e.groupNames(synced), e.groupNames(s.plan))
	case cSharedGroupCollateral:
		t := s.blocking
		return fmt.Sprintf("Leaving %s would also take away %s, which is %s.", e.groupNames(s.plan), e.products[t.product].Name, collateralState(t))
	case cPossibleIntegrationUser:
		return "The name or e-mail looks like an integration account: confirm it in Settings."
	case cNeedsOrgData:
		if e.snap.Sources.OrgAPI {
			return "Likely removable: this account's role assignments were not read, so a direct or inferred role cannot be ruled out."
		}
		return "Likely removable: connect an org key to confirm (direct roles, synced groups, other products and service accounts cannot be checked without it)."
	case cInactive:
		return "Last used " + pn + " on " + fmtDate(*s.lastActive) + ", " + nDays(e.activity.AsOf.Sub(*s.lastActive)) + " before " + e.activityRef() + e.thresholdNote()
	case cNeverAccessed:
		return "Never used " + pn + "; added to the organisation on " + fmtDate(*u.AddedToOrg) + ", " + nDays(e.activity.AsOf.Sub(*u.AddedToOrg)) + " before " + e.activityRef() + "."
	}
	return reasonTable[c].Code
}

func collateralState(t *seatWork) string {
	if !t.billable {
		return "in use (active within the threshold)"
	}
	var first string
	for c := code(0); c < numCodes; c++ {
		if t.base.has(c) && reasonTable[c].Category == t.base.verdict() {
			first = reasonTable[c].Code
			break
		}
	}
	if t.base.verdict() == VerdictHold {
		return "on hold (" + first + ")"
	}
	return "under review (" + first + ")"
}

func (e *engine) platformRoles(u *User) string {
	var roles []string
	for _, r := range u.PlatformRoles {
		if r == "org-admin" || r == "site-admin" {
			roles = append(roles, r)
		}
	}
	if len(roles) == 0 {
		return "member of a site-admin group"
	}
	return strings.Join(roles, ", ")
}

func (e *engine) holdMessage(accountID, product string) string {
	for _, h := range e.holds[accountID] {
		if len(h.Products) == 0 || slices.Contains(h.Products, product) {
			msg := "Manual hold: " + h.Reason
			if h.Expires != nil {
				msg += " (until " + fmtDate(*h.Expires) + ")"
			}
			return msg
		}
	}
	return "Manual hold."
}

func (e *engine) warningMessage(c wcode, s *seatWork) string {
	switch c {
	case wUnmanagedAccount:
		return "The account is outside the organisation's verified domains: group removal works, deactivation would not."
	case wDefaultGroupRegrant:
		var d []int
		for _, g := range s.plan {
			if e.groups[g].isDefault {
				d = append(d, g)
			}
		}
		return e.groupNames(d) + " " + isAre(len(d), "is a default group", "are default groups") + ": granting the product again puts the user back."
	case wSyncStatusUnknown:
		var u []int
		for _, g := range s.plan {
			if e.groups[g].synced == syncUnknown {
				u = append(u, g)
			}
		}
		return fmt.Sprintf("Whether %s %s synced from an identity provider is unknown without an org key.", e.groupNames(u), isAre(len(u), "is", "are"))
	}
	return warningTable[c]
}
