package nasbench201

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// This file holds a minimal Python pickle decoder for the objects HELP
// saves with torch.save: lists and dicts of ints, floats and strings.
//
// github.com/nlpodyssey/gopickle reads these files too, but it allocates
// whatever length a FRAME, BINUNICODE or LONG4 opcode announces before
// reading it: a 13-byte input can make it allocate terabytes and kill the
// process with a fatal (unrecoverable) out-of-memory error. This decoder
// works on the whole pickle held in memory, checks every length against the
// bytes that remain, and never allocates more than a small multiple of its
// input. The tests cross-check it against gopickle on the real files.

// pyKind is the Python type of a pyValue.
type pyKind uint8

const (
	pyNone pyKind = iota
	pyBool
	pyInt
	pyFloat
	pyStr
	pyListKind
	pyDictKind
)

// pyValue is one decoded Python value, held by value so that numbers need
// no heap allocation.
type pyValue struct {
	kind pyKind
	n    uint64 // pyInt: the int64's bits; pyFloat: the float64's bits; pyBool: 0 or 1
	ref  any    // pyStr: string; pyListKind: *pyList; pyDictKind: *pyDict
}

func pyIntValue(i int64) pyValue     { return pyValue{kind: pyInt, n: uint64(i)} }
func pyFloatValue(f float64) pyValue { return pyValue{kind: pyFloat, n: math.Float64bits(f)} }

func (v pyValue) int() int64     { return int64(v.n) }
func (v pyValue) float() float64 { return math.Float64frombits(v.n) }
func (v pyValue) str() string    { s, _ := v.ref.(string); return s }
func (v pyValue) list() *pyList  { l, _ := v.ref.(*pyList); return l }
func (v pyValue) dict() *pyDict  { d, _ := v.ref.(*pyDict); return d }

// pyList is a Python list. Lists and dicts are pointers so that a memoised
// object and the stack refer to the same value, as in Python.
type pyList struct{ items []pyValue }

// pyDict is a Python dict, its entries in insertion order. A key set twice
// appears twice (Python keeps the last value); readers reject duplicates.
type pyDict struct{ keys, vals []pyValue }

// maxPickleItems bounds the stack and the memo; the real files need a few
// entries of each.
const maxPickleItems = 1 << 20

