package dagnn

import (
	"fmt"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/linear"
	"github.com/cpntrain/cpntrain/nn/mlp"
)

// attentionSlope is the negative slope of the LeakyReLU on attention
// scores, as in graph attention networks.
const attentionSlope = 0.2

// Config describes a DAG layer.
type Config struct {
	// In is the width of the raw node features.
	In int
	// Dim is the width of the node embeddings.
	Dim int
	// NoPrep uses the features as x_v directly (In must equal Dim) instead
	// of the MLP prep: In → PrepHidden… → Dim.
	NoPrep bool
	// PrepHidden, FHidden and GHidden are the hidden widths of prep, f
	// (Dim → … → Dim) and g (Dim → … → Dim). Decima uses [16, 8] for all
	// three.
	PrepHidden, FHidden, GHidden []int
	// Act follows every layer of prep, f and g, the last included
	// (Decima: leaky_relu).
	Act nn.Activation
	// Attention weights the children of each node by a softmax over them
	// instead of summing them (see the package documentation).
	Attention bool
}

// Validate reports a config that cannot build a layer.
func (c Config) Validate() error {
	switch {
	case c.In <= 0 || c.Dim <= 0:
		return fmt.Errorf("dagnn: widths must be positive, got In %d, Dim %d", c.In, c.Dim)
	case c.NoPrep && c.In != c.Dim:
		return fmt.Errorf("dagnn: NoPrep needs In == Dim, got %d and %d", c.In, c.Dim)
	case c.NoPrep && len(c.PrepHidden) > 0:
		return fmt.Errorf("dagnn: PrepHidden %v given with NoPrep", c.PrepHidden)
	}
	for _, hs := range [][]int{c.PrepHidden, c.FHidden, c.GHidden} {
		for _, h := range hs {
			if h <= 0 {
				return fmt.Errorf("dagnn: hidden widths must be positive, got %v", hs)
			}
		}
	}
	if err := c.Act.Validate(); err != nil {
		return fmt.Errorf("dagnn: %w", err)
	}
	return nil
}

// Model is a Decima-style DAG layer. Prep is nil when Config.NoPrep; Att
// (the attention scorer, [x_p ‖ f(e_u)] → 1) is nil unless
// Config.Attention.
type Model struct {
	Config Config
	Prep   *mlp.Model
	F, G   *mlp.Model
	Att    *linear.Model
}

var _ nn.Module = (*Model)(nil)

// New builds a DAG layer with PyTorch's default Linear initialisation. It
// panics on an invalid config.
func New(cfg Config, rng *rand.Rand) *Model {
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	sizes := func(in int, hidden []int, out int) []int {
		return append(append([]int{in}, hidden...), out)
	}
	m := &Model{Config: cfg}
	if !cfg.NoPrep {
		m.Prep = mlp.New(mlp.Config{Sizes: sizes(cfg.In, cfg.PrepHidden, cfg.Dim), Act: cfg.Act, OutAct: cfg.Act}, rng)
	}
	m.F = mlp.New(mlp.Config{Sizes: sizes(cfg.Dim, cfg.FHidden, cfg.Dim), Act: cfg.Act, OutAct: cfg.Act}, rng)
	m.G = mlp.New(mlp.Config{Sizes: sizes(cfg.Dim, cfg.GHidden, cfg.Dim), Act: cfg.Act, OutAct: cfg.Act}, rng)
	if cfg.Attention {
		m.Att = linear.New(linear.Config{In: 2 * cfg.Dim, Out: 1, NoBias: true}, rng)
	}
	return m
}

// Forward returns the node embeddings (N×Dim) of the nodes of plan p with
// raw features x (N×In): e_v = x_v for leaves and e_v = g(Σ_u f(e_u)) + x_v
// over the children u of v otherwise, level by level from the leaves up.
// It panics if x does not have p's node count or In columns.
func (m *Model) Forward(t *nn.Tape, x *nn.Tensor, p *Plan) *nn.Tensor {
	if x.Rows != p.n || x.Cols != m.Config.In {
		panic(fmt.Sprintf("dagnn: features %s, want %d×%d", x.Shape(), p.n, m.Config.In))
	}
	e := x
	if m.Prep != nil {
		e = m.Prep.Forward(t, x)
	}
	for l := 1; l < len(p.levelNodes); l++ {
		parents := p.levelNodes[l]
		y := m.F.Forward(t, t.Gather(e, p.edgeChild[l]))
		if m.Att != nil {
			// Parents of level l still hold x_p: they are updated below.
			score := t.LeakyReLU(m.Att.Forward(t, t.ConcatCols(t.Gather(e, p.edgeParent[l]), y)), attentionSlope)
			y = t.Mul(y, t.SegmentSoftmax(score, p.edgeLocal[l], len(parents)))
		}
		msg := m.G.Forward(t, t.SegmentSum(y, p.edgeLocal[l], len(parents)))
		e = t.Add(e, t.ScatterAdd(msg, parents, p.n))
	}
	return e
}

// Params implements nn.Module: "prep/…" (unless NoPrep), "f/…", "g/…" and
// "att/w" (with Attention).
func (m *Model) Params(visit func(string, *nn.Param)) {
	if m.Prep != nil {
		m.Prep.Params(nn.Prefix("prep", visit))
	}
	m.F.Params(nn.Prefix("f", visit))
	m.G.Params(nn.Prefix("g", visit))
	if m.Att != nil {
		m.Att.Params(nn.Prefix("att", visit))
	}
}

