package dagnn_test

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/dagnn"
)

// Two job DAGs in one plan: job 0 is the chain 0 → 1 → 2, job 1 the fork
// 3 → 4, 3 → 5. The summaries are computed on the embeddings.
func ExampleModel_Forward() {
	plan, err := dagnn.NewPlan(6, [][2]int{{0, 1}, {1, 2}, {3, 4}, {3, 5}})
	if err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	m := dagnn.New(dagnn.Config{In: 5, Dim: 8, PrepHidden: []int{16, 8}, FHidden: []int{16, 8}, GHidden: []int{16, 8},
		Act: nn.LeakyReLU}, rng)
	s := dagnn.NewSummary(dagnn.SummaryConfig{In: 8, JobHidden: []int{16}, JobOut: 8, GlobalHidden: []int{16}, GlobalOut: 8,
		Act: nn.LeakyReLU}, rng)
	tp := nn.NewInference()
	e := m.Forward(tp, nn.New(6, 5), plan)
	jobs, global := s.Forward(tp, e, []int{0, 0, 0, 1, 1, 1}, 2)
	fmt.Println(plan.NumLevels(), plan.Level(0), plan.Level(3), e.Shape(), jobs.Shape(), global.Shape())
	// Output: 3 2 1 6×8 2×8 1×8
}

func ExampleNewPlan_cycle() {
	_, err := dagnn.NewPlan(4, [][2]int{{0, 1}, {1, 2}, {2, 3}, {3, 1}})
	var ce *dagnn.CycleError
	fmt.Println(err, errors.As(err, &ce), ce.Cycle)
	// Output: dagnn: graph has a cycle 1 → 2 → 3 → 1 true [1 2 3]
}
