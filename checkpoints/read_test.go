package checkpoints

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The tests of this file are not parallel: they measure the bytes the
// process allocates (runtime.MemStats.TotalAlloc), which other tests running
// at the same time would add to. Go pauses the parallel tests of the package
// while a sequential one runs.

// allocLimit is what a refused file may cost: far less than any file it
// refuses.
const allocLimit = 1 << 20

// allocated returns the bytes allocated on the heap while f ran.
func allocated(f func()) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// readers are the functions of the package that read a file, each returning
// its error.
var readers = []struct {
	name string
	op   string // Op of the *Error
	read func(path string) error
}{
	{"Inspect", "inspect", func(p string) error { _, err := Inspect(p); return err }},
	{"Load", "load", func(p string) error {
		tg := newTarget()
		_, err := Load(p, tg.m, tg.opt)
		return err
	}},
	{"StepOf", "inspect", func(p string) error { _, _, err := StepOf(p); return err }},
}

// refused checks that every reader refuses path with an *Error wrapping
// kind whose message names the path and contains msg, within allocLimit
// bytes and a few seconds (so a reader blocked on a FIFO fails the test
// instead of hanging it).
func refused(t *testing.T, path string, kind error, msg string) {
	t.Helper()
	for _, r := range readers {
		var err error
		done := make(chan struct{})
		var n uint64
		go func() {
			defer close(done)
			n = allocated(func() { err = r.read(path) })
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s(%s) has not returned after 5 s (blocked opening or reading it?)", r.name, path)
		}
		if !errors.Is(err, kind) {
			t.Errorf("%s(%s): got %v, want %v", r.name, path, err, kind)
		}
		var ce *Error
		if !errors.As(err, &ce) || ce.File != path || ce.Op != r.op {
			t.Errorf("%s(%s): error %#v does not name the file and op %q", r.name, path, err, r.op)
		}
		if err != nil && (!strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), msg)) {
			t.Errorf("%s(%s): message %q should name the file and contain %q", r.name, path, err, msg)
		}
		if n > allocLimit {
			t.Errorf("%s(%s) allocated %d bytes before refusing the file, want < %d", r.name, path, n, allocLimit)
		}
	}
}

// TestReadDevice checks that /dev/zero, which reads as an endless stream
// of zeros (os.ReadFile grew past 1.8 GB on it), is refused at once as not
// a regular file.
func TestReadDevice(t *testing.T) {
	const dev = "/dev/zero"
	if _, err := os.Stat(dev); err != nil {
		t.Skipf("no %s here: %v", dev, err)
	}
	refused(t, dev, ErrNotRegular, "character device")
}

// TestReadDirectory checks that a directory is refused as not a regular
// file.
func TestReadDirectory(t *testing.T) {
	refused(t, t.TempDir(), ErrNotRegular, "directory")
}

// sparseFile creates a file of size bytes that takes no disk space, whose
// first 8 bytes hold the header length hlen; it skips the test where the
// file system cannot do that.
func sparseFile(t *testing.T, size int64, hlen uint64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sparse.safetensors")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Skipf("cannot make a sparse file of %d bytes: %v", size, err)
	}
	if _, err := f.WriteAt(binary.LittleEndian.AppendUint64(nil, hlen), 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReadHeaderLength checks that a header length the file cannot hold
// (1<<62 bytes, or 90 MiB in a 64 MiB file) or above MaxHeaderSize is
// refused before the file is read into memory: the files are 64 MiB and
// 200 MiB (sparse), so reading them would exceed allocLimit.
func TestReadHeaderLength(t *testing.T) {
	refused(t, sparseFile(t, 64<<20, 1<<62), ErrCorrupt, "header length 4611686018427387904 beyond the end")
	refused(t, sparseFile(t, 200<<20, 150<<20), ErrCorrupt, "exceeds the limit")
	// Under MaxHeaderSize but beyond the end of the file.
	refused(t, sparseFile(t, 64<<20, 90<<20), ErrCorrupt, "header length 94371840 beyond the end of the 67108864-byte file")
}

// TestReadTooLarge checks that a file above MaxFileSize is refused with
// ErrTooLarge. Its header length is impossible too, so that a reader without
// the size check fails this test with ErrCorrupt rather than allocating
// 16 GiB.
func TestReadTooLarge(t *testing.T) {
	refused(t, sparseFile(t, MaxFileSize+1, 1<<62), ErrTooLarge, "the limit is 17179869184")
}

// tripwire is a reader that fails the test when it is read.
type tripwire struct{ t *testing.T }

func (w tripwire) Read([]byte) (int, error) {
	w.t.Error("the reader was read although the size alone must be refused")
	return 0, io.ErrUnexpectedEOF
}

// TestReadSized checks readSized on streams: the size is refused before
// anything is read; a stream longer than the size (a file that grew after
// it was sized) is read up to the size only; a shorter one (a file that
// shrank) is an error; an impossible header length is refused without
// allocating the stated size.
func TestReadSized(t *testing.T) {
	if _, err := readSized(tripwire{t}, MaxFileSize+1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("MaxFileSize+1: got %v, want ErrTooLarge", err)
	}
	if _, err := readSized(tripwire{t}, -1); !errors.Is(err, ErrCorrupt) {
		t.Errorf("negative size: got %v, want ErrCorrupt", err)
	}

	valid, _, _ := validFile(t)
	grown := io.MultiReader(bytes.NewReader(valid), bytes.NewReader(make([]byte, 4096)))
	b, err := readSized(grown, int64(len(valid)))
	if err != nil || !bytes.Equal(b, valid) {
		t.Errorf("grown file: got %d bytes, %v; want the %d bytes it had", len(b), err, len(valid))
	}
	if _, err := inspect(b); err != nil {
		t.Errorf("grown file: %v", err)
	}

	_, err = readSized(bytes.NewReader(valid[:len(valid)-10]), int64(len(valid)))
	if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "shorter") {
		t.Errorf("shrunk file: got %v, want io.ErrUnexpectedEOF saying the file became shorter", err)
	}

	// A header length claiming 1<<62 bytes, then an endless stream.
	claim := io.MultiReader(bytes.NewReader(binary.LittleEndian.AppendUint64(nil, 1<<62)), zeros{})
	var n uint64
	n = allocated(func() { _, err = readSized(claim, 1<<30) })
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "beyond the end") {
		t.Errorf("header length 1<<62: got %v", err)
	}
	if n > allocLimit {
		t.Errorf("header length 1<<62: %d bytes allocated before refusing", n)
	}

	// Short files are passed on for parse to describe.
	for _, short := range [][]byte{nil, {1, 2, 3}} {
		b, err := readSized(bytes.NewReader(short), int64(len(short)))
		if err != nil || !bytes.Equal(b, short) {
			t.Errorf("%d-byte file: %v, %v", len(short), b, err)
		}
	}
}

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
