package agent

import (
	"testing"

	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envs/testenv"
)

type pv struct{}

func (*pv) ActionMask() []bool  { return []bool{true} }
func (*pv) Features() []float32 { return nil }

func TestMasksNoAlloc(t *testing.T) {
	v := testenv.Vec{Mask: []bool{true, false}}
	m := NewMasks[testenv.Vec]()
	if m.mode != maskByPtr || len(m.Of(&v)) != 2 {
		t.Fatal(m.mode)
	}
	if a := testing.AllocsPerRun(100, func() { m.Of(&v) }); a != 0 {
		t.Fatal(a)
	}
	var iv rl.Vector = v
	mi := NewMasks[rl.Vector]()
	if mi.mode != maskByValue || len(mi.Of(&iv)) != 2 {
		t.Fatal(mi.mode)
	}
	p := &pv{}
	mp := NewMasks[*pv]()
	if mp.mode != maskByValue || len(mp.Of(&p)) != 1 {
		t.Fatal(mp.mode)
	}
	if NewMasks[int]().mode != noMask {
		t.Fatal("int")
	}
}
