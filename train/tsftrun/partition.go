package tsftrun

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/cpntrain/cpntrain/train/metrics"
)

// A Partition is one train/test split of the measured devices: the base
// model is pretrained on Train and adapted to each Test device.
type Partition struct {
	Name string
	// Rule says how the test devices were chosen (for the tables).
	Rule        string
	Train, Test []string
}

// TwinRho is the Spearman correlation (over all cells) at or above which
// two devices count as near-twins: a test device's twins never sit in
// training. On HELP's data it pairs 2080ti_256 with titan_rtx_256 (ρ 1.000)
// and the batch-256 Pascal GPUs titanx_256, titanxp_256 and 1080ti_256
// (0.996–0.998); the next pair is 1080ti_1 / titan_rtx_32 at 0.987.
const TwinRho = 0.99

// Family returns the hardware family of a device: a GPU at any batch size
// (titan_rtx_1, titan_rtx_32 and titan_rtx_256 are the family titan_rtx);
// every other device is its own family.
func Family(device string) string {
	if i := strings.LastIndexByte(device, '_'); i > 0 {
		switch device[i+1:] {
		case "1", "32", "256":
			if device != "essential_ph_1" {
				return device[:i]
			}
		}
	}
	return device
}

// Correlations holds the Spearman correlation of every pair of devices over
// all cells.
type Correlations struct {
	Devices []string
	rho     [][]float64
}

// NewCorrelations computes the correlations of the loaded devices (sorted
// by name). Partitions are a design of the benchmark, so they may look at
// every cell; no model sees these numbers.
func (e *Env) NewCorrelations() *Correlations {
	var names []string
	for n := range e.Raw {
		names = append(names, n)
	}
	slices.Sort(names)
	c := &Correlations{Devices: names, rho: make([][]float64, len(names))}
	for i := range names {
		c.rho[i] = make([]float64, len(names))
		c.rho[i][i] = 1
		for j := 0; j < i; j++ {
			r := metrics.Spearman(e.Raw[names[i]], e.Raw[names[j]])
			c.rho[i][j], c.rho[j][i] = r, r
		}
	}
	return c
}

// Rho returns the correlation of two loaded devices (NaN if unknown).
func (c *Correlations) Rho(a, b string) float64 {
	i, j := slices.Index(c.Devices, a), slices.Index(c.Devices, b)
	if i < 0 || j < 0 {
		return math.NaN()
	}
	return c.rho[i][j]
}

// TrainFor returns the training devices of a test set: every device of
// pool that is not a test device, not of a test device's family and not a
// near-twin (ρ ≥ TwinRho) of one, in pool order.
func (c *Correlations) TrainFor(test, pool []string) []string {
	var out []string
	for _, d := range pool {
		keep := true
		for _, t := range test {
			if d == t || Family(d) == Family(t) || c.Rho(d, t) >= TwinRho {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, d)
		}
	}
	return out
}

// fixedTests are the test sets of the documented partitions, before the
// generated ones: HELP's split; NASFLAT's default task ND (its own training
// list); four partitions that each test one device of every class (phone,
// Intel CPU, other: Raspberry Pi / FPGA / Eyeriss, GPU; mix-4 has two
// phones and no "other", the classes being uneven), which is the situation
// of a user whose new device has relatives in training but no family
// member or near-twin; and one partition per device class, a class never
// seen in training (the hardest case).
var fixedTests = []struct {
	name, rule string
	test       []string
	train      []string // nil: TrainFor
}{
	{"help", "HELP's six test devices (titanx_32, the validation device, kept out of training)", DefaultSplit().Test, DefaultSplit().Train},
	{"nasflat-nd", "NASFLAT's task ND: HELP's test devices, NASFLAT's 9 training devices", DefaultSplit().Test,
		[]string{"1080ti_1", "1080ti_32", "1080ti_256", "silver_4114", "silver_4210r", "samsung_a50", "pixel3", "essential_ph_1", "samsung_s7"}},
	{"mix-1", "one device per class: phone, CPU, other, GPU", []string{"essential_ph_1", "gold_6226", "raspi4", "1080ti_1"}, nil},
	{"mix-2", "one device per class: phone, CPU, other, GPU", []string{"pixel2", "gold_6240", "fpga", "2080ti_32"}, nil},
	{"mix-3", "one device per class: phone, CPU, other, GPU", []string{"pixel3", "silver_4114", "eyeriss", "titanxp_256"}, nil},
	{"mix-4", "one device per class: phone, CPU, other, GPU", []string{"samsung_a50", "silver_4210r", "titan_rtx_1", "samsung_s7"}, nil},
	{"phones", "every phone; no phone in training", []string{"essential_ph_1", "pixel2", "pixel3", "samsung_a50", "samsung_s7"}, nil},
	{"cpus", "every Intel CPU; no CPU in training", []string{"gold_6226", "gold_6240", "silver_4114", "silver_4210r"}, nil},
	{"gpus", "one batch size of four GPU families; those families out of training", []string{"1080ti_1", "2080ti_32", "titan_rtx_1", "titanxp_256"}, nil},
	{"edge", "Raspberry Pi 4, FPGA and Eyeriss; none of them in training", []string{"raspi4", "fpga", "eyeriss"}, nil},
}

