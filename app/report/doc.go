// Package report renders a billing.Findings document for people and
// spreadsheets: the CSV export of DESIGN.md §6 (one row per seat) and the
// self-contained HTML page that `seatlens scan --format html` writes and
// that an admin prints for finance.
//
// Both renderers are pure: they read nothing but the document and write
// only to the io.Writer they are given, so the CLI, the app's download
// handlers and the tests share them unchanged. Both stream: the cost of a
// 100k-user document is a pass over its users (the HTML makes one per
// verdict section), never the whole output held in memory.
//
// Everything in a findings document that a person could have typed —
// display names, e-mail addresses, group names, hold reasons and
// integration notes inside reason messages — is treated as hostile: the
// HTML goes through html/template's contextual escaping, and the CSV
// neutralises spreadsheet formulas (see CSV).
package report
