package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	pb "github.com/cpntrain/cpntrain/internal/oip/inferencepb"
)

// affine is a test model: y = a·x + b elementwise on "x" (FP32, n × 2),
// and "n" (INT64) the number of rows; a sleeps for delay first.
type affine struct {
	a, b  float32
	delay time.Duration
	calls *atomic.Int64
}

func (m *affine) Platform() string { return "test" }
func (m *affine) Inputs() []TensorSpec {
	return []TensorSpec{{Name: "x", Datatype: FP32, Shape: []int64{-1, 2}}}
}
func (m *affine) Outputs() []TensorSpec {
	return []TensorSpec{{Name: "y", Datatype: FP32, Shape: []int64{-1, 2}}, {Name: "n", Datatype: INT64, Shape: []int64{1}}}
}
func (m *affine) Infer(ctx context.Context, in map[string]*Tensor) ([]Tensor, error) {
	if m.calls != nil {
		m.calls.Add(1)
	}
	if m.delay > 0 {
		select {
		case <-time.After(m.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	x := in["x"]
	y := make([]float32, len(x.FP32))
	for i, v := range x.FP32 {
		y[i] = m.a*v + m.b
	}
	return []Tensor{{Name: "y", Datatype: FP32, Shape: x.Shape, FP32: y}, {Name: "n", Datatype: INT64, Shape: []int64{1}, INT64: []int64{x.Shape[0]}}}, nil
}

// testServer serves "aff" (y = 2x + 1) loaded from any path; the loader
// gives version k the model y = 2x + k, so a reload is visible.
func testServer(t *testing.T, cfg Config) (*Server, *atomic.Int64) {
	t.Helper()
	var loads atomic.Int64
	if cfg.Models == nil {
		cfg.Models = []ModelFile{{Name: "aff", Path: "aff.file"}}
	}
	cfg.Load = func(path string) (Model, error) {
		if strings.Contains(path, "broken") {
			return nil, errors.New("broken file")
		}
		k := loads.Add(1)
		return &affine{a: 2, b: float32(k)}, nil
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, &loads
}

func do(t *testing.T, h http.Handler, method, path, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	if rec.Body.Len() > 0 {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %s: body %q is not JSON: %v", method, path, rec.Body.String(), err)
		}
	}
	return rec.Code, out
}

// TestREST: the protocol's endpoints and an inference computed by hand:
// x = [[1, 2], [3, 4]] (nested) → y = 2x + 1 = [3, 5, 7, 9], n = 2.
func TestREST(t *testing.T) {
	s, _ := testServer(t, Config{Version: "v0"})
	h := s.Handler()
	if c, m := do(t, h, "GET", "/v2", ""); c != 200 || m["name"] != "cpntrain" || m["version"] != "v0" {
		t.Fatalf("/v2: %d %v", c, m)
	}
	for _, p := range []string{"/v2/health/live", "/v2/health/ready", "/v2/models/aff/ready", "/v2/models/aff/versions/1/ready"} {
		if c, _ := do(t, h, "GET", p, ""); c != 200 {
			t.Errorf("%s: %d", p, c)
		}
	}
	c, m := do(t, h, "GET", "/v2/models/aff", "")
	if c != 200 || m["platform"] != "test" || fmt.Sprint(m["versions"]) != "[1]" || fmt.Sprint(m["inputs"]) != "[map[datatype:FP32 name:x shape:[-1 2]]]" {
		t.Fatalf("metadata: %d %v", c, m)
	}
	c, m = do(t, h, "POST", "/v2/models/aff/infer", `{"id":"q1","inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[[1, 2], [3, 4]]}]}`)
	if c != 200 || m["id"] != "q1" || m["model_name"] != "aff" || m["model_version"] != "1" {
		t.Fatalf("infer: %d %v", c, m)
	}
	outs := m["outputs"].([]any)
	if y := outs[0].(map[string]any); fmt.Sprint(y["data"]) != "[3 5 7 9]" || fmt.Sprint(y["shape"]) != "[2 2]" || y["datatype"] != "FP32" {
		t.Fatalf("y = %v", y)
	}
	if n := outs[1].(map[string]any); fmt.Sprint(n["data"]) != "[2]" {
		t.Fatalf("n = %v", n)
	}
	// Requested outputs only.
	_, m = do(t, h, "POST", "/v2/models/aff/versions/1/infer", `{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[0,0]}],"outputs":[{"name":"n"}]}`)
	if outs := m["outputs"].([]any); len(outs) != 1 || outs[0].(map[string]any)["name"] != "n" {
		t.Fatalf("outputs [n]: %v", m)
	}
}

// TestRESTErrors: every bad request is a 4xx with {"error": …} naming
// what is wrong.
func TestRESTErrors(t *testing.T) {
	s, _ := testServer(t, Config{MaxBodyBytes: 1024})
	h := s.Handler()
	x := func(shape, dtype, data string) string {
		return `{"inputs":[{"name":"x","shape":` + shape + `,"datatype":"` + dtype + `","data":` + data + `}]}`
	}
	for _, c := range []struct {
		method, path, body string
		code               int
		want               string
	}{
		{"GET", "/v2/models/nosuch", "", 404, `unknown model "nosuch"`},
		{"GET", "/v2/models/aff/versions/7", "", 404, `no version "7"`},
		{"POST", "/v2/models/nosuch/infer", x("[1,2]", "FP32", "[1,2]"), 404, "unknown model"},
		{"POST", "/v2/models/aff/infer", `{`, 400, "request body"},
		{"POST", "/v2/models/aff/infer", `{}`, 400, `no "inputs"`},
		{"POST", "/v2/models/aff/infer", x("[1,2]", "FP32", "[1]"), 400, "needs 2 elements, the data has 1"},
		{"POST", "/v2/models/aff/infer", x("[1,3]", "FP32", "[1,2,3]"), 400, "the model takes [-1 2]"},
		{"POST", "/v2/models/aff/infer", x("[2]", "FP32", "[1,2]"), 400, "the model takes [-1 2]"},
		{"POST", "/v2/models/aff/infer", x("[1,2]", "INT64", "[1,2]"), 400, "datatype INT64, the model takes FP32"},
		{"POST", "/v2/models/aff/infer", x("[1,2]", "FP16", "[1,2]"), 400, `datatype "FP16" is not served`},
		{"POST", "/v2/models/aff/infer", x("[1,2]", "FP32", `["a","b"]`), 400, `"data" is not an array of FP32`},
		{"POST", "/v2/models/aff/infer", x("[1,2]", "FP32", "[1e39,0]"), 400, `"data" is not an array of FP32`},
		{"POST", "/v2/models/aff/infer", x("[-1,2]", "FP32", "[1,2]"), 400, "negative"},
		{"POST", "/v2/models/aff/infer", x("[1,2]", "FP32", "null"), 400, "needs 2 elements"},
		{"POST", "/v2/models/aff/infer", `{"inputs":[{"shape":[1,2],"datatype":"FP32","data":[1,2]}]}`, 400, `no "name"`},
		{"POST", "/v2/models/aff/infer", `{"inputs":[{"name":"z","shape":[1],"datatype":"FP32","data":[1]}]}`, 400, `unknown input "z"`},
		{"POST", "/v2/models/aff/infer", `{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]},{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]}]}`, 400, "given twice"},
		{"POST", "/v2/models/aff/infer", `{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]}],"outputs":[{"name":"q"}]}`, 400, `unknown output "q"`},
		{"POST", "/v2/models/aff/infer", x("[1,2]", "FP32", "["+strings.Repeat("1,", 600)+"1]"), 413, "above 1024 bytes"},
		{"DELETE", "/v2/models/aff", "", 404, "no endpoint DELETE"},
	} {
		code, m := do(t, h, c.method, c.path, c.body)
		msg, _ := m["error"].(string)
		if code != c.code || !strings.Contains(msg, c.want) {
			t.Errorf("%s %s %.60s: %d %q, want %d %q", c.method, c.path, c.body, code, msg, c.code, c.want)
		}
	}
}

// TestFlatten: nested arrays lose their inner brackets; strings keep
// theirs.
func TestFlatten(t *testing.T) {
	for in, want := range map[string]string{
		`[1,2]`:                 `[1,2]`,
		`[[1, 2], [3, 4]]`:      `[1,2,3,4]`,
		`[[[1],[2]],[[3],[4]]]`: `[1,2,3,4]`,
		`[["a[", "b]"], ["c"]]`: `["a[","b]","c"]`,
		`[[], [1]]`:             `[1]`,
		`[["a\"[", "b"]]`:       `["a\"[","b"]`,
	} {
		if got := string(flatten([]byte(in))); got != want {
			t.Errorf("flatten(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestTimeout: an inference past the deadline is a 504 (REST) and
// DeadlineExceeded (gRPC).
func TestTimeout(t *testing.T) {
	s, err := New(Config{Models: []ModelFile{{Name: "slow", Path: "x"}}, Timeout: 20 * time.Millisecond,
		Load: func(string) (Model, error) { return &affine{a: 1, delay: time.Second}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	code, m := do(t, s.Handler(), "POST", "/v2/models/slow/infer", `{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]}]}`)
	if code != 504 || m["error"] != "inference timed out" {
		t.Fatalf("%d %v", code, m)
	}
	_, err = (&grpcService{s: s}).ModelInfer(context.Background(), &pb.ModelInferRequest{ModelName: "slow",
		Inputs: []*pb.ModelInferRequest_InferInputTensor{{Name: "x", Datatype: FP32, Shape: []int64{1, 2}, Contents: &pb.InferTensorContents{Fp32Contents: []float32{1, 2}}}}})
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("gRPC: %v", err)
	}
}

// grpcClient starts s's gRPC side on a loopback port.
func grpcClient(t *testing.T, s *Server) pb.GRPCInferenceServiceClient {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := s.GRPC()
	go g.Serve(ln)
	t.Cleanup(g.Stop)
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return pb.NewGRPCInferenceServiceClient(conn)
}

// TestGRPC: the service over a real connection: metadata, an inference
// by typed contents and one by raw contents (answered raw), and the
// error codes.
func TestGRPC(t *testing.T) {
	s, _ := testServer(t, Config{})
	cl := grpcClient(t, s)
	ctx := context.Background()
	if r, err := cl.ServerLive(ctx, &pb.ServerLiveRequest{}); err != nil || !r.Live {
		t.Fatalf("live: %v %v", r, err)
	}
	if r, err := cl.ModelReady(ctx, &pb.ModelReadyRequest{Name: "aff"}); err != nil || !r.Ready {
		t.Fatalf("ready: %v %v", r, err)
	}
	if r, err := cl.ModelReady(ctx, &pb.ModelReadyRequest{Name: "zz"}); err != nil || r.Ready {
		t.Fatalf("unknown model ready: %v %v", r, err)
	}
	md, err := cl.ModelMetadata(ctx, &pb.ModelMetadataRequest{Name: "aff"})
	if err != nil || md.Platform != "test" || len(md.Inputs) != 1 || md.Inputs[0].Name != "x" || fmt.Sprint(md.Inputs[0].Shape) != "[-1 2]" {
		t.Fatalf("metadata: %v %v", md, err)
	}
	in := &pb.ModelInferRequest_InferInputTensor{Name: "x", Datatype: FP32, Shape: []int64{2, 2}, Contents: &pb.InferTensorContents{Fp32Contents: []float32{1, 2, 3, 4}}}
	r, err := cl.ModelInfer(ctx, &pb.ModelInferRequest{ModelName: "aff", Id: "g1", Inputs: []*pb.ModelInferRequest_InferInputTensor{in}})
	if err != nil || r.Id != "g1" || fmt.Sprint(r.Outputs[0].Contents.Fp32Contents) != "[3 5 7 9]" || fmt.Sprint(r.Outputs[1].Contents.Int64Contents) != "[2]" {
		t.Fatalf("infer: %v %v", r, err)
	}
	raw := rawBytes(&Tensor{Datatype: FP32, FP32: []float32{1, 2, 3, 4}})
	rin := &pb.ModelInferRequest_InferInputTensor{Name: "x", Datatype: FP32, Shape: []int64{2, 2}}
	r, err = cl.ModelInfer(ctx, &pb.ModelInferRequest{ModelName: "aff", Inputs: []*pb.ModelInferRequest_InferInputTensor{rin}, RawInputContents: [][]byte{raw}})
	if err != nil || len(r.RawOutputContents) != 2 || !bytes.Equal(r.RawOutputContents[0], rawBytes(&Tensor{Datatype: FP32, FP32: []float32{3, 5, 7, 9}})) {
		t.Fatalf("raw infer: %v %v", r, err)
	}
	for _, c := range []struct {
		req  *pb.ModelInferRequest
		code codes.Code
		want string
	}{
		{&pb.ModelInferRequest{ModelName: "zz", Inputs: []*pb.ModelInferRequest_InferInputTensor{in}}, codes.NotFound, "unknown model"},
		{&pb.ModelInferRequest{ModelName: "aff"}, codes.InvalidArgument, "no inputs"},
		{&pb.ModelInferRequest{ModelName: "aff", Inputs: []*pb.ModelInferRequest_InferInputTensor{rin}, RawInputContents: [][]byte{raw[:5]}}, codes.InvalidArgument, "not whole FP32"},
		{&pb.ModelInferRequest{ModelName: "aff", Inputs: []*pb.ModelInferRequest_InferInputTensor{rin}, RawInputContents: [][]byte{raw, raw}}, codes.InvalidArgument, "2 entries for 1 inputs"},
		{&pb.ModelInferRequest{ModelName: "aff", Inputs: []*pb.ModelInferRequest_InferInputTensor{{Name: "x", Datatype: FP32, Shape: []int64{3, 2}, Contents: in.Contents}}}, codes.InvalidArgument, "needs 6 elements"},
	} {
		_, err := cl.ModelInfer(ctx, c.req)
		if status.Code(err) != c.code || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %v %q", c.req, err, c.code, c.want)
		}
	}
}

// TestReloadUnderLoad: while 8 clients send requests without pause, the
// model file is reloaded at least 20 times (one reload fails and keeps
// the previous version): every request gets a 200, and afterwards the
// last loaded version answers.
func TestReloadUnderLoad(t *testing.T) {
	s, loads := testServer(t, Config{})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var sent, bad atomic.Int64
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Post(srv.URL+"/v2/models/aff/infer", "application/json", strings.NewReader(`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[0,0]}]}`))
				sent.Add(1)
				if err != nil {
					bad.Add(1)
					continue
				}
				var m restResponse
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || json.Unmarshal(b, &m) != nil {
					bad.Add(1)
				}
			}
		}()
	}
	// 20 reloads, 5 ms apart, the 11th failing; go on (slow machines,
	// the race detector) until the clients have sent 100 requests.
	for i := 0; i < 20 || sent.Load() < 100 && i < 2000; i++ {
		time.Sleep(5 * time.Millisecond)
		if i == 10 {
			s.entries["aff"].path = "broken"
			if err := s.Reload(); err == nil || !strings.Contains(err.Error(), "the previous version stays") {
				t.Errorf("reload of a broken file: %v", err)
			}
			s.entries["aff"].path = "aff.file"
			continue
		}
		if err := s.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if bad.Load() != 0 || sent.Load() < 100 {
		t.Fatalf("%d of %d requests failed during reloads", bad.Load(), sent.Load())
	}
	// One load at start, one per good reload: the last model answers
	// y = 2·0 + (number of loads), as version (number of loads).
	n := loads.Load()
	if v := s.entries["aff"].cur.Load().version; v != fmt.Sprint(n) || n < 20 {
		t.Fatalf("version %s after %d loads", v, n)
	}
	if c, m := do(t, s.Handler(), "POST", "/v2/models/aff/infer", `{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[0,0]}]}`); c != 200 ||
		fmt.Sprint(m["outputs"].([]any)[0].(map[string]any)["data"]) != fmt.Sprintf("[%d %d]", n, n) || m["model_version"] != fmt.Sprint(n) {
		t.Fatalf("after the reloads: %d %v, want y = [%d %d] from version %d", c, m, n, n, n)
	}
	// A handler records its request after writing the answer: wait until
	// the last ones are counted.
	var buf bytes.Buffer
	for end := time.Now().Add(2 * time.Second); ; {
		buf.Reset()
		s.met.write(&buf)
		if strings.Contains(buf.String(), `cpntrain_request_duration_seconds_count{model="aff",protocol="rest"} `+fmt.Sprint(sent.Load()+1)) || time.Now().After(end) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, want := range []string{`cpntrain_model_reloads_total{model="aff",result="ok"} ` + fmt.Sprint(n-1), `cpntrain_model_reloads_total{model="aff",result="failed"} 1`,
		`cpntrain_model_ready{model="aff"} 1`, `cpntrain_requests_total{model="aff",protocol="rest",code="200"} ` + fmt.Sprint(sent.Load()+1), // + the check of version 20
		`cpntrain_request_duration_seconds_count{model="aff",protocol="rest"} ` + fmt.Sprint(sent.Load()+1)} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, buf.String())
		}
	}
}

// TestGracefulShutdown: requests in flight when the server is told to
// stop (REST and gRPC, each taking 300 ms) finish with their answers;
// Run returns after them.
func TestGracefulShutdown(t *testing.T) {
	s, err := New(Config{Models: []ModelFile{{Name: "slow", Path: "x"}},
		Load: func(string) (Model, error) { return &affine{a: 1, delay: 300 * time.Millisecond}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	hl, _ := net.Listen("tcp", "127.0.0.1:0")
	gl, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx, hl, gl, nil, 5*time.Second, io.Discard) }()
	conn, err := grpc.NewClient(gl.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cl := pb.NewGRPCInferenceServiceClient(conn)
	var wg sync.WaitGroup
	var restCode int
	var grpcErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		resp, err := http.Post("http://"+hl.Addr().String()+"/v2/models/slow/infer", "application/json", strings.NewReader(`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]}]}`))
		if err == nil {
			restCode = resp.StatusCode
			resp.Body.Close()
		}
	}()
	go func() {
		defer wg.Done()
		_, grpcErr = cl.ModelInfer(context.Background(), &pb.ModelInferRequest{ModelName: "slow",
			Inputs: []*pb.ModelInferRequest_InferInputTensor{{Name: "x", Datatype: FP32, Shape: []int64{1, 2}, Contents: &pb.InferTensorContents{Fp32Contents: []float32{1, 2}}}}})
	}()
	time.Sleep(100 * time.Millisecond) // both in flight
	cancel()
	wg.Wait()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if restCode != 200 || grpcErr != nil {
		t.Fatalf("in-flight requests: REST %d, gRPC %v", restCode, grpcErr)
	}
}

// TestRESTBinary: Triton's binary data extension. The JSON header says
// its length in Inference-Header-Content-Length; x = (1, 2) follows as 8
// raw bytes: y = 2x + 1 = (3, 5). Malformed lengths are 400s.
func TestRESTBinary(t *testing.T) {
	s, _ := testServer(t, Config{})
	h := s.Handler()
	post := func(header string, hdrLen string, bin []byte) (int, map[string]any) {
		req := httptest.NewRequest("POST", "/v2/models/aff/infer", bytes.NewReader(append([]byte(header), bin...)))
		req.Header.Set("Inference-Header-Content-Length", hdrLen)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var m map[string]any
		json.Unmarshal(rec.Body.Bytes(), &m)
		return rec.Code, m
	}
	x := rawBytes(&Tensor{Datatype: FP32, FP32: []float32{1, 2}})
	hdr := `{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","parameters":{"binary_data_size":8}}]}`
	code, m := post(hdr, fmt.Sprint(len(hdr)), x)
	if code != 200 || fmt.Sprint(m["outputs"].([]any)[0].(map[string]any)["data"]) != "[3 5]" {
		t.Fatalf("binary request: %d %v", code, m)
	}
	for _, c := range []struct {
		header, length string
		bin            []byte
		want           string
	}{
		{hdr, "x", x, "is not a length"},
		{hdr, "9999", x, "is not a length"},
		{hdr, fmt.Sprint(len(hdr)), x[:4], "binary_data_size 8, but 4 binary bytes are left"},
		{hdr, fmt.Sprint(len(hdr)), append(x, 1), "1 bytes of binary data that no input"},
		{`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2],"parameters":{"binary_data_size":8}}]}`, "", x, `both "data" and binary_data_size`},
		{`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","parameters":{"binary_data_size":"8"}}]}`, "", x, `"parameters"`},
	} {
		if c.length == "" {
			c.length = fmt.Sprint(len(c.header))
		}
		code, m := post(c.header, c.length, c.bin)
		if msg, _ := m["error"].(string); code != 400 || !strings.Contains(msg, c.want) {
			t.Errorf("%s (length %s): %d %v, want 400 %q", c.header, c.length, code, m, c.want)
		}
	}
}
