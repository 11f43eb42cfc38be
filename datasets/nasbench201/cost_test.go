package nasbench201

import (
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestCostKnownAnswers(t *testing.T) {
	t.Parallel()
	// Fixed part, in MACs: stem 3·3·3·16·32² = 442,368; each reduction
	// block 2,359,296/2 + 2,359,296 + 131,072 = 3,670,016 (twice);
	// classifier 64·10 + 10 = 650: total 7,783,050. Parameters: stem
	// 432 + 32, blocks 14,464 and 57,600, last BN 128, classifier 650:
	// 73,306.
	const fixedMACs, fixedParams = 7_783_050, 73_306
	for _, tc := range []struct {
		name         string
		arch         Arch
		macs, params float64
	}{
		{"all none", Arch{}, fixedMACs, fixedParams},
		{"skip and pool only", Arch{OpSkip, OpAvgPool, OpSkip, OpAvgPool, OpSkip, OpAvgPool}, fixedMACs, fixedParams},
		// one conv 1×1 on edge (0→1): per stage C²·H² = 16²·32² = 32²·16² =
		// 64²·8² = 262,144 MACs, 5 cells per stage; params C²+2C.
		{"one conv1x1", Arch{OpConv1x1}, fixedMACs + 5*3*262_144, fixedParams + 5*(16*16+32+32*32+64+64*64+128)},
		// all conv 3×3: 6 edges · 9 · 262,144 per cell.
		{"all conv3x3", Arch{3, 3, 3, 3, 3, 3}, fixedMACs + 5*3*6*9*262_144, fixedParams + 5*6*(9*16*16+32+9*32*32+64+9*64*64+128)},
	} {
		flops, params := tc.arch.Cost()
		if !near(flops, tc.macs/1e6) || !near(params, tc.params/1e6) {
			t.Errorf("%s: Cost = %v M flops, %v M params; want %v, %v", tc.name, flops, params, tc.macs/1e6, tc.params/1e6)
		}
	}
}

// TestCostRange checks the extremes over the whole space against the range
// NAS-Bench-201 publishes for CIFAR-10 (about 7.78–220.11 M flops and
// 0.073–1.53 M parameters).
func TestCostRange(t *testing.T) {
	t.Parallel()
	loF, hiF, loP, hiP := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	nHi := 0
	allConv := Arch{3, 3, 3, 3, 3, 3}
	fConv, pConv := allConv.Cost()
	for _, a := range allArchs() {
		f, p := a.Cost()
		loF, hiF, loP, hiP = min(loF, f), max(hiF, f), min(loP, p), max(hiP, p)
		if f == fConv {
			nHi++
		}
	}
	t.Logf("flops [%v, %v] M, params [%v, %v] M", loF, hiF, loP, hiP)
	fNone, pNone := Arch{}.Cost()
	if loF != fNone || loP != pNone {
		t.Errorf("minimum (%v, %v) is not the all-none cell's (%v, %v)", loF, loP, fNone, pNone)
	}
	if hiF != fConv || hiP != pConv || nHi != 1 {
		t.Errorf("maximum (%v, %v) is not the all-conv3x3 cell's (%v, %v) alone (%d cells reach it)", hiF, hiP, fConv, pConv, nHi)
	}
	if loF < 7.78 || loF > 7.79 || hiF < 220.1 || hiF > 220.13 {
		t.Errorf("flops range [%v, %v] outside the published ≈ [7.78, 220.12]", loF, hiF)
	}
	if loP < 0.073 || loP > 0.0735 || hiP < 1.531 || hiP > 1.532 {
		t.Errorf("params range [%v, %v] outside the published ≈ [0.0733, 1.5315]", loP, hiP)
	}
}

func TestCostMonotone(t *testing.T) {
	t.Parallel()
	// Replacing any edge by a conv never lowers the cost; conv3x3 costs
	// more than conv1x1, which costs more than the parameter-free ops.
	rank := [NumOps]int{OpNone: 0, OpSkip: 0, OpAvgPool: 0, OpConv1x1: 1, OpConv3x3: 2}
	for _, a := range allArchs() {
		f, p := a.Cost()
		for k := range a {
			for op := range uint8(NumOps) {
				b := a
				b[k] = op
				g, q := b.Cost()
				switch r := rank[op] - rank[a[k]]; {
				case r > 0 && !(g > f && q > p), r < 0 && !(g < f && q < p), r == 0 && (g != f || q != p):
					t.Fatalf("%v → %v: cost (%v, %v) → (%v, %v)", a, b, f, p, g, q)
				}
			}
		}
	}
}
