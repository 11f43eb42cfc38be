package serve

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	pb "github.com/cpntrain/cpntrain/internal/oip/inferencepb"
)

// FuzzRESTInfer: any request body, with or without a binary-data header,
// gets a JSON answer, 200 or a 4xx with an "error"; nothing panics.
func FuzzRESTInfer(f *testing.F) {
	f.Add(`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","parameters":{"binary_data_size":8}}]}`+"\x00\x00\x80\x3f\x00\x00\x00\x40", 92)
	for _, s := range []string{
		`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]}]}`,
		`{"inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[[1,2],[3,4]]}],"outputs":[{"name":"y"}]}`,
		`{"inputs":[{"name":"x","shape":[1,2],"datatype":"BYTES","data":["a","b"]}]}`,
		`{"inputs":[{"name":"x","shape":[9223372036854775807,2],"datatype":"FP32","data":[1,2]}]}`,
		`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[[[[`,
		`{"inputs":[]}`, `[]`, `null`, ``, `{"inputs":[{"name":"x","shape":[0,2],"datatype":"FP32","data":[]}]}`,
	} {
		f.Add(s, -1)
	}
	s, err := New(Config{Models: []ModelFile{{Name: "aff", Path: "x"}}, MaxBodyBytes: 1 << 16,
		Load: func(string) (Model, error) { return &affine{a: 2, b: 1}, nil }})
	if err != nil {
		f.Fatal(err)
	}
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body string, binaryHeaderLen int) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/v2/models/aff/infer", strings.NewReader(body))
		if binaryHeaderLen >= 0 {
			req.Header.Set(binaryHeader, fmt.Sprint(binaryHeaderLen))
		}
		h.ServeHTTP(rec, req)
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("body %q: answer %d %q is not JSON", body, rec.Code, rec.Body.String())
		}
		switch {
		case rec.Code == 200:
		case rec.Code >= 400 && rec.Code < 500:
			if e, _ := m["error"].(string); e == "" {
				t.Fatalf("body %q: %d without an error message", body, rec.Code)
			}
		default:
			t.Fatalf("body %q: status %d", body, rec.Code)
		}
	})
}

// FuzzRawContents: any raw bytes for any datatype decode or give a
// request error; nothing panics.
func FuzzRawContents(f *testing.F) {
	f.Add("BYTES", []byte{3, 0, 0, 0, 'a', 'b', 'c'})
	f.Add("BYTES", []byte{255, 255, 255, 255, 'a'})
	f.Add("FP32", []byte{0, 0, 128, 63})
	f.Add("INT64", []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, dtype string, raw []byte) {
		tt, err := tensorFromPB(&pb.ModelInferRequest_InferInputTensor{Name: "x", Datatype: dtype, Shape: []int64{1}}, raw, true)
		if err != nil {
			if !isRequestError(err) {
				t.Fatalf("%s %x: %v is not a request error", dtype, raw, err)
			}
			return
		}
		if back := rawBytes(tt); string(back) != string(raw) {
			t.Fatalf("%s %x: re-encoded as %x", dtype, raw, back)
		}
	})
}
