package admincsv_test

import (
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/seatlens/seatlens/app/atlassian/admincsv"
)

const fixturePath = "../../sitesim/testdata/fixture/activity.csv"

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func mustParse(t *testing.T, in string, opts ...admincsv.Option) *admincsv.Export {
	t.Helper()
	e, err := admincsv.Parse(strings.NewReader(in), opts...)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return e
}

func user(t *testing.T, e *admincsv.Export, id string) admincsv.User {
	t.Helper()
	for _, u := range e.Users {
		if u.AccountID == id {
			return u
		}
	}
	t.Fatalf("no user %q in %d users", id, len(e.Users))
	return admincsv.User{}
}

func appIndex(t *testing.T, e *admincsv.Export, label string) int {
	t.Helper()
	for i, a := range e.Apps {
		if a.Label == label {
			return i
		}
	}
	t.Fatalf("no app %q in %+v", label, e.Apps)
	return -1
}

func problems(e *admincsv.Export) string {
	var b strings.Builder
	for _, p := range e.Problems {
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func TestHeaders(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		apps     []admincsv.App
		access   []string
		email    string
		problems int
	}{
		{
			name:  "BOM",
			in:    "\uFEFFUser id,User name,email,Last seen in Jira - acme\na1,Ann,ann@x.example,Never accessed\n",
			apps:  []admincsv.App{{Column: "Last seen in Jira - acme", Label: "Jira", Site: "acme"}},
			email: "ann@x.example",
		},
		{
			name:  "quoted headers",
			in:    "\"User id\",\"User name\",\"email\",\"Last seen in Confluence - acme\"\n\"a1\",\"Ann\",\"ann@x.example\",\"2 Feb 2026\"\n",
			apps:  []admincsv.App{{Column: "Last seen in Confluence - acme", Label: "Confluence", Site: "acme"}},
			email: "ann@x.example",
		},
		{
			name:  "case and space variants",
			in:    "  USER ID ,user  name,EMAIL, User Status ,ADDED TO ORG, last seen in Jira  -  acme \na1,Ann,ann@x.example,Active,1 Jan 2025,1 May 2026\n",
			apps:  []admincsv.App{{Column: "last seen in Jira  -  acme", Label: "Jira", Site: "acme"}},
			email: "ann@x.example",
		},
		{
			name:  "old Jira Software label",
			in:    "User id,email,Last seen in Jira Software - acme\na1,ann@x.example,1 May 2022\n",
			apps:  []admincsv.App{{Column: "Last seen in Jira Software - acme", Label: "Jira Software", Site: "acme"}},
			email: "ann@x.example",
		},
		{
			name: "multi-word labels and hyphenated sites",
			in:   "User id,Last seen in Jira Service Management - my-site,Last seen in Jira Product Discovery - a-b-c,Last seen in Some New Thing - x-y\na1,,,\n",
			apps: []admincsv.App{
				{Column: "Last seen in Jira Service Management - my-site", Label: "Jira Service Management", Site: "my-site"},
				{Column: "Last seen in Jira Product Discovery - a-b-c", Label: "Jira Product Discovery", Site: "a-b-c"},
				{Column: "Last seen in Some New Thing - x-y", Label: "Some New Thing", Site: "x-y"},
			},
		},
		{
			name: "site name containing ' - '",
			in:   "User id,Last seen in Jira Service Management - acme - eu,Last seen in jira - acme - us\na1,,\n",
			apps: []admincsv.App{
				{Column: "Last seen in Jira Service Management - acme - eu", Label: "Jira Service Management", Site: "acme - eu"},
				{Column: "Last seen in jira - acme - us", Label: "jira", Site: "acme - us"},
			},
		},
		{
			name: "unknown label with a site containing ' - ' splits at the last one",
			in:   "User id,Last seen in Foo - Bar - baz\na1,\n",
			apps: []admincsv.App{{Column: "Last seen in Foo - Bar - baz", Label: "Foo - Bar", Site: "baz"}},
		},
		{
			name: "no site",
			in:   "User id,Last seen in Jira\na1,\n",
			apps: []admincsv.App{{Column: "Last seen in Jira", Label: "Jira"}},
		},
		{
			name:  "managed-accounts spellings",
			in:    "Atlassian ID,Name,Email\na1,Ann,ann@x.example\n",
			email: "ann@x.example",
			// "Name" is not a column of the users export, so it is kept raw.
			access: []string{"Name"},
		},
		{
			name:   "group and access columns",
			in:     "User id,User name,email,User status,Added to org,Org role,Group id,Group name,Group 1,Group 12,Jira - acme,Confluence - acme,Last seen in Jira - acme\na1,Ann,ann@x.example,Active,1 Jan 2025,,g1,jira-users,x,y,User,,1 May 2026\n",
			apps:   []admincsv.App{{Column: "Last seen in Jira - acme", Label: "Jira", Site: "acme"}},
			access: []string{"Jira - acme", "Confluence - acme"},
			email:  "ann@x.example",
		},
		{
			name:     "duplicate column",
			in:       "User id,email,Email,Last seen in Jira - acme,last seen in jira - acme\na1,ann@x.example,other@x.example,1 May 2026,2 May 2026\n",
			apps:     []admincsv.App{{Column: "Last seen in Jira - acme", Label: "Jira", Site: "acme"}},
			email:    "ann@x.example",
			problems: 2,
		},
		{
			name:  "User id wins over Atlassian ID",
			in:    "Atlassian ID,User id,email\nother,a1,ann@x.example\n",
			email: "ann@x.example",
		},
		{
			name: "unnamed trailing column",
			in:   "User id,Last seen in Jira - acme,\na1,1 May 2026,\n",
			apps: []admincsv.App{{Column: "Last seen in Jira - acme", Label: "Jira", Site: "acme"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustParse(t, tt.in)
			if !reflect.DeepEqual(e.Apps, tt.apps) {
				t.Errorf("Apps = %+v, want %+v", e.Apps, tt.apps)
			}
			if !reflect.DeepEqual(e.AccessColumns, tt.access) {
				t.Errorf("AccessColumns = %q, want %q", e.AccessColumns, tt.access)
			}
			if len(e.Users) != 1 {
				t.Fatalf("got %d users, want 1; problems:\n%s", len(e.Users), problems(e))
			}
			u := e.Users[0]
			if u.AccountID != "a1" || u.Email != tt.email {
				t.Errorf("user = %q %q, want a1 %q", u.AccountID, u.Email, tt.email)
			}
			if len(u.LastSeen) != len(e.Apps) {
				t.Errorf("len(LastSeen) = %d, want %d", len(u.LastSeen), len(e.Apps))
			}
			if len(e.Problems) != tt.problems {
				t.Errorf("got %d problems, want %d:\n%s", len(e.Problems), tt.problems, problems(e))
			}
			for _, p := range e.Problems {
				if p.Line != 1 {
					t.Errorf("header problem on line %d, want 1: %v", p.Line, p)
				}
			}
		})
	}
}

func TestDates(t *testing.T) {
	tests := []struct {
		in      string
		state   admincsv.State
		date    time.Time
		problem bool
	}{
		{in: "3 Jan 2024", state: admincsv.On, date: day(2024, 1, 3)},
		{in: "28 Apr 2024", state: admincsv.On, date: day(2024, 4, 28)},
		{in: "03 Jan 2024", state: admincsv.On, date: day(2024, 1, 3)},
		{in: "3 jan 2024", state: admincsv.On, date: day(2024, 1, 3)},
		{in: "  29 Feb 2024 ", state: admincsv.On, date: day(2024, 2, 29)},
		{in: "2024-01-03", state: admincsv.On, date: day(2024, 1, 3)},
		{in: "Never accessed", state: admincsv.Never},
		{in: "Never Accessed", state: admincsv.Never},
		{in: "never logged in", state: admincsv.Never},
		{in: "NEVER ACCESSED", state: admincsv.Never},
		{in: "", state: admincsv.Unknown},
		{in: "   ", state: admincsv.Unknown},
		{in: "31 Feb 2024", state: admincsv.Unknown, problem: true},
		{in: "01/05/2026", state: admincsv.Unknown, problem: true},
		{in: "3 January 2024", state: admincsv.Unknown, problem: true},
		{in: "2024-13-01", state: admincsv.Unknown, problem: true},
		{in: "Never", state: admincsv.Unknown, problem: true},
		{in: strings.Repeat("x", 200), state: admincsv.Unknown, problem: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			in := fmt.Sprintf("User id,Added to org,Last seen in Jira - acme\na1,%q,%q\n", tt.in, tt.in)
			e := mustParse(t, in)
			u := user(t, e, "a1")
			s := u.LastSeen[0]
			if s.State() != tt.state || !s.Date().Equal(tt.date) {
				t.Errorf("LastSeen = %v %v, want %v %v", s.State(), s.Date(), tt.state, tt.date)
			}
			if tt.state == admincsv.On && s.Date().Location() != time.UTC {
				t.Errorf("date in %v, want UTC", s.Date().Location())
			}
			wantAdded := tt.date // "never" is no date for "Added to org" either
			if !u.AddedToOrg.Equal(wantAdded) {
				t.Errorf("AddedToOrg = %v, want %v", u.AddedToOrg, wantAdded)
			}
			addedBad := tt.problem || tt.state == admincsv.Never
			want := 0
			if tt.problem {
				want++
			}
			if addedBad {
				want++
			}
			if len(e.Problems) != want {
				t.Fatalf("got %d problems, want %d:\n%s", len(e.Problems), want, problems(e))
			}
			for _, p := range e.Problems {
				if p.Line != 2 || (p.Column != "Added to org" && p.Column != "Last seen in Jira - acme") {
					t.Errorf("problem %v: want line 2 and a date column", p)
				}
			}
		})
	}
}

func TestSeenValues(t *testing.T) {
	var zero admincsv.Seen
	if zero.State() != admincsv.Unknown || !zero.Date().IsZero() {
		t.Errorf("zero Seen = %v", zero)
	}
	if s := admincsv.SeenNever(); s.State() != admincsv.Never || !s.Date().IsZero() {
		t.Errorf("SeenNever = %v", s)
	}
	est := time.FixedZone("EST", -5*3600)
	s := admincsv.SeenOn(time.Date(2026, 5, 1, 23, 30, 0, 0, est))
	if s.State() != admincsv.On || !s.Date().Equal(day(2026, 5, 1)) || s.String() != "2026-05-01" {
		t.Errorf("SeenOn = %v %v", s.State(), s.Date())
	}
	if old := admincsv.SeenOn(day(1960, 3, 4)); !old.Date().Equal(day(1960, 3, 4)) {
		t.Errorf("SeenOn(1960-03-04).Date() = %v", old.Date())
	}
}

const groupHeader = "User id,User name,email,User status,Added to org,Group id,Group name,Last seen in Jira - acme,Last seen in Confluence - acme,Jira - acme\n"

func TestMerge(t *testing.T) {
	t.Run("identical rows per group", func(t *testing.T) {
		e := mustParse(t, groupHeader+
			"a1,Ann,ann@x.example,Active,1 Jan 2025,g1,jira-users,1 May 2026,Never accessed,User\n"+
			"b1,Bob,bob@x.example,Active,2 Jan 2025,g1,jira-users,Never accessed,Never accessed,User\n"+
			"a1,Ann,ann@x.example,Active,1 Jan 2025,g2,confluence-users,1 May 2026,Never accessed,User\n")
		if len(e.Users) != 2 || e.Rows != 3 || len(e.Problems) != 0 {
			t.Fatalf("users %d rows %d problems:\n%s", len(e.Users), e.Rows, problems(e))
		}
		if e.Users[0].AccountID != "a1" || e.Users[1].AccountID != "b1" || e.Users[0].Line != 2 {
			t.Errorf("order/line: %+v", e.Users)
		}
	})
	t.Run("conflicts keep the later date and report", func(t *testing.T) {
		e := mustParse(t, groupHeader+
			"a1,Ann,ann@x.example,Active,1 Jan 2025,g1,jira-users,1 May 2026,Never accessed,\n"+
			"a1,Ann B,,,1 Feb 2025,g2,other,3 May 2026,4 Apr 2026,User\n"+
			"a1,,,,,g3,x,2 May 2026,,Admin\n")
		u := user(t, e, "a1")
		jira, conf := appIndex(t, e, "Jira"), appIndex(t, e, "Confluence")
		if !u.LastSeen[jira].Date().Equal(day(2026, 5, 3)) {
			t.Errorf("Jira = %v, want 2026-05-03", u.LastSeen[jira])
		}
		if !u.LastSeen[conf].Date().Equal(day(2026, 4, 4)) {
			t.Errorf("Confluence = %v, want 2026-04-04 (activity beats never)", u.LastSeen[conf])
		}
		if !u.AddedToOrg.Equal(day(2025, 2, 1)) {
			t.Errorf("AddedToOrg = %v, want the later 2025-02-01", u.AddedToOrg)
		}
		if u.Name != "Ann" || u.Email != "ann@x.example" || u.Status != "Active" {
			t.Errorf("text = %q %q %q, want the first values", u.Name, u.Email, u.Status)
		}
		if !reflect.DeepEqual(u.Access, []string{"User"}) {
			t.Errorf("Access = %q, want the first non-empty value", u.Access)
		}
		want := []admincsv.Problem{
			{Line: 3, Column: "User name"},
			{Line: 3, Column: "Added to org"},
			{Line: 3, Column: "Last seen in Jira - acme"},
			{Line: 3, Column: "Last seen in Confluence - acme"},
			{Line: 4, Column: "Last seen in Jira - acme"},
			{Line: 4, Column: "Jira - acme"},
		}
		if len(e.Problems) != len(want) {
			t.Fatalf("got problems:\n%swant %d", problems(e), len(want))
		}
		for i, p := range e.Problems {
			if p.Line != want[i].Line || p.Column != want[i].Column || !strings.Contains(p.Message, "line 2") {
				t.Errorf("problem %d = %v, want line %d column %q citing line 2", i, p, want[i].Line, want[i].Column)
			}
		}
	})
	t.Run("never after a date keeps the date", func(t *testing.T) {
		e := mustParse(t, groupHeader+
			"a1,Ann,,,,g1,x,1 May 2026,,\n"+
			"a1,Ann,,,,g2,y,Never accessed,,\n")
		if s := user(t, e, "a1").LastSeen[0]; !s.Date().Equal(day(2026, 5, 1)) || len(e.Problems) != 1 {
			t.Errorf("Jira = %v, problems:\n%s", s, problems(e))
		}
	})
	t.Run("one product on two sites", func(t *testing.T) {
		e := mustParse(t, "User id,Last seen in Jira - eu-site,Last seen in Jira - us-site,Jira - eu-site,Jira - us-site\n"+
			"a1,1 May 2026,Never accessed,User,\n"+
			"a1,,2 May 2026,,User\n")
		u := user(t, e, "a1")
		want := []admincsv.Seen{admincsv.SeenOn(day(2026, 5, 1)), admincsv.SeenOn(day(2026, 5, 2))}
		if e.Apps[0].Site != "eu-site" || e.Apps[1].Site != "us-site" || !reflect.DeepEqual(u.LastSeen, want) ||
			!reflect.DeepEqual(u.Access, []string{"User", "User"}) {
			t.Errorf("apps %+v, user %+v", e.Apps, u)
		}
		if len(e.Problems) != 1 || e.Problems[0].Column != "Last seen in Jira - us-site" {
			t.Errorf("problems:\n%s", problems(e))
		}
	})
	t.Run("unknown is filled without a problem", func(t *testing.T) {
		e := mustParse(t, groupHeader+
			"a1,,,,,g1,x,,,\n"+
			"a1,Ann,ann@x.example,Active,1 Jan 2025,g2,y,1 May 2026,Never accessed,User\n")
		u := user(t, e, "a1")
		if len(e.Problems) != 0 || u.Name != "Ann" || !u.AddedToOrg.Equal(day(2025, 1, 1)) ||
			u.LastSeen[0].State() != admincsv.On || u.LastSeen[1].State() != admincsv.Never || u.Access[0] != "User" {
			t.Errorf("user %+v, problems:\n%s", u, problems(e))
		}
	})
}

func TestRowProblems(t *testing.T) {
	in := "User id,User name,Last seen in Jira - acme\r\n" +
		"a1,Ann,1 May 2026\r\n" +
		"short,row\r\n" +
		"long,row,1 May 2026,extra\r\n" +
		",Nobody,1 May 2026\r\n" +
		"  ,Blank id,1 May 2026\r\n" +
		"b1,\"Bob\r\nTwo Lines, Esq.\",2 May 2026\r\n" +
		"c1,Bad\"quote,3 May 2026\r\n" +
		",,\r\n" +
		"d1,Dee,4 May 2026\r\n" +
		"\r\n\r\n"
	e := mustParse(t, in)
	var ids []string
	for _, u := range e.Users {
		ids = append(ids, u.AccountID)
	}
	if want := []string{"a1", "b1", "d1"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("users %q, want %q", ids, want)
	}
	if b := user(t, e, "b1"); b.Name != "Bob\r\nTwo Lines, Esq." && b.Name != "Bob\nTwo Lines, Esq." {
		t.Errorf("multi-line name = %q", b.Name)
	}
	if d := user(t, e, "d1"); d.Line != 11 {
		t.Errorf("d1 on line %d, want 11", d.Line)
	}
	if e.Rows != 8 {
		t.Errorf("Rows = %d, want 8", e.Rows)
	}
	want := []admincsv.Problem{
		{Line: 3, Message: "2 fields where the header has 3; row skipped"},
		{Line: 4, Message: "4 fields where the header has 3; row skipped"},
		{Line: 5, Column: "User id", Message: "no account id; row skipped"},
		{Line: 6, Column: "User id", Message: "no account id; row skipped"},
	}
	if len(e.Problems) != 5 || !reflect.DeepEqual(e.Problems[:4], want) {
		t.Fatalf("problems:\n%s", problems(e))
	}
	if p := e.Problems[4]; p.Line != 9 || !strings.Contains(p.Message, "unreadable CSV") {
		t.Errorf("bare quote problem = %v, want line 9", p)
	}
}

func TestInvalidUTF8(t *testing.T) {
	e := mustParse(t, "User id,User name\na1,In\xe8s\n")
	if u := user(t, e, "a1"); u.Name != "In\uFFFDs" {
		t.Errorf("Name = %q", u.Name)
	}
	if len(e.Problems) != 1 || !strings.Contains(e.Problems[0].Message, "UTF-8") {
		t.Errorf("problems:\n%s", problems(e))
	}
}

func TestFatal(t *testing.T) {
	tests := []struct {
		name string
		in   string
		err  error
		msg  string
	}{
		{"empty", "", admincsv.ErrEmpty, ""},
		{"blank lines", "\n\r\n  \n", admincsv.ErrEmpty, ""},
		{"BOM only", "\uFEFF", admincsv.ErrEmpty, ""},
		{"commas only", ",,,\n,,\n", admincsv.ErrEmpty, "no header"},
		{"no id column", "User name,email\nAnn,ann@x.example\n", admincsv.ErrNoAccountColumn, "User id"},
		{"plain text", "hello world\nthis is not it\n", admincsv.ErrNoAccountColumn, ""},
		{"xlsx", "PK\x03\x04\x14\x00\x06\x00", admincsv.ErrNotCSV, "Excel"},
		{"binary", "User id\x00\x01\x02", admincsv.ErrNotCSV, "binary"},
		{"UTF-16", "\xff\xfeU\x00s\x00", admincsv.ErrNotCSV, "UTF-16"},
		{"JSON", `{"users":[{"id":"a1"}]}`, admincsv.ErrNotCSV, "JSON"},
		{"HTML", "<!DOCTYPE html>\n<html><body>Log in</body></html>", admincsv.ErrNotCSV, "HTML"},
		{"unterminated quote", "\"User id,User name\na1,Ann\n", admincsv.ErrNotCSV, "line 1"},
		{"bare quote in header", "User \"id\",x\n", admincsv.ErrNotCSV, "line 1"},
		{"semicolons", "User id;User name;email\na1;Ann;ann@x.example\n", admincsv.ErrNotCSV, "semicolons"},
		{"header not UTF-8", "User id,Nom d'utilisat\xe9ur\n", admincsv.ErrNotCSV, "UTF-8"},
		{"too many columns", "User id" + strings.Repeat(",c", admincsv.MaxColumns) + "\n", admincsv.ErrTooLarge, "columns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := admincsv.Parse(strings.NewReader(tt.in))
			if !errors.Is(err, tt.err) || e != nil {
				t.Fatalf("Parse = %v, %v; want %v", e, err, tt.err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
		})
	}
}

func TestHeaderOnly(t *testing.T) {
	e := mustParse(t, "User id,Last seen in Jira - acme\n\n")
	if len(e.Users) != 0 || e.Rows != 0 || len(e.Apps) != 1 {
		t.Errorf("got %+v", e)
	}
}

func TestLimits(t *testing.T) {
	in := "User id,Last seen in Jira - acme\na1,1 May 2026\na2,2 May 2026\na3,3 May 2026\n"
	if _, err := admincsv.Parse(strings.NewReader(in), admincsv.WithMaxBytes(int64(len(in)))); err != nil {
		t.Errorf("at the byte limit: %v", err)
	}
	for _, n := range []int{len(in) - 1, 40, 10} {
		_, err := admincsv.Parse(strings.NewReader(in), admincsv.WithMaxBytes(int64(n)))
		if !errors.Is(err, admincsv.ErrTooLarge) || !strings.Contains(err.Error(), "bytes") {
			t.Errorf("WithMaxBytes(%d): %v, want ErrTooLarge", n, err)
		}
	}
	if _, err := admincsv.Parse(strings.NewReader(in), admincsv.WithMaxRows(3)); err != nil {
		t.Errorf("at the row limit: %v", err)
	}
	if _, err := admincsv.Parse(strings.NewReader(in), admincsv.WithMaxRows(2)); !errors.Is(err, admincsv.ErrTooLarge) || !strings.Contains(err.Error(), "rows") {
		t.Errorf("WithMaxRows(2): %v, want ErrTooLarge", err)
	}
	if _, err := admincsv.Parse(strings.NewReader(in), admincsv.WithMaxBytes(math.MaxInt64)); err != nil {
		t.Errorf("WithMaxBytes(MaxInt64): %v", err)
	}
	if _, err := admincsv.Parse(strings.NewReader(in), admincsv.WithMaxRows(0), admincsv.WithMaxBytes(-1)); err != nil {
		t.Errorf("non-positive limits keep the defaults: %v", err)
	}
}

func TestProblemCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("User id,Last seen in Jira - acme\n")
	for i := 0; i < admincsv.MaxProblems+500; i++ {
		fmt.Fprintf(&b, "u%d,bad date\n", i)
	}
	e := mustParse(t, b.String())
	if len(e.Problems) != admincsv.MaxProblems || e.ProblemsOmitted != 500 {
		t.Errorf("kept %d problems, omitted %d", len(e.Problems), e.ProblemsOmitted)
	}
	if len(e.Users) != admincsv.MaxProblems+500 {
		t.Errorf("got %d users; rows with a bad date must be kept", len(e.Users))
	}
}

func TestFixture(t *testing.T) {
	raw, err := os.ReadFile(fixturePath)
	if err != nil {
		t.Fatal(err)
	}
	e := mustParse(t, string(raw))
	if len(e.Problems) != 0 {
		t.Errorf("problems:\n%s", problems(e))
	}
	dataRows := len(strings.Split(strings.TrimRight(string(raw), "\n"), "\n")) - 1
	if e.Rows != dataRows || len(e.Users) != dataRows || dataRows != 32 {
		t.Errorf("Rows %d, users %d, data rows %d; want 32 each", e.Rows, len(e.Users), dataRows)
	}
	wantApps := []admincsv.App{
		{Column: "Last seen in Jira - fixture", Label: "Jira", Site: "fixture"},
		{Column: "Last seen in Jira Service Management - fixture", Label: "Jira Service Management", Site: "fixture"},
		{Column: "Last seen in Jira Product Discovery - fixture", Label: "Jira Product Discovery", Site: "fixture"},
		{Column: "Last seen in Confluence - fixture", Label: "Confluence", Site: "fixture"},
	}
	if !reflect.DeepEqual(e.Apps, wantApps) || e.AccessColumns != nil {
		t.Errorf("Apps %+v, AccessColumns %q", e.Apps, e.AccessColumns)
	}
	never, on := admincsv.SeenNever(), admincsv.SeenOn
	tests := []struct {
		id, name, email, status string
		added                   time.Time
		seen                    []admincsv.Seen // Jira, JSM, JPD, Confluence
	}{
		{"fx01-alice", "Alice Admin", "alice@fixture.example", "Active", day(2024, 1, 1),
			[]admincsv.Seen{on(day(2026, 11, 25)), never, never, on(day(2026, 11, 20))}},
		{"fx02-bob", "Bob Inactive", "bob@fixture.example", "Active", day(2025, 1, 15),
			[]admincsv.Seen{on(day(2026, 5, 1)), never, never, never}},
		{"fx03-chen", "Chen Wei 陈伟", "chen.wei@fixture.example", "Active", day(2024, 6, 1),
			[]admincsv.Seen{on(day(2026, 11, 20)), never, never, on(day(2026, 4, 1))}},
		{"fx10-gina", "Gina Suspended", "gina@fixture.example", "Suspended", day(2025, 1, 15),
			[]admincsv.Seen{on(day(2026, 7, 1)), never, never, never}},
		{"fx11-hank", "Hank Deactivated", "hank@fixture.example", "Inactive", day(2025, 1, 15),
			[]admincsv.Seen{never, on(day(2026, 3, 1)), never, never}},
		{"fx22-sam", "Sam Newinvite", "sam@fixture.example", "Active", day(2026, 11, 10),
			[]admincsv.Seen{never, never, never, never}},
		{"fx31-long", "", "maximiliana@fixture.example", "Active", time.Time{},
			[]admincsv.Seen{never, never, never, never}},
		{"fx32-mallory", `<script>alert("x")</script> & "Mallory" O'Brien <b>`, "mallory@fixture.example", "Active", day(2025, 1, 15),
			[]admincsv.Seen{never, never, on(day(2026, 11, 25)), never}},
		{"fx35-iris", "Iris Inferred", "iris@fixture.example", "Active", day(2025, 2, 1),
			[]admincsv.Seen{on(day(2026, 5, 1)), never, never, never}},
	}
	for _, tt := range tests {
		u := user(t, e, tt.id)
		if tt.name != "" && u.Name != tt.name {
			t.Errorf("%s: Name = %q, want %q", tt.id, u.Name, tt.name)
		}
		if u.Email != tt.email || u.Status != tt.status || !u.AddedToOrg.Equal(tt.added) {
			t.Errorf("%s: %q %q %v, want %q %q %v", tt.id, u.Email, u.Status, u.AddedToOrg, tt.email, tt.status, tt.added)
		}
		if !reflect.DeepEqual(u.LastSeen, tt.seen) {
			t.Errorf("%s: LastSeen = %v, want %v", tt.id, u.LastSeen, tt.seen)
		}
	}
	if long := user(t, e, "fx31-long"); !strings.HasPrefix(long.Name, "Maximiliana Alexandrina") || !strings.HasSuffix(long.Name, "der Dritte") {
		t.Errorf("long name = %q", long.Name)
	}
}

// fuzzSeeds are the inputs of the table tests above, so the fuzzer starts
// from every shape the parser is known to meet.
var fuzzSeeds = []string{
	"\uFEFFUser id,User name,email,Last seen in Jira - acme\na1,Ann,ann@x.example,Never accessed\n",
	"  USER ID ,user  name,EMAIL, User Status ,ADDED TO ORG, last seen in Jira  -  acme \na1,Ann,ann@x.example,Active,1 Jan 2025,1 May 2026\n",
	"User id,Last seen in Jira Service Management - acme - eu,Last seen in Foo - Bar - baz\na1,,\n",
	"User id,email,Email,Last seen in Jira - acme,last seen in jira - acme\na1,ann@x.example,other@x.example,1 May 2026,2 May 2026\n",
	"User id,Added to org,Last seen in Jira - acme\na1,31 Feb 2024,03 Jan 2024\na2,2024-01-03,never logged in\n",
	groupHeader + "a1,Ann,ann@x.example,Active,1 Jan 2025,g1,jira-users,1 May 2026,Never accessed,\na1,Ann B,,,1 Feb 2025,g2,other,3 May 2026,4 Apr 2026,User\n",
	"User id,User name,Last seen in Jira - acme\r\na1,Ann,1 May 2026\r\nshort,row\r\n,Nobody,x\r\nb1,\"Bob\r\nTwo\",2 May 2026\r\nc1,Bad\"quote,3 May 2026\r\n,,\r\n\r\n",
	"User id,User name\na1,In\xe8s\n",
	"Atlassian ID,Name,Email,Group 1,Jira - acme\na1,Ann,ann@x.example,g,User\n",
	"\"User id,User name\na1,Ann\n",
	"User id;User name\na1;Ann\n",
	"PK\x03\x04",
	"",
}

func FuzzParse(f *testing.F) {
	if raw, err := os.ReadFile(fixturePath); err == nil {
		f.Add(raw)
	} else {
		f.Fatal(err)
	}
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		e, err := admincsv.Parse(strings.NewReader(string(in)), admincsv.WithMaxRows(10_000))
		if err != nil {
			if e != nil {
				t.Fatalf("Export %+v with error %v", e, err)
			}
			return
		}
		ids := make(map[string]bool, len(e.Users))
		for _, u := range e.Users {
			if u.AccountID == "" || strings.TrimSpace(u.AccountID) != u.AccountID {
				t.Fatalf("bad account id %q", u.AccountID)
			}
			if ids[u.AccountID] {
				t.Fatalf("duplicate account id %q", u.AccountID)
			}
			ids[u.AccountID] = true
			if u.Line < 1 {
				t.Fatalf("user %q on line %d", u.AccountID, u.Line)
			}
			if len(u.LastSeen) != len(e.Apps) {
				t.Fatalf("%d LastSeen for %d apps", len(u.LastSeen), len(e.Apps))
			}
			if u.Access != nil && len(u.Access) != len(e.AccessColumns) {
				t.Fatalf("%d Access for %d columns", len(u.Access), len(e.AccessColumns))
			}
			for _, s := range u.LastSeen {
				d := s.Date()
				if (s.State() == admincsv.On) == d.IsZero() || (!d.IsZero() && (d.Location() != time.UTC || !d.Equal(d.Truncate(24*time.Hour)))) {
					t.Fatalf("Seen %v with date %v", s.State(), d)
				}
			}
			if a := u.AddedToOrg; !a.IsZero() && (a.Location() != time.UTC || a.Hour() != 0 || a.Minute() != 0) {
				t.Fatalf("AddedToOrg %v", a)
			}
		}
		if len(e.Users) > e.Rows {
			t.Fatalf("%d users from %d rows", len(e.Users), e.Rows)
		}
		if len(e.Problems) > admincsv.MaxProblems || (e.ProblemsOmitted > 0 && len(e.Problems) != admincsv.MaxProblems) {
			t.Fatalf("%d problems kept, %d omitted", len(e.Problems), e.ProblemsOmitted)
		}
		for _, p := range e.Problems {
			if p.Line < 1 || p.Message == "" {
				t.Fatalf("problem %+v", p)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("User id,User name,email,User status,Added to org,Org role,Jira - acme,Confluence - acme," +
		"Last seen in Jira - acme,Last seen in Jira Service Management - acme,Last seen in Jira Product Discovery - acme,Last seen in Confluence - acme\r\n")
	months := []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
	day := func(i int) string { return fmt.Sprintf("%d %s 202%d", 1+i%28, months[i%12], 4+i%3) }
	seen := func(i int) string {
		if i%3 == 0 {
			return "Never accessed"
		}
		return day(i)
	}
	const rows = 100_000
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&sb, "712020:%08x-2367-4092-a7f6-7cc1b9043bdd,User Number %d,user%d@example.com,Active,%s,,User,,%s,%s,%s,%s\r\n",
			i, i, i, day(i+1), seen(i), seen(i/3), seen(i/7), seen(i/5))
	}
	in := sb.String()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		e, err := admincsv.Parse(strings.NewReader(in))
		if err != nil || len(e.Users) != rows || len(e.Problems) != 0 {
			b.Fatalf("err %v, %d users, problems:\n%s", err, len(e.Users), problems(e))
		}
	}
}
