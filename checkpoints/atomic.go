package checkpoints

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
)

// writeFileAtomic writes data to path so that path holds either its old
// contents or all of data, even after a crash: it writes a temporary file in
// the same directory, syncs and closes it, renames it over path and syncs the
// directory. The temporary file is removed on failure. The file's mode is
// 0644.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				_ = f.Close() // the write error is the one to report
			}
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	closed = true
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable. Windows cannot open directories for
// syncing; there it does nothing.
func syncDir(dir string) (err error) {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := d.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if err := d.Sync(); err != nil {
		return errors.Join(errors.New("syncing the directory after rename"), err)
	}
	return nil
}

// WriteFileAtomic writes data to path atomically (see writeFileAtomic):
// for a run's small side files.
func WriteFileAtomic(path string, data []byte) error { return writeFileAtomic(path, data) }
