//go:build !cgo

package main

// cgoEnabled reports whether this binary was built with cgo enabled
// (CGO_ENABLED=1), in which case packages such as net link C code.
const cgoEnabled = false
