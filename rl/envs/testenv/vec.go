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
