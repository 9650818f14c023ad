// Package admincsv reads the CSV that Atlassian Administration's "Export
// users" writes (Directory > Users > ⋯ > Export users). It is the activity
// source when no Organizations API key is available (DESIGN.md §5): its
// "Last seen in <App> - <site>" columns say when each user last used each
// product, and "Added to org" separates never-accessed accounts from new
// ones (DESIGN.md §6 rule 2).
//
// The file carries no export date, in neither its content nor its name
// (gaps-2026-11.md §2.1), so the caller has to obtain one and judge activity
// against it; nothing here knows "now".
//
// The package is pure: it reads an io.Reader and touches no files or
// network, so the upload handler and the CLI share it unchanged.
//
// A file that is not an export at all is an error. Anything wrong inside a
// usable export (a bad date, a short row, a row without an account id) is
// reported as a Problem and the rest is still read: one damaged row must not
// cost an admin the whole report.
package admincsv

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits. Real exports are far below them: 300k users at about 200 bytes a
// row is 60 MB, and an org rarely has more than a few dozen product columns.
// They exist so an upload of the wrong file cannot exhaust memory.
const (
	// DefaultMaxBytes is the default cap on the input size.
	DefaultMaxBytes = 64 << 20
	// DefaultMaxRows is the default cap on the number of records after the
	// header, blank and unreadable ones included, since each costs work.
	DefaultMaxRows = 1_000_000
	// MaxColumns caps the header width.
	MaxColumns = 1024
	// MaxCells caps the product cells kept in memory (distinct users ×
	// product columns). An empty cell is one byte of input but a stored
	// one is 8 or 16, so the byte limit alone would not bound memory.
	MaxCells = 16_000_000
	// MaxProblems is how many problems are kept; the rest are only counted
	// in Export.ProblemsOmitted, so a garbage file cannot grow the list
	// without bound.
	MaxProblems = 1000
)

// Fatal errors, to be tested with errors.Is. The returned error wraps one of
// them with the detail an admin needs to fix the upload.
var (
	ErrEmpty           = errors.New("admincsv: the file is empty")
	ErrNotCSV          = errors.New("admincsv: not a CSV file")
	ErrNoAccountColumn = errors.New(`admincsv: no "User id" or "Atlassian ID" column; is this the "Export users" CSV from Atlassian Administration?`)
	ErrTooLarge        = errors.New("admincsv: file too large")
)

// Export is one parsed "Export users" file.
type Export struct {
	// Apps are the "Last seen in …" columns, in header order.
	Apps []App
	// AccessColumns are the product-access columns (such as "Jira -
	// mysite"), in header order: every named column that is neither a known
	// user or group column nor "Last seen in …".
	AccessColumns []string
	// Users holds one entry per account, in the order of first appearance.
	Users []User
	// Rows counts the non-blank records after the header, skipped ones
	// included, so a caller can say "N rows, M users".
	Rows int
	// Problems are the first MaxProblems things wrong inside the file.
	Problems []Problem
	// ProblemsOmitted counts the problems beyond MaxProblems.
	ProblemsOmitted int
}

// App is one "Last seen in <Label> - <Site>" column.
type App struct {
	Column string // the header as written, trimmed
	Label  string // product name as Atlassian wrote it: "Jira", "Jira Software", "Confluence", …
	Site   string // site name; empty when the header names none
}

// User is one account, merged from all its rows.
type User struct {
	AccountID string
	Name      string
	Email     string
	Status    string // "User status" as written: "Active", "Inactive", "Suspended", …
	OrgRole   string // as written; usually empty
	// AddedToOrg is 00:00 UTC of the "Added to org" day, or zero when the
	// cell is empty or unreadable.
	AddedToOrg time.Time
	// LastSeen has one entry per Export.Apps, at the same index. It is a
	// slice, not a map by label, because an org export can name the same
	// product on several sites.
	LastSeen []Seen
	// Access has one raw value per Export.AccessColumns, at the same index;
	// nil when all of them are empty.
	Access []string
	// Line is the line of the account's first row, for pointing an admin
	// at it.
	Line int
}

// Problem is something wrong inside the file that did not stop parsing.
type Problem struct {
	Line    int    // 1-based line where the row or cell starts
	Column  string // header of the cell concerned; empty for the whole row
	Message string
}

func (p Problem) String() string {
	if p.Column == "" {
		return fmt.Sprintf("line %d: %s", p.Line, p.Message)
	}
	return fmt.Sprintf("line %d, column %q: %s", p.Line, p.Column, p.Message)
}

