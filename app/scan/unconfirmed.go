package scan

import (
	"strings"

	"github.com/seatlens/seatlens/app/atlassian"
	"github.com/seatlens/seatlens/app/billing"
)

// What the collector assumes about the Organizations API beyond what
// Atlassian documents (orgapi-documented.md restates the reference:
// https://developer.atlassian.com/cloud/admin/organization/rest/ and
// https://dac-static.atlassian.com/cloud/admin/organization/swagger.v3.json).
// Each is an inference; the simulated site follows them. When Atlassian
// confirms or contradicts one, this is the place to change.
//
//   - A workspace's attributes.hostUrl is the site's URL (an absolute URL,
//     as Atlassian's tracker shows; a bare host is taken too), so the
//     site's products are the workspaces whose host is --site's host. A
//     custom domain would find none, and the scan fails loudly
//     (errNoProducts) rather than explaining nothing.
//   - A workspace's product is its id's ARI owner segment, else its
//     typeKey, through billing's mapping table; neither's values are
//     documented.
//   - Workspace status: online | offline | deprecated is documented, what
//     they mean is not. An offline or deprecated workspace is taken to
//     bill nothing: its product is not explained, and the findings list it
//     under sources.offline. An undocumented status counts as online.
//   - The workspaces search's links.next is documented as a URL, while the
//     next request must carry a body cursor alone; the cursor is taken
//     from the URL's ?cursor= parameter, and a URL without one ends the
//     scan with an error (atlassian.eachPostCursorPage).
//   - The service-accounts list documents no parameters and no link
//     format: it is asked for bare, and a next link is followed as a URL,
//     or sent back as ?cursor= when it is a token.
//   - Status not_invited (accountStatus active, no org membership) is an
//     account that may hold a billable seat, like active: Atlassian does not
//     say such an account is not billed.
//   - The users search's "groups" and "productAccess" expansions list all
//     of a user's groups and products; no truncation is documented. Absent,
//     they read as empty (the generated client types them optional).
//   - Accounts outside the directory are app or customer accounts; they
//     come from Jira's users list. A customer account the directory does
//     list is read there, and holds the inferred JSM customer seat unless
//     its role assignments name a role.
//   - A role-assignment entry with only the deprecated roles list (the
//     2025-07 OpenAPI had no roleAssignments) does not say how a role came.
//     Roles its groups do not grant are taken as direct: direct and inferred
//     give the same verdict, and the account's roles count as unverified,
//     so none of its seats is removable.
//   - productAccess[].id is the product's ARI (the workspace id and the
//     role assignments' resourceId); Atlassian says "unique ID of the
//     Product instance". productAccessKey falls back to the entry's key
//     (billing's mapping table, where "jira" is itself unconfirmed), and an
//     entry it cannot place makes the account's activity unknown rather
//     than "never used" (keyed.go), so a wrong guess costs review seats,
//     never a wrongly removable one. Placed by key in an org with several
//     sites, two entries of one product cannot be told apart; the most
//     recent date is kept, which can only hold a seat, not free it.
//   - Page sizes of 100 for users and groups search: Atlassian documents
//     defaults (50, 20) but no maximum.

// productAccessKey places a productAccess entry on one of the site's
// products.
func productAccessKey(pa atlassian.ProductAccess, byARI map[string]string) (string, bool) {
	if key, ok := byARI[pa.ID]; ok {
		return key, true
	}
	if strings.HasPrefix(pa.ID, "ari:cloud:") {
		return "", false // an ARI that is not one of this site's: another site's product
	}
	return billing.FromOrgProductKey(pa.Key)
}

// unplaceableIsOtherSite reports whether an entry that could not be placed
// is surely not this site's: an ARI names its site, so an unknown product
// ARI is a product Seatlens does not explain (Bitbucket, Trello, …).
func unplaceableIsOtherSite(pa atlassian.ProductAccess) bool {
	return strings.HasPrefix(pa.ID, "ari:cloud:")
}
