package serverun

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/cpntrain/cpntrain/internal/oip/inferencepb"
	"github.com/cpntrain/cpntrain/internal/serve"
	"github.com/cpntrain/cpntrain/models/rlms"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
)

// BenchConfig configures `cpntrain bench serve`.
type BenchConfig struct {
	// Policy is an RLMS-CPN checkpoint (required); Predictor an adapted
	// TSFT predictor ("": not measured).
	Policy, Predictor string
	// DataDir holds the topologies and latencies the observations are
	// drawn from (the policy's network).
	DataDir string
	// Clients is the number of concurrent clients; Requests the requests
	// per measurement; Duration the longest a measurement runs.
	Clients, Requests int
	Duration          time.Duration
	// Reload reloads the models every this often during the REST
	// measurement of the policy (0: never), counting failed requests.
	Reload time.Duration
}

// BenchRow is one measurement.
type BenchRow struct {
	Target, Protocol   string
	Requests, Failed   int
	Seconds, PerSecond float64
	// P50, P99 and P999 are latency percentiles in ms.
	P50, P99, P999 float64
	// Reloads counts model reloads during the measurement.
	Reloads int
}

// load runs clients goroutines sending requests (send(i) does request i)
// until n are done or d has passed, and measures them.
func load(ctx context.Context, clients, n int, d time.Duration, send func(i int) error) (BenchRow, error) {
	var next, failed atomic.Int64
	lat := make([][]float64, clients)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	var firstErr atomic.Value
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(deadline) {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				if err := send(i); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				lat[c] = append(lat[c], float64(time.Since(t0).Microseconds())/1000)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	all := slices.Concat(lat...)
	slices.Sort(all)
	row := BenchRow{Requests: len(all) + int(failed.Load()), Failed: int(failed.Load()), Seconds: el, PerSecond: float64(len(all)) / el}
	if len(all) > 0 {
		q := func(p float64) float64 { return all[min(len(all)-1, int(p*float64(len(all))))] }
		row.P50, row.P99, row.P999 = q(0.5), q(0.99), q(0.999)
	}
	if e := firstErr.Load(); e != nil && row.Failed == row.Requests {
		return row, fmt.Errorf("every request failed: %v", e)
	}
	return row, ctx.Err()
}

// observations returns n observations of the policy's network, from a
// simulator stepped by the policy itself.
func observations(m *rlms.Model, dataDir string, n int) ([][]byte, error) {
	cfg := cpn.DefaultConfig()
	cfg.DataDir, cfg.K, cfg.P = dataDir, m.Config.K, m.Config.P
	net, err := cpn.NewNetwork(cfg)
	if err != nil {
		return nil, err
	}
	env := cpn.NewEnv(net)
	o, err := env.Reset(1)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for len(out) < n {
		b, err := json.Marshal(o)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
		node, x := m.Decision(o)
		st, err := env.Step(rl.Action{Index: node, Values: append([]float32(nil), x...)})
		if err != nil {
			return nil, err
		}
		if o = st.Obs; st.Truncated || st.Terminated {
			if o, err = env.Reset(uint64(len(out) + 1)); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// minimalHandler decodes a small JSON body and answers a small one.
func minimalHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v struct{ X []float64 }
		if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"y": len(v.X)})
	})
}

