package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// version is the release of cpntrain, set at link time with
//
//	go build -ldflags "-X main.version=v1.2.3" ./cmd/cpntrain
//
// When it is left at "dev", the module version recorded by 'go install
// module@version' is used if there is one.
var version = "dev"

// versionString returns the version to show.
func versionString() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}

// buildSetting returns the value of a setting recorded in the binary's
// build information, or "".
func buildSetting(key string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range bi.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version, the Go toolchain, the platform and whether the build is pure Go",
		Action: func(c *cli.Context) error {
			if err := exactArgs(c); err != nil {
				return err
			}
			pure := "yes (built without cgo)"
			if cgoEnabled {
				pure = "no (built with cgo enabled; rebuild with CGO_ENABLED=0 for a pure-Go binary)"
			}
			w := c.App.Writer
			fmt.Fprintf(w, "%s %s\n", appName, versionString())
			fmt.Fprintf(w, "go:       %s\n", runtime.Version())
			fmt.Fprintf(w, "platform: %s/%s\n", runtime.GOOS, runtime.GOARCH)
			fmt.Fprintf(w, "pure Go:  %s\n", pure)
			if rev := buildSetting("vcs.revision"); rev != "" {
				if buildSetting("vcs.modified") == "true" {
					rev += " (modified)"
				}
				fmt.Fprintf(w, "commit:   %s\n", rev)
			}
			return nil
		},
	}
}
