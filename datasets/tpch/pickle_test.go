package tpch

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"testing"
)

// pk assembles a pickle from opcodes and arguments.
type pk []byte

func (p pk) op(b ...byte) pk { return append(p, b...) }
func (p pk) str(s string) pk { return append(append(p, 'U', byte(len(s))), s...) }
func (p pk) i1(v byte) pk    { return append(p, 'K', v) }
func (p pk) i2(v uint16) pk  { return binary.LittleEndian.AppendUint16(append(p, 'M'), v) }
func (p pk) f8(v float64) pk {
	return binary.BigEndian.AppendUint64(append(p, 'G'), math.Float64bits(v))
}
func (p pk) global(mod, name string) pk {
	return append(append(append(append(p, 'c'), mod...), '\n'), name+"\n"...)
}

// objectArray wraps a pickled value the way NumPy pickles a 0-d object
// array: _reconstruct(ndarray, (0,), b'b') built with (1, (), dtype('O8'),
// False, [value]).
func objectArray(value pk) []byte {
	p := pk{0x80, 2}.global("numpy.core.multiarray", "_reconstruct").global("numpy", "ndarray").i1(0).op(0x85).str("b").op(0x87, 'R')
	p = p.op('(').i1(1).op(')').global("numpy", "dtype").str("O8").i1(0).i1(1).op(0x87, 'R').op(0x89, ']')
	p = append(p, value...)
	p = p.op('a', 't', 'b', '.')
	return npyBytes("|O", nil, p)
}

// TestParseDurationsByHand: one stage whose first-wave dict lists 5
// executors before 2 (so decima-sim's task count uses 5: 2 first-wave + 0
// rest-wave tasks), durations {5: [1000 1200], 2: [900]}, rest {2: [300
// 400.5], 5: []}, fresh {2: [900], 5: []}. Sorted: first wave 2 → [900],
// 5 → [1000 1200]; cleaned: 2 loses its 900 (fresh) and, being the
// smallest count, stays empty; 5 keeps [1000 1200]. Mean of the six
// durations: 4700.5/6.
func TestParseDurationsByHand(t *testing.T) {
	d := pk{}.op('}', '(').i1(0).op('}', '(')
	d = d.str("first_wave").op('}', '(').i1(5).op(']', '(').i2(1000).i2(1200).op('e').i1(2).op(']').i2(900).op('a', 'u')
	d = d.str("rest_wave").op('}', '(').i1(2).op(']', '(').i2(300).f8(400.5).op('e').i1(5).op(']', 'u')
	d = d.str("fresh_durations").op('}', '(').i1(2).op(']').i2(900).op('a').i1(5).op(']', 'u')
	d = d.op('u', 'u')
	stages, err := ParseDurations(objectArray(d))
	if err != nil {
		t.Fatal(err)
	}
	s := stages[0]
	if len(stages) != 1 || s.FirstKey != 5 || s.Tasks != 2 || math.Abs(s.MeanMs-4700.5/6) > 1e-12 {
		t.Fatalf("%d stages; first key %d, %d tasks, mean %v", len(stages), s.FirstKey, s.Tasks, s.MeanMs)
	}
	if !slices.Equal(s.FirstWave.Executors, []int{2, 5}) || !slices.Equal(s.FirstWave.Of(2), []float64{900}) ||
		!slices.Equal(s.RestWave.Of(2), []float64{300, 400.5}) || len(s.FirstWaveClean.Of(2)) != 0 ||
		!slices.Equal(s.FirstWaveClean.Of(5), []float64{1000, 1200}) {
		t.Fatalf("%+v", s)
	}
}

// TestUnpickleErrors: what the restricted unpickler refuses, by name.
func TestUnpickleErrors(t *testing.T) {
	for name, c := range map[string]struct {
		b    []byte
		want string
	}{
		"a global not allowed": {pk{0x80, 2}.global("os", "system").op('.'), `"os.system" is not allowed`},
		"a huge string":        {pk{0x80, 2, 'X', 0xff, 0xff, 0xff, 0x7f}, "argument of 2147483647 bytes"},
		"no STOP":              {pk{0x80, 2}.i1(1), "no STOP"},
		"an unknown opcode":    {pk{0x80, 2, 'i'}, "opcode 0x69"},
		"an empty stack":       {pk{0x80, 2, '.'}, "empty stack"},
		"a list key":           {pk{0x80, 2}.op('}', ']').i1(1).op('s', '.'), "dict key of type *tpch.pyList"},
		"an empty memo":        {pk{0x80, 2, 'h', 3, '.'}, "memo 3 is empty"},
		"APPEND to a dict":     {pk{0x80, 2}.op('}').i1(1).op('a', '.'), "APPEND to *tpch.pyDict"},
		"protocol 9":           {pk{0x80, 9}, "protocol 9"},
	} {
		if _, err := unpickle(c.b); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	// A self-containing list is inert (nothing recurses into it).
	v, err := unpickle(pk{0x80, 2}.op(']', 'q', 0, 'h', 0, 'a', '.'))
	if l, ok := v.(*pyList); err != nil || !ok || len(l.items) != 1 || l.items[0] != l {
		t.Errorf("self-containing list: %v, %v", v, err)
	}
}