// Option changes a limit of Parse.
type Option func(*config)

type config struct {
	maxBytes int64
	maxRows  int
}

// WithMaxBytes sets the input size limit; n ≤ 0 keeps DefaultMaxBytes.
func WithMaxBytes(n int64) Option {
	return func(c *config) {
		if n > 0 {
			// Parse reads one byte past the limit, which must not overflow.
			c.maxBytes = min(n, math.MaxInt64-1)
		}
	}
}

// WithMaxRows sets the record limit; n ≤ 0 keeps DefaultMaxRows.
func WithMaxRows(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxRows = n
		}
	}
}

// Parse reads an "Export users" CSV. Headers are matched case-insensitively
// after trimming spaces and a UTF-8 byte order mark. Dates ("3 Jan 2024";
// "03 Jan 2024" and "2024-01-03" are accepted too) carry no time of day or
// zone in the file and are taken as 00:00 UTC of that day.
//
// The error is non-nil only when the input is not a usable export (see the
// Err variables); row-level trouble ends up in Export.Problems.
func Parse(r io.Reader, opts ...Option) (*Export, error) {
	cfg := config{maxBytes: DefaultMaxBytes, maxRows: DefaultMaxRows}
	for _, o := range opts {
		o(&cfg)
	}
	// Reading one byte past the limit tells a file of exactly the limit
	// from a longer one.
	cr := &countingReader{r: io.LimitReader(r, cfg.maxBytes+1)}
	br := bufio.NewReader(cr)
	if err := sniff(br); err != nil {
		return nil, err
	}
	p := &parser{
		cfg:  cfg,
		in:   cr,
		csv:  csv.NewReader(br),
		exp:  &Export{},
		byID: make(map[string]*User),
	}
	// Field counts are checked per row so that a ragged row is a problem
	// rather than the end of the file.
	p.csv.FieldsPerRecord = -1
	p.csv.ReuseRecord = true
	if err := p.readHeader(); err != nil {
		return nil, err
	}
	if err := p.readRows(); err != nil {
		return nil, err
	}
	p.flattenUsers()
	return p.exp, nil
}

// sniff rejects the wrong files people are likely to upload, with a message
// that says what to do, before the CSV reader turns them into a puzzling
// "no User id column".
func sniff(br *bufio.Reader) error {
	head, err := br.Peek(512)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return fmt.Errorf("admincsv: reading: %w", err)
	}
	if len(bytes.TrimSpace(head)) == 0 && len(head) < 512 {
		return ErrEmpty
	}
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return fmt.Errorf("%w: this is a ZIP archive, probably an Excel workbook; export or save the users as CSV", ErrNotCSV)
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return fmt.Errorf("%w: the text is UTF-16; save it as \"CSV UTF-8\"", ErrNotCSV)
	case bytes.IndexByte(head, 0) >= 0:
		return fmt.Errorf("%w: the file holds binary data", ErrNotCSV)
	}
	if bytes.HasPrefix(head, []byte("\uFEFF")) {
		if _, err := br.Discard(3); err != nil {
			return fmt.Errorf("admincsv: reading: %w", err)
		}
		head = head[3:]
	}
	if t := bytes.TrimSpace(head); len(t) > 0 && bytes.IndexByte([]byte("<{["), t[0]) >= 0 {
		return fmt.Errorf("%w: it looks like HTML, XML or JSON", ErrNotCSV)
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type colKind uint8

const (
	colIgnore colKind = iota
	colID
	colAltID
	colName
	colEmail
	colStatus
	colAdded
	colOrgRole
	colApp
	colAccess
)

// metaColumns are the user and group columns of the current export
// (gaps-2026-11.md §2.1), keyed by normalised header. "Atlassian ID" and
// "Email" are how the managed-accounts export spells them; public parsers
// accept both, so we do too.
var metaColumns = map[string]colKind{
	"user id":      colID,
	"atlassian id": colAltID,
	"user name":    colName,
	"email":        colEmail,
	"user status":  colStatus,
	"added to org": colAdded,
	"org role":     colOrgRole,
	"group id":     colIgnore,
	"group name":   colIgnore,
}

const lastSeenPrefix = "Last seen in "

// knownLabels are product names that never contain " - ". A header starting
// with one of them is split right after it, so a site name containing " - "
// stays whole; any other header is split at its last " - ", since site names
// are subdomains (hyphens, no spaces) while product names have spaces.
var knownLabels = []string{
	"Jira", "Jira Software", "Jira Service Management", "Jira Service Desk",
	"Jira Work Management", "Jira Core", "Jira Product Discovery",
	"Confluence", "Bitbucket", "Atlas", "Goals", "Projects", "Opsgenie",
	"Statuspage", "Trello", "Loom", "Compass", "Jira Align", "Rovo",
}

type column struct {
	kind colKind
	idx  int // into Export.Apps or Export.AccessColumns
}

type parser struct {
	cfg    config
	in     *countingReader
	csv    *csv.Reader
	exp    *Export
	header []string // trimmed header names, for problems
	cols   []column
	byKind [colAccess]int // column index of each meta kind, -1 if absent
	idCol  int
	// users are filled in chunks that never move, so byID can point into
	// them and a 100k-user file is not copied again at every growth of one
	// slice; Parse flattens them into Export.Users at the end.
	users  [][]User
	nUsers int
	byID   map[string]*User
	// rowSeen and rowAccess are scratch space for the row being read;
	// seenSlab and accessSlab back the users' slices in large chunks, so
	// that 100k users do not cost 200k small allocations.
	rowSeen    []Seen
	rowAccess  []string
	seenSlab   []Seen
	accessSlab []string
	cells      int
	records    int
}

func (p *parser) problemf(line int, col, format string, args ...any) {
	if len(p.exp.Problems) >= MaxProblems {
		p.exp.ProblemsOmitted++
		return
	}
	p.exp.Problems = append(p.exp.Problems, Problem{Line: line, Column: col, Message: fmt.Sprintf(format, args...)})
}

// read returns the next record, turning the byte limit into ErrTooLarge as
// soon as the reader has gone past it, before a cut-off row is looked at.
func (p *parser) read() ([]string, error) {
	rec, err := p.csv.Read()
	if p.in.n > p.cfg.maxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, p.cfg.maxBytes)
	}
	return rec, err
}