// NumFixedPartitions is the number of documented partitions Partitions
// returns before generated ones.
var NumFixedPartitions = len(fixedTests)

// Custom returns the partition of the given test devices: trained on every
// other device but the validation device that TrainFor allows.
func (c *Correlations) Custom(test []string) Partition {
	valid := DefaultSplit().Valid
	pool := slices.DeleteFunc(slices.Clone(c.Devices), func(d string) bool { return slices.Contains(valid, d) })
	return Partition{Name: "custom", Rule: "the devices asked for (--devices)", Train: c.TrainFor(test, pool), Test: slices.Clone(test)}
}

// Partitions returns n partitions: the documented ones first
// (NumFixedPartitions), then partitions generated by correlation
// (Generate, seeds 1, 2, …), skipping a generated test set already used.
// The validation device (titanx_32) is never tested.
func (c *Correlations) Partitions(n int) ([]Partition, error) {
	if n <= 0 {
		return nil, fmt.Errorf("tsft: %d partitions: need at least one", n)
	}
	valid := DefaultSplit().Valid
	pool := slices.DeleteFunc(slices.Clone(c.Devices), func(d string) bool { return slices.Contains(valid, d) })
	var out []Partition
	seen := map[string]bool{}
	for _, f := range fixedTests {
		if len(out) == n {
			return out, nil
		}
		train := f.train
		if train == nil {
			train = c.TrainFor(f.test, pool)
		}
		if f.name != "help" && f.name != "nasflat-nd" {
			seen[strings.Join(f.test, ",")] = true
		}
		out = append(out, Partition{Name: f.name, Rule: f.rule, Train: slices.Clone(train), Test: slices.Clone(f.test)})
	}
	for seed := uint64(1); len(out) < n; seed++ {
		if seed > 1000 {
			return out, fmt.Errorf("tsft: only %d distinct partitions found", len(out))
		}
		p := c.Generate(pool, 3+int(seed%3), seed)
		key := strings.Join(p.Test, ",")
		if seen[key] || len(p.Train) < 3 {
			continue
		}
		seen[key] = true
		out = append(out, p)
	}
	return out, nil
}

// Generate returns a partition drawn by correlation, after NASFLAT's rule
// (Akhauri & Abdelfattah, MLSys 2024): a random balanced bisection of pool
// refined by Kernighan–Lin swaps to minimise the correlation between the
// halves, then the test half trimmed to nTest devices by repeatedly
// dropping the one most correlated with the other half (the hardest
// devices stay), and the training devices those of the other half that
// TrainFor allows. It is deterministic for a seed.
func (c *Correlations) Generate(pool []string, nTest int, seed uint64) Partition {
	rng := rand.New(rand.NewPCG(seed, 0x9a27))
	perm := rng.Perm(len(pool))
	side := make([]bool, len(pool)) // true: test half
	for r, i := range perm {
		side[i] = r < len(pool)/2
	}
	rho := func(i, j int) float64 { return c.Rho(pool[i], pool[j]) }
	cross := func(i int) float64 { // Σ ρ to the other half
		var s float64
		for j := range pool {
			if side[j] != side[i] {
				s += rho(i, j)
			}
		}
		return s
	}
	inner := func(i int) float64 {
		var s float64
		for j := range pool {
			if j != i && side[j] == side[i] {
				s += rho(i, j)
			}
		}
		return s
	}
	// Kernighan–Lin: swap the pair with the largest decrease of the cut
	// correlation while one exists (at most len(pool)² swaps).
	for iter := 0; iter < len(pool)*len(pool); iter++ {
		bi, bj, best := -1, -1, 1e-12
		for i := range pool {
			if !side[i] {
				continue
			}
			for j := range pool {
				if side[j] {
					continue
				}
				// gain = D_i + D_j − 2ρ_ij with D = cross − inner.
				g := cross(i) - inner(i) + cross(j) - inner(j) - 2*rho(i, j)
				if g > best {
					bi, bj, best = i, j, g
				}
			}
		}
		if bi < 0 {
			break
		}
		side[bi], side[bj] = false, true
	}
	var test, rest []string
	for i, d := range pool {
		if side[i] {
			test = append(test, d)
		} else {
			rest = append(rest, d)
		}
	}
	for len(test) > nTest {
		worst, ws := -1, math.Inf(-1)
		for i, d := range test {
			var s float64
			for _, r := range rest {
				s += c.Rho(d, r)
			}
			if s > ws {
				worst, ws = i, s
			}
		}
		test = slices.Delete(test, worst, worst+1)
	}
	slices.Sort(test)
	return Partition{Name: fmt.Sprintf("corr-%d", seed), Rule: fmt.Sprintf("correlation bisection (NASFLAT's rule), seed %d", seed),
		Train: c.TrainFor(test, rest), Test: test}
}
