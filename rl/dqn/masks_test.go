package dqn

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
	m := newMasks[testenv.Vec]()
	if m.mode != maskByPtr || len(m.of(&v)) != 2 {
		t.Fatal(m.mode)
	}
	if a := testing.AllocsPerRun(100, func() { m.of(&v) }); a != 0 {
		t.Fatal(a)
	}
	var iv rl.Vector = v
	mi := newMasks[rl.Vector]()
	if mi.mode != maskByValue || len(mi.of(&iv)) != 2 {
		t.Fatal(mi.mode)
	}
	p := &pv{}
	mp := newMasks[*pv]()
	if mp.mode != maskByValue || len(mp.of(&p)) != 1 {
		t.Fatal(mp.mode)
	}
	if newMasks[int]().mode != noMask {
		t.Fatal("int")
	}
}
