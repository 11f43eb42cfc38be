package runlog

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// stepClock returns the times it is given, one per call, then repeats the
// last.
type stepClock struct {
	times []time.Duration
	i     int
}

func (c *stepClock) now() time.Time {
	d := c.times[min(c.i, len(c.times)-1)]
	c.i++
	return time.Unix(0, 0).Add(d)
}

func TestProgressPlainLines(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	// Calls to now: start, then one per Add, then Finish.
	clock := &stepClock{times: []time.Duration{
		0,
		300 * time.Millisecond,  // Add 1: too soon, no line.
		1100 * time.Millisecond, // Add 2: a line.
		1500 * time.Millisecond, // Add 3: too soon after the last line.
		3100 * time.Millisecond, // Add 4: a line.
		4000 * time.Millisecond, // Finish.
	}}
	p := newProgress(&buf, 1000, "epoch", false, false, clock.now)
	p.Add(100, "loss=0.5")
	p.Add(20, "loss=0.123")
	p.Add(380, "")
	p.Add(500, "loss=0.01")
	p.Finish()
	p.Finish()      // No second final line.
	p.Add(5, "x=1") // Ignored after Finish.

	// Finish prints no final line: the last line already showed 1000/1000.
	want := "epoch 120/1000 (12%) loss=0.123 elapsed=1.1s eta=8.1s\n" +
		"epoch 1000/1000 (100%) loss=0.01 elapsed=3.1s\n"
	if got := buf.String(); got != want {
		t.Fatalf("output:\n%s\nwant:\n%s", got, want)
	}
	if strings.ContainsRune(buf.String(), '\r') {
		t.Error("plain output holds a carriage return")
	}
}

func TestProgressFinishPrintsUnshownState(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	clock := &stepClock{times: []time.Duration{0, 1500 * time.Millisecond, 1600 * time.Millisecond, 1700 * time.Millisecond}}
	p := newProgress(&buf, 10, "fit", false, false, clock.now)
	p.Add(4, "mse=2")
	p.Add(6, "mse=1") // Too soon for a line: Finish must show it.
	p.Finish()
	want := "fit 4/10 (40%) mse=2 elapsed=1.5s eta=2.2s\n" +
		"fit 10/10 (100%) mse=1 elapsed=1.7s\n"
	if got := buf.String(); got != want {
		t.Fatalf("output:\n%s\nwant:\n%s", got, want)
	}
}

func TestProgressUnknownTotalAndLongRun(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	clock := &stepClock{times: []time.Duration{0, 2 * time.Second, 2500 * time.Millisecond, 3723 * time.Second}}
	p := newProgress(&buf, 0, "", false, false, clock.now)
	p.Add(7, "")
	p.Add(1, "")
	p.Finish()
	want := "7 elapsed=2.0s\n8 elapsed=1h2m3s\n"
	if got := buf.String(); got != want {
		t.Fatalf("output %q, want %q", got, want)
	}
}

func TestProgressQuiet(t *testing.T) {
	t.Parallel()
	for _, terminal := range []bool{false, true} {
		var buf bytes.Buffer
		p := newProgress(&buf, 10, "train", true, terminal, time.Now)
		p.Add(10, "loss=1")
		p.Finish()
		if buf.Len() != 0 {
			t.Errorf("terminal=%v: quiet progress wrote %q", terminal, buf.String())
		}
	}
}

func TestNewProgressOnBufferIsPlain(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p := NewProgress(&buf, 3, "eval", false)
	if p.bar != nil {
		t.Fatal("a bytes.Buffer was taken for a terminal")
	}
	p.Add(3, "acc=1")
	p.Finish()
	if got := buf.String(); !strings.HasPrefix(got, "eval 3/3 (100%) acc=1 elapsed=") || strings.Count(got, "\n") != 1 {
		t.Errorf("output %q", got)
	}
}

// TestProgressBarPath drives the terminal code path into a buffer.
func TestProgressBarPath(t *testing.T) {
	t.Parallel()
	for _, total := range []int{5, 0} {
		var buf bytes.Buffer
		p := newProgress(&buf, total, "train", false, true, time.Now)
		for range 6 {
			p.Add(1, "loss=0.5")
		}
		p.Finish()
		out := buf.String()
		if !strings.Contains(out, "train loss=0.5") || !strings.HasSuffix(out, "\n") {
			t.Errorf("total=%d: bar output %q", total, out)
		}
	}
}
