package nasbench201

import (
	"strings"
	"testing"
)

const exampleArch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"

func TestParseArch(t *testing.T) {
	t.Parallel()
	a, err := ParseArch(exampleArch)
	if err != nil {
		t.Fatal(err)
	}
	want := Arch{OpConv3x3, OpConv3x3, OpAvgPool, OpSkip, OpConv3x3, OpSkip}
	if a != want {
		t.Fatalf("ParseArch = %v, want %v", a, want)
	}
	if s := a.String(); s != exampleArch {
		t.Fatalf("String = %q, want %q", s, exampleArch)
	}
	if s := (Arch{}).String(); s != "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|" {
		t.Fatalf("zero Arch String = %q", s)
	}
}

func TestParseArchErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", "1 groups"},
		{"|none~0|+|none~0|none~1|", "2 groups"},
		{"|none~0|+|none~0|none~1|+|none~0|none~1|none~2|+|none~0|", "4 groups"},
		{"none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "must start and end with '|'"},
		{"|none~0|+|none~0|none~1|+|none~0|none~1|none~2", "must start and end with '|'"},
		{"|none~0|+|none~0|+|none~0|none~1|none~2|", "node 2 has 1 input edges, want 2"},
		{"|none~0|+|none~0|none~1|+|none~0|none~1|", "node 3 has 2 input edges, want 3"},
		{"|none~0|+|none~0|none~1|+|none~0|none~1|none|", "lacks '~<input node>'"},
		{"|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", `unknown operation "conv"`},
		{"|none~0|+|none~0|none~1|+|none~0|none~2|none~1|", `edge 2 has input node "2", want 1`},
		{"|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", `edge 1 has input node "1", want 0`},
		{"|none~00|+|none~0|none~1|+|none~0|none~1|none~2|", `input node "00"`},
		{" |none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "must start and end"},
		{"|None~0|+|none~0|none~1|+|none~0|none~1|none~2|", `unknown operation "None"`},
	} {
		_, err := ParseArch(tc.in)
		if err == nil {
			t.Errorf("ParseArch(%q): no error", tc.in)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "nasbench201: ") {
			t.Errorf("ParseArch(%q): error %q, want it to contain %q", tc.in, err, tc.want)
		}
	}
}

// TestArchRoundTripSpace checks String and ParseArch on all 5⁶ cells.
func TestArchRoundTripSpace(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, a := range allArchs() {
		s := a.String()
		b, err := ParseArch(s)
		if err != nil || b != a {
			t.Fatalf("ParseArch(%q) = %v, %v; want %v", s, b, err, a)
		}
		seen[s] = true
	}
	if len(seen) != NumArchs {
		t.Fatalf("%d distinct strings, want %d", len(seen), NumArchs)
	}
}

// TestArchRoundTripFile checks that every key of str_arch2idx.pt parses and
// prints back to the same string.
func TestArchRoundTripFile(t *testing.T) {
	t.Parallel()
	b, err := readFile(dataDir(t) + "/" + archIndexFile)
	if err != nil {
		t.Fatal(err)
	}
	v, err := decodePT(b)
	if err != nil {
		t.Fatal(err)
	}
	d := v.dict()
	if v.kind != pyDictKind || len(d.keys) != NumArchs {
		t.Fatalf("%d keys", len(d.keys))
	}
	for _, k := range d.keys {
		s := k.str()
		a, err := ParseArch(s)
		if err != nil {
			t.Fatal(err)
		}
		if a.String() != s {
			t.Fatalf("round trip %q → %q", s, a.String())
		}
	}
}

