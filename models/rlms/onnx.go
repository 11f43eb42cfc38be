package rlms

import (
	"fmt"
	"math/bits"

	"github.com/cpntrain/cpntrain/nn/onnx"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
)

// ONNXInput is one observation as the ONNX model's inputs: the features
// the actors compute from it (row-major), the graph's edges (SyncGNN;
// vertices 0..K−1 are the candidates, K + i·P + j path j of candidate i),
// and the masks and priors.
type ONNXInput struct {
	Compute, Paths      []float32 // K × ComputeIn, K·P × PathIn
	Src, Dst            []int64
	NodeMask, NodePrior []float32 // K: 1 allowed / 0; log(est/min est)
	PathMask, PathWF    []float32 // K·P: 1 allowed / 0; the controller's split (the prior's input)
}

// ONNXFeatures computes the ONNX model's inputs for o (K and P of the
// model's config).
func (m *Model) ONNXFeatures(o cpn.Obs) ONNXInput {
	b := new(batch)
	b.fill([]cpn.Obs{o}, m.Config.K, m.Config.P, m.Node.Encoder.edges())
	in := ONNXInput{Compute: append([]float32(nil), b.compute[:m.Config.K*ComputeIn]...), Paths: append([]float32(nil), b.paths[:m.Config.K*m.Config.P*PathIn]...),
		NodePrior: append([]float32(nil), b.prior...), PathWF: append([]float32(nil), b.pathWF...)}
	for k := range b.src {
		in.Src, in.Dst = append(in.Src, int64(b.src[k])), append(in.Dst, int64(b.dst[k]))
	}
	for _, v := range b.nodeMask {
		in.NodeMask = append(in.NodeMask, b2f(v))
	}
	for _, v := range b.pathMask {
		in.PathMask = append(in.PathMask, b2f(v))
	}
	return in
}

func b2f(v bool) float32 {
	if v {
		return 1
	}
	return 0
}

