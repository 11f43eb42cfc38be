package decima

import (
	"fmt"

	"github.com/cpntrain/cpntrain/nn/dagnn"
	"github.com/cpntrain/cpntrain/nn/onnx"
	"github.com/cpntrain/cpntrain/rl/envs/spark"
)

// MaxONNXLevels is the number of DAG levels the ONNX graph unrolls: an
// observation whose stage DAG is deeper is refused by ONNXFeatures (the
// TPC-H DAGs have at most a handful).
const MaxONNXLevels = 16

// ONNXInput is one observation as the ONNX model's inputs.
type ONNXInput struct {
	X                              []float32 // stages × Features
	EdgeParent, EdgeChild, EdgeLvl []int64   // the DAG's edges and their parent's level
	NodeLevel, NodeJob             []int64   // per stage
	NumJobs                        []int64   // [J]
	Valid                          []int64   // the stage slots that may be scheduled, in order
	JobExecutors, JobMinLimit      []float32 // per job
	Limits                         []float32 // 1..executors
	Fair                           []float32 // [executors / J]
}

// ONNXFeatures computes the ONNX model's inputs for o.
func (a *Actor) ONNXFeatures(o spark.Obs) (ONNXInput, error) {
	b, err := fill([]spark.Obs{o})
	if err != nil {
		return ONNXInput{}, err
	}
	p, err := dagnn.NewPlan(b.n, b.edges)
	if err != nil {
		return ONNXInput{}, err
	}
	if p.NumLevels() > MaxONNXLevels {
		return ONNXInput{}, fmt.Errorf("decima: the stage DAG has %d levels; the ONNX graph unrolls %d", p.NumLevels(), MaxONNXLevels)
	}
	in := ONNXInput{X: append([]float32(nil), b.x...), NumJobs: []int64{int64(len(o.Jobs))},
		Fair: []float32{float32(o.Cfg.Executors) / float32(len(o.Jobs))}}
	for _, e := range b.edges {
		in.EdgeParent, in.EdgeChild, in.EdgeLvl = append(in.EdgeParent, int64(e[0])), append(in.EdgeChild, int64(e[1])), append(in.EdgeLvl, int64(p.Level(e[0])))
	}
	for v := range b.n {
		in.NodeLevel, in.NodeJob = append(in.NodeLevel, int64(p.Level(v))), append(in.NodeJob, int64(b.nodeJob[v]))
	}
	for _, v := range b.valid {
		in.Valid = append(in.Valid, int64(v))
	}
	for _, j := range o.Jobs {
		in.JobExecutors, in.JobMinLimit = append(in.JobExecutors, float32(j.Executors)), append(in.JobMinLimit, float32(j.MinLimit))
	}
	for l := 1; l <= o.Cfg.Executors; l++ {
		in.Limits = append(in.Limits, float32(l))
	}
	return in, nil
}