func TestEncodeKnownAnswer(t *testing.T) {
	t.Parallel()
	a, err := ParseArch(exampleArch)
	if err != nil {
		t.Fatal(err)
	}
	adj, ops := a.Encode()
	// Nodes: 0 input, 1 (0→1), 2 (0→2), 3 (1→2), 4 (0→3), 5 (1→3), 6 (2→3), 7 output.
	wantAdj := [NumNodes][NumNodes]float32{
		{0, 1, 1, 0, 1, 0, 0, 0}, // input feeds the edges out of node 0
		{0, 0, 0, 1, 0, 1, 0, 0}, // (0→1) feeds (1→2), (1→3)
		{0, 0, 0, 0, 0, 0, 1, 0}, // (0→2) feeds (2→3)
		{0, 0, 0, 0, 0, 0, 1, 0}, // (1→2) feeds (2→3)
		{0, 0, 0, 0, 0, 0, 0, 1}, // (0→3) feeds the output
		{0, 0, 0, 0, 0, 0, 0, 1}, // (1→3) feeds the output
		{0, 0, 0, 0, 0, 0, 0, 1}, // (2→3) feeds the output
		{0, 0, 0, 0, 0, 0, 0, 0}, // output
	}
	if adj != wantAdj {
		t.Errorf("adj = %v, want %v", adj, wantAdj)
	}
	// Columns: input, output, none, skip, conv1x1, conv3x3, avgpool.
	wantOps := [NumNodes][NumOpFeatures]float32{
		{1, 0, 0, 0, 0, 0, 0}, // input
		{0, 0, 0, 0, 0, 1, 0}, // nor_conv_3x3
		{0, 0, 0, 0, 0, 1, 0}, // nor_conv_3x3
		{0, 0, 0, 0, 0, 0, 1}, // avg_pool_3x3
		{0, 0, 0, 1, 0, 0, 0}, // skip_connect
		{0, 0, 0, 0, 0, 1, 0}, // nor_conv_3x3
		{0, 0, 0, 1, 0, 0, 0}, // skip_connect
		{0, 1, 0, 0, 0, 0, 0}, // output
	}
	if ops != wantOps {
		t.Errorf("ops = %v, want %v", ops, wantOps)
	}
}

func TestEncodeInvariants(t *testing.T) {
	t.Parallel()
	adj0, _ := Arch{}.Encode()
	for _, a := range allArchs() {
		adj, ops := a.Encode()
		if adj != adj0 {
			t.Fatalf("%v: adjacency differs from the all-none cell's", a)
		}
		for i := range NumNodes {
			for j := 0; j <= i; j++ {
				if adj[i][j] != 0 {
					t.Fatalf("%v: adj[%d][%d] = %v: not strictly upper triangular", a, i, j, adj[i][j])
				}
			}
			var sum float32
			for _, x := range ops[i] {
				sum += x
			}
			if sum != 1 {
				t.Fatalf("%v: ops row %d = %v is not one-hot", a, i, ops[i])
			}
		}
		for k, op := range a {
			if ops[1+k][FeatOp+int(op)] != 1 {
				t.Fatalf("%v: node %d not marked as %s", a, 1+k, OpNames[op])
			}
		}
	}
}

func TestEncodePanicsOnInvalid(t *testing.T) {
	t.Parallel()
	defer func() {
		if r := recover(); r == nil || !strings.HasPrefix(r.(string), "nasbench201: ") {
			t.Fatalf("recover() = %v, want a nasbench201 panic", r)
		}
	}()
	Arch{0, 0, 0, 0, 0, NumOps}.Encode()
}

func TestConnected(t *testing.T) {
	t.Parallel()
	n := 0
	for _, a := range allArchs() {
		if !a.Connected() {
			n++
		}
	}
	if n != 341 {
		t.Errorf("%d disconnected cells, want 341", n)
	}
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", false},
		{exampleArch, true},
		{"|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|", true},
		{"|skip_connect~0|+|none~0|none~1|+|none~0|none~1|avg_pool_3x3~2|", false},         // node 2 unreachable
		{"|skip_connect~0|+|none~0|nor_conv_1x1~1|+|none~0|none~1|avg_pool_3x3~2|", true},  // 0→1→2→3
		{"|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|none~2|", false}, // nothing into node 3
	} {
		a, err := ParseArch(tc.s)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Connected(); got != tc.want {
			t.Errorf("%s: Connected = %v, want %v", tc.s, got, tc.want)
		}
	}
}
