// Package scan runs a scan: it collects a site through app/atlassian into
// a billing.Snapshot along the cheapest complete plan of DESIGN.md §5, then
// the caller explains it with app/billing. The CLI (`seatlens scan`) uses
// it today; the app's durable scan queue will live here too.
package scan
