// Package billing is the explanation engine of DESIGN.md §6: a pure
// function from a site Snapshot (what a collector read from Atlassian) and
// the admin's Settings to a Findings document that says, for every seat
// (user × product), which paths grant it, whether it is billable, and
// whether it is removable, needs review or must be held, with reasons.
//
// The package does no I/O of any kind (TestPurity enforces it over go list
// -deps): collectors in app/atlassian build the Snapshot, app/scan and the
// CLI store or print the Findings. Everything Atlassian does not document
// and the engine still has to decide lives in unconfirmed.go.
//
// The rules are applied per user in the order of §6:
//
//  1. billability (account type, status, role)          rule1
//  2. activity against the threshold                    rule2
//  3. platform and product admins                       rule3
//  4. the plan: the groups whose removal frees the seat  rule4
//  5. collateral, for seats otherwise removable          rule5
//  6. integration users                                 rule6
//  7. manual holds                                      rule7
//  8. no Organizations API data                         rule8
//  9. the verdict: the highest category of the reasons  rule9
//
// Rule 5 judges the other seats a plan would free by rules 1–4 and 6–8
// only, so there is no circularity. The cases §6 leaves open are decided
// in app/sitesim/testdata/fixture/NOTES.md, the oracle the tests compare
// against verdict for verdict.
package billing
