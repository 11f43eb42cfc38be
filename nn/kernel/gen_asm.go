//go:build ignore

// gen_asm generates the amd64 assembly micro-kernels of this package:
//
//	go run gen_asm.go
//
// It writes matmul_avx512_amd64.s, matmul_avx2_amd64.s and
// tiles_amd64.go (the Go declarations and the tile dispatch switches).
//
// Every micro-kernel computes one MR×(NV·W) tile of C (W = 16 lanes for
// AVX-512, 8 for AVX2) from an MR×k tile of A addressed with general strides
// (rsA between rows, csA between successive p, both in bytes) and a k×(NV·W)
// panel of B (row stride ldb bytes), all described by a tileArgs value. The
// last vector of a row may be partial: its lanes are masked on every load and
// store, so nothing outside the tile is read or written. When MR·NV is too
// small to hide the FMA latency the k loop is split over S independent
// accumulator sets (p ≡ s mod S for the bulk, the tail into set 0) that are
// summed at the end; the order depends only on the shape.
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"log"
	"os"
)

// tileArgs field offsets (checked against unsafe.Offsetof in the tests).
const (
	offA       = 0
	offB       = 8
	offC       = 16
	offK       = 24
	offRsA     = 32
	offCsA     = 40
	offLdb     = 48
	offLdc     = 56
	offKmask   = 64
	offAcc     = 72
	offPartial = 80
	offYmask   = 96
)

// trArgs field offsets.
const (
	trDst     = 0
	trSrc     = 8
	trLdd     = 16
	trLds     = 24
	trRows    = 32
	trCols    = 40
	trColmask = 48
	trRowmask = 56
)

type gen struct {
	b bytes.Buffer
}

func (g *gen) i(format string, args ...any) { fmt.Fprintf(&g.b, "\t"+format+"\n", args...) }
func (g *gen) l(label string)               { fmt.Fprintf(&g.b, "%s:\n", label) }
func (g *gen) raw(s string)                 { g.b.WriteString(s) }

// addr returns the address of row r (0..7) of a tile whose row 0 is at base,
// rows 4..7 at base4, with idx holding the row stride and idx3 three times it.
func addr(off, r int, base, base4, idx, idx3 string) string {
	b := base
	if r >= 4 {
		b = base4
		r -= 4
	}
	o := ""
	if off != 0 {
		o = fmt.Sprint(off)
	}
	switch r {
	case 0:
		return fmt.Sprintf("%s(%s)", o, b)
	case 1:
		return fmt.Sprintf("%s(%s)(%s*1)", o, b, idx)
	case 2:
		return fmt.Sprintf("%s(%s)(%s*2)", o, b, idx)
	default:
		return fmt.Sprintf("%s(%s)(%s*1)", o, b, idx3)
	}
}

// sets returns the number of accumulator sets for an mr×nv tile with at most
// maxAcc accumulator registers.
func sets(mr, nv, maxAcc int) int {
	s := (8 + mr*nv - 1) / (mr * nv)
	for s > 1 && s*mr*nv > maxAcc {
		s--
	}
	return s
}

// reduceTree emits acc[set 0] = sum of all sets (pairwise, fixed order).
func reduceTree(g *gen, s, per int, add func(dst, src int)) {
	for w := s; w > 1; {
		h := (w + 1) / 2
		for t := h; t < w; t++ {
			for x := 0; x < per; x++ {
				add((t-h)*per+x, t*per+x)
			}
		}
		w = h
	}
}

// ---------------------------------------------------------------- AVX-512

