package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/seatlens/seatlens/app/sitesim"
)

// browser is headless Chromium on the demo's host page.
type browser struct {
	t          *testing.T
	ctx        context.Context
	open       string // the host page
	site       string
	origin     string // the app's, the iframe's origin
	shots      string
	mu         sync.Mutex
	console    []string // errors the pages logged
	appContext runtime.ExecutionContextID
}

// chromiumPath finds Debian's chromium; CI installs it and sets
// SEATLENS_BROWSER=required so that a missing browser fails, not skips.
func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("SEATLENS_BROWSER") == "required" {
		t.Fatal("no Chromium on this machine (apt-get install -y chromium)")
	}
	t.Skip("no Chromium on this machine; set SEATLENS_BROWSER=required to fail instead")
	return ""
}

// startDemo runs `seatlens demo` in-process and returns its host page.
func startDemo(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- demo(ctx, append([]string{"--addr", "127.0.0.1:0", "--data", t.TempDir()}, args...), pw, io.Discard, func(string) string { return "" })
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("demo: no first line: %v", err)
	}
	go io.Copy(io.Discard, pr)
	open, ok := strings.CutPrefix(strings.TrimSpace(line), "seatlens-demo open=")
	if !ok {
		t.Fatalf("demo's first line: %q", line)
	}
	return open
}

func newBrowser(t *testing.T, open, appOrigin string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)), chromedp.NoSandbox, chromedp.WindowSize(1400, 1000),
		chromedp.Flag("disable-gpu", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelT(); cancel(); cancelA() })
	u, _ := url.Parse(open)
	b := &browser{t: t, ctx: ctx, open: open, site: u.Scheme + "://" + u.Host, shots: screenshotDir(t)}
	chromedp.ListenTarget(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError {
				b.note(fmt.Sprintf("console.error %v", e.Args))
			}
		case *runtime.EventExecutionContextCreated:
			var aux struct {
				IsDefault bool `json:"isDefault"`
			}
			json.Unmarshal(e.Context.AuxData, &aux)
			if aux.IsDefault && b.origin != "" && e.Context.Origin == b.origin {
				b.mu.Lock()
				b.appContext = e.Context.ID
				b.mu.Unlock()
			}
		case *runtime.EventExceptionThrown:
			b.note("exception " + e.ExceptionDetails.Text)
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.LevelError {
				b.note("log " + e.Entry.Text + " " + e.Entry.URL)
			}
		}
	})
	b.origin = appOrigin
	b.run(chromedp.Navigate(open))
	return b
}

func (b *browser) note(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.console = append(b.console, s)
}

