package ppo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envs/testenv"
	"github.com/cpntrain/cpntrain/rl/policy"
)

// lossTable is a hand-built 3-sample minibatch for lossPPO, with ε = 0.2.
//
// The policy is linear with one feature x: the actor's weights and biases
// are 0, so π(·|s) is uniform over 2 actions (log π = ln ½, entropy ln 2 for
// every sample) and the critic is V(s) = 1·x + 0, so x is the new value.
// The old log-probabilities are ln ½ − ln r, which makes the ratio
// exp(log π − log π_old) = r.
//
//	i   r    A    V(=x)  V_old  R
//	0  1.5   +1   1.0    0.5    2.0   ratio above 1+ε, value step +0.5 > ε
//	1  0.5   −2   0.0    0.5   −1.0   ratio below 1−ε, value step −0.5 < −ε
//	2  1.1   0.5  2.0    1.0    1.5   ratio inside 1±ε, value step +1.0 > ε
var lossTable = struct {
	r, adv, v, vOld, ret []float64
}{
	r:    []float64{1.5, 0.5, 1.1},
	adv:  []float64{1, -2, 0.5},
	v:    []float64{1, 0, 2},
	vOld: []float64{0.5, 0.5, 1},
	ret:  []float64{2, -1, 1.5},
}

// Hand-computed expectations for lossTable (ε = 0.2, EntCoef 0.01, VFCoef 0.5).
//
// Policy loss, per sample max(−A·r, −A·clip(r, 0.8, 1.2)):
//
//	0: max(−1.5, −1.2) = −1.2    (clipped at 1+ε)
//	1: max( 1.0,  1.6) =  1.6    (clipped at 1−ε)
//	2: max(−0.55, −0.55) = −0.55 (inside)
//	L_pg = (−1.2 + 1.6 − 0.55)/3 = −0.05
//	(without clipping: (−1.5 + 1.0 − 0.55)/3 = −0.35)
//
// Value loss with clipping, per sample max((V−R)², (V_old + clip(V−V_old, −ε, ε) − R)²):
//
//	0: max((1−2)², (0.5+0.2−2)²)  = max(1, 1.69)    = 1.69
//	1: max((0+1)², (0.5−0.2+1)²)  = max(1, 1.69)    = 1.69
//	2: max((2−1.5)², (1+0.2−1.5)²) = max(0.25, 0.09) = 0.25
//	L_v = ½·(1.69 + 1.69 + 0.25)/3 = ½·1.21 = 0.605
//	(with min instead of max: ½·(1 + 1 + 0.09)/3 = 0.348333…)
//
// Value loss without clipping: ½·(1 + 1 + 0.25)/3 = 0.375.
//
// Entropy: ln 2 = 0.693147 for each sample.
// Loss = L_pg − 0.01·ln 2 + 0.5·L_v:
//
//	clipped value loss:   −0.05 − 0.00693147 + 0.3025 = 0.24556853
//	unclipped value loss: −0.05 − 0.00693147 + 0.1875 = 0.13056853
//
// Clip fraction: |r−1| > 0.2 for samples 0 and 1: 2/3.
// approx KL = mean((r−1) − ln r):
//
//	0: 0.5 − ln 1.5 = 0.5 − 0.4054651 = 0.0945349
//	1: −0.5 − ln 0.5 = −0.5 + 0.6931472 = 0.1931472
//	2: 0.1 − ln 1.1 = 0.1 − 0.0953102 = 0.0046898
//	mean = 0.2923719/3 = 0.0974573
//
// old approx KL = mean(−ln r) = −(0.4054651 − 0.6931472 + 0.0953102)/3 = 0.0641240.
const (
	wantPG        = -0.05
	wantVClip     = 0.605
	wantVNoClip   = 0.375
	wantEnt       = math.Ln2
	wantLossClip  = 0.24556853
	wantLossNoCl  = 0.13056853
	wantClipFrac  = 2.0 / 3
	wantApproxKL  = 0.0974573
	wantOldApprox = 0.0641240
)

