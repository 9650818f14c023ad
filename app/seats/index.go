// Package seats is the browse side of a finished scan: every seat as a
// compact row, filtered, sorted and paged in memory (DESIGN.md §9a's
// /api/v1/seats), so a page of a 100k-user scan costs a pass over its rows
// and not a read of the whole findings document. It is pure: it holds no
// store and does no I/O.
package seats

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/seatlens/seatlens/app/billing"
)

// User is what a row shows of its account, shared by the account's seats.
type User struct {
	AccountID   string `json:"accountId"`
	DisplayName string `json:"displayName"`
	Email       string `json:"email,omitempty"`
	AccountType string `json:"accountType"`
	Class       string `json:"class"`
	Status      string `json:"status,omitempty"`
	n           int32  // position in Index.users
	lowerName   string // DisplayName lower-cased, the name order's key
}

// Row is one seat of the table.
type Row struct {
	*User
	Product    string            `json:"product"`
	Role       string            `json:"role"`
	Billable   bool              `json:"billable"`
	Verdict    string            `json:"verdict"`
	Likely     bool              `json:"likelyRemovable"`
	LastActive *time.Time        `json:"lastActive"`
	Reasons    []billing.Reason  `json:"reasons"`
	Warnings   []billing.Warning `json:"warnings"`
	Groups     []string          `json:"groups"` // IDs of the groups on its paths
	Plan       int               `json:"planSteps"`
	byName     int32             // position in the name order, every order's tiebreak
}

// Index holds a scan's rows and their orders.
type Index struct {
	ScanID    string
	ScannedAt time.Time
	rows      []Row
	users     []*User
	// text is every user's lower-cased name, e-mail and account ID, one
	// user after another ("\x00" between fields, "\n" after each user);
	// textEnd[i] is where user i's ends. One pass of a substring search
	// over it answers q for every user.
	text    []byte
	textEnd []int32

	// recent remembers the users the last few texts matched: paging
	// through a search, or narrowing it with other filters, asks again.
	mu     sync.Mutex
	recent []textHit

	orders map[string][]int32 // sort key → row positions in ascending order
}

type textHit struct {
	text  string
	users []bool
}

// Sort keys; a leading "-" sorts descending.
const (
	SortName       = "name"
	SortLastActive = "lastActive"
	SortVerdict    = "verdict"
	SortProduct    = "product"
)

var sortKeys = []string{SortName, SortLastActive, SortVerdict, SortProduct}

// verdictOrder puts the seats an admin acts on first.
var verdictOrder = map[string]int{billing.VerdictRemovable: 0, billing.VerdictReview: 1, billing.VerdictHold: 2, billing.VerdictNotBillable: 3}

// Builder collects a scan's users into an Index.
type Builder struct {
	idx *Index
}

// NewBuilder starts an index of scan id.
func NewBuilder(scanID string, scannedAt time.Time, users int) *Builder {
	return &Builder{idx: &Index{ScanID: scanID, ScannedAt: scannedAt, rows: make([]Row, 0, users+users/3)}}
}

// textSeparators keeps the text index's separators out of its fields.
var textSeparators = strings.NewReplacer("\x00", " ", "\n", " ")

// Add adds one user's seats.
func (b *Builder) Add(u *billing.UserFindings) {
	usr := &User{AccountID: u.AccountID, DisplayName: u.DisplayName, Email: u.Email, AccountType: u.AccountType,
		Class: u.Class, Status: u.Status, n: int32(len(b.idx.users)), lowerName: strings.ToLower(u.DisplayName)}
	b.idx.users = append(b.idx.users, usr)
	for _, f := range []string{u.DisplayName, u.Email, u.AccountID} {
		b.idx.text = append(b.idx.text, strings.ToLower(textSeparators.Replace(f))...)
		b.idx.text = append(b.idx.text, 0)
	}
	b.idx.text[len(b.idx.text)-1] = '\n'
	b.idx.textEnd = append(b.idx.textEnd, int32(len(b.idx.text)))
	for i := range u.Seats {
		s := &u.Seats[i]
		var groups []string
		for _, p := range s.Paths {
			if p.GroupID != "" && !slices.Contains(groups, p.GroupID) {
				groups = append(groups, p.GroupID)
			}
		}
		// A copy: a pointer into the findings would keep every seat's
		// paths and plans alive with the index.
		var last *time.Time
		if s.LastActive != nil {
			t := *s.LastActive
			last = &t
		}
		b.idx.rows = append(b.idx.rows, Row{User: usr, Product: s.Product, Role: s.Role, Billable: s.Billable,
			Verdict: s.Verdict, Likely: billing.LikelyRemovable(*s), LastActive: last, Reasons: s.Reasons,
			Warnings: s.Warnings, Groups: groups, Plan: len(s.Plan)})
	}
}

