package nasbench201

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzParseArch(f *testing.F) {
	f.Add(exampleArch)
	f.Add("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")
	f.Add("")
	f.Add("|+|+|")
	f.Add("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseArch(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "nasbench201: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		if !a.Valid() || a.String() != s {
			t.Fatalf("ParseArch(%q) = %v, String %q", s, a, a.String())
		}
	})
}

// decoders are the three file readers.
var decoders = []func(b []byte) error{
	func(b []byte) error { _, err := decodeLatency(b); return err },
	func(b []byte) error { _, err := decodeArchIndex(b); return err },
	func(b []byte) error { _, err := decodeRefIndices(b); return err },
}

// checkFile writes data as a file and loads it as each kind of file: it
// must never panic, and any error must name the file and not be an
// internal error.
func checkFile(t *testing.T, dir string, data []byte) {
	path := filepath.Join(dir, "fuzz.pt")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for i, dec := range decoders {
		err := loadFile(path, dec)
		if err == nil {
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "nasbench201: "+path+": ") || strings.Contains(msg, "internal error") {
			t.Fatalf("decoder %d: %v", i, err)
		}
	}
}

// FuzzReadPT feeds arbitrary bytes as a .pt file.
func FuzzReadPT(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("PK\x03\x04"))
	f.Add(torchZip(f, pickleList([]any{1.5, 2, 3})))
	f.Add(torchZip(f, pickleList(synthRefsAny())))
	f.Add(torchZip(f, pickleDict([]string{exampleArch}, []int{0})))
	if root := os.Getenv("CPNTRAIN_DATA"); root != "" {
		for _, rel := range []string{refIndexFile, "latency/pixel2.pt"} {
			b, err := os.ReadFile(filepath.Join(root, DirName, filepath.FromSlash(rel)))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) { checkFile(t, dir, data) })
}

// FuzzUnpickle feeds arbitrary bytes as the pickle of a well-formed zip
// archive, so that mutations reach the pickle decoder (the zip's CRC-32
// would reject most of them in FuzzReadPT).
func FuzzUnpickle(f *testing.F) {
	for _, tc := range pythonPickles {
		p, _ := hex.DecodeString(tc.hex)
		f.Add(p)
	}
	f.Add(pickleList([]any{1.5, 2, 3}))
	f.Add(pickleList(synthRefsAny()))
	f.Add(pickleDict([]string{exampleArch, "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"}, []int{0, 1}))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, p []byte) {
		_, _ = unpickle(p) // without decodePT's recover: a panic fails here
		checkFile(t, dir, torchZip(t, p))
	})
}

func synthRefsAny() []any {
	l := make([]any, len(synthRefs))
	for i, r := range synthRefs {
		l[i] = r
	}
	return l
}