func gen512(g *gen, mr, nv int) {
	s := 1
	if mr == 1 {
		s = sets(mr, nv, 24)
	} else {
		s = sets(mr, nv, 32-nv-1)
	}
	nacc := s * mr * nv
	acc := func(set, r, v int) string { return fmt.Sprintf("Z%d", set*mr*nv+r*nv+v) }
	breg := func(v int) string { return fmt.Sprintf("Z%d", nacc+v) }
	tmp := fmt.Sprintf("Z%d", nacc+nv)
	if mr == 1 {
		tmp = fmt.Sprintf("Z%d", nacc)
	}
	name := fmt.Sprintf("k512x%dx%d", mr, nv)
	g.raw(fmt.Sprintf("\n// func %s(p *tileArgs)\nTEXT ·%s(SB), NOSPLIT, $0-8\n", name, name))
	g.i("MOVQ p+0(FP), DI")
	g.i("MOVQ %d(DI), SI", offA)
	g.i("MOVQ %d(DI), BX", offB)
	g.i("MOVQ %d(DI), CX", offK)
	g.i("MOVQ %d(DI), R8", offRsA)
	g.i("MOVQ %d(DI), R9", offCsA)
	g.i("MOVQ %d(DI), R10", offLdb)
	g.i("KMOVW %d(DI), K1", offKmask)
	if mr > 3 {
		g.i("LEAQ (R8)(R8*2), R12")
	}
	if mr > 4 {
		g.i("LEAQ (SI)(R8*4), R13")
	}
	for x := 0; x < nacc; x++ {
		g.i("VPXORD Z%d, Z%d, Z%d", x, x, x)
	}
	step := func(set int) {
		if mr == 1 {
			g.i("VBROADCASTSS (SI), %s", tmp)
			for v := 0; v < nv; v++ {
				if v == nv-1 {
					g.i("VFMADD231PS %d(BX), %s, K1, %s", v*64, tmp, acc(set, 0, v))
				} else {
					g.i("VFMADD231PS %d(BX), %s, %s", v*64, tmp, acc(set, 0, v))
				}
			}
		} else {
			for v := 0; v < nv; v++ {
				if v == nv-1 {
					g.i("VMOVUPS.Z %d(BX), K1, %s", v*64, breg(v))
				} else {
					g.i("VMOVUPS %d(BX), %s", v*64, breg(v))
				}
			}
			for r := 0; r < mr; r++ {
				g.i("VBROADCASTSS %s, %s", addr(0, r, "SI", "R13", "R8", "R12"), tmp)
				for v := 0; v < nv; v++ {
					g.i("VFMADD231PS %s, %s, %s", breg(v), tmp, acc(set, r, v))
				}
			}
		}
		g.i("ADDQ R9, SI")
		if mr > 4 {
			g.i("ADDQ R9, R13")
		}
		g.i("ADDQ R10, BX")
	}
	if s == 1 {
		g.l(name + "_loop")
		step(0)
		g.i("DECQ CX")
		g.i("JNZ %s_loop", name)
	} else {
		g.l(name + "_loopS")
		g.i("CMPQ CX, $%d", s)
		g.i("JLT %s_tail", name)
		for set := 0; set < s; set++ {
			step(set)
		}
		g.i("SUBQ $%d, CX", s)
		g.i("JMP %s_loopS", name)
		g.l(name + "_tail")
		g.i("TESTQ CX, CX")
		g.i("JEQ %s_reduce", name)
		g.l(name + "_tailloop")
		step(0)
		g.i("DECQ CX")
		g.i("JNZ %s_tailloop", name)
		g.l(name + "_reduce")
		reduceTree(g, s, mr*nv, func(d, x int) { g.i("VADDPS Z%d, Z%d, Z%d", x, d, d) })
	}
	// Store.
	g.i("MOVQ %d(DI), DX", offC)
	g.i("MOVQ %d(DI), R11", offLdc)
	g.i("MOVQ %d(DI), AX", offAcc)
	if mr > 3 {
		g.i("LEAQ (R11)(R11*2), R12")
	}
	if mr > 4 {
		g.i("LEAQ (DX)(R11*4), R13")
	}
	g.i("TESTQ AX, AX")
	g.i("JEQ %s_store", name)
	for r := 0; r < mr; r++ {
		for v := 0; v < nv; v++ {
			a := addr(v*64, r, "DX", "R13", "R11", "R12")
			if v == nv-1 {
				g.i("VADDPS %s, %s, K1, %s", a, acc(0, r, v), acc(0, r, v))
			} else {
				g.i("VADDPS %s, %s, %s", a, acc(0, r, v), acc(0, r, v))
			}
		}
	}
	g.l(name + "_store")
	for r := 0; r < mr; r++ {
		for v := 0; v < nv; v++ {
			a := addr(v*64, r, "DX", "R13", "R11", "R12")
			if v == nv-1 {
				g.i("VMOVUPS %s, K1, %s", acc(0, r, v), a)
			} else {
				g.i("VMOVUPS %s, %s", acc(0, r, v), a)
			}
		}
	}
	g.i("VZEROUPPER")
	g.i("RET")
}

