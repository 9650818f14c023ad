package scan

import (
	"strings"

	"github.com/seatlens/seatlens/app/atlassian"
	"github.com/seatlens/seatlens/app/billing"
)

// What the collector assumes about the Organizations API beyond what the
// fact files state (billing-model.md §7). Each is an [inference] from the
// documented shapes; the simulated site follows them. When Atlassian
// confirms or contradicts one, this is the place to change.
//
//   - A workspace's attributes.hostUrl is the site's absolute URL, so the
//     site's products are the workspaces whose host is --site's host. A
//     bare host or a custom domain would find none, and the scan fails
//     loudly (errNoProducts) rather than explaining nothing.
//   - directoryId "-" widens the per-user and per-group role-assignment
//     calls as it is documented to widen the searches.
//   - The users search's "groups" expansion lists all of a user's groups;
//     no truncation is documented.
//   - Accounts outside the directory are app or customer accounts; they
//     come from Jira's users list.
//   - productAccess[].id is the product's ARI (the workspace id and the
//     role assignments' resourceId); the example shows "<product instance
//     id>". productAccessKey falls back to the entry's key (billing's
//     mapping table, where "jira" is itself unconfirmed), and an entry it
//     cannot place makes the account's activity unknown rather than
//     "never used" (keyed.go), so a wrong guess costs review seats, never
//     a wrongly removable one. Placed by key in an org with several sites,
//     two entries of one product cannot be told apart; the most recent
//     date is kept, which can only hold a seat, not free it.

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
