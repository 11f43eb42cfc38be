package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/cpntrain/cpntrain/internal/oip/inferencepb"
	"github.com/cpntrain/cpntrain/models/rlms"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
	"github.com/cpntrain/cpntrain/train/tsftrun"
)

// abileneEnv is the simulator on Abilene (the default network of 'rlms
// train'), reset with seed, and its first observation.
func abileneEnv(t *testing.T, root string, seed uint64) (*cpn.Env, cpn.Obs) {
	t.Helper()
	cfg := cpn.DefaultConfig()
	cfg.DataDir = root
	network, err := cpn.NewNetwork(cfg)
	if err != nil {
		t.Fatal(err)
	}
	env := cpn.NewEnv(network)
	o, err := env.Reset(seed)
	if err != nil {
		t.Fatal(err)
	}
	return env, o
}

// freePort returns a loopback address nobody listens on (now).
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestServeEndToEnd is the path a user takes: train a small RLMS-CPN
// policy ('rlms train') and adapt a TSFT predictor ('tsft'), serve both
// ('cpntrain serve' in its own process), and query them over REST and
// gRPC: the served decisions are the ones the policy takes in 'rlms eval'
// (Model.Decision, on 30 observations of the simulator) and the served
// latencies the ones 'tsft predict' computes, exactly. Then SIGHUP
// reloads the models (the version moves to 2) and SIGTERM stops the
// server cleanly.
func TestServeEndToEnd(t *testing.T) {
	root := dataRoot(t)
	out := t.TempDir()
	var so, se bytes.Buffer
	if code := run([]string{"cpntrain", "--quiet", "--data-dir", root, "--out", filepath.Join(out, "rlms"), "rlms", "train", "--steps", "2000",
		"--tsft-shots", "0", "--eval-seeds", "0"}, &so, &se); code != 0 {
		t.Fatalf("rlms train: exit %d: %s", code, se.String())
	}
	if code := run([]string{"cpntrain", "--quiet", "--data-dir", root, "--out", filepath.Join(out, "tsft"), "tsft", "--device", "fpga", "--shots", "20",
		"--epochs", "1", "--cache", t.TempDir()}, &so, &se); code != 0 {
		t.Fatalf("tsft: exit %d: %s", code, se.String())
	}
	policy, predictor := filepath.Join(out, "rlms", "model.safetensors"), filepath.Join(out, "tsft", "tsft-fpga.safetensors")
	httpAddr, grpcAddr := freePort(t), freePort(t)
	var stderr bytes.Buffer
	cmd := startChild(t, []string{"serve", "--model", "policy=" + policy, "--model", "fpga=" + predictor, "--http", httpAddr, "--grpc", grpcAddr}, &stderr)
	defer cmd.Process.Kill()
	base := "http://" + httpAddr
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/v2/health/ready")
		if err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready: %v\n%s", err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	gc := pb.NewGRPCInferenceServiceClient(conn)

	// RLMS-CPN: observations from the simulator, decided locally and by
	// the server.
	m, _, err := rlms.Load(policy)
	if err != nil {
		t.Fatal(err)
	}
	env, o := abileneEnv(t, root, 7)
	for i := range 30 {
		node, ratios := m.Decision(o)
		want := fmt.Sprintf("%d %v", node, ratios)
		ob, _ := json.Marshal(o)
		body, _ := json.Marshal(map[string]any{"inputs": []map[string]any{{"name": "observation", "shape": []int{1}, "datatype": "BYTES", "data": []string{string(ob)}}}})
		resp, err := http.Post(base+"/v2/models/policy/infer", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var rr struct {
			Outputs []struct {
				Name string
				Data json.RawMessage
			}
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || json.Unmarshal(b, &rr) != nil || len(rr.Outputs) != 2 {
			t.Fatalf("REST decision %d: %d %s", i, resp.StatusCode, b)
		}
		var rn []int
		var rx []float32
		json.Unmarshal(rr.Outputs[0].Data, &rn)
		json.Unmarshal(rr.Outputs[1].Data, &rx)
		if got := fmt.Sprintf("%d %v", rn[0], rx); got != want {
			t.Fatalf("observation %d: REST decided %s, the policy %s", i, got, want)
		}
		gr, err := gc.ModelInfer(context.Background(), &pb.ModelInferRequest{ModelName: "policy", Inputs: []*pb.ModelInferRequest_InferInputTensor{
			{Name: "observation", Datatype: "BYTES", Shape: []int64{1}, Contents: &pb.InferTensorContents{BytesContents: [][]byte{ob}}}}})
		if err != nil {
			t.Fatalf("gRPC decision %d: %v", i, err)
		}
		if got := fmt.Sprintf("%d %v", gr.Outputs[0].Contents.Int64Contents[0], gr.Outputs[1].Contents.Fp32Contents); got != want {
			t.Fatalf("observation %d: gRPC decided %s, the policy %s", i, got, want)
		}
		st, err := env.Step(rl.Action{Index: node, Values: append([]float32(nil), ratios...)})
		if err != nil {
			t.Fatal(err)
		}
		o = st.Obs
	}

	// TSFT: the served latencies are tsft predict's.
	arch := "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
	a, am, err := tsftrun.LoadAdapted(predictor)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := tsftrun.PredictArchs(a, am, []string{arch})
	if err != nil {
		t.Fatal(err)
	}
	gr, err := gc.ModelInfer(context.Background(), &pb.ModelInferRequest{ModelName: "fpga", Inputs: []*pb.ModelInferRequest_InferInputTensor{
		{Name: "arch", Datatype: "BYTES", Shape: []int64{1}, Contents: &pb.InferTensorContents{BytesContents: [][]byte{[]byte(arch)}}}}})
	if err != nil || gr.Outputs[1].Contents.Fp32Contents[0] != ps[0].Ms || gr.Outputs[0].Contents.Fp32Contents[0] != ps[0].Normalised {
		t.Fatalf("TSFT over gRPC: %v %v, tsft predict %+v", gr, err, ps[0])
	}

	// SIGHUP reloads; SIGTERM stops.
	cmd.Process.Signal(syscall.SIGHUP)
	for {
		resp, err := http.Get(base + "/v2/models/policy/versions/2/ready")
		if err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline.Add(10 * time.Second)) {
			t.Fatalf("no version 2 after SIGHUP: %v\n%s", err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"serving policy, fpga", "reloaded 2 models", "shutting down"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("server log lacks %q:\n%s", want, stderr.String())
		}
	}
}
