package testenv

// Vec is a plain feature-vector observation.
type Vec struct {
	X    []float32
	Mask []bool // nil: every action allowed
}

// Features implements rl.Vector.
func (v Vec) Features() []float32 { return v.X }

// ActionMask implements rl.Masked.
func (v Vec) ActionMask() []bool { return v.Mask }

func clone(v Vec) Vec {
	c := Vec{X: append([]float32(nil), v.X...)}
	if v.Mask != nil {
		c.Mask = append([]bool(nil), v.Mask...)
	}
	return c
}
