package nasbench201

import (
	"math"
	"slices"
	"testing"
)

func TestTrimOutliers(t *testing.T) {
	t.Parallel()
	// 20 values: positions int(2) … int(18)-1 of the order by latency stay.
	lat := make([]float32, 20)
	for i := range lat {
		lat[i] = float32((i * 7) % 20) // a permutation of 0 … 19
	}
	got := TrimOutliers(lat, Pool(0, 20))
	if len(got) != 16 {
		t.Fatalf("kept %d, want 16", len(got))
	}
	for k, i := range got {
		if lat[i] != float32(k+2) {
			t.Fatalf("position %d: index %d with latency %v, want latency %d", k, i, lat[i], k+2)
		}
	}
	// Ties are broken by index.
	tied := []float32{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}
	if got := TrimOutliers(tied, Pool(0, 10)); !slices.Equal(got, []int{1, 2, 3, 4, 5, 6, 7, 8}) {
		t.Errorf("ties: %v", got)
	}
	if got := len(TrimOutliers(make([]float32, NumArchs), Pool(0, HELPTrainPool))); got != 720 {
		t.Errorf("trimmed training pool has %d, want 720", got)
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	got := Normalize([]float32{2, 4, 6, 8}, 4, 6, HELPPortion)
	want := []float32{-0.85, 0.05, 0.95, 1.85}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > 1e-6 {
			t.Fatalf("Normalize = %v, want %v", got, want)
		}
	}
	lo, hi := MinMax([]float32{5, 3, 9, 1}, []int{0, 1, 2})
	if lo != 3 || hi != 9 {
		t.Errorf("MinMax = %v, %v", lo, hi)
	}
	lo, hi = MinMax([]float32{5, 3, 9, 1}, nil)
	if lo != 1 || hi != 9 {
		t.Errorf("MinMax(nil) = %v, %v", lo, hi)
	}
}

func TestHELPDevices(t *testing.T) {
	t.Parallel()
	train, valid, test := HELPDevices()
	all := slices.Concat(train, valid, test)
	if len(train) != 9 || len(valid) != 4 || len(test) != 6 || len(slices.Compact(slices.Sorted(slices.Values(all)))) != 19 {
		t.Fatalf("split %v %v %v", train, valid, test)
	}
	for _, d := range all {
		if !isDevice(d) {
			t.Errorf("unknown device %s", d)
		}
	}
}

func TestHELPNormalizationOnData(t *testing.T) {
	d := loadAll(t)
	for _, dev := range Devices() {
		norm, err := d.NormalizedLatency(dev)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := MinMax(norm, TrimOutliers(d.Latency[dev], Pool(0, HELPTrainPool)))
		if math.Abs(float64(lo)-0.05) > 1e-6 || math.Abs(float64(hi)-0.95) > 1e-6 {
			t.Errorf("%s: trimmed training pool normalised to [%v, %v]", dev, lo, hi)
		}
		emb, err := d.HardwareEmbedding(dev)
		if err != nil {
			t.Fatal(err)
		}
		elo, ehi := MinMax(emb, nil)
		if len(emb) != NumRefs || elo != 0 || math.Abs(float64(ehi)-1) > 1e-6 {
			t.Errorf("%s: embedding %v", dev, emb)
		}
	}
	if _, err := d.NormalizedLatency("nope"); err == nil {
		t.Error("no error for an unknown device")
	}
}
