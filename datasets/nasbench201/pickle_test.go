package nasbench201

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// render writes v in Python's repr syntax (floats with %g).
func render(v pyValue) string {
	var b strings.Builder
	var rec func(v pyValue, depth int)
	rec = func(v pyValue, depth int) {
		if depth > 8 {
			b.WriteString("...")
			return
		}
		switch v.kind {
		case pyNone:
			b.WriteString("None")
		case pyBool:
			b.WriteString(map[uint64]string{0: "False", 1: "True"}[v.n])
		case pyInt:
			b.WriteString(strconv.FormatInt(v.int(), 10))
		case pyFloat:
			fmt.Fprintf(&b, "%g", v.float())
		case pyStr:
			b.WriteString(strconv.Quote(v.str()))
		case pyListKind:
			b.WriteByte('[')
			for i, it := range v.list().items {
				if i > 0 {
					b.WriteString(", ")
				}
				rec(it, depth+1)
			}
			b.WriteByte(']')
		case pyDictKind:
			b.WriteByte('{')
			d := v.dict()
			for i := range d.keys {
				if i > 0 {
					b.WriteString(", ")
				}
				rec(d.keys[i], depth+1)
				b.WriteString(": ")
				rec(d.vals[i], depth+1)
			}
			b.WriteByte('}')
		}
	}
	rec(v, 0)
	return b.String()
}

// pythonPickles were written by Python 3's pickle.dumps(obj, protocol=p).
var pythonPickles = []struct {
	name, hex, want string
}{
	{"list_p2", "80025d710028473ff80000000000004b024afdffffff4a701101004a90eefeff8a060000000000018a080000000000000080580300000061626371014e8889652e",
		`[1.5, 2, -3, 70000, -70000, 1099511627776, -9223372036854775808, "abc", None, True, False]`},
	{"dict_p4", "80049531000000000000007d94288c087c6e6f6e657e307c944b008c026b32944dffff8c026b33945d9428473fd00000000000008c02c3a99465752e",
		`{"|none~0|": 0, "k2": 65535, "k3": [0.25, "é"]}`},
	{"list_p5", "8005953a000000000000005d9428470000000000000000473fe0000000000000473ff0000000000000473ff80000000000004740000000000000004d2c014affffffff652e",
		`[0, 0.5, 1, 1.5, 2, 300, -1]`},
	// [l, l] with l = [1, 2]: the memo shares one list.
	{"shared_p3", "80035d7100285d7101284b014b02656801652e", `[[1, 2], [1, 2]]`},
}

func TestUnpicklePython(t *testing.T) {
	t.Parallel()
	for _, tc := range pythonPickles {
		p, _ := hex.DecodeString(tc.hex)
		v, err := unpickle(p)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := render(v); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
	// The shared list is one object, as in Python.
	p, _ := hex.DecodeString(pythonPickles[3].hex)
	v, _ := unpickle(p)
	items := v.list().items
	if items[0].list() != items[1].list() {
		t.Error("memoised list is copied")
	}
}

func TestUnpickleErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, hex, want string }{
		{"empty", "", "offset 0: truncated: no STOP"},
		{"no stop", "80025d", "offset 3: truncated: no STOP"},
		{"protocol 9", "8009", "unsupported pickle protocol 9"},
		{"huge frame", "8004950000000000100000", "offset 2: FRAME of 17592186044416 bytes, 0 left"},
		{"huge binunicode", "800258f0ffffff", "BINUNICODE of 4294967280 bytes, 0 left"},
		{"huge binunicode8", "80048dffffffffffffffff", "BINUNICODE8 of 18446744073709551615 bytes"},
		{"short binfloat", "8002473ff0", "truncated: need 8 bytes, 2 left"},
		{"long1 wide", "80028a09000000000000000000", "wider than 64 bits"},
		{"appends without mark", "80025d652e", "APPENDS without MARK"},
		{"append to int", "80024b014b0261", "APPEND to a int, want a list"},
		{"setitems on list", "80025d284b014b02752e", "SETITEMS on a list, want a dict"},
		{"setitems odd", "80027d284b01752e", "odd number (1)"},
		{"unhashable key", "80027d285d4b01752e", "unhashable key of type list"},
		{"get unknown", "800268052e", "memo key 5 not found"},
		{"stop on empty", "80022e", "STOP on an empty stack"},
		{"stop inside mark", "80025d282e", "STOP on an empty stack"},
		{"put on empty", "80027100", "memo put on an empty stack"},
		{"global", "8002635f5f6275696c74696e5f5f0a6c6973740a", "unsupported pickle opcode GLOBAL (0x63)"},
		{"tuple", "8002292e", "unsupported pickle opcode EMPTY_TUPLE"},
		{"persistent id", "80025158", "unsupported pickle opcode BINPERSID"},
		{"garbage", "8002ff", "invalid pickle opcode 0xff"},
		{"setitem short", "80027d4b0173", "SETITEM needs a dict, a key and a value"},
	} {
		p, err := hex.DecodeString(tc.hex)
		if err != nil {
			t.Fatalf("%s: bad hex", tc.name)
		}
		_, err = unpickle(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}
