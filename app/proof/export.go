package proof

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/seatlens/seatlens/store"
)

// Refs maps the refs of accounts whose salts still exist back to them, for
// the exports an admin downloads (the chain itself names no one).
func (c *Chain) Refs(ctx context.Context, clientKey string, accountIDs []string) (map[string]string, error) {
	out := map[string]string{}
	err := c.Store.View(ctx, func(tx store.Tx) error {
		for _, id := range accountIDs {
			if id == "" {
				continue
			}
			salt, err := tx.Get(clientKey, saltBucket, []byte(id))
			if errors.Is(err, store.ErrNotFound) {
				continue // erased: the ref stays anonymous
			}
			if err != nil {
				return err
			}
			h := sha256.New()
			h.Write(salt)
			h.Write([]byte(id))
			out["acct:"+hex.EncodeToString(h.Sum(nil)[:16])] = id
		}
		return nil
	})
	return out, err
}

// ExportItem is a seat of a review as the printable evidence shows it.
type ExportItem struct {
	AccountID, DisplayName, Product, Verdict, Outcome, Reason string
}

// ExportReview is a review as the printable evidence shows it.
type ExportReview struct {
	ID, Title, State, SubmittedBy, ApprovedBy, ExecutedBy string
	Items                                                 []ExportItem
}

// csvCell neutralises a spreadsheet formula at the start of a cell.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteCSV writes the evidence's events one per row, each account ref
// followed by the account it stands for where its salt still exists.
func WriteCSV(w io.Writer, ev *Evidence, names map[string]string) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"seq", "time", "kind", "actor", "actorAccount", "account", "accountId", "product", "group", "credential", "state", "reason", "hash", "prev"})
	str := func(m map[string]any, k string) string {
		if v, ok := m[k]; ok && v != nil {
			return fmt.Sprint(v)
		}
		return ""
	}
	for _, e := range ev.Events {
		acct := str(e.Data, "account")
		row := []string{fmt.Sprint(e.Seq), e.Time, e.Kind, e.Actor, names[e.Actor], acct, names[acct], str(e.Data, "product"),
			str(e.Data, "group"), str(e.Data, "credential"), str(e.Data, "state"), str(e.Data, "reason"), e.Hash, e.Prev}
		for i := range row {
			row[i] = csvCell(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

var page = template.Must(template.New("evidence").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Evidence: review {{.R.ID}} — {{.R.Title}}</title>
<style>
body{font-family:-apple-system,"Segoe UI",Roboto,"Helvetica Neue",sans-serif;color:#172b4d;margin:32px;font-size:13px}
h1{font-size:22px;font-weight:500;margin:0 0 4px}h2{font-size:15px;margin:24px 0 8px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #dfe1e6;vertical-align:top}
th{font-size:11px;color:#44546f}.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:11px;word-break:break-all}
.sign{margin-top:40px;display:flex;gap:48px}.sign div{flex:1;border-top:1px solid #172b4d;padding-top:4px;color:#44546f}
@media print{body{margin:12mm}}
</style></head><body>
<h1>Review {{.R.ID}}: {{.R.Title}}</h1>
<p>State: <strong>{{.R.State}}</strong> · submitted by {{.R.SubmittedBy}} · approved by {{.R.ApprovedBy}}{{if .R.ExecutedBy}} · executed by {{.R.ExecutedBy}}{{end}}</p>
<h2>Seats</h2>
<table><thead><tr><th>Account</th><th>Product</th><th>Verdict</th><th>Outcome</th><th>Reason</th></tr></thead><tbody>
{{range .R.Items}}<tr><td>{{.DisplayName}}<br><span class="mono">{{.AccountID}}</span></td><td>{{.Product}}</td><td>{{.Verdict}}</td><td>{{.Outcome}}</td><td>{{.Reason}}</td></tr>
{{end}}</tbody></table>
<h2>Events (chain {{.First}}–{{.Last}})</h2>
<table><thead><tr><th>#</th><th>Time</th><th>Event</th><th>Account</th><th>Hash</th></tr></thead><tbody>
{{range .E.Events}}<tr><td>{{.Seq}}</td><td>{{.Time}}</td><td>{{.Kind}}</td><td class="mono">{{index .Data "account"}}</td><td class="mono">{{.Hash}}</td></tr>
{{end}}</tbody></table>
<h2>Signature</h2>
<p>Head: event {{.E.Signed.Head.Seq}}, hash <span class="mono">{{.E.Signed.Head.Hash}}</span>, signed {{.E.Signed.Head.Time}}.</p>
<p>Key fingerprint <span class="mono">{{.E.Signed.KeyID}}</span>; signature <span class="mono">{{.E.Signed.Signature}}</span>.</p>
<p>Check the JSON file of this evidence offline with <span class="mono">seatlens verify evidence.json --key {{.E.Signed.KeyID}}</span>.</p>
<div class="sign"><div>Reviewed by (name, signature)</div><div>Date</div></div>
</body></html>
`))

// WriteHTML writes the printable page of a review's evidence: the seats
// and their outcomes, the events with their hashes, the signature, and
// lines for a person to sign. Every value is escaped as text.
func WriteHTML(w io.Writer, ev *Evidence, r ExportReview) error {
	return page.Execute(w, struct {
		R           ExportReview
		E           *Evidence
		First, Last int64
	}{r, ev, ev.Events[0].Seq, ev.Events[len(ev.Events)-1].Seq})
}
