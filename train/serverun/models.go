// Package serverun is `cpntrain serve` and `cpntrain bench serve`: it
// adapts cpntrain's trained models to the decision service of
// internal/serve (the Open Inference Protocol over REST and gRPC) and
// measures it under load.
package serverun

import (
	"context"
	"fmt"
	json "github.com/goccy/go-json"
	"math"
	"strings"
	"sync"

	"github.com/cpntrain/cpntrain/checkpoints"
	"github.com/cpntrain/cpntrain/datasets/nasbench201"
	"github.com/cpntrain/cpntrain/internal/serve"
	"github.com/cpntrain/cpntrain/models/rlms"
	"github.com/cpntrain/cpntrain/models/tsft"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
	"github.com/cpntrain/cpntrain/train/tsftrun"
)

// Kinds lists the model kinds that can be served.
var Kinds = []string{rlms.Kind, tsft.Kind}

// Load reads a model file for serving, by its checkpoint's model kind.
func Load(path string) (serve.Model, error) {
	info, err := checkpoints.Inspect(path)
	if err != nil {
		return nil, err
	}
	if !info.Checkpoint {
		return nil, fmt.Errorf("%s is not a cpntrain checkpoint", path)
	}
	switch info.Meta.ModelKind {
	case rlms.Kind:
		m, _, err := rlms.Load(path)
		if err != nil {
			return nil, err
		}
		return newRLMS(m), nil
	case tsft.Kind:
		a, am, err := tsftrun.LoadAdapted(path)
		if err != nil {
			return nil, err
		}
		return &tsftModel{a: a, am: am}, nil
	}
	return nil, fmt.Errorf("%s: models of kind %q cannot be served yet (servable: %s)", path, info.Meta.ModelKind, strings.Join(Kinds, ", "))
}

// rlmsModel serves RLMS-CPN decisions. Input "observation" (BYTES, one
// element per observation): the observation as JSON, the cpn.Obs the
// simulator hands the controller (docs/serve.md). Outputs "node" (INT64,
// the chosen candidate's index) and "ratios" (FP32, n × P, the split of
// the task's data over the candidate's paths). Model.Decision reuses its
// buffers, so each concurrent request takes a replica from a pool.
type rlmsModel struct {
	cfg  rlms.Config
	base *rlms.Model
	mu   sync.Mutex
	free []*rlms.Model // replicas not in use (a free list: sync.Pool would drop them at every GC)
}

func newRLMS(m *rlms.Model) *rlmsModel {
	return &rlmsModel{cfg: m.Config, base: m, free: []*rlms.Model{m}}
}

// get takes a replica (cloning one when all are in use); put returns it.
func (r *rlmsModel) get() *rlms.Model {
	r.mu.Lock()
	if n := len(r.free); n > 0 {
		m := r.free[n-1]
		r.free = r.free[:n-1]
		r.mu.Unlock()
		return m
	}
	r.mu.Unlock()
	return r.base.Clone() // base's parameters are never written
}

func (r *rlmsModel) put(m *rlms.Model) {
	r.mu.Lock()
	r.free = append(r.free, m)
	r.mu.Unlock()
}

func (r *rlmsModel) Platform() string { return "cpntrain_rlms" }

func (r *rlmsModel) Inputs() []serve.TensorSpec {
	return []serve.TensorSpec{{Name: "observation", Datatype: serve.BYTES, Shape: []int64{-1}}}
}

func (r *rlmsModel) Outputs() []serve.TensorSpec {
	return []serve.TensorSpec{{Name: "node", Datatype: serve.INT64, Shape: []int64{-1}},
		{Name: "ratios", Datatype: serve.FP32, Shape: []int64{-1, int64(r.cfg.P)}}}
}

func (r *rlmsModel) Infer(ctx context.Context, in map[string]*serve.Tensor) ([]serve.Tensor, error) {
	obs := in["observation"].Bytes
	m := r.get()
	defer r.put(m)
	nodes := make([]int64, len(obs))
	ratios := make([]float32, 0, len(obs)*r.cfg.P)
	for i, b := range obs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		o, err := decodeObs(b)
		if err != nil {
			return nil, serve.BadRequest("observation %d: %v", i, err)
		}
		if err := CheckObs(o, r.cfg.K, r.cfg.P); err != nil {
			return nil, serve.BadRequest("observation %d: %v", i, err)
		}
		node, x := m.Decision(o)
		for _, v := range x {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, serve.BadRequest("observation %d: its values give a non-finite split (out-of-range measurements)", i)
			}
		}
		nodes[i] = int64(node)
		ratios = append(ratios, x...)
	}
	n := int64(len(obs))
	return []serve.Tensor{{Name: "node", Datatype: serve.INT64, Shape: []int64{n}, INT64: nodes},
		{Name: "ratios", Datatype: serve.FP32, Shape: []int64{n, int64(r.cfg.P)}, FP32: ratios}}, nil
}