func screenshotDir(t *testing.T) string {
	dir := os.Getenv("SEATLENS_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "seatlens-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func (b *browser) run(actions ...chromedp.Action) {
	b.t.Helper()
	if err := chromedp.Run(b.ctx, actions...); err != nil {
		b.shot("failure")
		b.t.Fatal(err)
	}
}

// eval runs JavaScript in the app's iframe (its default execution
// context, which the browser announced when the frame loaded) and decodes
// the result into out.
func (b *browser) eval(expr string, out any) error {
	b.mu.Lock()
	id := b.appContext
	b.mu.Unlock()
	if id == 0 {
		return fmt.Errorf("the app's frame has no execution context yet")
	}
	return chromedp.Run(b.ctx, chromedp.Evaluate(expr, out, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
		return p.WithContextID(id).WithAwaitPromise(true)
	}))
}

// texts reads the text of every element sel matches in the app's frame.
func (b *browser) tryTexts(sel string) ([]string, error) {
	var out []string
	q, _ := json.Marshal(sel)
	err := b.eval(`Array.from(document.querySelectorAll(`+string(q)+`)).map(e => e.textContent.trim())`, &out)
	return out, err
}

func (b *browser) texts(sel string) []string {
	b.t.Helper()
	out, err := b.tryTexts(sel)
	if err != nil {
		b.shot("failure")
		b.t.Fatal(err)
	}
	return out
}

// until waits for the texts of sel to satisfy ok, and returns them.
func (b *browser) until(sel string, ok func([]string) bool) []string {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := b.tryTexts(sel)
		if err == nil && ok(got) {
			return got
		}
		if time.Now().After(deadline) {
			b.shot("failure")
			b.t.Fatalf("%s never became what the test waits for: %q %v", sel, got, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (b *browser) wait(sel string) {
	b.t.Helper()
	b.until(sel, func(s []string) bool { return len(s) > 0 })
}

func (b *browser) count(sel string) int {
	b.t.Helper()
	var n int
	q, _ := json.Marshal(sel)
	if err := b.eval(`document.querySelectorAll(`+string(q)+`).length`, &n); err != nil {
		b.t.Fatal(err)
	}
	return n
}

// press focuses a link or a button of the app's frame and activates it, as
// a keyboard user's Enter would.
func (b *browser) press(sel string) {
	b.t.Helper()
	b.wait(sel)
	q, _ := json.Marshal(sel)
	var ok bool
	if err := b.eval(`(() => { const e = document.querySelector(`+string(q)+`); if (!e) return false; e.focus(); e.click(); return true })()`, &ok); err != nil || !ok {
		b.shot("failure")
		b.t.Fatalf("press %s: %v", sel, err)
	}
}

// shot saves a screenshot of the window (1400×1000) and names it in the log.
func (b *browser) shot(name string) {
	var png []byte
	if err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot(&png)); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	b.t.Logf("screenshot: %s", path)
}

// demoAppURL is the origin of the app the demo's host page frames.
func demoAppURL(t *testing.T, open string) string {
	t.Helper()
	resp, err := http.Get(open)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	i := strings.Index(string(page), `src="http://127.0.0.1:`)
	if i < 0 {
		t.Fatalf("the host page frames no loopback app: %.300s", page)
	}
	rest := string(page[i+len(`src="`):])
	u, err := url.Parse(rest[:strings.IndexAny(rest, `"`)])
	if err != nil {
		t.Fatal(err)
	}
	return u.Scheme + "://" + u.Host
}

// api calls the app's API with a context token the host page mints, as
// AP.context.getToken does.
func (b *browser) api(appURL, path string, out any) {
	b.t.Helper()
	b.apiAs(sitesim.DefaultScenario().AdminAccountID, appURL, path, out)
}

// apiAs is api as another admin.
func (b *browser) apiAs(who, appURL, path string, out any) {
	b.t.Helper()
	resp, err := http.Get(b.site + "/host/context-token?app=io.seatlens.app&user=" + url.QueryEscape(who))
	if err != nil {
		b.t.Fatal(err)
	}
	var tok struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	req, _ := http.NewRequest("GET", appURL+"/api/v1/"+path, nil)
	req.Header.Set("Authorization", "JWT "+tok.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		b.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		b.t.Fatal(err)
	}
}

func atoiOK(s string) int {
	n, err := strconv.Atoi(strings.NewReplacer(",", "", " ", "", "\u202f", "", "\u00a0", "").Replace(s))
	if err != nil {
		return -1
	}
	return n
}

func atoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(strings.NewReplacer(",", "", " ", "", "\u202f", "", "\u00a0", "").Replace(s))
	if err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return n
}

// TestPanelInBrowser drives the panel in the demo's host page as an admin
// would: the overview's numbers are the API's; the seats table filters and
// pages; a user's explanation opens; a name with HTML characters stays
// text; "Rescan now" shows progress and then the new scan; the console
// stays clean.
func TestPanelInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Chromium")
	}
	chromiumPath(t)
	open := startDemo(t, "--users", "400", "--latency", "15ms")
	appURL := demoAppURL(t, open)
	b := newBrowser(t, open, appURL)

	// Overview.
	b.wait(".stats")
	var latest struct {
		ID      string
		Summary struct {
			Totals   struct{ BillableSeats, Removable, Review, Hold, NotBillable int }
			Products []struct {
				Key  string
				Name string
			}
		}
	}
	b.api(appURL, "scans/latest", &latest)
	got := b.texts(".stat-value")
	tt := latest.Summary.Totals
	for i, want := range []int{tt.BillableSeats, tt.Removable, -1, tt.Review, tt.Hold, tt.NotBillable} {
		if want >= 0 && atoi(t, got[i]) != want {
			t.Errorf("overview card %d shows %s, the API says %d", i, got[i], want)
		}
	}
	if n := b.count(".chart rect"); n < len(latest.Summary.Products) {
		t.Errorf("the chart has %d bars for %d products", n, len(latest.Summary.Products))
	}
	b.shot("overview")

	// Seats: the removable seats of the first product, from the overview's link.
	b.press(`a[href*="verdict=removable"]`)
	b.until("table.seats tbody .lozenge", func(s []string) bool {
		for _, v := range s {
			if !strings.EqualFold(v, "removable") {
				return false
			}
		}
		return len(s) > 0
	})
	// The view is in the host's URL: opening it again shows the same filter.
	var shared string
	b.run(chromedp.Location(&shared))
	if !strings.Contains(shared, "#!") || !strings.Contains(shared, url.QueryEscape("verdict=removable")) {
		t.Fatalf("the host URL does not carry the view: %s", shared)
	}
	b.run(chromedp.Navigate(shared))
	b.until("#f-verdict", func(s []string) bool { return len(s) == 1 })
	var chosen string
	if err := b.eval(`document.querySelector("#f-verdict").value`, &chosen); err != nil || chosen != "removable" {
		t.Fatalf("the shared view opened with verdict %q (%v)", chosen, err)
	}

	// All seats, paged.
	b.press(`.tab[data-tab="seats"]`)
	var all struct{ Total int }
	b.api(appURL, "seats", &all)
	b.until(".pager > span", func(s []string) bool {
		return len(s) == 1 && s[0] == strings.ReplaceAll(fmt.Sprintf("%d seats", all.Total), "", "") || len(s) == 1 && atoiOK(strings.TrimSuffix(s[0], " seats")) == all.Total
	})
	first := b.texts("table.seats tbody th a")
	b.shot("seats")
	b.press(`.pager a:last-child`)
	b.until("table.seats tbody th a", func(s []string) bool { return len(s) > 0 && s[0] != first[0] })
	b.until(".pager a", func(s []string) bool { return len(s) > 0 && s[0] == "Previous" })

	// A search for a name with HTML characters: text, not markup.
	var needle, wantName string
	for _, c := range []string{"<", "&", `"`} {
		var found struct {
			Seats []struct{ DisplayName string }
		}
		b.api(appURL, "seats?q="+url.QueryEscape(c), &found)
		if len(found.Seats) > 0 {
			needle, wantName = c, found.Seats[0].DisplayName
			break
		}
	}
	if needle == "" {
		t.Fatal("the demo's site has no display name with HTML characters to search for")
	}
	q, _ := json.Marshal(needle)
	if err := b.eval(`(() => { const i = document.querySelector("#f-q"); i.focus(); i.value = `+string(q)+`; i.form.requestSubmit(); return true })()`, new(bool)); err != nil {
		t.Fatal(err)
	}
	names := b.until("table.seats tbody th a", func(s []string) bool { return len(s) > 0 && strings.Contains(s[0], needle) })
	if names[0] != wantName {
		t.Fatalf("the table shows %q where the API says %q", names[0], wantName)
	}
	if n := b.count("table.seats tbody b, table.seats tbody img, table.seats tbody script"); n != 0 {
		t.Fatalf("a display name became markup: %d elements", n)
	}
	b.shot("seats-search")

	// A user's explanation.
	b.press("table.seats tbody th a")
	b.until(".seat-card .path", func(s []string) bool { return len(s) > 0 })
	b.until(".user-name", func(s []string) bool { return len(s) == 1 && s[0] == wantName })
	b.shot("user")

	// Rescan now: progress, then the new scan.
	b.press(`.tab[data-tab="overview"]`)
	b.wait(".scan-bar .button-primary")
	b.press(".scan-bar .button-primary")
	b.wait(".progress")
	b.shot("overview-scanning")
	b.until(".progress", func(s []string) bool { return len(s) == 0 })
	b.wait(".stats")
	var after struct{ ID string }
	b.api(appURL, "scans/latest", &after)
	if after.ID == latest.ID {
		t.Errorf("the rescan did not become the latest scan (still %s)", after.ID)
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.console) > 0 {
		t.Errorf("the console logged errors:\n%s", strings.Join(b.console, "\n"))
	}
}
