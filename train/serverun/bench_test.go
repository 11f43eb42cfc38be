package serverun

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/cpntrain/cpntrain/internal/serve"
	"github.com/cpntrain/cpntrain/models/rlms"
)

// benchPolicy serves an untrained RLMS-CPN policy (the decision's cost
// does not depend on the weights) and returns the handler, the REST
// bodies and the raw observations.
func benchPolicy(b *testing.B) (http.Handler, [][]byte, [][]byte, *rlms.Model) {
	dir := os.Getenv("CPNTRAIN_DATA")
	if dir == "" {
		b.Skip("CPNTRAIN_DATA is not set")
	}
	m := rlms.New(rlms.DefaultConfig(), rand.New(rand.NewPCG(1, 1)))
	path := filepath.Join(b.TempDir(), "p.safetensors")
	if err := m.Save(path, 0); err != nil {
		b.Fatal(err)
	}
	s, err := serve.New(serve.Config{Models: []serve.ModelFile{{Name: "policy", Path: path}}, Load: Load})
	if err != nil {
		b.Fatal(err)
	}
	obs, err := observations(m, dir, 64)
	if err != nil {
		b.Fatal(err)
	}
	bodies := make([][]byte, len(obs))
	for i, o := range obs {
		bodies[i], _ = json.Marshal(map[string]any{"inputs": []map[string]any{{"name": "observation", "shape": []int{1}, "datatype": "BYTES", "data": []string{string(o)}}}})
	}
	return s.Handler(), bodies, obs, m
}

// BenchmarkRESTDecision is one RLMS-CPN decision through the REST
// handler, without the network: the server's CPU cost per request.
func BenchmarkRESTDecision(b *testing.B) {
	h, bodies, _, _ := benchPolicy(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/v2/models/policy/infer", bytes.NewReader(bodies[i%len(bodies)])))
		if rec.Code != 200 {
			b.Fatal(rec.Body.String())
		}
	}
}

// BenchmarkDecodeObservation is the JSON decoding of one observation.
func BenchmarkDecodeObservation(b *testing.B) {
	_, _, obs, _ := benchPolicy(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := decodeObs(obs[i%len(obs)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMinimalHandler is the minimal JSON handler of bench serve.
func BenchmarkMinimalHandler(b *testing.B) {
	h := minimalHandler()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/", bytes.NewReader([]byte(`{"x":[1,2,3]}`))))
	}
}
