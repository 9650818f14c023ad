package billing

// Every product-identity mapping and detection rule the fact files mark
// [unconfirmed], or that they do not state at all, lives in this file, so
// that when Atlassian confirms or contradicts one, one place changes.

// unconfirmedOrgKeys are Organizations API product keys whose canonical
// product is not documented. The v2 users-search example shows
// productAccess key "jira" (billing-model.md §7.5) without saying which
// application it stands for; since 2024 Atlassian sells Jira Software and
// Jira Work Management as one "Jira", whose application role key is
// jira-software.
var unconfirmedOrgKeys = map[string]string{
	"jira": JiraSoftware,
}

// csvLabels maps the admin CSV's "Last seen in <label>" labels. "Jira
// Software" is the older files' label; current files say "Jira", taken to
// be the same product (gaps-2026-11.md §2.1 marks the change unconfirmed).
// "Jira Work Management" has not been seen in an export; it is mapped to
// its application role so that such a column is not silently dropped.
var csvLabels = map[string]string{
	"jira":                    JiraSoftware,       // unconfirmed: current label for Jira Software
	"jira software":           JiraSoftware,       // older exports
	"jira work management":    JiraWorkManagement, // unconfirmed: never seen in an export
	"jira service management": JiraServiceManagement,
	"jira service desk":       JiraServiceManagement, // unconfirmed: pre-2020 product name
	"jira product discovery":  JiraProductDiscovery,
	"confluence":              Confluence,
}

// integrationTokens are the words that make an account look like an
// integration (§6 rule 6). DESIGN.md names the patterns
// (bot/svc/integration/automation/api); Atlassian documents no detection
// rule, so a name match is only ever a review, never a hold.
var integrationTokens = []string{"bot", "svc", "integration", "automation", "api"}

// orgAdminInfersEveryProduct: an org admin holds the admin role on every
// product of the organisation (billing-model.md §1.6 quotes it: "Org
// admins have the user and product admin roles for all products"). That
// this makes a billable seat on each is an [inference] of the fact file;
// the engine adds the inferred admin path when the Organizations API was
// read (without it, org-admin is invisible anyway).
const orgAdminInfersEveryProduct = true

// CustomerAccountProduct is the product a customer account (Jira's
// accountType "customer", "a Jira Service Desk account representing an
// external service desk", billing-model.md §1.5) is taken to hold the
// customer role on. No API lists a portal-only customer's role: such
// accounts cannot join groups and the Organizations API's directory does
// not hold them, so collectors give them this inferred, non-billable seat
// to keep them visible rather than silently absent.
const CustomerAccountProduct = JiraServiceManagement

// Account types other than atlassian, app and customer (Jira's "unknown",
// or none given) are taken as people's accounts: rule 1 has no reason for
// them, and treating them as free could hide a billable seat. They are
// rare; the seat's other reasons decide.
