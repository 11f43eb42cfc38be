// Command mutreport summarises a gremlins JSON report for one package: the
// counts per status, the test efficacy (killed / (killed + lived)) over the
// package's own files (not its subfolders), and the surviving mutants.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type report struct {
	Files []struct {
		FileName  string `json:"file_name"`
		Mutations []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"mutations"`
	} `json:"files"`
}

func main() {
	pkg := flag.String("pkg", "", "package folder, as given to gremlins (./rl/dqn)")
	lived := flag.Bool("lived", true, "list the surviving mutants")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: mutreport -pkg ./rl/dqn report.json")
		os.Exit(2)
	}
	raw, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutreport:", err)
		os.Exit(1)
	}
	var r report
	if err := json.Unmarshal(raw, &r); err != nil {
		fmt.Fprintf(os.Stderr, "mutreport: %s: not a gremlins report: %v\n", flag.Arg(0), err)
		os.Exit(1)
	}
	count := map[string]int{}
	var survivors []string
	for _, f := range r.Files {
		// gremlins names files relative to the folder it was given; a name
		// with a slash is in a subpackage.
		if strings.Contains(filepath.ToSlash(f.FileName), "/") {
			continue
		}
		for _, m := range f.Mutations {
			count[m.Status]++
			if m.Status == "LIVED" {
				survivors = append(survivors, fmt.Sprintf("  LIVED %-22s %s:%d:%d", m.Type, f.FileName, m.Line, m.Column))
			}
		}
	}
	sort.Strings(survivors)
	if *lived && len(survivors) > 0 {
		fmt.Println("surviving mutants:")
		for _, s := range survivors {
			fmt.Println(s)
		}
	}
	k, l := count["KILLED"], count["LIVED"]
	eff := 0.0
	if k+l > 0 {
		eff = 100 * float64(k) / float64(k+l)
	}
	fmt.Printf("%s: killed %d, lived %d, timed out %d, not covered %d, not viable %d\n",
		*pkg, k, l, count["TIMED OUT"], count["NOT COVERED"], count["NOT VIABLE"])
	fmt.Printf("%s: test efficacy %.2f%%\n", *pkg, eff)
}
