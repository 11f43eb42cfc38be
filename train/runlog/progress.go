package runlog

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// DefaultProgressInterval is the least time between two plain progress
// lines.
const DefaultProgressInterval = time.Second

// Progress shows how far a loop has come. On a terminal it draws a
// progress bar that redraws itself in place; anywhere else (a file, a pipe,
// CI logs) it prints plain lines such as
//
//	epoch 120/1000 (12%) loss=0.123 elapsed=3.1s eta=22.6s
//
// at most once per DefaultProgressInterval, and a final line from Finish, so
// logs never hold carriage returns.
//
// Progress is cosmetic: errors writing to its writer are ignored. Its
// methods are safe for concurrent use.
type Progress struct {
	mu sync.Mutex

	w        io.Writer
	total    int
	desc     string
	quiet    bool
	bar      *progressbar.ProgressBar
	now      func() time.Time
	interval time.Duration

	count    int
	metrics  string
	start    time.Time
	last     time.Time
	finished bool
	// printed is the count and metrics of the last plain line, so that
	// Finish does not repeat it.
	printed struct {
		ok      bool
		count   int
		metrics string
	}
}

// NewProgress returns a Progress that writes to w, counting up to total
// items (a total of zero or less means unknown: no percentage is shown).
// desc starts every line, for example "epoch" or "train". With quiet set
// nothing is ever written. A progress bar is drawn only when w is an
// *os.File that is a terminal.
func NewProgress(w io.Writer, total int, desc string, quiet bool) *Progress {
	return newProgress(w, total, desc, quiet, isTerminal(w), time.Now)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newProgress(w io.Writer, total int, desc string, quiet, terminal bool, now func() time.Time) *Progress {
	p := &Progress{
		w:        w,
		total:    total,
		desc:     desc,
		quiet:    quiet,
		now:      now,
		interval: DefaultProgressInterval,
	}
	p.start = now()
	p.last = p.start
	if quiet || !terminal {
		return p
	}
	barMax := total
	if barMax <= 0 {
		barMax = -1 // progressbar's spinner for an unknown total.
	}
	p.bar = progressbar.NewOptions(barMax,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		// No spinner ticker: for an unknown total progressbar would redraw
		// from a goroutine that Exit never stops, writing after Finish.
		progressbar.OptionSetSpinnerChangeInterval(0),
	)
	return p
}

// Add advances the count by n and, when metrics is not empty, replaces the
// metrics shown after the count (for example "loss=0.123 acc=0.91").
func (p *Progress) Add(n int, metrics string) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.count += n
	if metrics != "" && metrics != p.metrics {
		p.metrics = metrics
		if p.bar != nil {
			p.bar.Describe(p.desc + " " + metrics)
		}
	}
	if p.bar != nil {
		_ = p.bar.Add(n) // Cosmetic: errors (such as counting past total) are ignored.
		return
	}
	if now := p.now(); now.Sub(p.last) >= p.interval {
		p.last = now
		p.printLine(now)
	}
}

// Finish completes the display: the bar is filled and ended with a newline,
// or a final plain line is printed (unless the last line already showed the
// same count and metrics). Later calls to Add and Finish do nothing.
func (p *Progress) Finish() {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.finished = true
	if p.bar != nil {
		if p.total > 0 {
			_ = p.bar.Finish()
		} else {
			_ = p.bar.Exit()
		}
		_, _ = io.WriteString(p.w, "\n")
		return
	}
	if p.printed.ok && p.printed.count == p.count && p.printed.metrics == p.metrics {
		return
	}
	p.printLine(p.now())
}

// printLine writes one plain progress line.
func (p *Progress) printLine(now time.Time) {
	var b strings.Builder
	if p.desc != "" {
		b.WriteString(p.desc)
		b.WriteByte(' ')
	}
	elapsed := now.Sub(p.start)
	if p.total > 0 {
		fmt.Fprintf(&b, "%d/%d (%d%%)", p.count, p.total, int64(p.count)*100/int64(p.total))
	} else {
		fmt.Fprintf(&b, "%d", p.count)
	}
	if p.metrics != "" {
		b.WriteByte(' ')
		b.WriteString(p.metrics)
	}
	fmt.Fprintf(&b, " elapsed=%s", formatDuration(elapsed))
	if !p.finished && p.total > 0 && p.count > 0 && p.count < p.total {
		eta := time.Duration(float64(elapsed) * float64(p.total-p.count) / float64(p.count))
		fmt.Fprintf(&b, " eta=%s", formatDuration(eta))
	}
	b.WriteByte('\n')
	_, _ = io.WriteString(p.w, b.String())
	p.printed.ok, p.printed.count, p.printed.metrics = true, p.count, p.metrics
}

// formatDuration shows d with tenths of a second below a minute ("3.1s")
// and in whole seconds above ("1h2m3s").
func formatDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}