// Index sorts the rows every way a query can ask and returns the index.
// The name order is sorted first; every other order breaks its ties by a
// row's place in it, so the others compare integers, not strings.
func (b *Builder) Index() *Index {
	idx := b.idx
	rows := idx.rows
	idx.orders = make(map[string][]int32, len(sortKeys))
	byName := identity(len(rows))
	slices.SortFunc(byName, func(a, b int32) int { return compareNames(&rows[a], &rows[b]) })
	for pos, i := range byName {
		rows[i].byName = int32(pos)
	}
	idx.orders[SortName] = byName
	// The keys of the other orders, once per row.
	never := make([]bool, len(rows))
	last := make([]time.Time, len(rows)) // not UnixNano: a CSV's year 2300 would overflow it
	rank := make([]int8, len(rows))
	for i := range rows {
		never[i] = rows[i].LastActive == nil
		if !never[i] {
			last[i] = *rows[i].LastActive
		}
		rank[i] = int8(verdictOrder[rows[i].Verdict])
	}
	for _, key := range sortKeys {
		if key == SortName {
			continue
		}
		order := identity(len(rows))
		slices.SortFunc(order, func(a, b int32) int {
			var c int
			switch key {
			case SortLastActive:
				// Never active (or unknown) first: the seats most worth a look.
				switch {
				case never[a] != never[b]:
					if never[a] {
						c = -1
					} else {
						c = 1
					}
				case !never[a]:
					c = last[a].Compare(last[b])
				}
			case SortVerdict:
				c = cmp.Compare(rank[a], rank[b])
			case SortProduct:
				c = strings.Compare(rows[a].Product, rows[b].Product)
			}
			if c != 0 {
				return c
			}
			return cmp.Compare(rows[a].byName, rows[b].byName)
		})
		idx.orders[key] = order
	}
	return idx
}

func identity(n int) []int32 {
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	return order
}

// compareNames is the name order: lower-cased name, account, product;
// total, so a cursor resumes exactly where it stopped.
func compareNames(a, b *Row) int {
	if c := strings.Compare(a.lowerName, b.lowerName); c != 0 {
		return c
	}
	if c := strings.Compare(a.AccountID, b.AccountID); c != 0 {
		return c
	}
	return strings.Compare(a.Product, b.Product)
}

// compare orders two rows by key, then by name, account and product, as
// Index's orders do (a reference the tests hold them to).
func compare(key string, a, b *Row) int {
	var c int
	switch key {
	case SortLastActive:
		// Never active (or unknown) first: the seats most worth a look.
		switch {
		case a.LastActive == nil && b.LastActive != nil:
			c = -1
		case a.LastActive != nil && b.LastActive == nil:
			c = 1
		case a.LastActive != nil:
			c = a.LastActive.Compare(*b.LastActive)
		}
	case SortVerdict:
		c = cmp.Compare(verdictOrder[a.Verdict], verdictOrder[b.Verdict])
	case SortProduct:
		c = strings.Compare(a.Product, b.Product)
	}
	if c != 0 {
		return c
	}
	if c = strings.Compare(strings.ToLower(a.DisplayName), strings.ToLower(b.DisplayName)); c != 0 {
		return c
	}
	if c = strings.Compare(a.AccountID, b.AccountID); c != 0 {
		return c
	}
	return strings.Compare(a.Product, b.Product)
}

// Len is the number of seats.
func (idx *Index) Len() int { return len(idx.rows) }

// Query is one request of the seats table.
type Query struct {
	Products []string // any of
	Verdicts []string // any of; "likely-removable" too
	Reason   string   // a reason code the seat carries
	Warning  string   // a warning code the seat carries
	Group    string   // a group on the seat's paths
	Classes  []string // account classes, any of
	// Inactive: seats with no activity in at least this many days before
	// the scan (never active included); 0: no filter.
	Inactive int
	Billable *bool
	Text     string // in the name, e-mail or account ID, any case
	Sort     string // a sort key, "-" for descending; "": name
	Cursor   string
	Limit    int // 1..200; 0: 50
}

// ErrBadQuery is a query the index cannot answer; the message names the
// parameter.
var ErrBadQuery = errors.New("seats: bad query")