// ONNXModel returns the actor's deterministic decision (Mode) for one
// observation as an ONNX model. Inputs as ONNXFeatures computes them:
// "stage_features" (stages × Features), "edge_parent", "edge_child",
// "edge_level" (INT64 per edge: the parent's level), "node_level",
// "node_job" (INT64 per stage), "num_jobs" (INT64 [1]), "valid_stages"
// (INT64, the schedulable stage slots in order), "job_executors",
// "job_min_limit" (per job), "limits" (1..executors) and "fair" ([1],
// executors / jobs). Outputs: "stage_logits" (per valid stage), "stage"
// (INT64 [1], the index in valid_stages of the chosen stage),
// "limit_logits" (per limit) and "limit" (INT64 [1], the chosen executor
// limit, 1-based). The DAG network is unrolled over MaxONNXLevels levels.
func (a *Actor) ONNXModel(version string) (*onnx.Model, error) {
	cfg := a.Config
	g := onnx.NewGraph("decima_decision")
	axis0, axis1 := onnx.AttrInt("axis", 0), onnx.AttrInt("axis", 1)
	dyn := func(n string) []onnx.Dim { return []onnx.Dim{{Param: n}} }
	x := g.Input("stage_features", onnx.Float, []onnx.Dim{{Param: "stages"}, {Value: Features}}, "one row per stage of every job (models/decima: fill)")
	par := g.Input("edge_parent", onnx.Int64, dyn("edges"), "the parent stage of each DAG edge")
	chi := g.Input("edge_child", onnx.Int64, dyn("edges"), "the child stage of each DAG edge")
	elv := g.Input("edge_level", onnx.Int64, dyn("edges"), "the level of each edge's parent (leaves are level 0)")
	nlv := g.Input("node_level", onnx.Int64, dyn("stages"), "the level of each stage")
	njob := g.Input("node_job", onnx.Int64, dyn("stages"), "the job of each stage")
	numJobs := g.Input("num_jobs", onnx.Int64, onnx.D(1), "the number of jobs")
	valid := g.Input("valid_stages", onnx.Int64, dyn("valid"), "the stage slots that may be scheduled, in increasing order")
	jobExec := g.Input("job_executors", onnx.Float, dyn("jobs"), "executors each job holds")
	jobMin := g.Input("job_min_limit", onnx.Float, dyn("jobs"), "the smallest limit each job may take")
	limits := g.Input("limits", onnx.Float, dyn("limits"), "the executor limits 1..executors")
	fair := g.Input("fair", onnx.Float, onnx.D(1), "executors / jobs")

	// DAG network, level by level from the leaves up, over every edge
	// with the level's edges and parents masked in.
	gnn := a.GNN
	e := x
	var err error
	if gnn.Prep != nil {
		if e, err = gnn.Prep.ONNX(g, x, "prep"); err != nil {
			return nil, err
		}
	}
	dim := int64(cfg.Dim)
	nodeDim := g.Op("Concat", []string{g.Op("Slice", []string{g.Op("Shape", []string{x}), g.ConstInt64("s0", []int64{1}, []int64{0}), g.ConstInt64("e1", []int64{1}, []int64{1})}),
		g.ConstInt64("dim", []int64{1}, []int64{dim})}, axis0)
	nodeOne := g.Op("Concat", []string{g.Op("Slice", []string{g.Op("Shape", []string{x}), g.ConstInt64("s0b", []int64{1}, []int64{0}), g.ConstInt64("e1b", []int64{1}, []int64{1})}),
		g.ConstInt64("one_col", []int64{1}, []int64{1})}, axis0)
	unsq := func(v string) string {
		return g.Op("Unsqueeze", []string{v, g.ConstInt64("ax1", []int64{1}, []int64{1})})
	}
	scatterAdd := func(shape, idx, upd string) string {
		zeros := g.Op("ConstantOfShape", []string{shape})
		return g.Op("ScatterElements", []string{zeros, g.Op("Expand", []string{unsq(idx), g.Op("Shape", []string{upd})}), upd}, axis0, onnx.AttrString("reduction", "add"))
	}
	for l := 1; l < MaxONNXLevels; l++ {
		lvl := g.ConstInt64("level", nil, []int64{int64(l)})
		emask := unsq(g.Op("Cast", []string{g.Op("Equal", []string{elv, lvl})}, onnx.AttrInt("to", onnx.Float))) // E × 1
		nmask := unsq(g.Op("Cast", []string{g.Op("Equal", []string{nlv, lvl})}, onnx.AttrInt("to", onnx.Float))) // N × 1
		y, err := gnn.F.ONNX(g, g.Op("Gather", []string{e, chi}, axis0), fmt.Sprintf("f%d", l))
		if err != nil {
			return nil, err
		}
		if gnn.Att != nil {
			s := g.Op("LeakyRelu", []string{gnn.Att.ONNX(g, g.Op("Concat", []string{g.Op("Gather", []string{e, par}, axis0), y}, axis1), fmt.Sprintf("att%d", l))},
				onnx.AttrFloat("alpha", 0.2))
			// Softmax over each parent's children: exp(s − max) masked to
			// the level's edges, over its sum per parent.
			in := g.Op("Greater", []string{emask, g.Scalar("half", 0.5)})
			mx := g.Op("ReduceMax", []string{g.Op("Where", []string{in, s, g.Scalar("low", -3e38)})}, onnx.AttrInt("keepdims", 1))
			// Where, not a product with the mask: exp of the other levels'
			// edges may overflow, and Inf·0 is NaN.
			ex := g.Op("Where", []string{in, g.Op("Exp", []string{g.Op("Sub", []string{s, mx})}), g.Scalar("zero_ex", 0)})
			den := g.Op("Gather", []string{scatterAdd(nodeOne, par, ex), par}, axis0)
			y = g.Op("Mul", []string{y, g.Op("Div", []string{ex, g.Op("Max", []string{den, g.Scalar("tiny", 1e-30)})})})
		} else {
			y = g.Op("Mul", []string{y, emask})
		}
		msg, err := gnn.G.ONNX(g, scatterAdd(nodeDim, par, y), fmt.Sprintf("g%d", l))
		if err != nil {
			return nil, err
		}
		e = g.Op("Add", []string{e, g.Op("Mul", []string{msg, nmask})})
	}
	xe := g.Op("Concat", []string{x, e}, axis1)
	// Summaries: per job, then global (an LSTM over the jobs in order,
	// or a sum).
	jn, err := a.Summary.JobNet.ONNX(g, xe, "job")
	if err != nil {
		return nil, err
	}
	jobDim := int64(cfg.JobDim)
	jobs := scatterAdd(g.Op("Concat", []string{numJobs, g.ConstInt64("jobdim", []int64{1}, []int64{jobDim})}, axis0), njob, jn)
	var global string
	if a.LSTM != nil {
		global = a.lstmONNX(g, jobs)
	} else {
		gn, err := a.Summary.GlobalNet.ONNX(g, jobs, "global")
		if err != nil {
			return nil, err
		}
		global = g.Op("ReduceSum", []string{gn, g.ConstInt64("axes0", []int64{1}, []int64{0})}, onnx.AttrInt("keepdims", 1))
	}
	// Stage scores of the valid stages.
	vjob := g.Op("Gather", []string{njob, valid}, axis0)
	nv := g.Op("Shape", []string{valid})
	expand := func(row string, n string, width int64) string {
		return g.Op("Expand", []string{row, g.Op("Concat", []string{n, g.ConstInt64("w", []int64{1}, []int64{width})}, axis0)})
	}
	sin := g.Op("Concat", []string{g.Op("Gather", []string{xe, valid}, axis0), g.Op("Gather", []string{jobs, vjob}, axis0), expand(global, nv, jobDim)}, axis1)
	sl, err := a.Stage.ONNX(g, sin, "stage")
	if err != nil {
		return nil, err
	}
	sl = g.Op("Reshape", []string{sl, g.ConstInt64("flat", []int64{1}, []int64{-1})})
	stage := g.Op("ArgMax", []string{sl}, axis0, onnx.AttrInt("keepdims", 1))
	g.Output(sl, "stage_logits", onnx.Float, dyn("valid"), "the score of each valid stage")
	g.Output(stage, "stage", onnx.Int64, onnx.D(1), "the index in valid_stages of the chosen stage")
	// Limit scores for the chosen stage's job.
	k := g.Op("Gather", []string{vjob, stage}, axis0) // [1]
	ne := g.Op("Shape", []string{limits})
	col := func(v string) string { return unsq(v) }
	lf := g.Op("Concat", []string{
		col(g.Op("Div", []string{limits, g.Scalar("limit_scale", LimitScale)})),
		col(g.Op("Div", []string{limits, fair})),
		col(g.Op("Div", []string{g.Op("Sub", []string{limits, g.Op("Gather", []string{jobExec, k}, axis0)}), g.Scalar("limit_scale2", LimitScale)})),
	}, axis1)
	lin := g.Op("Concat", []string{expand(g.Op("Gather", []string{jobs, k}, axis0), ne, jobDim), expand(global, ne, jobDim), lf}, axis1)
	ll, err := a.Limit.ONNX(g, lin, "limit")
	if err != nil {
		return nil, err
	}
	ll = g.Op("Reshape", []string{ll, g.ConstInt64("flat2", []int64{1}, []int64{-1})})
	allowed := g.Op("GreaterOrEqual", []string{limits, g.Op("Gather", []string{jobMin, k}, axis0)})
	limit := g.Op("Add", []string{g.Op("ArgMax", []string{g.Op("Where", []string{allowed, ll, g.Scalar("masked", -3e38)})}, axis0, onnx.AttrInt("keepdims", 1)),
		g.ConstInt64("one", []int64{1}, []int64{1})})
	g.Output(ll, "limit_logits", onnx.Float, dyn("limits"), "the score of each executor limit for the chosen stage's job")
	g.Output(limit, "limit", onnx.Int64, onnx.D(1), "the chosen executor limit (1-based)")
	return &onnx.Model{Graph: g, Producer: "cpntrain", ProducerVersion: version, Doc: "Decima-style DAG scheduler decision (cpntrain decima train)",
		Meta: map[string]string{"model_kind": Kind}}, nil
}

