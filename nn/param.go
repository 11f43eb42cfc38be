package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
)

// Param is a trainable tensor. Its value V persists across tapes and its
// gradient V.Grad accumulates across Backward calls until cleared (optimizers
// clear it after each step).
//
// A Param has no name of its own: its name is the path under which its
// owning module visits it (see Module), so the same layer type can be reused
// under different prefixes.
type Param struct {
	V *Tensor
}

// NewParam returns a zeroed r×c parameter with a gradient buffer.
func NewParam(r, c int) *Param {
	t := New(r, c)
	t.SetRequiresGrad(true)
	return &Param{V: t}
}

// Module is anything that owns parameters. Params calls visit once per
// parameter with a stable, hierarchical, slash-separated path such as
// "encoder/layer0/w". Optimizers, checkpoints and exports all key parameters
// by these paths.
type Module interface {
	Params(visit func(path string, p *Param))
}

// Prefix returns a visit function that prepends prefix+"/" to paths.
// Layers use it to nest their children: child.Params(nn.Prefix(prefix, visit)).
func Prefix(prefix string, visit func(string, *Param)) func(string, *Param) {
	if prefix == "" {
		return visit
	}
	return func(path string, p *Param) { visit(prefix+"/"+path, p) }
}

// NamedParam is a parameter with its path.
type NamedParam struct {
	Path  string
	Param *Param
}

// Collect lists m's parameters in visit order. It panics if two parameters
// share a path or one parameter appears under two paths (a wiring bug).
func Collect(m Module) []NamedParam {
	var out []NamedParam
	seen := map[string]bool{}
	ptrs := map[*Param]string{}
	m.Params(func(path string, p *Param) {
		if p == nil {
			panic(fmt.Sprintf("nn: Collect: nil parameter at %q", path))
		}
		if seen[path] {
			panic(fmt.Sprintf("nn: Collect: duplicate parameter path %q", path))
		}
		if prev, ok := ptrs[p]; ok {
			panic(fmt.Sprintf("nn: Collect: parameter visited as %q and %q", prev, path))
		}
		seen[path] = true
		ptrs[p] = path
		out = append(out, NamedParam{path, p})
	})
	return out
}

// ParamMap returns m's parameters keyed by path.
func ParamMap(m Module) map[string]*Param {
	out := map[string]*Param{}
	for _, np := range Collect(m) {
		out[np.Path] = np.Param
	}
	return out
}

// NumParams returns the number of scalar parameters of m.
func NumParams(m Module) int {
	n := 0
	m.Params(func(_ string, p *Param) { n += p.V.Len() })
	return n
}

// ZeroGrads clears the gradients of all parameters of m.
func ZeroGrads(m Module) {
	m.Params(func(_ string, p *Param) { p.V.ZeroGrad() })
}

// Modules combines several modules under fixed prefixes, in the given order.
type Modules []struct {
	Name string
	M    Module
}

// Params implements Module.
func (ms Modules) Params(visit func(string, *Param)) {
	for _, m := range ms {
		m.M.Params(Prefix(m.Name, visit))
	}
}

// ParamPaths returns the sorted paths of m's parameters, for messages.
func ParamPaths(m Module) []string {
	var out []string
	m.Params(func(p string, _ *Param) { out = append(out, p) })
	sort.Strings(out)
	return out
}

// Init fills p with values drawn by a named scheme.
type Init func(p *Param, rng *rand.Rand)

// XavierUniform draws from U(-a, a), a = gain·sqrt(6/(fanIn+fanOut)), where
// fanIn = Rows and fanOut = Cols (weights are stored in×out).
func XavierUniform(gain float64) Init {
	return func(p *Param, rng *rand.Rand) {
		a := gain * math.Sqrt(6/float64(p.V.Rows+p.V.Cols))
		for i := range p.V.Data {
			p.V.Data[i] = float32((2*rng.Float64() - 1) * a)
		}
	}
}

// KaimingUniform draws from U(-1/sqrt(fanIn), 1/sqrt(fanIn)), PyTorch's
// default for nn.Linear weights and biases (fanIn given explicitly).
func KaimingUniform(fanIn int) Init {
	return func(p *Param, rng *rand.Rand) {
		a := 1 / math.Sqrt(float64(max(fanIn, 1)))
		for i := range p.V.Data {
			p.V.Data[i] = float32((2*rng.Float64() - 1) * a)
		}
	}
}

// Normal draws from N(0, std²).
func Normal(std float64) Init {
	return func(p *Param, rng *rand.Rand) {
		for i := range p.V.Data {
			p.V.Data[i] = float32(rng.NormFloat64() * std)
		}
	}
}

// Constant fills with v.
func Constant(v float32) Init {
	return func(p *Param, _ *rand.Rand) {
		for i := range p.V.Data {
			p.V.Data[i] = v
		}
	}
}

// validPath reports whether a path is usable as a checkpoint key.
func validPath(p string) bool {
	return p != "" && !strings.HasPrefix(p, "/") && !strings.HasSuffix(p, "/") && !strings.Contains(p, "//")
}

// CheckPaths returns an error if any parameter path of m is malformed.
func CheckPaths(m Module) error {
	var err error
	m.Params(func(p string, _ *Param) {
		if err == nil && !validPath(p) {
			err = fmt.Errorf("nn: malformed parameter path %q", p)
		}
	})
	return err
}

// Orthogonal fills the r×c parameter p with gain·Q, where Q has orthonormal
// columns (r ≥ c) or rows (r < c), from the Gram–Schmidt orthonormalisation
// of a standard normal matrix (torch.nn.init.orthogonal_ up to signs):
// CleanRL's layer_init, used by the rl policies and the RLMS-CPN encoder.
func Orthogonal(p *Param, gain float64, rng *rand.Rand) {
	r, c := p.V.Rows, p.V.Cols
	big, small := max(r, c), min(r, c)
	// q holds `small` vectors of length `big`.
	q := make([][]float64, small)
	for j := range q {
		for {
			v := make([]float64, big)
			for i := range v {
				v[i] = rng.NormFloat64()
			}
			for _, u := range q[:j] {
				var d float64
				for i := range v {
					d += v[i] * u[i]
				}
				for i := range v {
					v[i] -= d * u[i]
				}
			}
			var nrm float64
			for _, x := range v {
				nrm += x * x
			}
			nrm = math.Sqrt(nrm)
			if nrm < 1e-6 {
				continue // degenerate draw: try again
			}
			for i := range v {
				v[i] /= nrm
			}
			q[j] = v
			break
		}
	}
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			var x float64
			if r >= c {
				x = q[j][i]
			} else {
				x = q[i][j]
			}
			p.V.Data[i*c+j] = float32(gain * x)
		}
	}
}