// genPair512 emits the kernel for an mr×(≤8) tile (mr ≤ 16) on ZMM
// vectors holding two rows each: row r (r < P = ⌈mr/2⌉) in lanes 0..7 and
// row P+r in lanes 8..15. B's row is loaded once into both halves; the A
// elements of the two rows are broadcast into the two halves.
func genPair512(g *gen, mr int) {
	P := (mr + 1) / 2
	s := sets(P, 1, 24)
	nacc := s * P
	acc := func(set, r int) int { return set*P + r }
	zb := nacc
	tmps := []int{nacc + 1, nacc + 2}
	name := fmt.Sprintf("kp512x%d", mr)
	bases := []string{"SI", "R13", "AX", "DX"}
	rowAddr := func(off, r int, bs []string, idx, idx3 string) string {
		b := bs[r/4]
		return addr(off, r%4, b, b, idx, idx3)
	}
	nb := (mr + 3) / 4
	g.raw(fmt.Sprintf("\n// func %s(p *tileArgs)\nTEXT ·%s(SB), NOSPLIT, $0-8\n", name, name))
	g.i("MOVQ p+0(FP), DI")
	g.i("MOVQ %d(DI), SI", offA)
	g.i("MOVQ %d(DI), BX", offB)
	g.i("MOVQ %d(DI), CX", offK)
	g.i("MOVQ %d(DI), R8", offRsA)
	g.i("MOVQ %d(DI), R9", offCsA)
	g.i("MOVQ %d(DI), R10", offLdb)
	g.i("KMOVW %d(DI), K1", offKmask)
	g.i("MOVL $0xff00, R11")
	g.i("KMOVW R11, K2")
	g.i("LEAQ (R8)(R8*2), R12")
	for x := 1; x < nb; x++ {
		g.i("LEAQ (%s)(R8*4), %s", bases[x-1], bases[x])
	}
	for x := 0; x < nacc; x++ {
		g.i("VPXORD Z%d, Z%d, Z%d", x, x, x)
	}
	step := func(set int) {
		g.i("VMOVUPS.Z (BX), K1, Y%d", zb)
		g.i("VINSERTF64X4 $1, Y%d, Z%d, Z%d", zb, zb, zb)
		for r := 0; r < P; r++ {
			t := tmps[r%2]
			g.i("VBROADCASTSS %s, Z%d", rowAddr(0, r, bases, "R8", "R12"), t)
			if P+r < mr {
				g.i("VBROADCASTSS %s, K2, Z%d", rowAddr(0, P+r, bases, "R8", "R12"), t)
			}
			g.i("VFMADD231PS Z%d, Z%d, Z%d", zb, t, acc(set, r))
		}
		for x := 0; x < nb; x++ {
			g.i("ADDQ R9, %s", bases[x])
		}
		g.i("ADDQ R10, BX")
	}
	if s == 1 {
		g.l(name + "_loop")
		step(0)
		g.i("DECQ CX")
		g.i("JNZ %s_loop", name)
	} else {
		g.l(name + "_loopS")
		g.i("CMPQ CX, $%d", s)
		g.i("JLT %s_tail", name)
		for set := 0; set < s; set++ {
			step(set)
		}
		g.i("SUBQ $%d, CX", s)
		g.i("JMP %s_loopS", name)
		g.l(name + "_tail")
		g.i("TESTQ CX, CX")
		g.i("JEQ %s_reduce", name)
		g.l(name + "_tailloop")
		step(0)
		g.i("DECQ CX")
		g.i("JNZ %s_tailloop", name)
		g.l(name + "_reduce")
		reduceTree(g, s, P, func(d, x int) { g.i("VADDPS Z%d, Z%d, Z%d", x, d, d) })
	}
	// Store: C row bases DX, R13, AX, SI (rows 0-3, 4-7, 8-11, 12-15).
	cb := []string{"DX", "R13", "AX", "SI"}
	g.i("MOVQ %d(DI), DX", offC)
	g.i("MOVQ %d(DI), R11", offLdc)
	g.i("LEAQ (R11)(R11*2), R12")
	for x := 1; x < nb; x++ {
		g.i("LEAQ (%s)(R11*4), %s", cb[x-1], cb[x])
	}
	// Upper halves into Y registers after the accumulators.
	hi := func(r int) int { return nacc + r }
	for r := 0; P+r < mr; r++ {
		g.i("VEXTRACTF64X4 $1, Z%d, Y%d", acc(0, r), hi(r))
	}
	g.i("MOVQ %d(DI), R10", offAcc)
	g.i("TESTQ R10, R10")
	g.i("JEQ %s_store", name)
	for r := 0; r < P; r++ {
		a := rowAddr(0, r, cb, "R11", "R12")
		g.i("VADDPS %s, Y%d, K1, Y%d", a, acc(0, r), acc(0, r))
		if P+r < mr {
			a := rowAddr(0, P+r, cb, "R11", "R12")
			g.i("VADDPS %s, Y%d, K1, Y%d", a, hi(r), hi(r))
		}
	}
	g.l(name + "_store")
	for r := 0; r < P; r++ {
		g.i("VMOVUPS Y%d, K1, %s", acc(0, r), rowAddr(0, r, cb, "R11", "R12"))
		if P+r < mr {
			g.i("VMOVUPS Y%d, K1, %s", hi(r), rowAddr(0, P+r, cb, "R11", "R12"))
		}
	}
	g.i("VZEROUPPER")
	g.i("RET")
}