// lossFixture builds the linear policy and the minibatch of lossTable.
func lossFixture() (*policy.ActorCritic[testenv.Vec], []testenv.Vec, []rl.Action, []float32, []float32, []float32, []float32) {
	pol := policy.New[testenv.Vec](1, rl.Space{Kind: rl.Discrete, N: 2}, policy.Config{Act: nn.Tanh}, rand.New(rand.NewPCG(1, 2)))
	a, c := pol.Actor.Layers[0], pol.Critic.Layers[0]
	clear(a.W.V.Data)
	clear(a.B.V.Data)
	c.W.V.Data[0], c.B.V.Data[0] = 1, 0
	n := len(lossTable.r)
	obs := make([]testenv.Vec, n)
	acts := make([]rl.Action, n)
	oldLP, advs, rets, vals := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range n {
		obs[i] = testenv.Vec{X: []float32{float32(lossTable.v[i])}}
		acts[i] = rl.Action{Index: i % 2}
		oldLP[i] = float32(math.Log(0.5) - math.Log(lossTable.r[i]))
		advs[i], rets[i], vals[i] = float32(lossTable.adv[i]), float32(lossTable.ret[i]), float32(lossTable.vOld[i])
	}
	return pol, obs, acts, oldLP, advs, rets, vals
}

func lossConfig(clipV bool) Config {
	cfg := DefaultConfig()
	cfg.ClipCoef, cfg.ClipVLoss, cfg.EntCoef, cfg.VFCoef = 0.2, clipV, 0.01, 0.5
	return cfg
}

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// TestLossPPOKnownValues checks lossPPO's policy loss, value loss (with and
// without value clipping), entropy, clip fraction, approximate KL and total
// loss on lossTable against the hand computation above. A frozen or
// unclipped implementation scores L_pg = −0.35 instead of −0.05; a min
// instead of a max in the value clipping 0.348 instead of 0.605; a flipped
// KL sign −0.0975 or a different mixture instead of 0.0975.
func TestLossPPOKnownValues(t *testing.T) {
	for _, clipV := range []bool{true, false} {
		t.Run(fmt.Sprintf("clipV=%v", clipV), func(t *testing.T) {
			pol, obs, acts, oldLP, advs, rets, vals := lossFixture()
			tape := nn.NewTape()
			st := lossPPO(tape, lossConfig(clipV), policy.Agent(pol), obs, [][]rl.Action{acts}, oldLP, advs, rets, vals)
			wantV, wantLoss := wantVNoClip, wantLossNoCl
			if clipV {
				wantV, wantLoss = wantVClip, wantLossClip
			}
			const tol = 2e-6
			for _, c := range []struct {
				name      string
				got, want float64
			}{
				{"policy loss", st.pg, wantPG},
				{"value loss", st.v, wantV},
				{"entropy", st.ent, wantEnt},
				{"clip fraction", st.clipFrac, wantClipFrac},
				{"approx KL", st.kl, wantApproxKL},
				{"old approx KL", st.oldKL, wantOldApprox},
				{"loss", float64(st.loss.Item()), wantLoss},
			} {
				if !near(c.got, c.want, tol) {
					t.Errorf("%s = %.7f, want %.7f", c.name, c.got, c.want)
				}
			}
		})
	}
}

// wantGrads are the hand-computed gradients of the total loss of lossTable
// (value clipping on) with respect to the linear policy's parameters.
//
// Actor: only sample 2 (inside 1±ε) passes a policy-loss gradient; for it
// ∂L_pg/∂log π_2 = −A·r/3 = −0.55/3, and for a uniform 2-way softmax with
// action 0 ∂log π(0)/∂(l0, l1) = (½, −½); the entropy's gradient is 0 at
// the uniform distribution. So ∂/∂b_actor = (−0.55/6, 0.55/6) =
// (−0.0916667, 0.0916667) and ∂/∂W_actor = x_2·that = (−0.1833333, 0.1833333).
// (Sample 2's action is 2 mod 2 = 0.)
//
// Critic: samples 0 and 1 take the clipped branch, whose clip(V−V_old) is
// saturated, so no gradient; sample 2 takes the unclipped branch:
// ∂loss/∂V_2 = VFCoef·½·(1/3)·2(V_2 − R_2) = 0.5·½·(1/3)·1 = 1/12, so
// ∂/∂b_critic = 1/12 = 0.0833333 and ∂/∂W_critic = x_2/12 = 0.1666667.
var wantGrads = map[string][]float64{
	"actor/0/b":  {-0.55 / 6, 0.55 / 6},
	"actor/0/w":  {-0.55 / 3, 0.55 / 3},
	"critic/0/b": {1.0 / 12},
	"critic/0/w": {2.0 / 12},
}