// Bench serves the models on loopback and measures them under load over
// REST and gRPC, next to a minimal Go JSON handler on the same machine
// (the ceiling of any JSON-over-HTTP service here). Client and server
// share the machine.
func Bench(ctx context.Context, cfg BenchConfig, log io.Writer) ([]BenchRow, error) {
	models := []serve.ModelFile{{Name: "policy", Path: cfg.Policy}}
	if cfg.Predictor != "" {
		models = append(models, serve.ModelFile{Name: "predictor", Path: cfg.Predictor})
	}
	s, err := serve.New(serve.Config{Models: models, Load: Load, Timeout: 5 * time.Second, Version: "bench"})
	if err != nil {
		return nil, err
	}
	m, _, err := rlms.Load(cfg.Policy)
	if err != nil {
		return nil, err
	}
	obs, err := observations(m, cfg.DataDir, 256)
	if err != nil {
		return nil, err
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	sctx, stop := context.WithCancel(ctx)
	reload := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- s.Run(sctx, hl, gl, reload, 10*time.Second, io.Discard) }()
	defer func() { stop(); <-done }()

	// The ceiling: a minimal handler decoding a small JSON body and
	// answering a small JSON body.
	ml, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	minimal := &http.Server{Handler: minimalHandler()}
	go minimal.Serve(ml)
	defer minimal.Close()

	tr := &http.Transport{MaxIdleConns: cfg.Clients, MaxIdleConnsPerHost: cfg.Clients, MaxConnsPerHost: cfg.Clients}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	post := func(url string, body []byte) error {
		resp, err := hc.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return err
	}
	restBodies := make([][]byte, len(obs))
	binBodies := make([][]byte, len(obs))
	binHeaderLen := make([]string, len(obs))
	for i, o := range obs {
		restBodies[i], _ = json.Marshal(map[string]any{"inputs": []map[string]any{{"name": "observation", "shape": []int{1}, "datatype": "BYTES", "data": []string{string(o)}}}})
		// Triton's binary data extension: the observation as raw BYTES
		// (a 4-byte length, then the JSON) after the JSON header.
		hdr, _ := json.Marshal(map[string]any{"inputs": []map[string]any{{"name": "observation", "shape": []int{1}, "datatype": "BYTES",
			"parameters": map[string]any{"binary_data_size": 4 + len(o)}}}})
		binHeaderLen[i] = fmt.Sprint(len(hdr))
		binBodies[i] = binary.LittleEndian.AppendUint32(hdr, uint32(len(o)))
		binBodies[i] = append(binBodies[i], o...)
	}
	postBinary := func(url string, i int) error {
		req, err := http.NewRequest("POST", url, bytes.NewReader(binBodies[i]))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("Inference-Header-Content-Length", binHeaderLen[i])
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return err
	}
	var conns []*grpc.ClientConn
	for range 4 {
		c, err := grpc.NewClient(gl.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, err
		}
		defer c.Close()
		conns = append(conns, c)
	}
	gcs := make([]pb.GRPCInferenceServiceClient, len(conns))
	for i, c := range conns {
		gcs[i] = pb.NewGRPCInferenceServiceClient(c)
	}
	arch := []byte("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
	restArch, _ := json.Marshal(map[string]any{"inputs": []map[string]any{{"name": "arch", "shape": []int{1}, "datatype": "BYTES", "data": []string{string(arch)}}}})
	base := "http://" + hl.Addr().String() + "/v2/models/"

	type run struct {
		target, protocol string
		send             func(i int) error
		reload           bool
	}
	runs := []run{
		{"minimal Go JSON handler", "REST", func(i int) error { return post("http://"+ml.Addr().String()+"/", []byte(`{"x":[1,2,3]}`)) }, false},
		{"RLMS-CPN decision", "REST", func(i int) error { return post(base+"policy/infer", restBodies[i%len(restBodies)]) }, false},
		{"RLMS-CPN decision, binary data", "REST", func(i int) error { return postBinary(base+"policy/infer", i%len(binBodies)) }, false},
		{"RLMS-CPN decision", "gRPC", func(i int) error {
			_, err := gcs[i%len(gcs)].ModelInfer(ctx, &pb.ModelInferRequest{ModelName: "policy", Inputs: []*pb.ModelInferRequest_InferInputTensor{
				{Name: "observation", Datatype: serve.BYTES, Shape: []int64{1}, Contents: &pb.InferTensorContents{BytesContents: [][]byte{obs[i%len(obs)]}}}}})
			return err
		}, false},
	}
	if cfg.Reload > 0 {
		runs = append(runs, run{"RLMS-CPN decision, reloading", "REST", runs[1].send, true})
	}
	if cfg.Predictor != "" {
		runs = append(runs,
			run{"TSFT latency", "REST", func(i int) error { return post(base+"predictor/infer", restArch) }, false},
			run{"TSFT latency", "gRPC", func(i int) error {
				_, err := gcs[i%len(gcs)].ModelInfer(ctx, &pb.ModelInferRequest{ModelName: "predictor", Inputs: []*pb.ModelInferRequest_InferInputTensor{
					{Name: "arch", Datatype: serve.BYTES, Shape: []int64{1}, Contents: &pb.InferTensorContents{BytesContents: [][]byte{arch}}}}})
				return err
			}, false})
	}
	var rows []BenchRow
	for _, r := range runs {
		// Warm up: connections, pools.
		if _, err := load(ctx, cfg.Clients, 2*cfg.Clients, cfg.Duration, r.send); err != nil {
			return rows, fmt.Errorf("%s over %s: %w", r.target, r.protocol, err)
		}
		var reloads atomic.Int64
		rstop := make(chan struct{})
		var rwg sync.WaitGroup
		if r.reload {
			rwg.Add(1)
			go func() {
				defer rwg.Done()
				t := time.NewTicker(cfg.Reload)
				defer t.Stop()
				for {
					select {
					case <-rstop:
						return
					case <-t.C:
						reload <- struct{}{}
						reloads.Add(1)
					}
				}
			}()
		}
		row, err := load(ctx, cfg.Clients, cfg.Requests, cfg.Duration, r.send)
		close(rstop)
		rwg.Wait()
		row.Target, row.Protocol, row.Reloads = r.target, r.protocol, int(reloads.Load())
		if err != nil {
			return rows, fmt.Errorf("%s over %s: %w", r.target, r.protocol, err)
		}
		fmt.Fprintf(log, "%-32s %-4s %7.0f req/s  p50 %6.2f ms  p99 %6.2f ms  p99.9 %6.2f ms  (%d requests, %d failed, %d reloads)\n",
			row.Target, row.Protocol, row.PerSecond, row.P50, row.P99, row.P999, row.Requests, row.Failed, row.Reloads)
		rows = append(rows, row)
	}
	return rows, nil
}

// WriteBench writes the measurements as a Markdown table with each
// row's throughput and p99 relative to the minimal handler's.
func WriteBench(w io.Writer, rows []BenchRow, cfg BenchConfig) {
	fmt.Fprintf(w, "%d concurrent clients on loopback, up to %d requests or %s per row, client and server in one process on this machine.\n\n", cfg.Clients, cfg.Requests, cfg.Duration)
	fmt.Fprintln(w, "| target | protocol | requests/s | vs minimal | p50 (ms) | p99 (ms) | p99 vs minimal | p99.9 (ms) | failed | reloads |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	var ref BenchRow
	if len(rows) > 0 {
		ref = rows[0]
	}
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %.0f | %.0f %% | %.2f | %.2f | %.2f× | %.2f | %d of %d | %d |\n", r.Target, r.Protocol, r.PerSecond,
			100*r.PerSecond/ref.PerSecond, r.P50, r.P99, r.P99/ref.P99, r.P999, r.Failed, r.Requests, r.Reloads)
	}
}