// transpose16 transposes a rows×cols (≤16×16) block of src into dst.
func genTranspose16(g *gen) {
	g.raw("\n// func transpose16(p *trArgs)\nTEXT ·transpose16(SB), NOSPLIT, $0-8\n")
	g.i("MOVQ p+0(FP), DI")
	g.i("MOVQ %d(DI), DX", trDst)
	g.i("MOVQ %d(DI), SI", trSrc)
	g.i("MOVQ %d(DI), R8", trLdd)
	g.i("MOVQ %d(DI), R9", trLds)
	g.i("MOVQ %d(DI), CX", trRows)
	g.i("MOVQ %d(DI), AX", trCols)
	g.i("KMOVW %d(DI), K1", trColmask)
	g.i("KMOVW %d(DI), K2", trRowmask)
	for r := 1; r < 16; r++ {
		g.i("VPXORD Z%d, Z%d, Z%d", r, r, r)
	}
	for r := 0; r < 16; r++ {
		if r > 0 {
			g.i("CMPQ CX, $%d", r)
			g.i("JEQ tr16_loaded")
			g.i("ADDQ R9, SI")
		}
		g.i("VMOVUPS.Z (SI), K1, Z%d", r)
	}
	g.l("tr16_loaded")
	// Stage 1: interleave row pairs.
	for x := 0; x < 8; x++ {
		g.i("VUNPCKLPS Z%d, Z%d, Z%d", 2*x+1, 2*x, 16+2*x)
		g.i("VUNPCKHPS Z%d, Z%d, Z%d", 2*x+1, 2*x, 16+2*x+1)
	}
	// Stage 2: 4×4 within 128-bit lanes; u[4g+q] lane L = rows 4g..4g+3 of column 4L+q.
	for gr := 0; gr < 4; gr++ {
		t := 16 + 4*gr
		g.i("VSHUFPS $0x44, Z%d, Z%d, Z%d", t+2, t, 4*gr+0)
		g.i("VSHUFPS $0xEE, Z%d, Z%d, Z%d", t+2, t, 4*gr+1)
		g.i("VSHUFPS $0x44, Z%d, Z%d, Z%d", t+3, t+1, 4*gr+2)
		g.i("VSHUFPS $0xEE, Z%d, Z%d, Z%d", t+3, t+1, 4*gr+3)
	}
	// Stage 3 and 4: transpose the 4×4 grid of 128-bit lanes.
	for q := 0; q < 4; q++ {
		g.i("VSHUFF32X4 $0x88, Z%d, Z%d, Z%d", 4+q, q, 16+q)
		g.i("VSHUFF32X4 $0xDD, Z%d, Z%d, Z%d", 4+q, q, 20+q)
		g.i("VSHUFF32X4 $0x88, Z%d, Z%d, Z%d", 12+q, 8+q, 24+q)
		g.i("VSHUFF32X4 $0xDD, Z%d, Z%d, Z%d", 12+q, 8+q, 28+q)
	}
	for q := 0; q < 4; q++ {
		g.i("VSHUFF32X4 $0x88, Z%d, Z%d, Z%d", 24+q, 16+q, q)
		g.i("VSHUFF32X4 $0xDD, Z%d, Z%d, Z%d", 24+q, 16+q, 8+q)
		g.i("VSHUFF32X4 $0x88, Z%d, Z%d, Z%d", 28+q, 20+q, 4+q)
		g.i("VSHUFF32X4 $0xDD, Z%d, Z%d, Z%d", 28+q, 20+q, 12+q)
	}
	for c := 0; c < 16; c++ {
		if c > 0 {
			g.i("CMPQ AX, $%d", c)
			g.i("JEQ tr16_done")
			g.i("ADDQ R8, DX")
		}
		g.i("VMOVUPS Z%d, K2, (DX)", c)
	}
	g.l("tr16_done")
	g.i("VZEROUPPER")
	g.i("RET")
}