func (p *parser) readHeader() error {
	var rec []string
	for {
		var err error
		rec, err = p.read()
		if err == io.EOF {
			return fmt.Errorf("%w: no header row", ErrEmpty)
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return fmt.Errorf("%w: header on line %d: %v", ErrNotCSV, pe.StartLine, pe.Err)
			}
			if errors.Is(err, ErrTooLarge) {
				return err
			}
			return fmt.Errorf("admincsv: reading: %w", err)
		}
		// Spreadsheets like to leave rows of bare commas above the data.
		if !blank(rec) {
			break
		}
	}
	line, _ := p.csv.FieldPos(0)
	if len(rec) > MaxColumns {
		return fmt.Errorf("%w: %d columns, at most %d", ErrTooLarge, len(rec), MaxColumns)
	}
	for _, h := range rec {
		if !utf8.ValidString(h) {
			return fmt.Errorf("%w: the header is not UTF-8 text; save the file as \"CSV UTF-8\"", ErrNotCSV)
		}
	}
	for i := range p.byKind {
		p.byKind[i] = -1
	}
	p.header = make([]string, len(rec))
	p.cols = make([]column, len(rec))
	seen := make(map[string]bool, len(rec))
	for i, raw := range rec {
		name := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(raw), "\uFEFF"))
		p.header[i] = name
		// Collapsing inner runs of spaces makes "User  id" and "Last seen
		// in Jira  -  site" match as well as case differences do.
		norm := strings.Join(strings.Fields(name), " ")
		key := strings.ToLower(norm)
		if key == "" {
			continue // an unnamed column, such as a trailing comma, has nothing to read
		}
		if seen[key] {
			p.problemf(line, name, "duplicate column; only the first one is read")
			continue
		}
		seen[key] = true
		if kind, ok := metaColumns[key]; ok {
			p.cols[i].kind = kind
			if kind != colIgnore {
				p.byKind[kind] = i
			}
			continue
		}
		if isPivotGroup(key) {
			continue
		}
		if hasPrefixFold(norm, lastSeenPrefix) {
			label, site := splitApp(norm[len(lastSeenPrefix):])
			p.cols[i] = column{kind: colApp, idx: len(p.exp.Apps)}
			p.exp.Apps = append(p.exp.Apps, App{Column: name, Label: label, Site: site})
			continue
		}
		p.cols[i] = column{kind: colAccess, idx: len(p.exp.AccessColumns)}
		p.exp.AccessColumns = append(p.exp.AccessColumns, name)
	}
	p.idCol = p.byKind[colID]
	if p.idCol < 0 {
		p.idCol = p.byKind[colAltID]
	}
	if p.idCol < 0 {
		if len(rec) == 1 && strings.ContainsAny(rec[0], ";\t") {
			return fmt.Errorf("%w: the columns are separated by semicolons or tabs, not commas; save the file as \"CSV UTF-8 (comma delimited)\"", ErrNotCSV)
		}
		return ErrNoAccountColumn
	}
	p.rowSeen = make([]Seen, len(p.exp.Apps))
	p.rowAccess = make([]string, len(p.exp.AccessColumns))
	return nil
}

