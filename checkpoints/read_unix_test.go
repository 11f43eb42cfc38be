//go:build unix && !solaris && !illumos && !aix

package checkpoints

import (
	"path/filepath"
	"syscall"
	"testing"
)

// TestReadFIFO checks that a named pipe is refused without being opened:
// opening one for reading blocks until a writer comes, and reading it
// never ends while the writer writes. (syscall.Mkfifo is missing on
// solaris, illumos and aix.)
func TestReadFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pipe.safetensors")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("cannot make a FIFO: %v", err)
	}
	refused(t, path, ErrNotRegular, "named pipe")
}