// ---------------------------------------------------------------- AVX2

func gen256(g *gen, mr, nv int) {
	var s int
	if mr == 1 {
		s = sets(mr, nv, 12)
	} else {
		s = sets(mr, nv, 16-nv-2)
	}
	nacc := s * mr * nv
	acc := func(set, r, v int) string { return fmt.Sprintf("Y%d", set*mr*nv+r*nv+v) }
	breg := func(v int) string { return fmt.Sprintf("Y%d", nacc+v) }
	tmp := fmt.Sprintf("Y%d", nacc+nv)
	if mr == 1 {
		tmp = fmt.Sprintf("Y%d", nacc)
		breg = func(v int) string { return fmt.Sprintf("Y%d", nacc+1) } // masked last vector only
	}
	if nacc+nv+2 > 16 && mr > 1 || nacc+2 > 16 {
		log.Fatalf("avx2 %dx%d: too many registers", mr, nv)
	}
	const mask = "Y15"
	name := fmt.Sprintf("k256x%dx%d", mr, nv)
	g.raw(fmt.Sprintf("\n// func %s(p *tileArgs)\nTEXT ·%s(SB), NOSPLIT, $0-8\n", name, name))
	g.i("MOVQ p+0(FP), DI")
	g.i("MOVQ %d(DI), SI", offA)
	g.i("MOVQ %d(DI), BX", offB)
	g.i("MOVQ %d(DI), CX", offK)
	g.i("MOVQ %d(DI), R8", offRsA)
	g.i("MOVQ %d(DI), R9", offCsA)
	g.i("MOVQ %d(DI), R10", offLdb)
	g.i("VMOVDQU %d(DI), %s", offYmask, mask)
	if mr > 3 {
		g.i("LEAQ (R8)(R8*2), R12")
	}
	if mr > 4 {
		g.i("LEAQ (SI)(R8*4), R13")
	}
	for x := 0; x < nacc; x++ {
		g.i("VXORPS Y%d, Y%d, Y%d", x, x, x)
	}
	g.i("MOVQ %d(DI), AX", offPartial)
	g.i("TESTQ AX, AX")
	g.i("JNE %s_m", name)
	for _, masked := range []bool{false, true} {
		p := name
		if masked {
			p += "_m"
			g.l(p)
		}
		step := func(set int) {
			if mr == 1 {
				g.i("VBROADCASTSS (SI), %s", tmp)
				for v := 0; v < nv; v++ {
					if masked && v == nv-1 {
						g.i("VMASKMOVPS %d(BX), %s, %s", v*32, mask, breg(v))
						g.i("VFMADD231PS %s, %s, %s", breg(v), tmp, acc(set, 0, v))
					} else {
						g.i("VFMADD231PS %d(BX), %s, %s", v*32, tmp, acc(set, 0, v))
					}
				}
			} else {
				for v := 0; v < nv; v++ {
					if masked && v == nv-1 {
						g.i("VMASKMOVPS %d(BX), %s, %s", v*32, mask, breg(v))
					} else {
						g.i("VMOVUPS %d(BX), %s", v*32, breg(v))
					}
				}
				for r := 0; r < mr; r++ {
					g.i("VBROADCASTSS %s, %s", addr(0, r, "SI", "R13", "R8", "R12"), tmp)
					for v := 0; v < nv; v++ {
						g.i("VFMADD231PS %s, %s, %s", breg(v), tmp, acc(set, r, v))
					}
				}
			}
			g.i("ADDQ R9, SI")
			if mr > 4 {
				g.i("ADDQ R9, R13")
			}
			g.i("ADDQ R10, BX")
		}
		if s == 1 {
			g.l(p + "_loop")
			step(0)
			g.i("DECQ CX")
			g.i("JNZ %s_loop", p)
		} else {
			g.l(p + "_loopS")
			g.i("CMPQ CX, $%d", s)
			g.i("JLT %s_tail", p)
			for set := 0; set < s; set++ {
				step(set)
			}
			g.i("SUBQ $%d, CX", s)
			g.i("JMP %s_loopS", p)
			g.l(p + "_tail")
			g.i("TESTQ CX, CX")
			g.i("JEQ %s_reduce", p)
			g.l(p + "_tailloop")
			step(0)
			g.i("DECQ CX")
			g.i("JNZ %s_tailloop", p)
			g.l(p + "_reduce")
			reduceTree(g, s, mr*nv, func(d, x int) { g.i("VADDPS Y%d, Y%d, Y%d", x, d, d) })
		}
		g.i("MOVQ %d(DI), DX", offC)
		g.i("MOVQ %d(DI), R11", offLdc)
		g.i("MOVQ %d(DI), AX", offAcc)
		if mr > 3 {
			g.i("LEAQ (R11)(R11*2), R12")
		}
		if mr > 4 {
			g.i("LEAQ (DX)(R11*4), R13")
		}
		// A free register for masked loads of C.
		ctmp := fmt.Sprintf("Y%d", nacc)
		g.i("TESTQ AX, AX")
		g.i("JEQ %s_store", p)
		for r := 0; r < mr; r++ {
			for v := 0; v < nv; v++ {
				a := addr(v*32, r, "DX", "R13", "R11", "R12")
				if masked && v == nv-1 {
					g.i("VMASKMOVPS %s, %s, %s", a, mask, ctmp)
					g.i("VADDPS %s, %s, %s", ctmp, acc(0, r, v), acc(0, r, v))
				} else {
					g.i("VADDPS %s, %s, %s", a, acc(0, r, v), acc(0, r, v))
				}
			}
		}
		g.l(p + "_store")
		for r := 0; r < mr; r++ {
			for v := 0; v < nv; v++ {
				a := addr(v*32, r, "DX", "R13", "R11", "R12")
				if masked && v == nv-1 {
					g.i("VMASKMOVPS %s, %s, %s", acc(0, r, v), mask, a)
				} else {
					g.i("VMOVUPS %s, %s", acc(0, r, v), a)
				}
			}
		}
		g.i("VZEROUPPER")
		g.i("RET")
	}
}

