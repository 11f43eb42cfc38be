package dsppo

import (
	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/onnx"
)

// ONNXModel returns the actor as an ONNX model for one observation.
// Inputs (the rows features() builds, docs/dsppo.md): "node_features"
// (nodes × NodeDim), "queue_features" (queued tasks × (Types + 2), possibly
// none), "global_features" (1 × (Types + 6)), "options" (placement options
// × OptionDim) and "option_node" (INT64, the node row of each option).
// Outputs: "placement_logits" (options × 1) and "wait_logit" (1 × 1),
// before the fastest-fit prior (Config.Prior, added by the caller) and
// the action mask.
func (a *Actor) ONNXModel(version string) (*onnx.Model, error) {
	cfg := a.Enc.Config
	g := onnx.NewGraph("dsppo_actor")
	dyn := func(name string, cols int64) []onnx.Dim { return []onnx.Dim{{Param: name}, {Value: cols}} }
	nodes := g.Input("node_features", onnx.Float, dyn("nodes", NodeDim), "one row per node (features of the node and its free resources)")
	queue := g.Input("queue_features", onnx.Float, dyn("queued", int64(cfg.queueDim())), "one row per queued task (its type and demands); may be empty")
	glob := g.Input("global_features", onnx.Float, []onnx.Dim{{Value: 1}, {Value: int64(cfg.globalDim())}}, "the cluster-wide features")
	opts := g.Input("options", onnx.Float, dyn("options", OptionDim), "one row per placement option (the task at the head of the queue on a node)")
	optNode := g.Input("option_node", onnx.Int64, []onnx.Dim{{Param: "options"}}, "the node row of each placement option")
	phiN, err := a.Enc.Nodes.Phi.ONNX(g, nodes, "nodes_phi")
	if err != nil {
		return nil, err
	}
	pooled, err := a.Enc.Nodes.PoolONNX(g, phiN, "nodes")
	if err != nil {
		return nil, err
	}
	cN, err := a.Enc.Nodes.Rho.ONNX(g, pooled, "nodes_rho")
	if err != nil {
		return nil, err
	}
	cQ, err := a.Enc.Queue.ONNX(g, queue, "queue")
	if err != nil {
		return nil, err
	}
	ctx := g.Op("Concat", []string{cN, cQ, glob}, onnx.AttrInt("axis", 1))
	wait, err := a.Wait.ONNX(g, ctx, "wait")
	if err != nil {
		return nil, err
	}
	x := a.PlaceX.ONNX(g, g.Op("Concat", []string{opts, g.Op("Gather", []string{phiN, optNode}, onnx.AttrInt("axis", 0))}, onnx.AttrInt("axis", 1)), "place_x")
	h := g.Op("Relu", []string{g.Op("Add", []string{x, a.PlaceC.ONNX(g, ctx, "place_c")})})
	place := a.PlaceO.ONNX(g, h, "place_o")
	g.Output(place, "placement_logits", onnx.Float, dyn("options", 1), "logit of each placement option, before the prior and the mask")
	g.Output(wait, "wait_logit", onnx.Float, []onnx.Dim{{Value: 1}, {Value: 1}}, "logit of waiting, before the prior and the mask")
	return &onnx.Model{Graph: g, Producer: "cpntrain", ProducerVersion: version, Doc: "DS-PPO actor (cpntrain dsppo train)",
		Meta: map[string]string{"model_kind": Kind}}, nil
}

// FeatureLogits computes on the engine what the ONNX model computes: the
// placement and wait logits of one observation given as its feature rows
// (the ONNX model's inputs, row-major; optNode the node row of each
// option).
func (a *Actor) FeatureLogits(nodes, queue, glob, opt []float32, optNode []int) (place, wait []float32) {
	t := nn.NewInference()
	enc := encoded{opt: opt, optNode: optNode, optObs: make([]int, len(optNode))}
	enc.phiN, enc.ctx = encodeFeatures(a.Enc, t, nodes, queue, glob, make([]int, len(nodes)/NodeDim), make([]int, len(queue)/a.Enc.Config.queueDim()), 1)
	p, w := a.heads(t, enc)
	if p != nil {
		place = append([]float32(nil), p.Data...)
	}
	return place, append([]float32(nil), w.Data...)
}

// QueueDim and GlobalDim are the widths of the queue and global feature
// rows of this configuration.
func (c Config) QueueDim() int  { return c.queueDim() }
func (c Config) GlobalDim() int { return c.globalDim() }