// lstmONNX runs the LSTM over the job summaries (J × JobDim) in order
// with ONNX's LSTM operator and returns the last hidden state (1 ×
// JobDim). Our cell's gate blocks are i, f, g, o over x·Wx + b + h·Wh;
// ONNX's are i, o, f, c with W and R transposed.
func (a *Actor) lstmONNX(g *onnx.Graph, jobs string) string {
	m := a.LSTM
	h, in := m.Config.Hidden, m.Config.In
	order := []int{0, 3, 1, 2} // ONNX block b takes our block order[b]
	w := make([]float32, 4*h*in)
	r := make([]float32, 4*h*h)
	bias := make([]float32, 8*h)
	for b, ob := range order {
		for u := range h {
			row := b*h + u
			col := ob*h + u
			for i := range in {
				w[row*in+i] = m.Wx.V.Data[i*4*h+col]
			}
			for i := range h {
				r[row*h+i] = m.Wh.V.Data[i*4*h+col]
			}
			bias[row] = m.B.V.Data[col]
		}
	}
	X := g.Op("Unsqueeze", []string{jobs, g.ConstInt64("ax_batch", []int64{1}, []int64{1})}) // J × 1 × In
	out := g.Fresh("lstm")
	yh := out + "_h"
	g.Nodes = append(g.Nodes, onnx.Node{Op: "LSTM", Name: "n_" + out, In: []string{X, g.Const("lstm_w", []int64{1, int64(4 * h), int64(in)}, w),
		g.Const("lstm_r", []int64{1, int64(4 * h), int64(h)}, r), g.Const("lstm_b", []int64{1, int64(8 * h)}, bias)},
		Out: []string{out + "_y", yh}, Attrs: []onnx.Attr{onnx.AttrInt("hidden_size", int64(h))}})
	return g.Op("Reshape", []string{yh, g.ConstInt64("lstm_shape", []int64{2}, []int64{1, int64(h)})})
}