// transpose8 transposes a full 8×8 block.
func genTranspose8(g *gen) {
	g.raw("\n// func transpose8(p *trArgs)\nTEXT ·transpose8(SB), NOSPLIT, $0-8\n")
	g.i("MOVQ p+0(FP), DI")
	g.i("MOVQ %d(DI), DX", trDst)
	g.i("MOVQ %d(DI), SI", trSrc)
	g.i("MOVQ %d(DI), R8", trLdd)
	g.i("MOVQ %d(DI), R9", trLds)
	for r := 0; r < 8; r++ {
		if r > 0 {
			g.i("ADDQ R9, SI")
		}
		g.i("VMOVUPS (SI), Y%d", r)
	}
	for x := 0; x < 4; x++ {
		g.i("VUNPCKLPS Y%d, Y%d, Y%d", 2*x+1, 2*x, 8+2*x)
		g.i("VUNPCKHPS Y%d, Y%d, Y%d", 2*x+1, 2*x, 8+2*x+1)
	}
	// u[4g+q] lane L = rows 4g..4g+3 of column 4L+q.
	for gr := 0; gr < 2; gr++ {
		t := 8 + 4*gr
		g.i("VSHUFPS $0x44, Y%d, Y%d, Y%d", t+2, t, 4*gr+0)
		g.i("VSHUFPS $0xEE, Y%d, Y%d, Y%d", t+2, t, 4*gr+1)
		g.i("VSHUFPS $0x44, Y%d, Y%d, Y%d", t+3, t+1, 4*gr+2)
		g.i("VSHUFPS $0xEE, Y%d, Y%d, Y%d", t+3, t+1, 4*gr+3)
	}
	// out[q] = low lanes of u[q], u[4+q]; out[4+q] = high lanes.
	for q := 0; q < 4; q++ {
		g.i("VPERM2F128 $0x20, Y%d, Y%d, Y%d", 4+q, q, 8+q)
		g.i("VPERM2F128 $0x31, Y%d, Y%d, Y%d", 4+q, q, 12+q)
	}
	for c := 0; c < 8; c++ {
		if c > 0 {
			g.i("ADDQ R8, DX")
		}
		g.i("VMOVUPS Y%d, (DX)", 8+c)
	}
	g.i("VZEROUPPER")
	g.i("RET")
}

