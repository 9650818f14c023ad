package scan

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/seatlens/seatlens/app/atlassian/admincsv"
	"github.com/seatlens/seatlens/app/billing"
)

// ActivityReport says what an admin CSV added to a snapshot.
type ActivityReport struct {
	// Columns maps each product to the "Last seen in …" column used;
	// Missing lists the site's products the file has no column for, whose
	// seats stay without activity data.
	Columns map[string]string
	Missing []string
	// Accounts is how many accounts the file lists, Matched how many of
	// them the snapshot holds.
	Accounts, Matched int
	Problems          []admincsv.Problem
	ProblemsOmitted   int
}

// ApplyActivityCSV makes an admin "Export users" file the activity source
// of a keyless snapshot (DESIGN.md §5): activity is then measured up to
// exportDate, the date the file was exported, which the file does not
// carry. A snapshot with Organizations API activity keeps it: the Org API
// is the better source, so the file is refused rather than mixed in.
func ApplyActivityCSV(snap *billing.Snapshot, exp *admincsv.Export, exportDate time.Time, file string) (ActivityReport, error) {
	rep := ActivityReport{Columns: map[string]string{}, Accounts: len(exp.Users), Problems: exp.Problems, ProblemsOmitted: exp.ProblemsOmitted}
	if snap.Sources.OrgAPI {
		return rep, fmt.Errorf("scan: the org key already gives last-active dates; the admin CSV is not used with it")
	}
	inSnapshot := map[string]bool{}
	for _, p := range snap.Products {
		inSnapshot[p.Key] = true
	}
	// One column per product. An org-wide export can list several sites;
	// then the column of this site (its first host label) is the one.
	siteName := siteLabel(snap.Site.URL)
	column := map[string]int{}
	for i, app := range exp.Apps {
		key, ok := billing.FromCSVLabel(app.Label)
		if !ok || !inSnapshot[key] {
			continue
		}
		prev, seen := column[key]
		switch {
		case !seen:
			column[key] = i
		case strings.EqualFold(app.Site, siteName) && !strings.EqualFold(exp.Apps[prev].Site, siteName):
			column[key] = i
		case strings.EqualFold(exp.Apps[prev].Site, siteName):
		default:
			return rep, fmt.Errorf("scan: the admin CSV has %q and %q; neither is for site %q", exp.Apps[prev].Column, app.Column, siteName)
		}
	}
	if len(column) == 0 {
		return rep, fmt.Errorf("scan: the admin CSV has no \"Last seen in …\" column for this site's products")
	}
	for key, i := range column {
		rep.Columns[key] = exp.Apps[i].Column
	}
	for _, p := range snap.Products {
		if _, ok := column[p.Key]; !ok {
			rep.Missing = append(rep.Missing, p.Key)
		}
	}
	byID := make(map[string]*billing.User, len(snap.Users))
	for i := range snap.Users {
		byID[snap.Users[i].AccountID] = &snap.Users[i]
	}
	for _, cu := range exp.Users {
		u := byID[cu.AccountID]
		if u == nil {
			continue
		}
		rep.Matched++
		u.ActivityCovered = true
		// A product without a column says nothing: unknown, not "never".
		u.ActivityUnknown = append(u.ActivityUnknown, rep.Missing...)
		if !cu.AddedToOrg.IsZero() {
			t := cu.AddedToOrg
			u.AddedToOrg = &t
		}
		for key, i := range column {
			seen := cu.LastSeen[i]
			switch seen.State() {
			case admincsv.On:
				if u.LastActive == nil {
					u.LastActive = map[string]time.Time{}
				}
				u.LastActive[key] = seen.Date()
			case admincsv.Unknown:
				u.ActivityUnknown = append(u.ActivityUnknown, key)
			}
		}
	}
	snap.Sources.Activity = &billing.ActivitySource{Kind: billing.ActivityAdminCSV, AsOf: exportDate.UTC(), File: file}
	return rep, nil
}

// siteLabel is the site's name as the admin CSV writes it: the first label
// of its host ("acme" for acme.atlassian.net).
func siteLabel(siteURL string) string {
	u, err := url.Parse(siteURL)
	if err != nil {
		return ""
	}
	label, _, _ := strings.Cut(u.Hostname(), ".")
	return label
}
