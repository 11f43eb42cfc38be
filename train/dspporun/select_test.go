package dspporun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cpntrain/cpntrain/checkpoints"
	"github.com/cpntrain/cpntrain/models/dsppo"
	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/rl/envs/cluster"
)

type oneParam struct{ p *nn.Param }

func (m oneParam) Params(visit func(string, *nn.Param)) { visit("p", m.p) }

// TestSelectorRestoresTheBest: a one-parameter "model" whose policy is
// first-fit when the parameter is 1 or 3 and fastest-fit when it is 2
// (fastest-fit scores better on small()'s selection queue: checked).
// A run from step 0 scores its first report (step 100: the initial
// parameter 0), then at the first report from each multiple of 256 (256,
// 512, 768; not 300). Scored at 0, 1, 2, 3, the selector restores 2,
// calls onBest twice (the first score beats +Inf, 2's beats it); with a
// threshold below every score it keeps nothing.
func TestSelectorRestoresTheBest(t *testing.T) {
	cfg := Config{Env: small(), SelectEvery: 256, SelectQueues: 1}
	m := oneParam{nn.NewParam(1, 1)}
	method := func() Method {
		if m.p.V.Data[0] == 2 {
			return Method{"fastest", cluster.Fastest}
		}
		return Method{"first", cluster.FirstFit}
	}
	var bests []int64
	s := newSelector(cfg, 0, func() nn.Module { return m }, method, math.Inf(1), func(step int64, _ float64) error {
		bests = append(bests, step)
		return nil
	})
	var scores []float64
	vals := []float32{0, 1, 1, 2, 3} // 300 is not due
	for i, step := range []int64{100, 256, 300, 512, 768} {
		m.p.V.Data[0] = vals[i]
		c, ok, err := s.observe(step)
		if err != nil {
			t.Fatal(err)
		}
		if ok != (step != 300) {
			t.Fatalf("step %d: scored %v", step, ok)
		}
		if ok {
			scores = append(scores, c)
		}
	}
	if len(scores) != 4 || !(scores[2] < scores[0]) || scores[1] != scores[0] || scores[3] != scores[0] {
		t.Fatalf("scores %v: want first-fit, first-fit, fastest-fit (lower), first-fit", scores)
	}
	if !s.restore() || m.p.V.Data[0] != 2 || len(bests) != 2 || bests[0] != 100 || bests[1] != 512 {
		t.Fatalf("restored %v, onBest at %v", m.p.V.Data[0], bests)
	}
	if step, score, ok := s.selected(); !ok || step != 512 || score != scores[2] {
		t.Fatalf("selected %d %v %v", step, score, ok)
	}
	m.p.V.Data[0] = 1
	s = newSelector(cfg, 0, func() nn.Module { return m }, method, 0, nil)
	if _, ok, _ := s.observe(256); !ok || s.restore() {
		t.Fatalf("a threshold of 0 s kept parameters")
	}
	// Resumed at step 1000, the next scoring is at the first step from
	// 1024 (an uninterrupted run's), not at once.
	s = newSelector(cfg, 1000, func() nn.Module { return m }, method, math.Inf(1), nil)
	for _, c := range []struct {
		step int64
		want bool
	}{{1010, false}, {1030, true}, {1100, false}, {1280, true}} {
		if _, ok, _ := s.observe(c.step); ok != c.want {
			t.Fatalf("resumed at 1000: scored at %d: %v, want %v", c.step, ok, c.want)
		}
	}
}

// TestRunTrainSelectionResumes: a run with selection interrupted after a
// checkpoint (anywhere: the test cancels once one exists) and resumed
// ends with the model of an uninterrupted run, byte for byte, and keeps
// its best score in BestScoreFile.
func TestRunTrainSelectionResumes(t *testing.T) {
	cfg := DefaultConfig(cluster.Stable)
	cfg.Env, cfg.Model = small(), dsppo.DefaultConfig(2)
	cfg.Model.Dim = 8
	cfg.PPO.TotalTimesteps, cfg.PPO.NumSteps, cfg.PPO.NumMinibatches = 4096, 256, 4
	// A high learning rate: the best score comes by 1024 (checked below),
	// before the interruption, and later ones are worse or ties, so a
	// resumed run must remember it.
	cfg.PPO.LearningRate = 0.1
	cfg.SelectEvery, cfg.SelectQueues, cfg.Patience = 512, 1, 0
	rc := RunConfig{Dir: filepath.Join(t.TempDir(), "ref"), Train: cfg, CheckpointEvery: 1, Quiet: true}
	ref, err := RunTrain(context.Background(), rc)
	if err != nil {
		t.Fatal(err)
	}
	if !ref.Result.Selected || ref.Result.SelectedStep >= 1536 {
		t.Fatalf("selected %v at step %d: the test needs a best before the interruption", ref.Result.Selected, ref.Result.SelectedStep)
	}
	rc.Dir = filepath.Join(t.TempDir(), "cut")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for ctx.Err() == nil {
			if step, ok, _ := checkpoints.StepOf(filepath.Join(rc.Dir, StateFile)); ok && step >= 1536 {
				cancel()
			}
			time.Sleep(time.Millisecond)
		}
	}()
	_, err = RunTrain(ctx, rc)
	cancel()
	if err == nil {
		t.Log("the run finished before it was interrupted")
	} else if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	rep, err := RunTrain(context.Background(), rc)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(ref.ModelPath)
	b, _ := os.ReadFile(rep.ModelPath)
	if !bytes.Equal(a, b) || rep.Result.SelectedScore != ref.Result.SelectedScore {
		t.Errorf("resumed: selected %v (step %d), uninterrupted %v (step %d); models equal %v", rep.Result.SelectedScore, rep.Result.SelectedStep,
			ref.Result.SelectedScore, ref.Result.SelectedStep, bytes.Equal(a, b))
	}
	var bs bestScore
	if b, err := os.ReadFile(filepath.Join(rc.Dir, BestScoreFile)); err != nil || json.Unmarshal(b, &bs) != nil || bs.AvgCompletionS != ref.Result.SelectedScore {
		t.Errorf("%s: %+v, %v", BestScoreFile, bs, err)
	}
}
