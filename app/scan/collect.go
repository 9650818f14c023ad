package scan

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/seatlens/seatlens/app/atlassian"
	"github.com/seatlens/seatlens/app/billing"
)

// DefaultConcurrency is how many per-item calls (group members, role
// assignments) a scan keeps in flight: Atlassian's burst limits allow far
// more, and ten keeps one scan from crowding out everything else.
const DefaultConcurrency = 10

// Source says where a scan reads and with what.
type Source struct {
	// SiteURL is the Jira site (https://<site>.atlassian.net).
	SiteURL string
	// Jira calls the site's product REST API for what a Connect JWT may
	// call (group/bulk, group/member, user, instance/license);
	// JiraCredential names its credential (billing.CredentialAPIToken for
	// the CLI, CredentialConnectJWT in the app).
	Jira           *atlassian.Client
	JiraCredential string
	// JiraAdmin calls what a Connect JWT may not (applicationrole,
	// users/search; DESIGN.md §4): the API token in the CLI, the Forge app
	// token in the app. Nil when no such credential is held: default
	// groups, seat limits and Jira's user counts, and (with an org key) the
	// accounts outside the directory are then unknown, and the snapshot's
	// Sources say so.
	JiraAdmin           *atlassian.Client
	JiraAdminCredential string
	// Org calls the Organizations API with an org key; nil without one.
	Org   *atlassian.Client
	OrgID string
	// Concurrency bounds per-item calls; 0: DefaultConcurrency.
	Concurrency int
	// Progress, when set, hears about every finished step.
	Progress func(Progress)
	// Now is the scan's clock; nil: time.Now.
	Now func() time.Time
}

// Progress reports a scan's advance: Done of Total items of a stage.
type Progress struct {
	Stage       string
	Done, Total int
}

// Error is a scan that could not complete: which step failed and why.
// The wrapped error is the atlassian error, so errors.Is(err,
// atlassian.ErrUnauthorized) still works.
type Error struct {
	Step string
	Err  error
}

func (e *Error) Error() string { return "scan: " + e.Step + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func stepErr(step string, err error) error {
	var se *Error
	if err == nil || errors.As(err, &se) {
		return err
	}
	return &Error{Step: step, Err: err}
}

// Collect reads the site into a snapshot. With an org key it follows
// DESIGN.md §5's keyed plan: the Organizations API for products,
// groups, memberships, activity, platform and role assignments and
// service accounts, Jira REST only for what the Org API lacks (licence
// counts and plans, and accounts outside the directory: app and customer
// accounts). Without one, the keyless plan: Jira REST's product-granting
// groups and their members.
func Collect(ctx context.Context, src Source) (*billing.Snapshot, error) {
	snap, _, err := collect(ctx, src)
	return snap, err
}

// collect is Collect that also returns the basis of later targeted
// rescans.
func collect(ctx context.Context, src Source) (*billing.Snapshot, *Basis, error) {
	if src.Jira == nil {
		return nil, nil, errors.New("scan: no Jira client")
	}
	if src.Org != nil && src.OrgID == "" {
		return nil, nil, errors.New("scan: an org key needs the organisation ID")
	}
	c := &collector{src: src, workers: src.Concurrency, now: src.Now}
	if c.workers <= 0 {
		c.workers = DefaultConcurrency
	}
	if c.now == nil {
		c.now = time.Now
	}
	if src.JiraCredential == "" {
		c.src.JiraCredential = billing.CredentialAPIToken
	}
	if src.JiraAdmin != nil && src.JiraAdminCredential == "" {
		c.src.JiraAdminCredential = c.src.JiraCredential
	}
	site, err := url.Parse(src.SiteURL)
	if err != nil || site.Host == "" {
		return nil, nil, fmt.Errorf("scan: site URL %q is not an absolute URL", src.SiteURL)
	}
	c.site = site
	snap := &billing.Snapshot{
		Site:      billing.SiteInfo{URL: strings.TrimSuffix(src.SiteURL, "/"), OrgID: src.OrgID},
		ScannedAt: c.now().UTC().Truncate(time.Second),
	}
	if src.Org != nil {
		err = c.keyed(ctx, snap)
	} else {
		err = c.keyless(ctx, snap)
	}
	if err != nil {
		return nil, nil, err
	}
	c.basis.Snapshot = *snap
	c.basis.Snapshot.Users = nil
	return snap, &c.basis, nil
}

type collector struct {
	src     Source
	site    *url.URL
	workers int
	now     func() time.Time
	basis   Basis

	mu sync.Mutex // guards progress counters
}

// progressTally counts the per-item calls of a scan: submitted and done.
type progressTally struct {
	mu          sync.Mutex
	total, done int
}

func (t *progressTally) add() {
	t.mu.Lock()
	t.total++
	t.mu.Unlock()
}

func (c *collector) progressDone(t *progressTally) {
	t.mu.Lock()
	t.done++
	done, total := t.done, t.total
	t.mu.Unlock()
	c.progress("calls", done, total)
}

// credentials lists the credentials the scan reads with, each once.
func (c *collector) credentials(extra ...string) []string {
	out := []string{c.src.JiraCredential}
	if c.src.JiraAdmin != nil && c.src.JiraAdminCredential != c.src.JiraCredential {
		out = append(out, c.src.JiraAdminCredential)
	}
	return append(out, extra...)
}

func (c *collector) progress(stage string, done, total int) {
	if c.src.Progress != nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.src.Progress(Progress{Stage: stage, Done: done, Total: total})
	}
}