// decodeObs decodes an observation's JSON.
func decodeObs(b []byte) (cpn.Obs, error) {
	var o cpn.Obs
	err := json.Unmarshal(b, &o)
	return o, err
}

// CheckObs reports an observation the model cannot decide on: another K
// or P, slices of the wrong length, no allowed candidate, non-finite
// values.
func CheckObs(o cpn.Obs, k, p int) error {
	switch {
	case o.K != k || o.P != p:
		return fmt.Errorf("K=%d, P=%d; the model decides for K=%d, P=%d", o.K, o.P, k, p)
	case len(o.Nodes) != k || len(o.NodeMask) != k:
		return fmt.Errorf("%d Nodes and %d NodeMask entries for K=%d", len(o.Nodes), len(o.NodeMask), k)
	case len(o.Paths) != k*p || len(o.PathMask) != k*p:
		return fmt.Errorf("%d Paths and %d PathMask entries for K·P=%d", len(o.Paths), len(o.PathMask), k*p)
	case o.Overlap != nil && len(o.Overlap) != k*p*p:
		return fmt.Errorf("%d Overlap entries for K·P·P=%d", len(o.Overlap), k*p*p)
	}
	allowed := false
	for _, m := range o.NodeMask {
		allowed = allowed || m
	}
	if !allowed {
		return fmt.Errorf("no allowed candidate (NodeMask all false)")
	}
	finite := func(vs ...float64) bool {
		for _, v := range vs {
			if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 1e15 {
				return false
			}
		}
		return true
	}
	t := o.Task
	if !finite(t.Arrival, t.Bytes) || t.Images < 0 || t.Arch < 0 || t.Arch >= cpn.NumArchs || t.AP < 0 {
		return fmt.Errorf("task %+v out of range", t)
	}
	for i, c := range o.Nodes {
		if !finite(c.ComputeMs, c.WaitMs, c.WaterFillMs, c.SharedWaterFillMs, c.SinglePathMs, c.EstimateMs) || c.Hops < 0 || c.Class < 0 || int(c.Class) >= cpn.NumClasses {
			return fmt.Errorf("candidate %d: a value out of range", i)
		}
	}
	for i, q := range o.Paths {
		if !finite(q.ProbeMs, q.PropMs, q.BottleneckBps, q.Util, q.AloneMs, q.SharedLinks, q.SharedBottleneckBps, q.BandwidthShare, q.SpeedShare,
			float64(q.WaterFill), float64(q.SharedWaterFill), float64(q.Split)) || q.Hops < 0 {
			return fmt.Errorf("path %d: a value out of range", i)
		}
	}
	return nil
}

// tsftModel serves an adapted TSFT predictor. Input "arch" (BYTES, one
// NAS-Bench-201 architecture string per cell); outputs "latency"
// (normalised) and "latency_ms" (FP32, one per cell; NaN without a
// millisecond map).
type tsftModel struct {
	a  *tsftrun.Adapted
	am tsftrun.AdaptedMeta
}

func (t *tsftModel) Platform() string { return "cpntrain_tsft" }

func (t *tsftModel) Inputs() []serve.TensorSpec {
	return []serve.TensorSpec{{Name: "arch", Datatype: serve.BYTES, Shape: []int64{-1}}}
}

func (t *tsftModel) Outputs() []serve.TensorSpec {
	return []serve.TensorSpec{{Name: "latency", Datatype: serve.FP32, Shape: []int64{-1}}, {Name: "latency_ms", Datatype: serve.FP32, Shape: []int64{-1}}}
}

func (t *tsftModel) Infer(_ context.Context, in map[string]*serve.Tensor) ([]serve.Tensor, error) {
	archs := make([]string, len(in["arch"].Bytes))
	for i, b := range in["arch"].Bytes {
		archs[i] = string(b)
		if _, err := nasbench201.ParseArch(archs[i]); err != nil {
			return nil, serve.BadRequest("arch %d: %v", i, err)
		}
	}
	ps, err := tsftrun.PredictArchs(t.a, t.am, archs)
	if err != nil {
		return nil, err
	}
	n := int64(len(ps))
	lat, ms := make([]float32, n), make([]float32, n)
	for i, p := range ps {
		lat[i], ms[i] = p.Normalised, p.Ms
	}
	return []serve.Tensor{{Name: "latency", Datatype: serve.FP32, Shape: []int64{n}, FP32: lat},
		{Name: "latency_ms", Datatype: serve.FP32, Shape: []int64{n}, FP32: ms}}, nil
}