// Page is one page of a query.
type Page struct {
	Seats []Row  `json:"seats"`
	Total int    `json:"total"` // seats matching the filters
	Next  string `json:"next,omitempty"`
}

// Verdict values a query may name besides billing's.
const LikelyRemovable = "likely-removable"

func badQuery(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrBadQuery, fmt.Sprintf(format, a...))
}

// Search answers a query.
func (idx *Index) Search(q Query) (Page, error) {
	if q.Limit == 0 {
		q.Limit = 50
	}
	if q.Limit < 1 || q.Limit > 200 {
		return Page{}, badQuery("limit: want 1..200")
	}
	key, desc := strings.CutPrefix(q.Sort, "-")
	if key == "" {
		key = SortName
	}
	order, ok := idx.orders[key]
	if !ok {
		return Page{}, badQuery("sort: want name, lastActive, verdict or product, with - for descending")
	}
	for _, v := range q.Verdicts {
		if _, ok := verdictOrder[v]; !ok && v != LikelyRemovable {
			return Page{}, badQuery("verdict: %q is not removable, likely-removable, review, hold or not-billable", v)
		}
	}
	if q.Inactive < 0 || q.Inactive > 3650 {
		return Page{}, badQuery("inactive: want 0..3650 days")
	}
	fp := q.fingerprint(idx.ScanID)
	start := 0
	if q.Cursor != "" {
		var err error
		if start, err = decodeCursor(q.Cursor, fp, len(order)); err != nil {
			return Page{}, err
		}
	}
	// The filters run over the rows in storage order (memory read in
	// sequence), leaving a bitmap; the sort order is then walked against
	// the bitmap alone, which fits in cache, not against the rows.
	match := q.matcher(idx.ScannedAt, idx.textMatches(q.Text))
	hits := make([]uint64, (len(idx.rows)+63)/64)
	page := Page{Seats: []Row{}}
	for i := range idx.rows {
		if match(&idx.rows[i]) {
			hits[i>>6] |= 1 << (i & 63)
			page.Total++
		}
	}
	for i := range order {
		pos := i
		if desc {
			pos = len(order) - 1 - i
		}
		row := order[pos]
		if hits[row>>6]&(1<<(row&63)) == 0 {
			continue
		}
		if i < start {
			continue
		}
		if len(page.Seats) == q.Limit {
			page.Next = encodeCursor(fp, i)
			break
		}
		page.Seats = append(page.Seats, idx.rows[row])
	}
	return page, nil
}

// textMatches says which users the text matches (nil: no text filter):
// once per user, not once per seat.
func (idx *Index) textMatches(text string) []bool {
	text = strings.ToLower(strings.TrimSpace(text))
	if text == "" {
		return nil
	}
	idx.mu.Lock()
	for i, h := range idx.recent {
		if h.text == text {
			idx.recent = append(append([]textHit{h}, idx.recent[:i]...), idx.recent[i+1:]...)
			idx.mu.Unlock()
			return h.users
		}
	}
	idx.mu.Unlock()
	out := idx.searchText(text)
	idx.mu.Lock()
	idx.recent = append([]textHit{{text, out}}, idx.recent...)
	if len(idx.recent) > recentTexts {
		idx.recent = idx.recent[:recentTexts]
	}
	idx.mu.Unlock()
	return out
}

// recentTexts is how many text searches an index remembers.
const recentTexts = 8

// searchText finds the users whose name, e-mail or account ID holds text.
func (idx *Index) searchText(text string) []bool {
	out := make([]bool, len(idx.users))
	needle := []byte(text)
	if bytes.ContainsAny(needle, "\x00\n") {
		return out // no field holds a separator
	}
	user, pos := 0, 0
	for pos < len(idx.text) {
		at := bytes.Index(idx.text[pos:], needle)
		if at < 0 {
			break
		}
		at += pos
		// The user whose text holds the hit; then on to the next user.
		for int(idx.textEnd[user]) <= at {
			user++
		}
		out[user] = true
		pos = int(idx.textEnd[user])
	}
	return out
}

