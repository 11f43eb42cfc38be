package main

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cpntrain/cpntrain/checkpoints"
	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/mlp"
	"github.com/cpntrain/cpntrain/nn/optim"
)

// saveTinyCheckpoint saves a small MLP with Adam state at step 7 and returns
// the path and the file's bytes.
func saveTinyCheckpoint(t *testing.T) (string, []byte) {
	t.Helper()
	m := mlp.New(mlp.Config{Sizes: []int{3, 4, 2}, Act: nn.ReLU}, rand.New(rand.NewPCG(1, 1)))
	opt := optim.NewAdam(nn.Collect(m), optim.DefaultAdamConfig())
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := checkpoints.Save(path, m, opt, checkpoints.Meta{ModelKind: "mlp", Step: 7}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, b
}

// runInspect runs 'cpntrain checkpoint inspect path' and returns the exit
// status and the outputs; it fails the test if the command has not returned
// after 10 s.
func runInspect(t *testing.T, path string) (int, string, string) {
	t.Helper()
	var so, se bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run([]string{"cpntrain", "checkpoint", "inspect", path}, &so, &se) }()
	select {
	case code := <-done:
		return code, so.String(), se.String()
	case <-time.After(10 * time.Second):
		t.Fatalf("checkpoint inspect %s has not returned after 10 s", path)
		return 0, "", ""
	}
}

func TestCheckpointInspect(t *testing.T) {
	path, _ := saveTinyCheckpoint(t)
	code, so, se := runInspect(t, path)
	if code != exitOK || se != "" {
		t.Fatalf("exit %d: %s", code, se)
	}
	for _, want := range []string{`model kind "mlp", step 7`, "checksum: ok", "optimizer adam", "model/0/w"} {
		if !strings.Contains(so, want) {
			t.Fatalf("output lacks %q:\n%s", want, so)
		}
	}
	var o, e bytes.Buffer
	if code := run([]string{"cpntrain", "checkpoint", "inspect"}, &o, &e); code != exitUsage {
		t.Fatalf("missing FILE: exit %d", code)
	}
}

// TestCheckpointInspectDamaged checks that a cpntrain checkpoint whose
// checksum does not verify (a flipped data byte) or is missing is reported
// in full and then exits 1 with a message naming the file.
func TestCheckpointInspectDamaged(t *testing.T) {
	path, good := saveTinyCheckpoint(t)
	dir := filepath.Dir(path)

	flipped := append([]byte(nil), good...)
	flipped[len(flipped)-2] ^= 0x01 // a data byte, the value stays finite
	noSum := bytes.Replace(good, []byte(`"sha256":"`), []byte(`"sha257":"`), 1)
	if bytes.Equal(noSum, good) {
		t.Fatal("no sha256 entry found")
	}
	for _, tc := range []struct {
		name string
		file []byte
		bad  string
	}{
		{"flipped data byte", flipped, "checksum: BAD (checksum mismatch: file digest"},
		{"checksum removed", noSum, `checksum: BAD (checksum mismatch: metadata has no "sha256")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".safetensors")
			if err := os.WriteFile(p, tc.file, 0o644); err != nil {
				t.Fatal(err)
			}
			code, so, se := runInspect(t, p)
			if code != exitFail {
				t.Errorf("exit %d, want %d", code, exitFail)
			}
			if want := "cpntrain: " + p + ": checksum mismatch: the file is damaged\n"; se != want {
				t.Errorf("stderr %q, want %q", se, want)
			}
			for _, want := range []string{`model kind "mlp", step 7`, tc.bad, "model/0/w", "tensors"} {
				if !strings.Contains(so, want) {
					t.Errorf("the report lacks %q:\n%s", want, so)
				}
			}
		})
	}
}

// TestCheckpointInspectPlain checks that a plain safetensors file (no
// cpntrain metadata, hence no checksum) is described and exits 0.
func TestCheckpointInspectPlain(t *testing.T) {
	header := `{"x":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}}`
	for (8+len(header))%8 != 0 {
		header += " "
	}
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(append(b, header...), make([]byte, 8)...)
	path := filepath.Join(t.TempDir(), "plain.safetensors")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, so, se := runInspect(t, path)
	if code != exitOK || se != "" {
		t.Fatalf("exit %d: %s", code, se)
	}
	for _, want := range []string{"not a cpntrain checkpoint", "no cpntrain checksum", "1 tensors, 2 values"} {
		if !strings.Contains(so, want) {
			t.Errorf("output lacks %q:\n%s", want, so)
		}
	}
}

// TestCheckpointInspectNotAFile checks that a device (which reads as an
// endless stream) and a directory are refused at once with exit 1.
func TestCheckpointInspectNotAFile(t *testing.T) {
	paths := map[string]string{t.TempDir(): "a directory"}
	if _, err := os.Stat("/dev/zero"); err == nil {
		paths["/dev/zero"] = "a character device"
	}
	for path, what := range paths {
		code, so, se := runInspect(t, path)
		if code != exitFail || so != "" {
			t.Errorf("%s: exit %d, stdout %q", path, code, so)
		}
		if want := "cpntrain: checkpoints: inspect " + path + ": not a regular file: it is " + what + "\n"; se != want {
			t.Errorf("%s: stderr %q, want %q", path, se, want)
		}
	}
}
