package tsftrun

import (
	"fmt"
	"os"
	"runtime/metrics"
	"testing"
	"time"
)

// heapLimit bounds the live heap of this package's tests (their peak RSS
// is under 50 MB). A defect that grows a slice without end (e.g. a loop
// counter running backwards in NewTask's pool loop) would otherwise fill
// the machine's memory before the test timeout; the guard fails the test
// binary instead.
const heapLimit = 1 << 30

func TestMain(m *testing.M) {
	go memoryGuard(heapLimit, 100*time.Millisecond)
	os.Exit(m.Run())
}

// memoryGuard exits the process with a failure when the heap's live
// objects exceed limit bytes.
func memoryGuard(limit uint64, every time.Duration) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	for range time.Tick(every) {
		metrics.Read(s)
		if v := s[0].Value.Uint64(); v > limit {
			fmt.Fprintf(os.Stderr, "FAIL: heap objects %d MB exceed the tests' limit of %d MB: runaway allocation\n", v>>20, limit>>20)
			os.Exit(3)
		}
	}
}