// jiraProducts reads the Jira applications the site is licensed for,
// with seat limits, plans and Atlassian's own user counts.
func (c *collector) jiraProducts(ctx context.Context) ([]billing.Product, []atlassian.ApplicationRole, error) {
	var (
		roles          []atlassian.ApplicationRole
		lic            atlassian.InstanceLicense
		rolesErr, lErr error
		wg             sync.WaitGroup
	)
	if c.src.JiraAdmin != nil {
		wg.Go(func() { roles, rolesErr = c.src.JiraAdmin.ApplicationRoles(ctx) })
	}
	wg.Go(func() { lic, lErr = c.src.Jira.InstanceLicense(ctx) })
	wg.Wait()
	if rolesErr != nil {
		return nil, nil, stepErr("read Jira's application roles", rolesErr)
	}
	if lErr != nil {
		return nil, nil, stepErr("read Jira's licence", lErr)
	}
	if c.src.JiraAdmin == nil {
		return productsFromLicence(lic), nil, nil
	}
	products, kept := productsFrom(roles, lic)
	return products, kept, nil
}

// productsFromLicence is what a credential that may not read
// applicationrole learns of the products: the licensed ones and their
// plans, without seat limits or Atlassian's user counts.
func productsFromLicence(lic atlassian.InstanceLicense) []billing.Product {
	var out []billing.Product
	for _, a := range lic.Applications {
		key, ok := billing.FromJiraApplicationKey(a.ID)
		if !ok || a.Plan == "UNLICENSED" {
			continue
		}
		out = append(out, billing.Product{Key: key, Name: productName(key), Plan: a.Plan})
	}
	return out
}

// productsFrom keeps the Jira applications the site is licensed for, with
// seat limits, plans and Atlassian's own user counts.
func productsFrom(roles []atlassian.ApplicationRole, lic atlassian.InstanceLicense) ([]billing.Product, []atlassian.ApplicationRole) {
	plans := map[string]string{}
	for _, a := range lic.Applications {
		plans[a.ID] = a.Plan
	}
	var out []billing.Product
	var kept []atlassian.ApplicationRole
	for _, r := range roles {
		key, ok := billing.FromJiraApplicationKey(r.Key)
		if !ok || plans[r.Key] == "UNLICENSED" {
			continue
		}
		p := billing.Product{Key: key, Name: productName(key), Plan: plans[r.Key]}
		if !r.HasUnlimitedSeats {
			seats := r.NumberOfSeats
			p.Limit = &seats
		}
		count := r.UserCount
		p.UserCount = &count
		out = append(out, p)
		kept = append(kept, r)
	}
	return out, kept
}

func productName(key string) string {
	p, _ := billing.LookupProduct(key)
	return p.Name
}