// unpickle decodes one pickled object from p (trailing bytes after STOP are
// ignored, as Python does). Supported values: int (up to 64 bits), float,
// str, list, dict, None, True and False. Any other opcode is an error that
// names it and its offset.
func unpickle(p []byte) (pyValue, error) {
	var (
		stack []pyValue
		marks []int // stack lengths at each MARK
		memo  = map[uint32]pyValue{}
		pos   int
	)
	errAt := func(at int, format string, args ...any) error {
		return fmt.Errorf("pickle offset %d: %s", at, fmt.Sprintf(format, args...))
	}
	need := func(at, n int) error {
		if n < 0 || len(p)-pos < n {
			return errAt(at, "truncated: need %d bytes, %d left", n, len(p)-pos)
		}
		return nil
	}
	// arg returns the next n bytes.
	arg := func(at, n int) ([]byte, error) {
		if err := need(at, n); err != nil {
			return nil, err
		}
		b := p[pos : pos+n]
		pos += n
		return b, nil
	}
	pop := func(at int, op string) (pyValue, error) {
		base := 0
		if len(marks) > 0 {
			base = marks[len(marks)-1]
		}
		if len(stack) <= base {
			return pyValue{}, errAt(at, "%s on an empty stack", op)
		}
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		return v, nil
	}
	popMark := func(at int, op string) ([]pyValue, error) {
		if len(marks) == 0 {
			return nil, errAt(at, "%s without MARK", op)
		}
		m := marks[len(marks)-1]
		marks = marks[:len(marks)-1]
		items := stack[m:]
		stack = stack[:m]
		return items, nil
	}
	put := func(at int, key uint32) error {
		if len(stack) == 0 || (len(marks) > 0 && len(stack) == marks[len(marks)-1]) {
			return errAt(at, "memo put on an empty stack")
		}
		if len(memo) >= maxPickleItems {
			return errAt(at, "more than %d memo entries", maxPickleItems)
		}
		memo[key] = stack[len(stack)-1]
		return nil
	}
	get := func(at int, key uint32) error {
		v, ok := memo[key]
		if !ok {
			return errAt(at, "memo key %d not found", key)
		}
		stack = append(stack, v)
		return nil
	}
	setItems := func(at int, d pyValue, kv []pyValue, op string) error {
		if d.kind != pyDictKind {
			return errAt(at, "%s on a %s, want a dict", op, typeName(d))
		}
		dict := d.dict()
		if len(kv)%2 != 0 {
			return errAt(at, "%s with an odd number (%d) of keys and values", op, len(kv))
		}
		for i := 0; i < len(kv); i += 2 {
			if k := kv[i].kind; k == pyListKind || k == pyDictKind {
				return errAt(at, "%s: unhashable key of type %s", op, typeName(kv[i]))
			}
			dict.keys = append(dict.keys, kv[i])
			dict.vals = append(dict.vals, kv[i+1])
		}
		return nil
	}
	top := func(at int, op string) (pyValue, error) {
		base := 0
		if len(marks) > 0 {
			base = marks[len(marks)-1]
		}
		if len(stack) <= base {
			return pyValue{}, errAt(at, "%s on an empty stack", op)
		}
		return stack[len(stack)-1], nil
	}

	for {
		at := pos
		if pos >= len(p) {
			return pyValue{}, errAt(at, "truncated: no STOP opcode")
		}
		op := p[pos]
		pos++
		switch op {
		case 0x80: // PROTO
			b, err := arg(at, 1)
			if err != nil {
				return pyValue{}, err
			}
			if b[0] < 2 || b[0] > 5 {
				return pyValue{}, errAt(at, "unsupported pickle protocol %d", b[0])
			}
		case 0x95: // FRAME: a length prefix for buffering; the whole pickle is in memory
			b, err := arg(at, 8)
			if err != nil {
				return pyValue{}, err
			}
			if n := binary.LittleEndian.Uint64(b); n > uint64(len(p)-pos) {
				return pyValue{}, errAt(at, "FRAME of %d bytes, %d left", n, len(p)-pos)
			}
		case '.': // STOP
			return pop(at, "STOP")
		case '(': // MARK
			marks = append(marks, len(stack))
		case ']': // EMPTY_LIST
			stack = append(stack, pyValue{kind: pyListKind, ref: &pyList{}})
		case '}': // EMPTY_DICT
			stack = append(stack, pyValue{kind: pyDictKind, ref: &pyDict{}})
		case 'N': // NONE
			stack = append(stack, pyValue{kind: pyNone})
		case 0x88: // NEWTRUE
			stack = append(stack, pyValue{kind: pyBool, n: 1})
		case 0x89: // NEWFALSE
			stack = append(stack, pyValue{kind: pyBool})
		case 'a': // APPEND
			v, err := pop(at, "APPEND")
			if err != nil {
				return pyValue{}, err
			}
			l, err := top(at, "APPEND")
			if err != nil {
				return pyValue{}, err
			}
			if l.kind != pyListKind {
				return pyValue{}, errAt(at, "APPEND to a %s, want a list", typeName(l))
			}
			l.list().items = appendValues(l.list().items, v)
		case 'e': // APPENDS
			items, err := popMark(at, "APPENDS")
			if err != nil {
				return pyValue{}, err
			}
			l, err := top(at, "APPENDS")
			if err != nil {
				return pyValue{}, err
			}
			if l.kind != pyListKind {
				return pyValue{}, errAt(at, "APPENDS to a %s, want a list", typeName(l))
			}
			l.list().items = appendValues(l.list().items, items...)
		case 's': // SETITEM
			if len(stack) < 3 || (len(marks) > 0 && len(stack)-3 < marks[len(marks)-1]) {
				return pyValue{}, errAt(at, "SETITEM needs a dict, a key and a value on the stack")
			}
			kv := append([]pyValue(nil), stack[len(stack)-2:]...)
			stack = stack[:len(stack)-2]
			if err := setItems(at, stack[len(stack)-1], kv, "SETITEM"); err != nil {
				return pyValue{}, err
			}
		case 'u': // SETITEMS
			kv, err := popMark(at, "SETITEMS")
			if err != nil {
				return pyValue{}, err
			}
			d, err := top(at, "SETITEMS")
			if err != nil {
				return pyValue{}, err
			}
			if err := setItems(at, d, kv, "SETITEMS"); err != nil {
				return pyValue{}, err
			}
		case 'q': // BINPUT
			b, err := arg(at, 1)
			if err != nil {
				return pyValue{}, err
			}
			if err := put(at, uint32(b[0])); err != nil {
				return pyValue{}, err
			}
		case 'r': // LONG_BINPUT
			b, err := arg(at, 4)
			if err != nil {
				return pyValue{}, err
			}
			if err := put(at, binary.LittleEndian.Uint32(b)); err != nil {
				return pyValue{}, err
			}
		case 0x94: // MEMOIZE
			if err := put(at, uint32(len(memo))); err != nil {
				return pyValue{}, err
			}
		case 'h': // BINGET
			b, err := arg(at, 1)
			if err != nil {
				return pyValue{}, err
			}
			if err := get(at, uint32(b[0])); err != nil {
				return pyValue{}, err
			}
		case 'j': // LONG_BINGET
			b, err := arg(at, 4)
			if err != nil {
				return pyValue{}, err
			}
			if err := get(at, binary.LittleEndian.Uint32(b)); err != nil {
				return pyValue{}, err
			}
		case 'K': // BININT1
			b, err := arg(at, 1)
			if err != nil {
				return pyValue{}, err
			}
			stack = append(stack, pyIntValue(int64(b[0])))
		case 'M': // BININT2
			b, err := arg(at, 2)
			if err != nil {
				return pyValue{}, err
			}
			stack = append(stack, pyIntValue(int64(binary.LittleEndian.Uint16(b))))
		case 'J': // BININT
			b, err := arg(at, 4)
			if err != nil {
				return pyValue{}, err
			}
			stack = append(stack, pyIntValue(int64(int32(binary.LittleEndian.Uint32(b)))))
		case 0x8a: // LONG1
			n, err := arg(at, 1)
			if err != nil {
				return pyValue{}, err
			}
			if n[0] > 8 {
				return pyValue{}, errAt(at, "LONG1 of %d bytes: integer wider than 64 bits", n[0])
			}
			b, err := arg(at, int(n[0]))
			if err != nil {
				return pyValue{}, err
			}
			var u uint64
			for i := len(b) - 1; i >= 0; i-- {
				u = u<<8 | uint64(b[i])
			}
			if len(b) > 0 && len(b) < 8 && b[len(b)-1]&0x80 != 0 { // sign-extend
				u |= ^uint64(0) << (8 * len(b))
			}
			stack = append(stack, pyIntValue(int64(u)))
		case 'G': // BINFLOAT, big-endian
			b, err := arg(at, 8)
			if err != nil {
				return pyValue{}, err
			}
			stack = append(stack, pyFloatValue(math.Float64frombits(binary.BigEndian.Uint64(b))))
		case 0x8c: // SHORT_BINUNICODE
			n, err := arg(at, 1)
			if err != nil {
				return pyValue{}, err
			}
			b, err := arg(at, int(n[0]))
			if err != nil {
				return pyValue{}, err
			}
			stack = append(stack, pyValue{kind: pyStr, ref: string(b)})
		case 'X': // BINUNICODE
			n, err := arg(at, 4)
			if err != nil {
				return pyValue{}, err
			}
			l := binary.LittleEndian.Uint32(n)
			if uint64(l) > uint64(len(p)-pos) {
				return pyValue{}, errAt(at, "BINUNICODE of %d bytes, %d left", l, len(p)-pos)
			}
			b, _ := arg(at, int(l))
			stack = append(stack, pyValue{kind: pyStr, ref: string(b)})
		case 0x8d: // BINUNICODE8
			n, err := arg(at, 8)
			if err != nil {
				return pyValue{}, err
			}
			l := binary.LittleEndian.Uint64(n)
			if l > uint64(len(p)-pos) {
				return pyValue{}, errAt(at, "BINUNICODE8 of %d bytes, %d left", l, len(p)-pos)
			}
			b, _ := arg(at, int(l))
			stack = append(stack, pyValue{kind: pyStr, ref: string(b)})
		default:
			if name, ok := unsupportedOps[op]; ok {
				return pyValue{}, errAt(at, "unsupported pickle opcode %s (0x%02x): only lists and dicts of numbers and strings are read", name, op)
			}
			return pyValue{}, errAt(at, "invalid pickle opcode 0x%02x", op)
		}
		if len(stack) > maxPickleItems {
			return pyValue{}, errAt(at, "stack deeper than %d", maxPickleItems)
		}
	}
}

