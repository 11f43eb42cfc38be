package dspporun

import "testing"

// TestStalled: the best return is the first maximum; the rule holds once
// it is patience episodes old.
func TestStalled(t *testing.T) {
	s := Stalled(3)
	for _, c := range []struct {
		r    []float64
		want bool
	}{
		{nil, false},
		{[]float64{1, 0, 0}, false},
		{[]float64{1, 0, 0, 0}, true},
		{[]float64{1, 0, 1, 0, 0}, true}, // a tie is not better
		{[]float64{1, 0, 2, 0, 0}, false},
	} {
		if got := s(c.r); got != c.want {
			t.Errorf("%v: %v, want %v", c.r, got, c.want)
		}
	}
}
