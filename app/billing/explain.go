package billing

import (
	"cmp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Explain applies §6 to a snapshot with the given settings. It fails only
// on an inconsistent snapshot or invalid settings; missing data is never
// an error, it becomes reasons (no-activity-data, needs-org-data) and
// warnings (sync-status-unknown).
func Explain(snap *Snapshot, settings Settings) (*Findings, error) {
	settings = settings.WithDefaults()
	if err := settings.Validate(); err != nil {
		return nil, err
	}
	if err := snap.Validate(); err != nil {
		return nil, err
	}
	e := newEngine(snap, settings)
	f := &Findings{
		SchemaVersion: SchemaVersion,
		Site:          snap.Site,
		ScannedAt:     snap.ScannedAt.UTC(),
		Settings:      settings,
		Credentials:   nonNil(snap.Sources.Credentials),
		Sources:       snap.Sources,
		Users:         make([]UserFindings, len(snap.Users)),
	}
	f.Sources.Credentials = f.Credentials
	// Users are independent until the summary, so they are explained in
	// parallel chunks; the engine's tables are read-only by then.
	workers := min(runtime.GOMAXPROCS(0), max(1, len(snap.Users)/minUsersPerWorker))
	chunk := (len(snap.Users) + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < len(snap.Users); lo += chunk {
		hi := min(lo+chunk, len(snap.Users))
		wg.Go(func() {
			var w userWork
			for i := lo; i < hi; i++ {
				f.Users[i] = e.explainUser(&snap.Users[i], &w)
			}
		})
	}
	wg.Wait()
	// Accounts holding no product have nothing to explain; the rest are
	// listed by account ID so that two collectors reading the same site
	// in a different order produce the same document.
	f.Users = slices.DeleteFunc(f.Users, func(u UserFindings) bool { return len(u.Seats) == 0 })
	slices.SortFunc(f.Users, func(a, b UserFindings) int { return strings.Compare(a.AccountID, b.AccountID) })
	e.summarise(f)
	return f, nil
}

// minUsersPerWorker keeps small sites on one goroutine, where starting
// more would cost more than it saves.
const minUsersPerWorker = 5000

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Synced states of a group.
const (
	syncUnknown = iota
	syncNo
	syncYes
)

type groupInfo struct {
	g         *Group
	grants    []productRole
	isDefault bool // a default group of some product
	synced    int
	admin     bool // grants admin on some product
}

type productRole struct {
	product int
	role    string
}

type engine struct {
	snap      *Snapshot
	settings  Settings
	threshold time.Duration
	activity  *ActivitySource
	products  []Product
	pidx      map[string]int
	groups    []groupInfo
	gidx      map[string]int
	holds     map[string][]ManualHold
	marked    map[string]string // integration users → note
}

func newEngine(snap *Snapshot, settings Settings) *engine {
	// Products in catalogue order, whatever order the collector found them in.
	products := slices.Clone(snap.Products)
	slices.SortStableFunc(products, func(a, b Product) int { return catalogueIndex(a.Key) - catalogueIndex(b.Key) })
	e := &engine{
		snap: snap, settings: settings,
		threshold: time.Duration(settings.InactiveDays) * 24 * time.Hour,
		activity:  snap.Sources.Activity,
		products:  products,
		pidx:      make(map[string]int, len(products)),
		groups:    make([]groupInfo, len(snap.Groups)),
		gidx:      make(map[string]int, len(snap.Groups)),
		holds:     map[string][]ManualHold{},
		marked:    map[string]string{},
	}
	for i, p := range products {
		e.pidx[p.Key] = i
	}
	for i := range snap.Groups {
		g := &snap.Groups[i]
		gi := groupInfo{g: g, isDefault: len(g.DefaultFor) > 0, synced: syncUnknown}
		for _, gr := range g.Grants {
			gi.grants = append(gi.grants, productRole{e.pidx[gr.Product], gr.Role})
			gi.admin = gi.admin || gr.Role == RoleAdmin
		}
		switch {
		case g.Synced != nil && *g.Synced:
			gi.synced = syncYes
		case g.Synced != nil:
			gi.synced = syncNo
		case gi.isDefault && snap.Sources.DefaultGroups:
			// Atlassian refuses to sync a default group (billing-model §3),
			// so a known default group is known not to be synced.
			gi.synced = syncNo
		}
		e.groups[i] = gi
		e.gidx[g.ID] = i
	}
	for _, h := range settings.ManualHolds {
		// A hold applies while scannedAt < expires (fixture decision 13).
		if h.Expires == nil || snap.ScannedAt.Before(*h.Expires) {
			e.holds[h.AccountID] = append(e.holds[h.AccountID], h)
		}
	}
	for _, u := range settings.IntegrationUsers {
		e.marked[u.AccountID] = u.Note
	}
	return e
}

// path kinds inside the engine.
const (
	pGroup = iota
	pDirect
	pInferred
)

type pathTmp struct {
	via   int
	group int // index into e.groups for pGroup
	role  string
}

// seatWork is one seat while its user is being explained.
type seatWork struct {
	product    int
	role       string
	paths      []pathTmp
	billable   bool
	base       reasonSet // rules 1–4, 6–8
	final      reasonSet
	executable bool
	plan       []int // group indices, sorted by name
	collateral []int // product indices
	warnings   [numWarnings]bool
	lastActive *time.Time
	recent     bool // active within the threshold
	// blocking names the collateral seat behind shared-group-collateral.
	blocking *seatWork
}

// userWork is reused across users to keep allocations per user small.
type userWork struct {
	byProduct []int // product index → position in seats, or -1
	seats     []seatWork
	// Seats, reasons and paths of the output are cut from blocks shared by
	// many users: one allocation per block instead of three per seat
	// keeps a 100k-user explanation out of the garbage collector's way.
	seatBlock   []Seat
	reasonBlock []Reason
	pathBlock   []Path
}

const workBlock = 4096

// seatsOut returns n seats from the worker's block.
func (w *userWork) seatsOut(n int) []Seat {
	if len(w.seatBlock) < n {
		w.seatBlock = make([]Seat, max(workBlock, n))
	}
	out := w.seatBlock[:n:n]
	w.seatBlock = w.seatBlock[n:]
	return out
}

func (w *userWork) reasonsOut(n int) []Reason {
	if len(w.reasonBlock) < n {
		w.reasonBlock = make([]Reason, max(workBlock, n))
	}
	out := w.reasonBlock[:0:n]
	w.reasonBlock = w.reasonBlock[n:]
	return out
}

func (w *userWork) pathsOut(n int) []Path {
	if len(w.pathBlock) < n {
		w.pathBlock = make([]Path, max(workBlock, n))
	}
	out := w.pathBlock[:n:n]
	w.pathBlock = w.pathBlock[n:]
	return out
}

func (e *engine) explainUser(u *User, w *userWork) UserFindings {
	if cap(w.byProduct) < len(e.products) {
		w.byProduct = make([]int, len(e.products))
	}
	w.byProduct = w.byProduct[:len(e.products)]
	for i := range w.byProduct {
		w.byProduct[i] = -1
	}
	w.seats = w.seats[:0]
	seat := func(p int) *seatWork {
		if w.byProduct[p] < 0 {
			w.byProduct[p] = len(w.seats)
			w.seats = append(w.seats, seatWork{product: p})
		}
		return &w.seats[w.byProduct[p]]
	}

	platformAdmin, orgAdmin := false, false
	for _, r := range u.PlatformRoles {
		switch r {
		case "org-admin":
			platformAdmin, orgAdmin = true, true
		case "site-admin":
			platformAdmin = true
		}
	}
	for _, gid := range u.Groups {
		gi := e.gidx[gid]
		g := &e.groups[gi]
		platformAdmin = platformAdmin || g.g.SiteAdmin
		for _, gr := range g.grants {
			s := seat(gr.product)
			s.paths = append(s.paths, pathTmp{pGroup, gi, gr.role})
		}
	}
	for _, r := range u.Roles {
		via := pDirect
		if r.Method == MethodInferred {
			via = pInferred
		}
		s := seat(e.pidx[r.Product])
		s.paths = appendPath(s.paths, pathTmp{via, -1, r.Role})
	}
	if orgAdmin && orgAdminInfersEveryProduct && e.snap.Sources.OrgAPI {
		for p := range e.products {
			s := seat(p)
			s.paths = appendPath(s.paths, pathTmp{pInferred, -1, RoleAdmin})
		}
	}
	// Seats in product order, whatever order the paths came in.
	slices.SortFunc(w.seats, func(a, b seatWork) int { return a.product - b.product })
	for i := range w.seats {
		w.byProduct[w.seats[i].product] = i
	}

	userNB := e.rule1User(u)
	marked, isMarked := e.marked[u.AccountID]
	looksIntegration := !isMarked && looksLikeIntegration(u)
	rolesVerified := e.snap.Sources.OrgAPI && u.RolesKnown

	for i := range w.seats {
		s := &w.seats[i]
		for _, p := range s.paths {
			if roleRank(p.role) > roleRank(s.role) {
				s.role = p.role
			}
		}
		s.lastActive = lastActive(u, e.products[s.product].Key)
		if s.lastActive != nil && e.activity != nil {
			s.recent = e.activity.AsOf.Sub(*s.lastActive) < e.threshold
		}
		// Rule 1.
		s.base = userNB
		if s.role == RoleGuest {
			s.base.add(cGuest)
		} else if !Billable(s.role) {
			s.base.add(cNonBillableRole)
		}
		s.billable = !s.base.hasAny(notBillableSet)
		if !s.billable {
			s.base &= notBillableSet
			continue
		}
		e.rule2(u, s)
		if platformAdmin { // rule 3
			s.base.add(cPlatformAdmin)
		}
		if s.role == RoleAdmin {
			s.base.add(cProductAdmin)
		}
		e.rule4(s, platformAdmin)
		if isMarked { // rule 6
			s.base.add(cIntegrationUser)
		} else if looksIntegration {
			s.base.add(cPossibleIntegrationUser)
		}
		if e.held(u.AccountID, e.products[s.product].Key) { // rule 7
			s.base.add(cManualHold)
		}
		if !rolesVerified && s.base.verdict() == VerdictRemovable { // rule 8
			s.base.add(cNeedsOrgData)
		}
		if u.ClaimStatus == "unmanaged" {
			s.warnings[wUnmanagedAccount] = true
		}
	}
	// Collateral, then rule 5 on the seats otherwise removable.
	for i := range w.seats {
		s := &w.seats[i]
		s.final = s.base
		if !s.billable || !s.executable {
			continue
		}
		for j := range w.seats {
			t := &w.seats[j]
			if j == i || !onlyThrough(t.paths, s.plan) {
				continue
			}
			s.collateral = append(s.collateral, t.product)
			if s.base.verdict() != VerdictRemovable || s.blocking != nil {
				continue
			}
			if (t.billable && t.base.verdict() != VerdictRemovable) || (!t.billable && t.recent) {
				s.blocking = t
			}
		}
		if s.blocking != nil {
			s.final.add(cSharedGroupCollateral)
		}
	}
	return e.render(u, w, marked)
}

// appendPath adds a non-group path once: the org-admin inference and a
// reported inferred assignment describe the same role.
func appendPath(paths []pathTmp, p pathTmp) []pathTmp {
	for _, q := range paths {
		if q.via == p.via && q.role == p.role {
			return paths
		}
	}
	return append(paths, p)
}

// onlyThrough reports whether every path is a group path through one of
// the plan's groups.
func onlyThrough(paths []pathTmp, plan []int) bool {
	if len(paths) == 0 {
		return false
	}
	for _, p := range paths {
		if p.via != pGroup || !slices.Contains(plan, p.group) {
			return false
		}
	}
	return true
}

func lastActive(u *User, product string) *time.Time {
	t, ok := u.LastActive[product]
	if !ok {
		return nil
	}
	t = t.UTC()
	return &t
}

// rule1User gives the not-billable reasons of user scope: one for the
// account type (a service account is not also an app account), one for
// the status (fixture decision 2).
func (e *engine) rule1User(u *User) reasonSet {
	var s reasonSet
	switch {
	case u.ServiceAccount || (u.AccountType == AccountApp && u.AppType == "service"):
		s.add(cServiceAccount)
	case u.AccountType == AccountApp:
		s.add(cAppAccount)
	case u.AccountType == AccountCustomer:
		s.add(cCustomer)
	}
	switch u.Status {
	case StatusSuspended:
		s.add(cSuspended)
	case StatusDeactivated, "for_deletion":
		// for_deletion shows as deactivated during the 14-day grace period
		// (billing-model §1.4).
		s.add(cDeactivated)
	case "":
		if !u.Active {
			s.add(cDeactivated)
		}
	}
	return s
}

// rule2 judges activity, measured from the activity source's as-of
// instant (the scan, or the CSV's export date).
func (e *engine) rule2(u *User, s *seatWork) {
	switch {
	case e.activity == nil:
		s.base.add(cNoActivityData)
	case s.lastActive != nil:
		if e.activity.AsOf.Sub(*s.lastActive) >= e.threshold {
			s.base.add(cInactive)
		} else {
			s.base.add(cRecentlyActive)
		}
	case u.ActivityCovered && u.AddedToOrg != nil && !slices.Contains(u.ActivityUnknown, e.products[s.product].Key):
		if e.activity.AsOf.Sub(*u.AddedToOrg) >= e.threshold {
			s.base.add(cNeverAccessed)
		} else {
			s.base.add(cNewAccount)
		}
	default:
		s.base.add(cNoActivityData)
	}
}

// rule4 builds the plan: every group reaching the product with a licensed
// role. A licensed direct or inferred path, or a synced plan group, leaves
// nothing executable.
func (e *engine) rule4(s *seatWork, platformAdmin bool) {
	blocked := false
	for _, p := range s.paths {
		if !Billable(p.role) {
			continue
		}
		switch p.via {
		case pGroup:
			if !slices.Contains(s.plan, p.group) {
				s.plan = append(s.plan, p.group)
			}
		case pDirect:
			s.base.add(cDirectRole)
			blocked = true
		case pInferred:
			// A platform admin's inferred roles are explained by
			// platform-admin (rule 3), and an inferred admin role by
			// product-admin.
			if !platformAdmin && p.role != RoleAdmin {
				s.base.add(cInferredRole)
			}
			blocked = true
		}
	}
	slices.SortFunc(s.plan, func(a, b int) int {
		return cmp.Or(strings.Compare(e.groups[a].g.Name, e.groups[b].g.Name), strings.Compare(e.groups[a].g.ID, e.groups[b].g.ID))
	})
	for _, g := range s.plan {
		if e.groups[g].synced == syncYes {
			s.base.add(cSyncedGroup)
			blocked = true
		}
	}
	if blocked || len(s.plan) == 0 {
		s.executable = false
		return
	}
	s.executable = true
	for _, g := range s.plan {
		gi := &e.groups[g]
		if gi.isDefault {
			s.warnings[wDefaultGroupRegrant] = true
		}
		if gi.synced == syncUnknown {
			s.warnings[wSyncStatusUnknown] = true
		}
	}
}

func (e *engine) held(accountID, product string) bool {
	for _, h := range e.holds[accountID] {
		if len(h.Products) == 0 || slices.Contains(h.Products, product) {
			return true
		}
	}
	return false
}

// looksLikeIntegration matches whole words of the e-mail's local part and
// the display name against the integration patterns (fixture decision 14):
// "svc-backup" and "Backup Bot" match, "Tara Talbot" does not.
func looksLikeIntegration(u *User) bool {
	local, _, _ := strings.Cut(u.Email, "@")
	return hasIntegrationToken(local) || hasIntegrationToken(u.DisplayName)
}

func hasIntegrationToken(s string) bool {
	start := -1
	for i, r := range s + " " {
		if unicode.IsLetter(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			for _, tok := range integrationTokens {
				if strings.EqualFold(s[start:i], tok) {
					return true
				}
			}
			start = -1
		}
	}
	return false
}

func fmtDate(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// nDays says a duration in whole days: "1 day", "209 days".
func nDays(d time.Duration) string {
	n := int(d / (24 * time.Hour))
	if n == 1 || n == -1 {
		return strconv.Itoa(n) + " day"
	}
	return strconv.Itoa(n) + " days"
}