// unsupportedOps names the valid pickle opcodes this decoder refuses, for
// clearer errors.
var unsupportedOps = map[byte]string{
	'I': "INT", 'L': "LONG", 'F': "FLOAT", 'S': "STRING", 'T': "BINSTRING",
	'U': "SHORT_BINSTRING", 'V': "UNICODE", 'l': "LIST", 'd': "DICT",
	't': "TUPLE", ')': "EMPTY_TUPLE", 0x85: "TUPLE1", 0x86: "TUPLE2",
	0x87: "TUPLE3", 'c': "GLOBAL", 0x93: "STACK_GLOBAL", 'R': "REDUCE",
	'b': "BUILD", 'i': "INST", 'o': "OBJ", 0x81: "NEWOBJ", 0x92: "NEWOBJ_EX",
	'P': "PERSID", 'Q': "BINPERSID", 0x82: "EXT1", 0x83: "EXT2",
	0x84: "EXT4", 0x8b: "LONG4", 'B': "BINBYTES", 'C': "SHORT_BINBYTES",
	0x8e: "BINBYTES8", 0x8f: "EMPTY_SET", 0x90: "ADDITEMS",
	0x91: "FROZENSET", 0x96: "BYTEARRAY8", 0x97: "NEXT_BUFFER",
	0x98: "READONLY_BUFFER", 'p': "PUT", 'g': "GET", '0': "POP",
	'1': "POP_MARK", '2': "DUP",
}

// appendValues appends src to dst, doubling the capacity when it grows
// (append grows large slices by only 1.25, which copies a 15,625-element
// list built 1,000 items at a time about five times).
func appendValues(dst []pyValue, src ...pyValue) []pyValue {
	if n := len(dst) + len(src); n > cap(dst) {
		grown := make([]pyValue, len(dst), 2*n)
		copy(grown, dst)
		dst = grown
	}
	return append(dst, src...)
}

// typeName is the Python name of a decoded value's type, for errors.
func typeName(v pyValue) string {
	switch v.kind {
	case pyNone:
		return "None"
	case pyBool:
		return "bool"
	case pyInt:
		return "int"
	case pyFloat:
		return "float"
	case pyStr:
		return "str"
	case pyListKind:
		return "list"
	case pyDictKind:
		return "dict"
	}
	return fmt.Sprintf("kind %d", v.kind)
}

var errNotNumber = errors.New("not a number")

// number converts an int or float value to float64.
func number(v pyValue) (float64, error) {
	switch v.kind {
	case pyInt:
		return float64(v.int()), nil
	case pyFloat:
		return v.float(), nil
	}
	return 0, errNotNumber
}
