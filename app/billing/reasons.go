package billing

// Verdicts, highest first (§6 rule 9).
const (
	VerdictNotBillable = "not-billable"
	VerdictHold        = "hold"
	VerdictReview      = "review"
	VerdictRemovable   = "removable"
)

// Reason scopes: a user-scope reason holds for every seat of the account.
const (
	ScopeUser = "user"
	ScopeSeat = "seat"
)

// code is a reason code's index in the canonical order (fixture NOTES.md
// decision 1): by category, then by the rule that gives it.
type code uint8

const (
	cServiceAccount code = iota
	cAppAccount
	cCustomer
	cSuspended
	cDeactivated
	cGuest
	cNonBillableRole

	cRecentlyActive
	cNewAccount
	cPlatformAdmin
	cProductAdmin
	cIntegrationUser
	cManualHold

	cNoActivityData
	cDirectRole
	cInferredRole
	cSyncedGroup
	cSharedGroupCollateral
	cPossibleIntegrationUser
	cNeedsOrgData

	cInactive
	cNeverAccessed

	numCodes
)

type reasonInfo struct {
	Code     string
	Category string // the verdict it pushes towards
	Scope    string
	Rule     int // §6 rule
}

var reasonTable = [numCodes]reasonInfo{
	cServiceAccount:          {"service-account", VerdictNotBillable, ScopeUser, 1},
	cAppAccount:              {"app-account", VerdictNotBillable, ScopeUser, 1},
	cCustomer:                {"customer", VerdictNotBillable, ScopeUser, 1},
	cSuspended:               {"suspended", VerdictNotBillable, ScopeUser, 1},
	cDeactivated:             {"deactivated", VerdictNotBillable, ScopeUser, 1},
	cGuest:                   {"guest", VerdictNotBillable, ScopeSeat, 1},
	cNonBillableRole:         {"non-billable-role", VerdictNotBillable, ScopeSeat, 1},
	cRecentlyActive:          {"recently-active", VerdictHold, ScopeSeat, 2},
	cNewAccount:              {"new-account", VerdictHold, ScopeUser, 2},
	cPlatformAdmin:           {"platform-admin", VerdictHold, ScopeUser, 3},
	cProductAdmin:            {"product-admin", VerdictHold, ScopeSeat, 3},
	cIntegrationUser:         {"integration-user", VerdictHold, ScopeUser, 6},
	cManualHold:              {"manual-hold", VerdictHold, ScopeSeat, 7},
	cNoActivityData:          {"no-activity-data", VerdictReview, ScopeSeat, 2},
	cDirectRole:              {"direct-role", VerdictReview, ScopeSeat, 4},
	cInferredRole:            {"inferred-role", VerdictReview, ScopeSeat, 4},
	cSyncedGroup:             {"synced-group", VerdictReview, ScopeSeat, 4},
	cSharedGroupCollateral:   {"shared-group-collateral", VerdictReview, ScopeSeat, 5},
	cPossibleIntegrationUser: {"possible-integration-user", VerdictReview, ScopeUser, 6},
	cNeedsOrgData:            {"needs-org-data", VerdictReview, ScopeSeat, 8},
	cInactive:                {"inactive", VerdictRemovable, ScopeSeat, 2},
	cNeverAccessed:           {"never-accessed", VerdictRemovable, ScopeSeat, 2},
}

// ReasonCodes lists every reason code in canonical order.
func ReasonCodes() []string {
	out := make([]string, numCodes)
	for i, r := range reasonTable {
		out[i] = r.Code
	}
	return out
}

// ReasonCategory returns the verdict category of a reason code.
func ReasonCategory(c string) (string, bool) {
	for _, r := range reasonTable {
		if r.Code == c {
			return r.Category, true
		}
	}
	return "", false
}

// reasonSet is a set of codes; iterating its bits in order gives the
// canonical reason order for free.
type reasonSet uint32

func (s *reasonSet) add(c code)             { *s |= 1 << c }
func (s reasonSet) has(c code) bool         { return s&(1<<c) != 0 }
func (s reasonSet) hasAny(o reasonSet) bool { return s&o != 0 }

var (
	notBillableSet = setOf(cServiceAccount, cAppAccount, cCustomer, cSuspended, cDeactivated, cGuest, cNonBillableRole)
	holdSet        = setOf(cRecentlyActive, cNewAccount, cPlatformAdmin, cProductAdmin, cIntegrationUser, cManualHold)
	reviewSet      = setOf(cNoActivityData, cDirectRole, cInferredRole, cSyncedGroup, cSharedGroupCollateral, cPossibleIntegrationUser, cNeedsOrgData)
)

func setOf(cs ...code) reasonSet {
	var s reasonSet
	for _, c := range cs {
		s.add(c)
	}
	return s
}

// verdict is rule 9: the highest category present; a seat whose reasons
// are all removable ones (or none) is removable.
func (s reasonSet) verdict() string {
	switch {
	case s.hasAny(notBillableSet):
		return VerdictNotBillable
	case s.hasAny(holdSet):
		return VerdictHold
	case s.hasAny(reviewSet):
		return VerdictReview
	}
	return VerdictRemovable
}

// Warning codes (never change the verdict), in §6's order.
type wcode uint8

const (
	wUnmanagedAccount wcode = iota
	wDefaultGroupRegrant
	wSyncStatusUnknown
	numWarnings
)

var warningTable = [numWarnings]string{
	wUnmanagedAccount:    "unmanaged-account",
	wDefaultGroupRegrant: "default-group-regrant",
	wSyncStatusUnknown:   "sync-status-unknown",
}

// WarningCodes lists every warning code in order.
func WarningCodes() []string { return warningTable[:] }

// Site finding codes.
const (
	FindingDefaultGrantsOtherProduct = "default-group-grants-other-product"
	FindingDefaultGrantsAdmin        = "default-group-grants-admin"
	FindingSyncedAccessGroup         = "synced-access-group"
	FindingSeatsVsLimit              = "seats-vs-limit"
	FindingMonthlySaving             = "monthly-saving"
	FindingMissingOrgData            = "missing-org-data"
	FindingNoActivitySource          = "no-activity-source"
	FindingUserCountMismatch         = "user-count-mismatch"
)

// SiteFindingCodes lists every site finding code.
func SiteFindingCodes() []string {
	return []string{FindingDefaultGrantsOtherProduct, FindingDefaultGrantsAdmin, FindingSyncedAccessGroup,
		FindingSeatsVsLimit, FindingMonthlySaving, FindingMissingOrgData, FindingNoActivitySource, FindingUserCountMismatch}
}
