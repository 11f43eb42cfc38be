// Package settings validates trainer settings with one message format:
// "<trainer>: <Field> <value> <what is wrong>". The first failed check is
// kept; later ones are skipped.
//
//	f := settings.New("pg")
//	settings.AtLeast(f, "NumEnvs", c.NumEnvs, 1)
//	return f.Unit("Gamma", c.Gamma).Err()
package settings

import (
	"fmt"
	"math"
)

// Fields accumulates checks of one trainer's settings.
type Fields struct {
	trainer string
	err     error
}

// New starts the checks of trainer's settings.
func New(trainer string) *Fields { return &Fields{trainer: trainer} }

func (f *Fields) fail(format string, args ...any) *Fields {
	if f.err == nil {
		f.err = fmt.Errorf(f.trainer+": "+format, args...)
	}
	return f
}

// AtLeast checks v ≥ min.
func AtLeast[T int | int64](f *Fields, field string, v, min T) *Fields {
	if v < min {
		return f.fail("%s %d < %d", field, v, min)
	}
	return f
}

// NonNeg checks that v is finite and ≥ 0 (learning rates, coefficients).
func (f *Fields) NonNeg(field string, v float64) *Fields {
	if !(v >= 0) || math.IsInf(v, 0) {
		return f.fail("%s %v must be finite and ≥ 0", field, v)
	}
	return f
}

// Unit checks 0 ≤ v ≤ 1 (discount factors, fractions).
func (f *Fields) Unit(field string, v float64) *Fields {
	if !(v >= 0 && v <= 1) {
		return f.fail("%s %v outside [0,1]", field, v)
	}
	return f
}

// Err is the first failed check, or nil.
func (f *Fields) Err() error { return f.err }
