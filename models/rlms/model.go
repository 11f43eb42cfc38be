package rlms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/checkpoints"
	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
)

// Model is the RLMS-CPN agent: a node actor and a path actor sharing one
// actor encoder, and a critic with its own encoder. It implements
// nn.Module with every parameter once:
//
//	actor/encoder/…   the shared actor encoder (Node.Encoder)
//	actor/node/…      the node head
//	actor/path/…      the path head (and log_std, the logistic-normal σ)
//	actor/subset/…    the subset head (Config.Subsets)
//	actor/*/prior     the priors' scales (Config.Prior)
//	critic/encoder/…  the critic's encoder
//	critic/head/…     the value head
//	critic/after/…    the staged value head V(s, i) (Config.Staged)
//
// Decision keeps scratch buffers and must not run concurrently.
type Model struct {
	Config Config
	Node   *NodeActor
	Subset *SubsetActor // Config.Subsets; nil without
	Path   *PathActor
	Critic *Critic

	inf    *nn.Tape
	dec    batch
	one    [1]cpn.Obs
	ratios []float32
}

var _ nn.Module = (*Model)(nil)

// New builds a model from cfg, drawing every initial value from rng (the
// same rng state gives the same parameters). Initialisation follows
// CleanRL: orthogonal weights with gain √2 in the encoders and hidden
// layers, 0.01 on the node and path output layers, 1 on the value output,
// zero biases. It panics on an invalid config.
func New(cfg Config, rng *rand.Rand) *Model {
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	node := &NodeActor{Config: cfg, Encoder: newEncoder(cfg, rng)}
	node.Head = newHead(cfg.Dim, cfg, 0.01, rng)
	path := &PathActor{Config: cfg, Head: newHead(2*cfg.Dim, cfg, 0.01, rng), node: node}
	if cfg.Split == SplitLogisticNormal {
		path.LogStd = nn.NewParam(1, 1)
		path.LogStd.V.Data[0] = -0.5
	}
	if cfg.Prior {
		node.Prior = nn.NewParam(1, 1)
		node.Prior.V.Data[0] = -PriorNodeScale
		path.Prior = nn.NewParam(1, 1)
		path.Prior.V.Data[0] = 1
	}
	var subset *SubsetActor
	if cfg.Subsets {
		subset = &SubsetActor{Config: cfg, Head: newHead(2*cfg.Dim+1, cfg, 0.01, rng), node: node}
		if cfg.Prior {
			subset.Prior = nn.NewParam(1, 1)
			subset.Prior.V.Data[0] = PriorSubsetScale
		}
		path.subset = subset
	}
	critic := &Critic{Config: cfg, Encoder: newEncoder(cfg, rng)}
	critic.Head = newHead(2*cfg.Dim+TaskFeatures, cfg, 1, rng)
	if cfg.Staged {
		critic.After = newHead(2*cfg.Dim+TaskFeatures, cfg, 1, rng)
	}
	return &Model{Config: cfg, Node: node, Subset: subset, Path: path, Critic: critic, inf: nn.NewInference()}
}

// Params implements nn.Module (see Model for the names).
func (m *Model) Params(visit func(string, *nn.Param)) {
	m.Node.Encoder.Params(nn.Prefix("actor/encoder", visit))
	m.Node.Head.Params(nn.Prefix("actor/node", visit))
	if m.Node.Prior != nil {
		visit("actor/node/prior", m.Node.Prior)
	}
	if m.Subset != nil {
		m.Subset.Params(nn.Prefix("actor/subset", visit))
	}
	m.Path.Head.Params(nn.Prefix("actor/path", visit))
	if m.Path.LogStd != nil {
		visit("actor/path/log_std", m.Path.LogStd)
	}
	if m.Path.Prior != nil {
		visit("actor/path/prior", m.Path.Prior)
	}
	m.Critic.Params(nn.Prefix("critic", visit))
}

// Combine builds the environment action from the node actor's part
// (parts[0].Index) and the path actor's, the last (its Values).
func Combine(parts []rl.Action) rl.Action {
	return rl.Action{Index: parts[0].Index, Values: parts[len(parts)-1].Values}
}