// matcher compiles a query's filters.
func (q Query) matcher(scannedAt time.Time, text []bool) func(*Row) bool {
	var cutoff time.Time
	if q.Inactive > 0 {
		cutoff = scannedAt.AddDate(0, 0, -q.Inactive)
	}
	return func(r *Row) bool {
		if len(q.Products) > 0 && !slices.Contains(q.Products, r.Product) {
			return false
		}
		if len(q.Verdicts) > 0 && !slices.Contains(q.Verdicts, r.Verdict) && !(r.Likely && slices.Contains(q.Verdicts, LikelyRemovable)) {
			return false
		}
		if len(q.Classes) > 0 && !slices.Contains(q.Classes, r.Class) {
			return false
		}
		if q.Billable != nil && r.Billable != *q.Billable {
			return false
		}
		if q.Reason != "" && !slices.ContainsFunc(r.Reasons, func(x billing.Reason) bool { return x.Code == q.Reason }) {
			return false
		}
		if q.Warning != "" && !slices.ContainsFunc(r.Warnings, func(x billing.Warning) bool { return x.Code == q.Warning }) {
			return false
		}
		if q.Group != "" && !slices.Contains(r.Groups, q.Group) {
			return false
		}
		if !cutoff.IsZero() && r.LastActive != nil && r.LastActive.After(cutoff) {
			return false
		}
		return text == nil || text[r.n]
	}
}

// fingerprint ties a cursor to the scan, the filters and the order it was
// made for: a cursor of another query is refused, not misread.
func (q Query) fingerprint(scanID string) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%v|%v|%s|%s|%s|%v|%d|%v|%s|%s", scanID, q.Products, q.Verdicts, q.Reason, q.Warning, q.Group,
		q.Classes, q.Inactive, q.Billable, strings.ToLower(strings.TrimSpace(q.Text)), q.Sort)
	return h.Sum64()
}

func encodeCursor(fp uint64, pos int) string {
	b := binary.BigEndian.AppendUint64(nil, fp)
	b = binary.AppendUvarint(b, uint64(pos))
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(c string, fp uint64, n int) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) < 9 {
		return 0, badQuery("cursor: not a cursor of this API")
	}
	if binary.BigEndian.Uint64(b[:8]) != fp {
		return 0, badQuery("cursor: it belongs to another query or scan; start again without it")
	}
	pos, k := binary.Uvarint(b[8:])
	if k <= 0 || pos > uint64(n) {
		return 0, badQuery("cursor: not a cursor of this API")
	}
	return int(pos), nil
}

// Key names a seat across scans.
type Key struct{ AccountID, Product string }

// Change is a seat whose verdict moved between two scans.
type Change struct {
	AccountID   string `json:"accountId"`
	DisplayName string `json:"displayName"`
	Product     string `json:"product"`
	From        string `json:"from"`
	To          string `json:"to"`
}

// Seat is a seat in a diff.
type Seat struct {
	AccountID   string `json:"accountId"`
	DisplayName string `json:"displayName"`
	Product     string `json:"product"`
	Verdict     string `json:"verdict"`
	Billable    bool   `json:"billable"`
}

// Diff is what changed from one scan to another.
type Diff struct {
	From    string   `json:"from"`
	To      string   `json:"to"`
	Added   []Seat   `json:"added"`
	Removed []Seat   `json:"removed"`
	Changed []Change `json:"changed"`
}

// DiffFrom lists the seats added, removed and changed in verdict from the
// scan of old to the scan of idx.
func (idx *Index) DiffFrom(old *Index) Diff {
	d := Diff{From: old.ScanID, To: idx.ScanID, Added: []Seat{}, Removed: []Seat{}, Changed: []Change{}}
	before := make(map[Key]*Row, len(old.rows))
	for i := range old.rows {
		r := &old.rows[i]
		before[Key{r.AccountID, r.Product}] = r
	}
	for _, pos := range idx.orders[SortName] {
		r := &idx.rows[pos]
		k := Key{r.AccountID, r.Product}
		o, ok := before[k]
		switch {
		case !ok:
			d.Added = append(d.Added, seatOf(r))
		case o.Verdict != r.Verdict:
			d.Changed = append(d.Changed, Change{AccountID: r.AccountID, DisplayName: r.DisplayName, Product: r.Product, From: o.Verdict, To: r.Verdict})
		}
		delete(before, k)
	}
	for _, pos := range old.orders[SortName] {
		r := &old.rows[pos]
		if _, gone := before[Key{r.AccountID, r.Product}]; gone {
			d.Removed = append(d.Removed, seatOf(r))
		}
	}
	return d
}

func seatOf(r *Row) Seat {
	return Seat{AccountID: r.AccountID, DisplayName: r.DisplayName, Product: r.Product, Verdict: r.Verdict, Billable: r.Billable}
}

// ParseList splits a comma-separated parameter.
func ParseList(v string) []string {
	if v == "" {
		return nil
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// ParseInt reads a whole-number parameter.
func ParseInt(name, v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, badQuery("%s: want a whole number", name)
	}
	return n, nil
}