// ONNXModel returns the deterministic decision (Decision) for one
// observation as an ONNX model. Inputs: "compute_features" (K ×
// ComputeIn), "path_features" (K·P × PathIn), "edge_src" and "edge_dst"
// (INT64, SyncGNN only), "node_mask", "node_prior" (K), "path_mask",
// "path_wf" (K·P), as ONNXFeatures computes them. Outputs: "node" (INT64,
// the chosen candidate), "ratios" (P, the split over its paths) and
// "node_logits" (K, before the mask).
func (m *Model) ONNXModel(version string) (*onnx.Model, error) {
	cfg := m.Config
	K, P := int64(cfg.K), int64(cfg.P)
	g := onnx.NewGraph("rlms_decision")
	axis0, axis1 := onnx.AttrInt("axis", 0), onnx.AttrInt("axis", 1)
	xc := g.Input("compute_features", onnx.Float, onnx.D(K, ComputeIn), "one row per candidate: its features and the task's (models/rlms, features.go)")
	xp := g.Input("path_features", onnx.Float, onnx.D(K*P, PathIn), "one row per candidate path (row i·P + j: path j of candidate i)")
	nodeMask := g.Input("node_mask", onnx.Float, onnx.D(K), "1 for an allowed candidate, 0 otherwise")
	nodePrior := g.Input("node_prior", onnx.Float, onnx.D(K), "the node actor's prior input, log(estimate / smallest estimate)")
	pathMask := g.Input("path_mask", onnx.Float, onnx.D(K*P), "1 for a distinct path, 0 for a repeated row")
	pathWF := g.Input("path_wf", onnx.Float, onnx.D(K*P), "the controller's split of each path (the path prior's input)")
	var hc, hp string
	enc := m.Node.Encoder
	if enc.GNN != nil {
		src := g.Input("edge_src", onnx.Int64, []onnx.Dim{{Param: "edges"}}, "source vertex of each edge: 0..K−1 candidates, K + i·P + j paths")
		dst := g.Input("edge_dst", onnx.Int64, []onnx.Dim{{Param: "edges"}}, "destination vertex of each edge")
		h := g.Op("Concat", []string{enc.GNN.EmbedCompute.ONNX(g, xc, "embed_compute"), enc.GNN.EmbedPath.ONNX(g, xp, "embed_path")}, axis0)
		for i, l := range enc.GNN.Rounds {
			var err error
			if h, err = l.PropagateONNX(g, h, src, dst, fmt.Sprintf("round%d", i)); err != nil {
				return nil, err
			}
		}
		rows := func(from, to int64) string {
			return g.Op("Slice", []string{h, g.ConstInt64("rows_s", []int64{1}, []int64{from}), g.ConstInt64("rows_e", []int64{1}, []int64{to}), g.ConstInt64("rows_a", []int64{1}, []int64{0})})
		}
		hc, hp = rows(0, K), rows(K, K+K*P)
	} else {
		var err error
		if hc, err = enc.Compute.ONNX(g, xc, "compute"); err != nil {
			return nil, err
		}
		if hp, err = enc.Path.ONNX(g, xp, "path"); err != nil {
			return nil, err
		}
	}
	flat := func(x string, n int64) string {
		return g.Op("Reshape", []string{x, g.ConstInt64("shape", []int64{1}, []int64{n})})
	}
	// Node actor: logits, masked argmax (the first on ties).
	nl, err := m.Node.Head.ONNX(g, hc, "node_head")
	if err != nil {
		return nil, err
	}
	nl = flat(nl, K)
	if m.Node.Prior != nil {
		nl = g.Op("Add", []string{nl, g.Op("Mul", []string{nodePrior, g.Scalar("node_prior_w", m.Node.Prior.V.Data[0])})})
	}
	masked := func(l, mask string) string {
		return g.Op("Where", []string{g.Op("Greater", []string{mask, g.Scalar("half", 0.5)}), l, g.Scalar("masked", -3e38)})
	}
	node := g.Op("ArgMax", []string{masked(nl, nodeMask)}, onnx.AttrInt("axis", 0), onnx.AttrInt("keepdims", 1)) // INT64 [1]
	g.Output(nl, "node_logits", onnx.Float, onnx.D(K), "the node actor's logits (masked candidates included)")
	g.Output(node, "node", onnx.Int64, onnx.D(1), "the chosen candidate: the allowed one of largest logit")
	if P == 1 {
		g.Output(g.Const("one_path", []int64{1}, []float32{1}), "ratios", onnx.Float, onnx.D(1), "the split over the chosen candidate's paths")
		return m.onnxModel(g, version), nil
	}
	// The chosen candidate's rows.
	hcC := g.Op("Gather", []string{hc, node}, axis0) // 1 × Dim
	pathIdx := g.Op("Add", []string{g.Op("Mul", []string{node, g.ConstInt64("P", nil, []int64{P})}), g.ConstInt64("path_range", []int64{P}, rangeInt64(P))})
	hpC := g.Op("Gather", []string{hp, pathIdx}, axis0)         // P × Dim
	maskC := g.Op("Gather", []string{pathMask, pathIdx}, axis0) // P
	wfC := g.Op("Gather", []string{pathWF, pathIdx}, axis0)     // P
	dim := int64(cfg.Dim)
	var keep, pen string
	if m.Subset != nil {
		ns := int64(NumSubsets(cfg.P))
		avg, bitsM, size := make([]float32, ns*P), make([]float32, ns*P), make([]float32, ns)
		for s := range ns {
			mm := uint(s + 1)
			c := float32(bits.OnesCount(mm))
			for j := range P {
				if mm>>j&1 == 1 {
					avg[s*P+j], bitsM[s*P+j] = 1/c, 1
				}
			}
			size[s] = c / float32(P)
		}
		bm := g.Const("subset_bits", []int64{ns, P}, bitsM)
		mean := g.Op("MatMul", []string{g.Const("subset_avg", []int64{ns, P}, avg), hpC})
		x := g.Op("Concat", []string{mean, g.Op("Expand", []string{hcC, g.ConstInt64("ns_dim", []int64{2}, []int64{ns, dim})}), g.Const("subset_size", []int64{ns, 1}, size)}, axis1)
		sl, err := m.Subset.Head.ONNX(g, x, "subset_head")
		if err != nil {
			return nil, err
		}
		sl = flat(sl, ns)
		if m.Subset.Prior != nil {
			// The subset whose paths are exactly the allowed ones the
			// controller gives at least PriorSupport.
			sup := g.Op("Cast", []string{g.Op("And", []string{g.Op("Greater", []string{maskC, g.Scalar("half_s", 0.5)}),
				g.Op("GreaterOrEqual", []string{wfC, g.Scalar("support", PriorSupport)})})}, onnx.AttrInt("to", onnx.Float))
			isSup := g.Op("ReduceMin", []string{g.Op("Cast", []string{g.Op("Equal", []string{bm, sup})}, onnx.AttrInt("to", onnx.Float))}, onnx.AttrInts("axes", 1), onnx.AttrInt("keepdims", 0))
			sl = g.Op("Add", []string{sl, g.Op("Mul", []string{isSup, g.Scalar("subset_prior_w", m.Subset.Prior.V.Data[0])})})
		}
		// Allowed: every path of the subset is allowed.
		ok := g.Op("ReduceMin", []string{g.Op("Sub", []string{g.Scalar("one_s", 1), g.Op("Mul", []string{bm, g.Op("Sub", []string{g.Scalar("one_m", 1), maskC})})})},
			onnx.AttrInts("axes", 1), onnx.AttrInt("keepdims", 0))
		sIdx := g.Op("ArgMax", []string{masked(sl, ok)}, onnx.AttrInt("axis", 0), onnx.AttrInt("keepdims", 1))
		keep = flat(g.Op("Gather", []string{bm, sIdx}, axis0), P)
		pen = g.Op("Mul", []string{g.Op("Sub", []string{keep, g.Scalar("one_k", 1)}), g.Scalar("penalty", subsetPenalty)})
	}
	// Path actor.
	x := g.Op("Concat", []string{hpC, g.Op("Expand", []string{hcC, g.ConstInt64("p_dim", []int64{2}, []int64{P, dim})})}, axis1)
	pl, err := m.Path.Head.ONNX(g, x, "path_head")
	if err != nil {
		return nil, err
	}
	pl = flat(pl, P)
	if m.Path.Prior != nil {
		pp := g.Op("Log", []string{g.Op("Add", []string{g.Op("Max", []string{wfC, g.Scalar("zero_wf", 0)}), g.Scalar("prior_eps", PriorEps)})})
		pl = g.Op("Add", []string{pl, g.Op("Mul", []string{pp, g.Scalar("path_prior_w", m.Path.Prior.V.Data[0])})})
	}
	if keep != "" {
		pl = g.Op("Add", []string{g.Op("Mul", []string{pl, keep}), pen})
	}
	var ratios string
	if m.Path.logisticNormal() {
		ratios = g.Op("Softmax", []string{pl}, axis0)
	} else {
		// Dirichlet mode (α−1)/Σ(α−1), α = softplus + 1: the uniform split
		// where Σ < 1e-6.
		am1 := g.Op("Max", []string{g.Op("Softplus", []string{pl}), g.Scalar("zero_a", 0)})
		s := g.Op("ReduceSum", []string{am1, g.ConstInt64("axes0", []int64{1}, []int64{0})}, onnx.AttrInt("keepdims", 1))
		ratios = g.Op("Where", []string{g.Op("Less", []string{s, g.Scalar("tiny", 1e-6)}), g.Const("uniform", []int64{P}, uniform(P)), g.Op("Div", []string{am1, s})})
	}
	g.Output(ratios, "ratios", onnx.Float, onnx.D(P), "the split of the task's data over the chosen candidate's paths")
	return m.onnxModel(g, version), nil
}

func (m *Model) onnxModel(g *onnx.Graph, version string) *onnx.Model {
	return &onnx.Model{Graph: g, Producer: "cpntrain", ProducerVersion: version, Doc: "RLMS-CPN decision (cpntrain rlms train)",
		Meta: map[string]string{"model_kind": Kind, "config": string(m.ConfigJSON())}}
}

func rangeInt64(n int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i)
	}
	return out
}

func uniform(n int64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = 1 / float32(n)
	}
	return out
}
