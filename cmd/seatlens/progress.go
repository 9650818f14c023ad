package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/seatlens/seatlens/app/scan"
)

// progressBar draws one line on a terminal's stderr, at most ten times a
// second; on anything else (a pipe, a CI log) it stays silent so logs do
// not fill with carriage returns.
type progressBar struct {
	w    io.Writer
	on   bool
	mu   sync.Mutex
	last time.Time
	drew bool
}

func newProgressBar(w io.Writer, mode string) *progressBar {
	on := mode == "always" || mode == "auto" && isTerminal(w)
	return &progressBar{w: w, on: on}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progressBar) update(pr scan.Progress) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond || pr.Done == pr.Total {
		p.last = now
		p.drew = true
		fmt.Fprintf(p.w, "\r\033[K%s", progressLine(pr))
	}
}

func progressLine(pr scan.Progress) string {
	if pr.Total <= 0 {
		return fmt.Sprintf("scanning: %s %d", pr.Stage, pr.Done)
	}
	const width = 30
	filled := min(width, pr.Done*width/pr.Total)
	return fmt.Sprintf("scanning: [%s%s] %d/%d %s", strings.Repeat("#", filled), strings.Repeat(".", width-filled), pr.Done, pr.Total, pr.Stage)
}

// done clears the line so the summary starts on a clean one.
func (p *progressBar) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drew {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