// isPivotGroup recognises the "Group 1", "Group 2", … columns that the
// "Pivot to column" option writes instead of a comma-separated group list.
func isPivotGroup(key string) bool {
	n, ok := strings.CutPrefix(key, "group ")
	if !ok || n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return false
		}
	}
	return true
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func splitApp(rest string) (label, site string) {
	for _, k := range knownLabels {
		if hasPrefixFold(rest, k+" - ") {
			return rest[:len(k)], strings.TrimSpace(rest[len(k)+3:])
		}
	}
	if i := strings.LastIndex(rest, " - "); i >= 0 {
		return strings.TrimSpace(rest[:i]), strings.TrimSpace(rest[i+3:])
	}
	return strings.TrimSpace(rest), ""
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

func (p *parser) readRows() error {
	for {
		rec, err := p.read()
		if err == io.EOF {
			return nil
		}
		if errors.Is(err, ErrTooLarge) {
			return err
		}
		p.records++
		if p.records > p.cfg.maxRows {
			return fmt.Errorf("%w: more than %d rows", ErrTooLarge, p.cfg.maxRows)
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return fmt.Errorf("admincsv: reading: %w", err)
			}
			p.exp.Rows++
			p.problemf(pe.StartLine, "", "unreadable CSV (%v); row skipped", pe.Err)
			continue
		}
		if blank(rec) {
			continue
		}
		p.exp.Rows++
		if err := p.row(rec); err != nil {
			return err
		}
	}
}

func (p *parser) row(rec []string) error {
	line, _ := p.csv.FieldPos(0)
	if len(rec) != len(p.cols) {
		p.problemf(line, "", "%d fields where the header has %d; row skipped", len(rec), len(p.cols))
		return nil
	}
	for i, f := range rec {
		if !utf8.ValidString(f) {
			p.problemf(line, "", "text that is not UTF-8 was replaced; was the file saved in another encoding?")
			for j := i; j < len(rec); j++ {
				rec[j] = strings.ToValidUTF8(rec[j], "\uFFFD")
			}
			break
		}
	}
	id := strings.TrimSpace(rec[p.idCol])
	if id == "" {
		p.problemf(line, p.header[p.idCol], "no account id; row skipped")
		return nil
	}
	u := User{
		AccountID: id,
		Name:      p.text(rec, colName),
		Email:     p.text(rec, colEmail),
		Status:    p.text(rec, colStatus),
		OrgRole:   p.text(rec, colOrgRole),
		Line:      line,
	}
	if c := p.byKind[colAdded]; c >= 0 {
		if v := strings.TrimSpace(rec[c]); v != "" {
			if t, ok := parseDate(v); ok {
				u.AddedToOrg = t
			} else {
				p.badDate(c, v)
			}
		}
	}
	hasAccess := false
	for c, col := range p.cols {
		switch col.kind {
		case colApp:
			v := strings.TrimSpace(rec[c])
			s, ok := parseSeen(v)
			if !ok {
				p.badDate(c, v)
			}
			p.rowSeen[col.idx] = s
		case colAccess:
			v := strings.TrimSpace(rec[c])
			p.rowAccess[col.idx] = v
			hasAccess = hasAccess || v != ""
		}
	}
	if known := p.byID[id]; known != nil {
		p.merge(known, u, hasAccess)
		return nil
	}
	p.cells += len(p.rowSeen)
	if hasAccess {
		p.cells += len(p.rowAccess)
	}
	if p.cells > MaxCells {
		return fmt.Errorf("%w: more than %d product cells", ErrTooLarge, MaxCells)
	}
	u.LastSeen = takeSlab(&p.seenSlab, p.rowSeen, p.nUsers)
	if hasAccess {
		u.Access = takeSlab(&p.accessSlab, p.rowAccess, p.nUsers)
	}
	p.byID[id] = p.addUser(u)
	return nil
}

