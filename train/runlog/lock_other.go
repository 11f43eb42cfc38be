//go:build !unix

package runlog

import "os"

// tryLock is a no-op where flock is unavailable: run folders are not
// protected against a second writer there (documented in doc.go).
func tryLock(*os.File) (held bool, err error) { return false, nil }

func unlock(*os.File) error { return nil }
