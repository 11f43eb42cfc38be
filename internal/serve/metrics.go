package serve

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// latencyBuckets are the upper bounds (s) of the request-latency
// histogram.
var latencyBuckets = []float64{50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 1, 5}

// histogram counts observations per bucket (cumulated when written).
type histogram struct {
	counts [15]atomic.Int64 // len(latencyBuckets) + 1 (+Inf)
	sumNs  atomic.Int64
	n      atomic.Int64
}

func (h *histogram) observe(d time.Duration) {
	s := d.Seconds()
	i := sort.SearchFloat64s(latencyBuckets, s)
	h.counts[i].Add(1)
	h.sumNs.Add(int64(d))
	h.n.Add(1)
}

type reqKey struct{ model, protocol, code string }

type latKey struct{ model, protocol string }

// metrics are the server's Prometheus metrics.
type metrics struct {
	mu       sync.RWMutex
	requests map[reqKey]*atomic.Int64
	latency  map[latKey]*histogram
	ready    map[string]bool
	reloads  map[[2]string]int64
}

func newMetrics() *metrics {
	return &metrics{requests: map[reqKey]*atomic.Int64{}, latency: map[latKey]*histogram{}, ready: map[string]bool{}, reloads: map[[2]string]int64{}}
}

// request records one request and its latency.
func (m *metrics) request(model, protocol, code string, d time.Duration) {
	k := reqKey{model, protocol, code}
	m.mu.RLock()
	c, ok := m.requests[k]
	h, okh := m.latency[latKey{model, protocol}]
	m.mu.RUnlock()
	if !ok || !okh {
		m.mu.Lock()
		if c, ok = m.requests[k]; !ok {
			c = new(atomic.Int64)
			m.requests[k] = c
		}
		if h, okh = m.latency[latKey{model, protocol}]; !okh {
			h = new(histogram)
			m.latency[latKey{model, protocol}] = h
		}
		m.mu.Unlock()
	}
	c.Add(1)
	h.observe(d)
}

func (m *metrics) setReady(model string, r bool) {
	m.mu.Lock()
	m.ready[model] = r
	m.mu.Unlock()
}

func (m *metrics) reload(model string, ok bool) {
	res := "ok"
	if !ok {
		res = "failed"
	}
	m.mu.Lock()
	m.reloads[[2]string{model, res}]++
	m.mu.Unlock()
}

// write writes the metrics in Prometheus's text exposition format.
func (m *metrics) write(w io.Writer) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	fmt.Fprintln(w, "# HELP cpntrain_requests_total Inference requests by model, protocol and status code.")
	fmt.Fprintln(w, "# TYPE cpntrain_requests_total counter")
	var rk []reqKey
	for k := range m.requests {
		rk = append(rk, k)
	}
	sort.Slice(rk, func(i, j int) bool { return fmt.Sprint(rk[i]) < fmt.Sprint(rk[j]) })
	for _, k := range rk {
		fmt.Fprintf(w, "cpntrain_requests_total{model=%q,protocol=%q,code=%q} %d\n", k.model, k.protocol, k.code, m.requests[k].Load())
	}
	fmt.Fprintln(w, "# HELP cpntrain_request_duration_seconds Inference request latency by model and protocol.")
	fmt.Fprintln(w, "# TYPE cpntrain_request_duration_seconds histogram")
	var lk []latKey
	for k := range m.latency {
		lk = append(lk, k)
	}
	sort.Slice(lk, func(i, j int) bool { return fmt.Sprint(lk[i]) < fmt.Sprint(lk[j]) })
	for _, k := range lk {
		h := m.latency[k]
		var cum int64
		for i := range len(latencyBuckets) + 1 {
			cum += h.counts[i].Load()
			le := "+Inf"
			if i < len(latencyBuckets) {
				le = fmt.Sprint(latencyBuckets[i])
			}
			fmt.Fprintf(w, "cpntrain_request_duration_seconds_bucket{model=%q,protocol=%q,le=%q} %d\n", k.model, k.protocol, le, cum)
		}
		fmt.Fprintf(w, "cpntrain_request_duration_seconds_sum{model=%q,protocol=%q} %g\n", k.model, k.protocol, float64(h.sumNs.Load())/1e9)
		fmt.Fprintf(w, "cpntrain_request_duration_seconds_count{model=%q,protocol=%q} %d\n", k.model, k.protocol, h.n.Load())
	}
	fmt.Fprintln(w, "# HELP cpntrain_model_ready Whether a model is loaded and serving (1) or not (0).")
	fmt.Fprintln(w, "# TYPE cpntrain_model_ready gauge")
	var names []string
	for n := range m.ready {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v := 0
		if m.ready[n] {
			v = 1
		}
		fmt.Fprintf(w, "cpntrain_model_ready{model=%q} %d\n", n, v)
	}
	fmt.Fprintln(w, "# HELP cpntrain_model_reloads_total Model reloads by result.")
	fmt.Fprintln(w, "# TYPE cpntrain_model_reloads_total counter")
	var rl [][2]string
	for k := range m.reloads {
		rl = append(rl, k)
	}
	sort.Slice(rl, func(i, j int) bool { return rl[i][0]+rl[i][1] < rl[j][0]+rl[j][1] })
	for _, k := range rl {
		fmt.Fprintf(w, "cpntrain_model_reloads_total{model=%q,result=%q} %d\n", k[0], k[1], m.reloads[k])
	}
}
