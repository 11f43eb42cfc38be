// Command plantdefects re-plants known single-line defects, one at a time,
// and runs the guarding package's tests against each: a defect is caught
// when the tests fail. The defects are listed in scripts/defects.txt (the
// ones issue 17 found uncaught, and the weak spots it named); the working
// tree is never touched — each defective file is written to a temporary
// folder and handed to `go test -overlay`.
//
//	go run ./scripts/plantdefects                 (make defects)
//	go run ./scripts/plantdefects -only dqn       (names containing "dqn")
//
// It exits 1 if any defect is not caught, 2 if a defect's line is no longer
// found exactly once in its file or the planted file does not compile (the
// table needs updating after a refactor).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

type defect struct {
	Name, Pkg, File, Old, New, Run string
	line                           int
}

func parse(path string) ([]defect, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ds []defect
	var cur *defect
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if strings.TrimSpace(line) == "" {
			cur = nil
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want \"key: value\"", path, n)
		}
		val = strings.TrimPrefix(val, " ")
		if strings.HasPrefix(val, "\"") {
			u, err := strconv.Unquote(val)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", path, n, err)
			}
			val = u
		}
		if cur == nil {
			ds = append(ds, defect{line: n})
			cur = &ds[len(ds)-1]
		}
		switch key {
		case "name":
			cur.Name = val
		case "pkg":
			cur.Pkg = val
		case "file":
			cur.File = val
		case "old":
			cur.Old = val
		case "new":
			cur.New = val
		case "run":
			cur.Run = val
		default:
			return nil, fmt.Errorf("%s:%d: unknown key %q", path, n, key)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, d := range ds {
		if d.Name == "" || d.Pkg == "" || d.File == "" || d.Old == "" {
			return nil, fmt.Errorf("%s:%d: a defect needs name, pkg, file, old and new", path, d.line)
		}
	}
	return ds, nil
}

var failRE = regexp.MustCompile(`(?m)^\s*--- FAIL: (\S+)`)

func main() {
	table := flag.String("defects", "scripts/defects.txt", "defect table")
	only := flag.String("only", "", "run only defects whose name contains this (case-insensitive)")
	timeout := flag.Duration("timeout", 15*time.Minute, "per-defect test timeout")
	verbose := flag.Bool("v", false, "print the test output of caught defects too")
	flag.Parse()
	ds, err := parse(*table)
	if err != nil {
		fmt.Fprintln(os.Stderr, "plantdefects:", err)
		os.Exit(2)
	}
	tmp, err := os.MkdirTemp("", "plantdefects")
	if err != nil {
		fmt.Fprintln(os.Stderr, "plantdefects:", err)
		os.Exit(2)
	}
	defer os.RemoveAll(tmp)
	missed, stale, invalid, ran := 0, 0, 0, 0
	for i, d := range ds {
		if *only != "" && !strings.Contains(strings.ToLower(d.Name), strings.ToLower(*only)) {
			continue
		}
		src, err := os.ReadFile(d.File)
		if err != nil {
			fmt.Fprintf(os.Stderr, "plantdefects: %s: %v\n", d.Name, err)
			stale++
			continue
		}
		if c := bytes.Count(src, []byte(d.Old)); c != 1 {
			fmt.Printf("STALE   %-44s %q found %d times in %s (update %s:%d)\n", d.Name, d.Old, c, d.File, *table, d.line)
			stale++
			continue
		}
		planted := bytes.Replace(src, []byte(d.Old), []byte(d.New), 1)
		abs, _ := filepath.Abs(d.File)
		pf := filepath.Join(tmp, fmt.Sprintf("d%d_%s", i, filepath.Base(d.File)))
		if err := os.WriteFile(pf, planted, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "plantdefects:", err)
			os.Exit(2)
		}
		ov, _ := json.Marshal(map[string]map[string]string{"Replace": {abs: pf}})
		of := filepath.Join(tmp, fmt.Sprintf("d%d.json", i))
		if err := os.WriteFile(of, ov, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "plantdefects:", err)
			os.Exit(2)
		}
		args := []string{"test", "-count=1", "-overlay", of}
		if d.Run != "" {
			args = append(args, "-run", d.Run)
		}
		args = append(args, d.Pkg)
		ctx, cancel := context.WithTimeout(context.Background(), *timeout)
		start := time.Now()
		out, err := exec.CommandContext(ctx, "go", args...).CombinedOutput()
		timedOut := ctx.Err() == context.DeadlineExceeded
		cancel()
		ran++
		el := time.Since(start).Round(100 * time.Millisecond)
		switch {
		case err == nil:
			missed++
			fmt.Printf("MISSED  %-44s %s (%v)\n", d.Name, d.Pkg, el)
		case timedOut:
			missed++
			fmt.Printf("TIMEOUT %-44s %s (%v)\n", d.Name, d.Pkg, el)
		case strings.Contains(string(out), "[build failed]") || strings.Contains(string(out), "[setup failed]"):
			invalid++
			fmt.Printf("INVALID %-44s %s: the planted file does not compile (fix the record)\n", d.Name, d.Pkg)
			os.Stdout.Write(indent(out))
			continue
		default:
			var fails []string
			for _, m := range failRE.FindAllStringSubmatch(string(out), -1) {
				if !strings.Contains(m[1], "/") {
					fails = append(fails, m[1])
				}
			}
			what := strings.Join(fails, " ")
			if what == "" {
				what = "build or panic: " + firstLine(out)
			}
			fmt.Printf("caught  %-44s %s (%v): %s\n", d.Name, d.Pkg, el, what)
		}
		if *verbose || err == nil {
			os.Stdout.Write(indent(out))
		}
	}
	fmt.Printf("\n%d planted, %d caught, %d missed, %d stale, %d invalid\n", ran-invalid, ran-missed-invalid, missed, stale, invalid)
	switch {
	case stale > 0 || invalid > 0:
		os.Exit(2)
	case missed > 0:
		os.Exit(1)
	}
}

func firstLine(b []byte) string {
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			return l
		}
	}
	return ""
}

func indent(b []byte) []byte {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return []byte("        " + strings.Join(lines, "\n        ") + "\n")
}