// keyless is the plan without an org key: the groups granting each Jira
// product a licensed role (group/bulk by accessType and applicationKey,
// which a Connect JWT may call too), site-admin groups, and every member of
// those groups. Default groups come from applicationrole. A group's first
// member page tells its size; its other pages are then read at once.
func (c *collector) keyless(ctx context.Context, snap *billing.Snapshot) error {
	snap.Sources = billing.Sources{Credentials: c.credentials(), DefaultGroups: c.src.JiraAdmin != nil}
	if c.src.JiraAdmin == nil {
		snap.Sources.Unknown = []string{billing.UnknownDefaultGroups, billing.UnknownSeatLimits}
	}
	type query struct {
		access, product string
	}
	var (
		roles []atlassian.ApplicationRole
		lic   atlassian.InstanceLicense
	)

	// A group's member pages are read through a window: its first page
	// gives the page size and the total; then at most c.workers pages are
	// asked for ahead of the last one answered, so a large group's pages
	// overlap, and a total the site claims (10^12, say) never sizes
	// anything. Without a total, one page after another.
	type groupWork struct {
		g     billing.Group
		pages map[int][]atlassian.User // by page index
		seen  map[string]bool          // accounts of every page so far
		asked map[int]bool
		size  int // the first page's length: Jira clamps maxResults
		total int // from the first page; -1 unknown
	}
	var (
		mu     sync.Mutex
		groups = map[string]*groupWork{}
		tally  progressTally
	)
	p := newPool(ctx, c.workers)
	maxMembers := c.src.Jira.MaxListItems()
	var memberPage func(gw *groupWork, index int) func(context.Context) error
	// ask submits page index once; caller holds mu.
	ask := func(gw *groupWork, index int) {
		if gw.asked[index] {
			return
		}
		gw.asked[index] = true
		tally.add()
		p.submit(memberPage(gw, index))
	}
	newGroup := func(id, name string) *groupWork {
		gw := &groupWork{g: billing.Group{ID: id, Name: name}, pages: map[int][]atlassian.User{},
			seen: map[string]bool{}, asked: map[int]bool{}, total: -1}
		groups[id] = gw
		ask(gw, 0)
		return gw
	}
	memberPage = func(gw *groupWork, index int) func(context.Context) error {
		return func(ctx context.Context) error {
			defer c.progressDone(&tally)
			mu.Lock()
			startAt := index * gw.size
			mu.Unlock()
			page, err := c.src.Jira.GroupMembersPage(ctx, gw.g.ID, startAt)
			if err != nil {
				return stepErr("list the members of group "+gw.g.Name, err)
			}
			mu.Lock()
			defer mu.Unlock()
			gw.pages[index] = page.Values
			fresh := 0
			for _, m := range page.Values {
				if !gw.seen[m.AccountID] {
					gw.seen[m.AccountID] = true
					fresh++
				}
			}
			switch {
			case len(gw.seen) > maxMembers:
				return stepErr("list the members of group "+gw.g.Name, fmt.Errorf("more than %d members, more than any site holds; stopped", maxMembers))
			case page.IsLast:
				return nil
			case fresh == 0:
				return stepErr("list the members of group "+gw.g.Name,
					fmt.Errorf("the page at startAt=%d brought no member not seen before, yet is not the last: the site repeats itself", startAt))
			}
			if index == 0 {
				gw.size, gw.total = len(page.Values), page.Total
			}
			if gw.total < 0 {
				ask(gw, index+1)
				return nil
			}
			for j := index + 1; j <= index+c.workers; j++ {
				// Past the total only the next page, and only because this
				// one says it is not the last.
				if j*gw.size < gw.total || j == index+1 {
					ask(gw, j)
				}
			}
			return nil
		}
	}
	bulk := func(q query) func(context.Context) error {
		return func(ctx context.Context) error {
			defer c.progressDone(&tally)
			found, err := c.src.Jira.GroupsBulk(ctx, atlassian.GroupsBulkQuery{AccessType: q.access, ApplicationKey: q.product})
			if err != nil {
				return stepErr("list the groups granting "+cmpOr(q.product, "site administration"), err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, gn := range found {
				gw := groups[gn.GroupID]
				if gw == nil {
					gw = newGroup(gn.GroupID, gn.Name)
				}
				if q.access == atlassian.AccessSiteAdmin {
					gw.g.SiteAdmin = true
					continue
				}
				gw.g.Grants = append(gw.g.Grants, billing.Grant{Product: q.product, Role: q.access})
			}
			return nil
		}
	}
	// Nothing waits for more than it needs: the licence names the products
	// to ask group/bulk about; applicationrole names the default groups,
	// which grant their product's default (licensed) role and so are in
	// the plan whatever group/bulk will say. Their members are asked for at
	// once: default groups are usually the largest, and their other pages
	// are then known a round earlier.
	tally.add()
	p.submit(bulk(query{atlassian.AccessSiteAdmin, ""}))
	tally.add()
	p.submit(func(ctx context.Context) error {
		defer c.progressDone(&tally)
		l, err := c.src.Jira.InstanceLicense(ctx)
		if err != nil {
			return stepErr("read Jira's licence", err)
		}
		lic = l
		for _, a := range l.Applications {
			if key, ok := billing.FromJiraApplicationKey(a.ID); ok && a.Plan != "UNLICENSED" {
				tally.add()
				p.submit(bulk(query{atlassian.AccessUser, key}))
				tally.add()
				p.submit(bulk(query{atlassian.AccessAdmin, key}))
			}
		}
		return nil
	})
	if c.src.JiraAdmin != nil {
		tally.add()
		p.submit(func(ctx context.Context) error {
			defer c.progressDone(&tally)
			rs, err := c.src.JiraAdmin.ApplicationRoles(ctx)
			if err != nil {
				return stepErr("read Jira's application roles", err)
			}
			mu.Lock()
			defer mu.Unlock()
			roles = rs
			for _, r := range rs {
				for _, d := range r.DefaultGroupsDetails {
					if d.GroupID == "" {
						return stepErr("read Jira's application roles", fmt.Errorf("a default group of %s has no groupId", r.Key))
					}
					if groups[d.GroupID] == nil {
						newGroup(d.GroupID, d.Name)
					}
				}
			}
			return nil
		})
	}
	if err := p.wait(); err != nil {
		return err
	}
	products := productsFromLicence(lic)
	if c.src.JiraAdmin != nil {
		products, _ = productsFrom(roles, lic)
	}
	snap.Products = products
	licensed := map[string]bool{}
	for _, p := range products {
		licensed[p.Key] = true
	}
	for _, gw := range groups {
		// The licence and applicationrole could disagree on a product;
		// only the products both name are in the snapshot.
		gw.g.Grants = slices.DeleteFunc(gw.g.Grants, func(g billing.Grant) bool { return !licensed[g.Product] })
	}

	order := make([]string, 0, len(groups))
	for id, gw := range groups {
		if len(gw.g.Grants) == 0 && !gw.g.SiteAdmin {
			continue // a default group granting no licensed role: nothing to explain
		}
		order = append(order, id)
	}
	slices.SortFunc(order, func(a, b string) int {
		return cmp.Or(strings.Compare(groups[a].g.Name, groups[b].g.Name), strings.Compare(a, b))
	})
	for _, r := range roles {
		key, _ := billing.FromJiraApplicationKey(r.Key)
		for _, d := range r.DefaultGroupsDetails {
			if gw := groups[d.GroupID]; gw != nil && !slices.Contains(gw.g.DefaultFor, key) {
				gw.g.DefaultFor = append(gw.g.DefaultFor, key)
			}
		}
	}
	users := map[string]*billing.User{}
	var userOrder []string
	for _, gid := range order {
		gw := groups[gid]
		seen := map[string]bool{} // offset pages can repeat a member when the group changes mid-scan
		indexes := slices.Sorted(maps.Keys(gw.pages))
		for _, i := range indexes {
			for _, m := range gw.pages[i] {
				if seen[m.AccountID] {
					continue
				}
				seen[m.AccountID] = true
				u := users[m.AccountID]
				if u == nil {
					u = &billing.User{AccountID: m.AccountID, DisplayName: m.DisplayName, Email: m.EmailAddress,
						AccountType: m.AccountType, AppType: m.AppType, Active: m.Active}
					users[m.AccountID] = u
					userOrder = append(userOrder, m.AccountID)
				}
				u.Groups = append(u.Groups, gid)
			}
		}
		gw.g.MemberCount = len(seen)
		snap.Groups = append(snap.Groups, gw.g)
	}
	for _, id := range userOrder {
		snap.Users = append(snap.Users, *users[id])
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
