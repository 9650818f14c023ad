package admincsv

import (
	"strconv"
	"strings"
	"time"
)

// State is what a "Last seen in …" cell says about the user and the product.
type State uint8

const (
	// Unknown: the cell is empty or unreadable, so the file says nothing.
	Unknown State = iota
	// Never: "Never accessed" (older files: "Never Accessed", "Never
	// logged in").
	Never
	// On: the user was last seen on Seen.Date.
	On
)

func (s State) String() string {
	switch s {
	case Unknown:
		return "unknown"
	case Never:
		return "never"
	case On:
		return "on"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Seen is one "Last seen in …" cell. The zero value is Unknown. It holds a
// day number rather than a time.Time because every user carries one per
// product column: 8 bytes instead of 32 keeps a file of empty cells from
// growing 30-fold in memory.
type Seen struct {
	state State
	day   int32 // days since 1970-01-01 when state == On
}

// SeenNever is the value of a "Never accessed" cell.
func SeenNever() Seen { return Seen{state: Never} }

// SeenOn is the value of a cell naming t's calendar day (in t's location);
// years beyond ±5 million do not fit.
func SeenOn(t time.Time) Seen {
	y, m, d := t.Date()
	return Seen{state: On, day: int32(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)}
}

// State says whether the cell holds a date, "never", or nothing usable.
func (s Seen) State() State { return s.state }

// Date is 00:00 UTC of the day the user was last seen, or the zero time
// unless State is On.
func (s Seen) Date() time.Time {
	if s.state != On {
		return time.Time{}
	}
	return time.Unix(int64(s.day)*86400, 0).UTC()
}

func (s Seen) String() string {
	if s.state == On {
		return s.Date().Format(time.DateOnly)
	}
	return s.state.String()
}

// parseSeen reads a trimmed cell; ok is false for text that is neither
// empty, "never" nor a date.
func parseSeen(v string) (s Seen, ok bool) {
	switch {
	case v == "":
		return Seen{}, true
	case strings.EqualFold(v, "Never accessed"), strings.EqualFold(v, "Never logged in"):
		return SeenNever(), true
	}
	t, ok := parseDate(v)
	if !ok {
		return Seen{}, false
	}
	return SeenOn(t), true
}

// parseDate reads the export's "%d %b %Y" ("3 Jan 2024"); Go's "2" also
// takes "03", and the month match ignores case. ISO dates, which the
// managed-accounts export uses, are accepted in case a file was mixed up or
// re-saved. The layout is picked by shape because time.Parse allocates an
// error for each layout that fails.
func parseDate(v string) (time.Time, bool) {
	if len(v) > 32 {
		return time.Time{}, false
	}
	layout := "2 Jan 2006"
	if len(v) == 10 && v[4] == '-' {
		layout = time.DateOnly
	}
	t, err := time.Parse(layout, v)
	return t, err == nil
}

// mergeSeen combines two rows' cells for one account and product. Activity
// outranks "never", and the later of two days wins, because a seat must not
// look less used than some row says it is.
func mergeSeen(a, b Seen) (merged Seen, conflict bool) {
	switch {
	case b.state == Unknown || a == b:
		return a, false
	case a.state == Unknown:
		return b, false
	case a.state == On && b.state == On:
		if b.day > a.day {
			return b, true
		}
		return a, true
	case a.state == On:
		return a, true
	default:
		return b, true
	}
}