// TestShardedLossGradients: the gradient and statistics of a minibatch
// split over 1, 2 or 3 shards (of sizes 3; 1+2; 1+1+1) equal the
// hand-computed gradient of the whole minibatch's loss. Back-propagating
// only the first shard gives a zero gradient here (sample 0 is clipped in
// both losses), a wrong shard weight scales the shards' contributions.
func TestShardedLossGradients(t *testing.T) {
	for k := 1; k <= 3; k++ {
		t.Run(fmt.Sprintf("shards=%d", k), func(t *testing.T) {
			pol, obs, acts, oldLP, advs, rets, vals := lossFixture()
			tapes := make([]*nn.Tape, k)
			for i := range tapes {
				tapes[i] = nn.NewTape()
			}
			nn.ZeroGrads(pol)
			st := shardedLoss(tapes, make([]stats, k), lossConfig(true), policy.Agent(pol), obs, [][]rl.Action{acts}, oldLP, advs, rets, vals)
			const tol = 2e-6
			for _, c := range []struct {
				name      string
				got, want float64
			}{
				{"policy loss", st.pg, wantPG},
				{"value loss", st.v, wantVClip},
				{"entropy", st.ent, wantEnt},
				{"clip fraction", st.clipFrac, wantClipFrac},
				{"approx KL", st.kl, wantApproxKL},
				{"old approx KL", st.oldKL, wantOldApprox},
			} {
				if !near(c.got, c.want, tol) {
					t.Errorf("%s = %.7f, want %.7f", c.name, c.got, c.want)
				}
			}
			for path, p := range nn.ParamMap(pol) {
				want := wantGrads[path]
				if len(want) != len(p.V.Grad) {
					t.Fatalf("%s: %d gradients, want %d", path, len(p.V.Grad), len(want))
				}
				for i, g := range p.V.Grad {
					if !near(float64(g), want[i], tol) {
						t.Errorf("∂loss/∂%s[%d] = %.7f, want %.7f", path, i, g, want[i])
					}
				}
			}
		})
	}
}

// TestClipFractionBoundary: as CleanRL's (|ratio − 1| > ε).mean(), a ratio
// exactly at 1 − ε is not counted as clipped. ε = 0.5 (exact in binary);
// the uniform 2-way policy has log π = ln ½, so old log-probabilities 0
// and ln ½ − ln 2 give ratios exactly ½ (= 1 − ε, not clipped; the
// float32 exp of float32(ln ½) rounds to exactly 0.5, checked below) and
// 2 (clipped): clip fraction ½. The approximate KL is
// ((½ − 1) − ln ½ + (2 − 1) − ln 2)/2 = (−0.5 + 1)/2 = 0.25.
func TestClipFractionBoundary(t *testing.T) {
	if r := float32(math.Exp(float64(float32(math.Log(0.5))))); r != 0.5 {
		t.Fatalf("fixture: float32 exp(ln ½) = %v, not exactly 0.5", r)
	}
	pol, obs, acts, _, advs, rets, vals := lossFixture()
	oldLP := []float32{0, float32(math.Log(0.5) - math.Log(2))}
	cfg := lossConfig(true)
	cfg.ClipCoef = 0.5
	st := lossPPO(nn.NewTape(), cfg, policy.Agent(pol), obs[:2], [][]rl.Action{acts[:2]}, oldLP, advs[:2], rets[:2], vals[:2])
	if st.clipFrac != 0.5 {
		t.Errorf("clip fraction %v, want 0.5 (ratio ½ at 1 − ε is not clipped)", st.clipFrac)
	}
	if !near(st.kl, 0.25, 1e-6) {
		t.Errorf("approx KL %v, want 0.25", st.kl)
	}
}
