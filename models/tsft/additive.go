package tsft

import (
	"encoding/json"
	"errors"
	"math"

	"github.com/cpntrain/cpntrain/internal/ridge"
)

// Additive is a per-device layer-wise latency model:
// B + Σ_op Beta[op]·count(op in the cell). Latency on several devices is
// close to a sum of per-operation costs; a network adapted from 10–50
// samples captures that structure only approximately, so train/tsftrun.Adapt
// blends the network with this model (see train/tsftrun.Adapted).
//
// It differs from models/baselines.LayerWise (the published baseline, a
// ridge with a fixed tiny λ on standardised counts): the ridge strength
// here, on the raw op counts, is chosen by exact leave-one-out
// cross-validation over a grid that includes "no model", which matters
// with 10 samples. Both are fitted by the same solver, internal/ridge.
type Additive struct {
	B    float32
	Beta [NumOps]float32
	// Lambda is the chosen ridge strength (+Inf: no model, predicts 0).
	Lambda float64
}

// additiveJSON is the JSON form of Additive: the field names of the
// "additive" entry that cmd/cpntrain's tsft command writes into checkpoint
// metadata, unchanged since that entry exists.
type additiveJSON struct {
	B      float32
	Beta   [NumOps]float32
	Lambda json.RawMessage
}

// infJSON is Lambda = +Inf in JSON, which has no infinite numbers.
const infJSON = `"+Inf"`

// MarshalJSON encodes c as {"B":…,"Beta":[…],"Lambda":…}, with a finite
// Lambda as a number (byte for byte what encoding/json wrote for the plain
// struct) and "no model" (Lambda = +Inf) as the string "+Inf", which
// encoding/json cannot write as a number.
func (c Additive) MarshalJSON() ([]byte, error) {
	lam := []byte(infJSON)
	if !math.IsInf(c.Lambda, 1) {
		var err error
		if lam, err = json.Marshal(c.Lambda); err != nil {
			return nil, err
		}
	}
	return json.Marshal(additiveJSON{B: c.B, Beta: c.Beta, Lambda: lam})
}

// UnmarshalJSON decodes what MarshalJSON writes: Lambda is a number or the
// string "+Inf".
func (c *Additive) UnmarshalJSON(data []byte) error {
	var v additiveJSON
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	lam := math.Inf(1)
	switch {
	case len(v.Lambda) == 0 || string(v.Lambda) == "null":
		return errors.New("tsft: additive model without Lambda")
	case string(v.Lambda) != infJSON:
		if err := json.Unmarshal(v.Lambda, &lam); err != nil {
			return err
		}
	}
	*c = Additive{B: v.B, Beta: v.Beta, Lambda: lam}
	return nil
}

// None reports whether c is "no model" (Lambda = +Inf): it predicts 0.
func (c Additive) None() bool { return math.IsInf(c.Lambda, 1) }

// Apply adds the model's prediction for cells idx to pred, in place.
func (c Additive) Apply(f *Features, idx []int, pred []float32) []float32 {
	if math.IsInf(c.Lambda, 1) {
		return pred
	}
	for i, j := range idx {
		v := c.B
		for _, op := range f.Cells[j] {
			v += c.Beta[op]
		}
		pred[i] += v
	}
	return pred
}

// additiveGrid is the candidate ridge strengths of FitAdditive, in order of
// preference on a tie: "no model" (+Inf) first, then increasing λ (a
// penalty λ‖Beta‖² on the op counts, the intercept B unpenalised).
var additiveGrid = []float64{math.Inf(1), 1e-3, 1e-2, 1e-1, 1, 10, 100}

// FitAdditive fits the additive model to targets r on the cells idx: the
// ridge regression of r on the op counts whose λ ∈ {1e-3, 1e-2, …, 100}
// has the least exact leave-one-out mean squared error, or "no model"
// (Lambda = +Inf) when the mean square of r, its leave-one-out error, is
// not beaten. Ties keep "no model", then the smaller λ. Fewer than 3 cells
// always give "no model".
func FitAdditive(f *Features, idx []int, r []float32) Additive {
	n := len(idx)
	none := Additive{Lambda: math.Inf(1)}
	if n < 3 {
		return none
	}
	x := make([]float64, n*NumOps)
	y := make([]float64, n)
	for i, j := range idx {
		for _, op := range f.Cells[j] {
			x[i*NumOps+int(op)]++
		}
		y[i] = float64(r[i])
	}
	pr, err := ridge.New(x, NumOps, y, ridge.Centre)
	if err != nil { // a NaN or infinite target
		return none
	}
	lam, _, err := pr.SelectLOO(additiveGrid)
	if err != nil || math.IsInf(lam, 1) {
		return none
	}
	b, beta, err := pr.Fit(lam)
	if err != nil {
		return none
	}
	c := Additive{B: float32(b), Lambda: lam}
	for k := range c.Beta {
		c.Beta[k] = float32(beta[k])
	}
	return c
}