// Decision returns the deterministic action for one observation, for
// serving: the allowed candidate of largest logit and the mode of the split (α−1)/(α₀−P)
// over its P paths (ratios non-negative, summing to 1). The encoder runs
// once. ratios is reused by the next call; after the first call with a
// given K and P, Decision allocates nothing. It panics if o does not have
// the model's K and P or allows no candidate.
func (m *Model) Decision(o cpn.Obs) (node int, ratios []float32) {
	t := m.inf
	t.Reset()
	m.one[0] = o
	b := &m.dec
	b.fill(m.one[:], m.Config.K, m.Config.P, m.Node.Encoder.edges())
	m.one[0] = cpn.Obs{}
	hc, hp := m.Node.Encoder.forward(t, b)
	b.idx = growInt(b.idx, 1)
	argmaxAllowed(m.Node.head(t, b, hc).Data, b.nodeMask, 1, b.k, b.idx)
	node = b.idx[0]
	m.ratios = grow(m.ratios, b.p)
	if b.p == 1 {
		m.ratios[0] = 1
		return node, m.ratios
	}
	b.choose(b.idx)
	if m.Subset != nil {
		l := m.Subset.head(t, b, hc, hp)
		b.subsets = growInt(b.subsets, 1)
		argmaxAllowed(l.Data, b.sMask, 1, l.Cols, b.subsets)
	}
	m.Path.modeRow(m.ratios, m.Path.alpha(t, b, hc, hp).Data)
	return node, m.ratios
}

// Clone returns a copy of the model with its own buffers: Decision is not
// safe for concurrent use, so a server gives each request a replica.
func (m *Model) Clone() *Model {
	c := New(m.Config, rand.New(rand.NewPCG(0, 0)))
	src, dst := nn.Collect(m), nn.Collect(c)
	for i := range src {
		copy(dst[i].Param.V.Data, src[i].Param.V.Data)
	}
	return c
}

// ConfigJSON returns the config as JSON, as checkpoints store it.
func (m *Model) ConfigJSON() json.RawMessage {
	b, err := json.Marshal(m.Config)
	if err != nil {
		panic("rlms: " + err.Error()) // a struct of strings and ints always marshals
	}
	return b
}

// Save writes the model's parameters to path as a checkpoint of kind Kind
// with the config as its ModelConfig and step as its step.
func (m *Model) Save(path string, step int64) error {
	return checkpoints.Save(path, m, nil, checkpoints.Meta{
		ModelKind:   Kind,
		ModelConfig: m.ConfigJSON(),
		Step:        step,
	})
}

// Load reads a checkpoint written by Save: it builds a model from the
// stored config and loads the parameters into it. It returns an error
// naming the file if the file is not an rlms checkpoint, its config is
// invalid, or any tensor is missing, extra or of the wrong shape.
func Load(path string) (*Model, checkpoints.Meta, error) {
	info, err := checkpoints.Inspect(path)
	if err != nil {
		return nil, checkpoints.Meta{}, err
	}
	if !info.Checkpoint {
		return nil, checkpoints.Meta{}, fmt.Errorf("rlms: %s is not a cpntrain checkpoint", path)
	}
	if info.Meta.ModelKind != Kind {
		return nil, checkpoints.Meta{}, fmt.Errorf("rlms: %s holds a %q model, not %q", path, info.Meta.ModelKind, Kind)
	}
	cfg, err := ParseConfig(info.Meta.ModelConfig)
	if err != nil {
		return nil, checkpoints.Meta{}, fmt.Errorf("rlms: %s: %w", path, err)
	}
	m := New(cfg, rand.New(rand.NewPCG(0, 0)))
	meta, err := checkpoints.Load(path, m, nil, checkpoints.ExpectKind(Kind))
	if err != nil {
		if errors.Is(err, checkpoints.ErrShape) {
			return nil, checkpoints.Meta{}, fmt.Errorf("rlms: %s does not fit the model its config describes, most likely because it was trained on other observation features (this version has %d per candidate, %d per path: retrain the policy): %w",
				path, NodeFeatures, PathFeatures, err)
		}
		return nil, checkpoints.Meta{}, err
	}
	return m, meta, nil
}

// ParseConfig decodes a config stored by Save (unknown fields are an
// error) and validates it.
func ParseConfig(b []byte) (Config, error) {
	var cfg Config
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("rlms: model config: %w", err)
	}
	return cfg, cfg.Validate()
}
