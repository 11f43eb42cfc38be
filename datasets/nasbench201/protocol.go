package nasbench201

import (
	"cmp"
	"fmt"
	"slices"
)

// HELP's protocol on this data (HELP's loader.py, utils.py and parser.py
// defaults); see the package documentation.
const (
	// HELPTrainPool is the number of architectures of the training pool:
	// indices 0 … HELPTrainPool-1 (num_meta_train_sample).
	HELPTrainPool = 900
	// HELPQueryPool is the number of architectures of the query (test)
	// pool: indices HELPTrainPool … HELPTrainPool+HELPQueryPool-1
	// (num_query).
	HELPQueryPool = 1000
	// HELPPortion is the width of the normalised latency range:
	// normalised latencies of the pool span [0.05, 0.95].
	HELPPortion = 0.9
	// HELPOutlierFrac is the fraction of each pool dropped at each end
	// (lowest and highest latencies) when HELP removes outliers.
	HELPOutlierFrac = 0.1
)

// HELPDevices returns HELP's device split: the meta-training devices,
// the meta-validation devices and the meta-test (unseen) devices. The
// other 8 devices are not used by HELP.
func HELPDevices() (train, valid, test []string) {
	return []string{"1080ti_1", "1080ti_32", "1080ti_256", "silver_4114", "silver_4210r", "samsung_a50", "pixel3", "essential_ph_1", "samsung_s7"},
		[]string{"titanx_1", "titanx_32", "titanx_256", "gold_6240"},
		[]string{"titan_rtx_256", "gold_6226", "fpga", "pixel2", "raspi4", "eyeriss"}
}

// Pool returns the architecture indices start, start+1, …, start+n-1, for
// instance Pool(0, HELPTrainPool) or Pool(HELPTrainPool, HELPQueryPool).
func Pool(start, n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = start + i
	}
	return idx
}

// TrimOutliers returns the indices of idx sorted by latency (ties by
// index), without the first and last HELPOutlierFrac of them: positions
// int(0.1·n) … int(0.9·n)-1, as HELP's remove_outlier does (720 of a pool of
// 900). HELP sorts with NumPy's unstable argsort, so on devices with tied
// latencies (the phones) the indices kept at the two cuts can differ from
// HELP's. It panics if an index is out of range of lat.
func TrimOutliers(lat []float32, idx []int) []int {
	s := slices.Clone(idx)
	slices.SortStableFunc(s, func(a, b int) int {
		if c := cmp.Compare(lat[a], lat[b]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	n := len(s)
	return s[int(float64(n)*HELPOutlierFrac):int(float64(n)*(1-HELPOutlierFrac))]
}

// MinMax returns the smallest and largest of lat[i] for i in idx, or of all
// of lat if idx is nil. It panics if there are no values.
func MinMax(lat []float32, idx []int) (lo, hi float32) {
	if idx == nil {
		if len(lat) == 0 {
			panic("nasbench201: MinMax of no values")
		}
		return slices.Min(lat), slices.Max(lat)
	}
	if len(idx) == 0 {
		panic("nasbench201: MinMax of no values")
	}
	lo, hi = lat[idx[0]], lat[idx[0]]
	for _, i := range idx[1:] {
		lo, hi = min(lo, lat[i]), max(hi, lat[i])
	}
	return lo, hi
}

// Normalize returns (x-lo)/(hi-lo)·portion + (1-portion)/2 for each x of
// lat, HELP's normalization: portion HELPPortion maps [lo, hi] to
// [0.05, 0.95], portion 1 to [0, 1]. Values outside [lo, hi] map outside
// that range. It panics if hi <= lo.
func Normalize(lat []float32, lo, hi, portion float32) []float32 {
	if !(hi > lo) {
		panic(fmt.Sprintf("nasbench201: Normalize with hi %v <= lo %v", hi, lo))
	}
	out := make([]float32, len(lat))
	scale := portion / (hi - lo)
	off := (1 - portion) / 2
	for i, x := range lat {
		out[i] = (x-lo)*scale + off
	}
	return out
}

// NormalizedLatency returns the latencies of device normalised HELP's way:
// min-max over the training pool (the first HELPTrainPool indices) without
// its outliers (TrimOutliers), mapped to [0.05, 0.95]; all NumArchs values
// are returned, those outside the trimmed pool's range fall outside
// [0.05, 0.95].
func (d *Data) NormalizedLatency(device string) ([]float32, error) {
	lat, ok := d.Latency[device]
	if !ok {
		return nil, fmt.Errorf("nasbench201: device %q not loaded", device)
	}
	lo, hi := MinMax(lat, TrimOutliers(lat, Pool(0, HELPTrainPool)))
	return Normalize(lat, lo, hi, HELPPortion), nil
}

// HardwareEmbedding returns HELP's hardware embedding of device: its
// latencies on the NumRefs reference architectures (RefIndices), min-max
// normalised among themselves to [0, 1].
func (d *Data) HardwareEmbedding(device string) ([]float32, error) {
	lat, ok := d.Latency[device]
	if !ok {
		return nil, fmt.Errorf("nasbench201: device %q not loaded", device)
	}
	ref := make([]float32, len(d.RefIndices))
	for i, j := range d.RefIndices {
		ref[i] = lat[j]
	}
	lo, hi := MinMax(ref, nil)
	if !(hi > lo) {
		return nil, fmt.Errorf("nasbench201: device %q: the reference latencies are all %v", device, lo)
	}
	return Normalize(ref, lo, hi, 1), nil
}