func (p *parser) addUser(u User) *User {
	if n := len(p.users); n == 0 || len(p.users[n-1]) == cap(p.users[n-1]) {
		p.users = append(p.users, make([]User, 0, min(max(p.nUsers, 64), 8192)))
	}
	last := &p.users[len(p.users)-1]
	*last = append(*last, u)
	p.nUsers++
	return &(*last)[len(*last)-1]
}

func (p *parser) flattenUsers() {
	switch len(p.users) {
	case 0:
	case 1:
		p.exp.Users = p.users[0]
	default:
		p.exp.Users = make([]User, 0, p.nUsers)
		for _, c := range p.users {
			p.exp.Users = append(p.exp.Users, c...)
		}
	}
	p.users, p.byID = nil, nil
}

// takeSlab copies row into the front of *slab, refilling it when short, and
// caps the result so that a later append by the caller cannot overwrite the
// next user's cells. Refills grow with the users read so far, so a small
// file allocates little and a large one allocates in 64k-cell chunks.
func takeSlab[T any](slab *[]T, row []T, users int) []T {
	n := len(row)
	if n == 0 {
		return nil
	}
	if len(*slab) < n {
		*slab = make([]T, max(n, min(n*max(users, 8), 1<<16)))
	}
	out := (*slab)[:n:n]
	copy(out, row)
	*slab = (*slab)[n:]
	return out
}

func (p *parser) text(rec []string, kind colKind) string {
	if c := p.byKind[kind]; c >= 0 {
		return strings.TrimSpace(rec[c])
	}
	return ""
}

func (p *parser) badDate(c int, v string) {
	line, _ := p.csv.FieldPos(c)
	if len(v) > 40 {
		v = v[:40] + "…"
	}
	p.problemf(line, p.header[c], "%q is not a date like \"3 Jan 2024\" (was the file re-saved by a spreadsheet?); treated as unknown", v)
}

// merge folds a further row of the same account into u. Exports with group
// data repeat a user once per group with the same values, so a difference
// is a problem. Of two different dates the later is kept: for "Last seen"
// it is the more recent use, and for "Added to org" it makes "new account"
// (a hold) likelier than "never accessed", so a conflict never pushes a seat
// toward removal.
func (p *parser) merge(u *User, r User, hasAccess bool) {
	p.mergeText(&u.Name, r.Name, colName, u.Line, r.Line)
	p.mergeText(&u.Email, r.Email, colEmail, u.Line, r.Line)
	p.mergeText(&u.Status, r.Status, colStatus, u.Line, r.Line)
	p.mergeText(&u.OrgRole, r.OrgRole, colOrgRole, u.Line, r.Line)
	switch {
	case u.AddedToOrg.IsZero():
		u.AddedToOrg = r.AddedToOrg
	case !r.AddedToOrg.IsZero() && !r.AddedToOrg.Equal(u.AddedToOrg):
		if r.AddedToOrg.After(u.AddedToOrg) {
			u.AddedToOrg = r.AddedToOrg
		}
		p.problemf(r.Line, p.header[p.byKind[colAdded]], "differs from this account's row on line %d; the later date is kept", u.Line)
	}
	if u.Access == nil && hasAccess {
		if p.cells += len(p.rowAccess); p.cells <= MaxCells {
			u.Access = takeSlab(&p.accessSlab, p.rowAccess, p.nUsers)
		} else {
			// Dropping access values keeps the activity data, which is
			// what the file is read for.
			p.problemf(r.Line, "", "product access values dropped: more than %d product cells", MaxCells)
		}
		hasAccess = false
	}
	for c, col := range p.cols {
		switch col.kind {
		case colApp:
			s, conflict := mergeSeen(u.LastSeen[col.idx], p.rowSeen[col.idx])
			u.LastSeen[col.idx] = s
			if conflict {
				p.problemf(r.Line, p.header[c], "differs from this account's row on line %d; the later activity is kept", u.Line)
			}
		case colAccess:
			if !hasAccess || u.Access == nil {
				continue
			}
			switch v := p.rowAccess[col.idx]; {
			case v == "":
			case u.Access[col.idx] == "":
				u.Access[col.idx] = v
			case u.Access[col.idx] != v:
				p.problemf(r.Line, p.header[c], "differs from this account's row on line %d; the first value is kept", u.Line)
			}
		}
	}
}

func (p *parser) mergeText(dst *string, v string, kind colKind, first, line int) {
	switch {
	case *dst == "":
		*dst = v
	case v != "" && v != *dst:
		p.problemf(line, p.header[p.byKind[kind]], "differs from this account's row on line %d; the first value is kept", first)
	}
}