// ---------------------------------------------------------------- Go side

type combo struct{ mr, nv int }

func combos512() []combo {
	var cs []combo
	for nv := 1; nv <= 4; nv++ {
		for mr := 1; mr <= 8; mr++ {
			if mr*nv <= 24 {
				cs = append(cs, combo{mr, nv})
			}
		}
	}
	// Single-row tiles (m = 1) use blocks of up to 8 vectors.
	for nv := 5; nv <= 8; nv++ {
		cs = append(cs, combo{1, nv})
	}
	return cs
}

func combos256() []combo {
	var cs []combo
	for nv := 1; nv <= 2; nv++ {
		for mr := 1; mr <= 8; mr++ {
			if mr*nv <= 12 {
				cs = append(cs, combo{mr, nv})
			}
		}
	}
	for nv := 3; nv <= 8; nv++ {
		cs = append(cs, combo{1, nv})
	}
	return cs
}

const header = "// Code generated by gen_asm.go; DO NOT EDIT.\n\n"

func writeAsm(file string, body func(g *gen)) {
	g := &gen{}
	g.raw(header)
	g.raw("//go:build amd64 && !purego\n\n#include \"textflag.h\"\n")
	body(g)
	if err := os.WriteFile(file, g.b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}

func goDispatch(g *gen, prefix string, cs []combo, maxMR, maxNV int) {
	for _, c := range cs {
		g.raw(fmt.Sprintf("//go:noescape\nfunc %sx%dx%d(p *tileArgs)\n\n", prefix, c.mr, c.nv))
	}
	g.raw(fmt.Sprintf("// %sTile runs the mr×nv micro-kernel on p.\nfunc %sTile(mr, nv int, p *tileArgs) {\n\tswitch (nv-1)*%d + mr - 1 {\n", prefix, prefix, maxMR))
	for _, c := range cs {
		g.raw(fmt.Sprintf("\tcase %d:\n\t\t%sx%dx%d(p)\n", (c.nv-1)*maxMR+c.mr-1, prefix, c.mr, c.nv))
	}
	g.raw("\tdefault:\n\t\tpanic(\"kernel: no micro-kernel for tile\")\n\t}\n}\n\n")
}

func main() {
	writeAsm("matmul_avx512_amd64.s", func(g *gen) {
		for _, c := range combos512() {
			gen512(g, c.mr, c.nv)
		}
		for mr := 1; mr <= 16; mr++ {
			genPair512(g, mr)
		}
		genTranspose16(g)
	})
	writeAsm("matmul_avx2_amd64.s", func(g *gen) {
		for _, c := range combos256() {
			gen256(g, c.mr, c.nv)
		}
		genTranspose8(g)
	})
	g := &gen{}
	g.raw(header)
	g.raw("//go:build amd64 && !purego\n\npackage kernel\n\n")
	goDispatch(g, "k512", combos512(), 8, 8)
	goDispatch(g, "k256", combos256(), 8, 8)
	g.raw("// kp512Tile runs the paired-row micro-kernel for an mr×(≤8) tile.\nfunc kp512Tile(mr int, p *tileArgs) {\n\tswitch mr {\n")
	for mr := 1; mr <= 16; mr++ {
		g.raw(fmt.Sprintf("\tcase %d:\n\t\tkp512x%d(p)\n", mr, mr))
	}
	g.raw("\tdefault:\n\t\tpanic(\"kernel: no micro-kernel for tile\")\n\t}\n}\n\n")
	for mr := 1; mr <= 16; mr++ {
		g.raw(fmt.Sprintf("//go:noescape\nfunc kp512x%d(p *tileArgs)\n\n", mr))
	}
	g.raw("//go:noescape\nfunc transpose16(p *trArgs)\n\n//go:noescape\nfunc transpose8(p *trArgs)\n")
	src, err := format.Source(g.b.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("tiles_amd64.go", src, 0o644); err != nil {
		log.Fatal(err)
	}
}
