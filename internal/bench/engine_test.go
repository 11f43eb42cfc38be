package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestEngineSmoke runs the benchmark with tiny budgets (no timing assertions:
// speed goals are checked by the benchmark itself, not by tests).
func TestEngineSmoke(t *testing.T) {
	o := EngineOptions{Rounds: 1, MinTime: time.Millisecond}
	r, err := Engine(context.Background(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.TrainStepUS <= 0 || r.InferUS <= 0 || r.Matmul256GFLOPS <= 0 {
		t.Fatalf("non-positive measurement: %+v", r)
	}
	if r.InferAllocs != 0 {
		t.Fatalf("batch-1 inference allocates %.1f per call", r.InferAllocs)
	}
	var buf bytes.Buffer
	r.Markdown(&buf)
	if !strings.Contains(buf.String(), "train step") {
		t.Fatalf("table lacks the train-step row:\n%s", buf.String())
	}
}

func TestEngineRejectsBadOptions(t *testing.T) {
	if _, err := Engine(context.Background(), EngineOptions{}, nil); err == nil {
		t.Fatal("zero rounds accepted")
	}
}