// SummaryConfig describes Decima's job-level and global summaries.
type SummaryConfig struct {
	// In is the width of the per-node input (Decima: the node features
	// concatenated with the DAG layer's embeddings).
	In int
	// JobHidden and JobOut shape the node MLP In → … → JobOut summed per
	// job.
	JobHidden []int
	JobOut    int
	// GlobalHidden and GlobalOut shape the job MLP JobOut → … → GlobalOut
	// summed over jobs.
	GlobalHidden []int
	GlobalOut    int
	// Act follows every layer of both MLPs, the last included.
	Act nn.Activation
}

// Validate reports a config that cannot build the summaries.
func (c SummaryConfig) Validate() error {
	if c.In <= 0 || c.JobOut <= 0 || c.GlobalOut <= 0 {
		return fmt.Errorf("dagnn: summary widths must be positive, got In %d, JobOut %d, GlobalOut %d", c.In, c.JobOut, c.GlobalOut)
	}
	for _, hs := range [][]int{c.JobHidden, c.GlobalHidden} {
		for _, h := range hs {
			if h <= 0 {
				return fmt.Errorf("dagnn: summary hidden widths must be positive, got %v", hs)
			}
		}
	}
	if err := c.Act.Validate(); err != nil {
		return fmt.Errorf("dagnn: %w", err)
	}
	return nil
}

// Summary holds Decima's two summary networks:
//
//	y_j = Σ_{v ∈ job j} JobNet(e_v)       job-level summary
//	z   = Σ_j GlobalNet(y_j)              global summary
type Summary struct {
	Config    SummaryConfig
	JobNet    *mlp.Model
	GlobalNet *mlp.Model
}

var _ nn.Module = (*Summary)(nil)

// NewSummary builds the summary networks. It panics on an invalid config.
func NewSummary(cfg SummaryConfig, rng *rand.Rand) *Summary {
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	job := append(append([]int{cfg.In}, cfg.JobHidden...), cfg.JobOut)
	glob := append(append([]int{cfg.JobOut}, cfg.GlobalHidden...), cfg.GlobalOut)
	return &Summary{
		Config:    cfg,
		JobNet:    mlp.New(mlp.Config{Sizes: job, Act: cfg.Act, OutAct: cfg.Act}, rng),
		GlobalNet: mlp.New(mlp.Config{Sizes: glob, Act: cfg.Act, OutAct: cfg.Act}, rng),
	}
}

// Jobs returns the job summaries (njobs×JobOut) of the node inputs e
// (N×In), nodeJob giving each node's job. A job without nodes sums to zero.
// It panics if nodeJob does not have one id in [0, njobs) per row of e or e
// does not have In columns.
func (s *Summary) Jobs(t *nn.Tape, e *nn.Tensor, nodeJob []int, njobs int) *nn.Tensor {
	if e.Cols != s.Config.In {
		panic(fmt.Sprintf("dagnn: summary input %s, want %d columns", e.Shape(), s.Config.In))
	}
	checkIDs("node", "job", e.Rows, nodeJob, njobs)
	return t.SegmentSum(s.JobNet.Forward(t, e), nodeJob, njobs)
}

// Global returns the global summaries of the job summaries y (J×JobOut):
// one row per group of jobs, jobGroup giving each job's group (ngroups×
// GlobalOut), or, when jobGroup is nil, a single 1×GlobalOut row over all
// jobs. It panics on malformed group ids or a width other than JobOut.
func (s *Summary) Global(t *nn.Tape, y *nn.Tensor, jobGroup []int, ngroups int) *nn.Tensor {
	if y.Cols != s.Config.JobOut {
		panic(fmt.Sprintf("dagnn: job summaries %s, want %d columns", y.Shape(), s.Config.JobOut))
	}
	z := s.GlobalNet.Forward(t, y)
	if jobGroup == nil {
		return t.SumCols(z)
	}
	checkIDs("job", "group", y.Rows, jobGroup, ngroups)
	return t.SegmentSum(z, jobGroup, ngroups)
}

// Forward returns the job summaries (njobs×JobOut) and the global summary
// (1×GlobalOut) of one environment's nodes.
func (s *Summary) Forward(t *nn.Tape, e *nn.Tensor, nodeJob []int, njobs int) (jobs, global *nn.Tensor) {
	jobs = s.Jobs(t, e, nodeJob, njobs)
	return jobs, s.Global(t, jobs, nil, 0)
}

// Params implements nn.Module: "job/…", "global/…".
func (s *Summary) Params(visit func(string, *nn.Param)) {
	s.JobNet.Params(nn.Prefix("job", visit))
	s.GlobalNet.Params(nn.Prefix("global", visit))
}

func checkIDs(item, group string, rows int, ids []int, n int) {
	if n < 0 {
		panic(fmt.Sprintf("dagnn: negative number of %ss %d", group, n))
	}
	if len(ids) != rows {
		panic(fmt.Sprintf("dagnn: %d %s ids for %d %ss", len(ids), group, rows, item))
	}
	for i, g := range ids {
		if g < 0 || g >= n {
			panic(fmt.Sprintf("dagnn: %s %d is in %s %d, outside [0,%d)", item, i, group, g, n))
		}
	}
}
