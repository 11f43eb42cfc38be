package tsftrun

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/cpntrain/cpntrain/models/tsft"
)

// BenchmarkSelect times one adaptation with the default selection on a
// real device (raspi4, HELP's split) at 10 and 50 shots, the
// cross-validation included: the bar is 0.5 s per device. The
// base model is pretrained for one epoch (its quality does not change the
// work done). Needs CPNTRAIN_DATA.
func BenchmarkSelect(b *testing.B) {
	env := realEnv(b)
	spec := BaseSpec{Model: tsft.DefaultConfig(), Pretrain: PretrainConfig{Epochs: 1, BatchSize: 512, LR: 2e-3, MinLR: 1e-4}, Devices: DefaultSplit().Train, Seed: 1}
	base, _, _, err := Base(context.Background(), env, spec, BaseOptions{CacheDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	for _, shots := range []int{10, 50} {
		task, err := env.NewTask("raspi4", shots, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(map[int]string{10: "shots=10", 50: "shots=50"}[shots], func(b *testing.B) {
			for b.Loop() {
				if _, _, err := Select(base, env.Features, task.Device.Emb, task.Labelled, task.Y, DefaultAdaptConfig(), DefaultSelectConfig(), rand.New(rand.NewPCG(1, 4))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
