package tpch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
)

// A restricted unpickler for what NumPy writes in an object array: the
// pickle protocols 2–4 opcodes that build numbers, strings, lists, dicts,
// tuples and the three NumPy globals (an allowlist: no other class is
// named, let alone called). Every length is checked against the input
// before anything is allocated, so memory stays proportional to the
// input; GLOBAL/REDUCE/BUILD build inert pyObject values.

// pyList and pyDict are mutable (a memo entry may be extended later);
// a dict keeps its insertion order.
type (
	pyList  struct{ items []any }
	pyDict  struct{ keys, vals []any }
	pyTuple []any
	pyMark  struct{}
	// pyObject is a REDUCE of an allowlisted global (its arguments) and
	// the state a BUILD gave it.
	pyObject struct {
		global string
		args   pyTuple
		state  any
	}
	pyGlobal string
)

// get returns the value of an int or string key.
func (d *pyDict) get(key any) (any, bool) {
	for i, k := range d.keys {
		if k == key {
			return d.vals[i], true
		}
	}
	return nil, false
}

var allowedGlobals = map[string]bool{
	"numpy.core.multiarray._reconstruct": true,
	"numpy.ndarray":                      true,
	"numpy.dtype":                        true,
}

// unpickle runs the pickle in b and returns the value STOP returns.
func unpickle(b []byte) (any, error) {
	var stack []any
	memo := map[int]any{}
	pos := 0
	need := func(n int) ([]byte, error) {
		if n < 0 || n > len(b)-pos {
			return nil, fmt.Errorf("pickle: an argument of %d bytes at offset %d of %d", n, pos, len(b))
		}
		s := b[pos : pos+n]
		pos += n
		return s, nil
	}
	line := func() (string, error) {
		i := strings.IndexByte(string(b[pos:min(len(b), pos+256)]), '\n')
		if i < 0 {
			return "", fmt.Errorf("pickle: no newline within 256 bytes of offset %d", pos)
		}
		s := string(b[pos : pos+i])
		pos += i + 1
		return s, nil
	}
	pop := func() (any, error) {
		if len(stack) == 0 {
			return nil, fmt.Errorf("pickle: pop from an empty stack at offset %d", pos)
		}
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if _, ok := v.(pyMark); ok {
			return nil, fmt.Errorf("pickle: a mark where a value was expected at offset %d", pos)
		}
		return v, nil
	}
	popMark := func() ([]any, error) { // the items above the topmost mark
		for i := len(stack) - 1; i >= 0; i-- {
			if _, ok := stack[i].(pyMark); ok {
				items := append([]any(nil), stack[i+1:]...)
				stack = stack[:i]
				return items, nil
			}
		}
		return nil, fmt.Errorf("pickle: no mark at offset %d", pos)
	}
	top := func() (any, error) {
		if len(stack) == 0 {
			return nil, fmt.Errorf("pickle: an empty stack at offset %d", pos)
		}
		return stack[len(stack)-1], nil
	}
	setItems := func(d any, items []any) error {
		dd, ok := d.(*pyDict)
		if !ok || len(items)%2 != 0 {
			return fmt.Errorf("pickle: SETITEM(S) on %T with %d items at offset %d", d, len(items), pos)
		}
		for i := 0; i < len(items); i += 2 {
			switch items[i].(type) {
			case int64, string:
			default:
				return fmt.Errorf("pickle: a dict key of type %T at offset %d", items[i], pos)
			}
			dd.keys, dd.vals = append(dd.keys, items[i]), append(dd.vals, items[i+1])
		}
		return nil
	}
	for {
		if pos >= len(b) {
			return nil, errors.New("pickle: no STOP")
		}
		op := b[pos]
		pos++
		var err error
		switch op {
		case 0x80: // PROTO
			var a []byte
			if a, err = need(1); err == nil && (a[0] < 2 || a[0] > 5) {
				err = fmt.Errorf("pickle: protocol %d", a[0])
			}
		case 0x95: // FRAME (protocol 4): the frame's length is informative only
			_, err = need(8)
		case '.': // STOP
			v, err := pop()
			if err != nil {
				return nil, err
			}
			return v, nil
		case 'c': // GLOBAL
			var mod, name string
			if mod, err = line(); err == nil {
				if name, err = line(); err == nil {
					g := mod + "." + name
					if !allowedGlobals[g] {
						return nil, fmt.Errorf("pickle: global %q is not allowed", g)
					}
					stack = append(stack, pyGlobal(g))
				}
			}
		case 'q', 'r', 0x94: // BINPUT, LONG_BINPUT, MEMOIZE
			var idx int
			switch op {
			case 'q':
				var a []byte
				if a, err = need(1); err == nil {
					idx = int(a[0])
				}
			case 'r':
				var a []byte
				if a, err = need(4); err == nil {
					idx = int(binary.LittleEndian.Uint32(a))
				}
			default:
				idx = len(memo)
			}
			if err == nil {
				var v any
				if v, err = top(); err == nil {
					if _, ok := v.(pyMark); ok {
						err = errors.New("pickle: memoising a mark")
					} else if idx > len(b) {
						err = fmt.Errorf("pickle: memo index %d", idx)
					} else {
						memo[idx] = v
					}
				}
			}
		case 'h', 'j': // BINGET, LONG_BINGET
			var idx int
			if op == 'h' {
				var a []byte
				if a, err = need(1); err == nil {
					idx = int(a[0])
				}
			} else {
				var a []byte
				if a, err = need(4); err == nil {
					idx = int(binary.LittleEndian.Uint32(a))
				}
			}
			if err == nil {
				v, ok := memo[idx]
				if !ok {
					err = fmt.Errorf("pickle: memo %d is empty", idx)
				} else {
					stack = append(stack, v)
				}
			}
		case 'J', 'K', 'M': // BININT, BININT1, BININT2
			n := 4
			switch op {
			case 'K':
				n = 1
			case 'M':
				n = 2
			}
			var a []byte
			if a, err = need(n); err == nil {
				var v int64
				switch op {
				case 'J':
					v = int64(int32(binary.LittleEndian.Uint32(a)))
				case 'K':
					v = int64(a[0])
				default:
					v = int64(binary.LittleEndian.Uint16(a))
				}
				stack = append(stack, v)
			}
		case 'G': // BINFLOAT (big-endian)
			var a []byte
			if a, err = need(8); err == nil {
				stack = append(stack, math.Float64frombits(binary.BigEndian.Uint64(a)))
			}
		case 'N':
			stack = append(stack, nil)
		case 0x88, 0x89: // NEWTRUE, NEWFALSE
			stack = append(stack, op == 0x88)
		case 'U', 'T', 0x8c, 'X', 'C', 'B': // SHORT_BINSTRING, BINSTRING, SHORT_BINUNICODE, BINUNICODE, SHORT_BINBYTES, BINBYTES
			n := 1
			if op == 'T' || op == 'X' || op == 'B' {
				n = 4
			}
			var a []byte
			if a, err = need(n); err == nil {
				l := int(a[0])
				if n == 4 {
					l = int(binary.LittleEndian.Uint32(a))
				}
				var s []byte
				if s, err = need(l); err == nil {
					stack = append(stack, string(s))
				}
			}
		case ']':
			stack = append(stack, &pyList{})
		case '}':
			stack = append(stack, &pyDict{})
		case ')':
			stack = append(stack, pyTuple{})
		case '(':
			stack = append(stack, pyMark{})
		case 'a': // APPEND
			var v, l any
			if v, err = pop(); err == nil {
				if l, err = top(); err == nil {
					if ll, ok := l.(*pyList); ok {
						ll.items = append(ll.items, v)
					} else {
						err = fmt.Errorf("pickle: APPEND to %T", l)
					}
				}
			}
		case 'e': // APPENDS
			var items []any
			if items, err = popMark(); err == nil {
				var l any
				if l, err = top(); err == nil {
					if ll, ok := l.(*pyList); ok {
						ll.items = append(ll.items, items...)
					} else {
						err = fmt.Errorf("pickle: APPENDS to %T", l)
					}
				}
			}
		case 's': // SETITEM
			var k, v, d any
			if v, err = pop(); err == nil {
				if k, err = pop(); err == nil {
					if d, err = top(); err == nil {
						err = setItems(d, []any{k, v})
					}
				}
			}
		case 'u': // SETITEMS
			var items []any
			if items, err = popMark(); err == nil {
				var d any
				if d, err = top(); err == nil {
					err = setItems(d, items)
				}
			}
		case 't': // TUPLE
			var items []any
			if items, err = popMark(); err == nil {
				stack = append(stack, pyTuple(items))
			}
		case 0x85, 0x86, 0x87: // TUPLE1, TUPLE2, TUPLE3
			n := int(op - 0x84)
			t := make(pyTuple, n)
			for i := n - 1; i >= 0 && err == nil; i-- {
				t[i], err = pop()
			}
			if err == nil {
				stack = append(stack, t)
			}
		case 'R': // REDUCE: an allowlisted global applied to a tuple
			var args, f any
			if args, err = pop(); err == nil {
				if f, err = pop(); err == nil {
					g, ok1 := f.(pyGlobal)
					t, ok2 := args.(pyTuple)
					if !ok1 || !ok2 {
						err = fmt.Errorf("pickle: REDUCE of %T with %T", f, args)
					} else {
						stack = append(stack, &pyObject{global: string(g), args: t})
					}
				}
			}
		case 'b': // BUILD
			var state, o any
			if state, err = pop(); err == nil {
				if o, err = top(); err == nil {
					if obj, ok := o.(*pyObject); ok {
						obj.state = state
					} else {
						err = fmt.Errorf("pickle: BUILD on %T", o)
					}
				}
			}
		default:
			return nil, fmt.Errorf("pickle: opcode 0x%02x at offset %d is not supported", op, pos-1)
		}
		if err != nil {
			return nil, err
		}
	}
}
