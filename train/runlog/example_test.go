package runlog_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/cpntrain/cpntrain/train/runlog"
)

func ExampleCreate() {
	tmp, err := os.MkdirTemp("", "runlog-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)

	cfg := struct {
		LR    float64 `json:"lr"`
		Steps int     `json:"steps"`
	}{LR: 2.5e-4, Steps: 2}
	run, err := runlog.Create(filepath.Join(tmp, "ppo-cpn"), runlog.Options{Config: cfg})
	if err != nil {
		log.Fatal(err)
	}
	for step := int64(1); step <= 2; step++ {
		run.Scalar("losses/value_loss", step, 1/float64(step))
		run.Scalar("charts/episodic_return", step, 10*float64(step))
	}
	if err := run.Close(); err != nil {
		log.Fatal(err)
	}

	recs, err := runlog.ReadMetrics(run.MetricsPath())
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range recs {
		fmt.Println(r.Step, r.Values["losses/value_loss"], r.Values["charts/episodic_return"])
	}
	events, err := runlog.ReadEvents(run.EventsPath())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(events), "events, the first one", events[0].FileVersion)
	// Output:
	// 1 1 10
	// 2 0.5 20
	// 3 events, the first one brain.Event:2
}

func ExampleMaskedCRC32C() {
	fmt.Printf("%#08x\n", runlog.MaskedCRC32C([]byte("123456789")))
	// Output: 0xc78ab0e5
}
