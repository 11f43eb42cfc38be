package serve

import (
	"bytes"
	"errors"
	"fmt"
	json "github.com/goccy/go-json"
	"google.golang.org/grpc/codes"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unsafe"
)

// Handler returns the REST side: the protocol's endpoints under /v2 and
// Prometheus metrics at /metrics. Every error is a JSON body
// {"error": "…"}: 400 for a bad request (naming the field), 404 for an
// unknown model, version or route, 413 for a body above MaxBodyBytes, 504
// for an inference past the timeout, 500 otherwise.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2", s.serverMetadata)
	mux.HandleFunc("GET /v2/health/live", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("GET /v2/health/ready", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("GET /v2/models/{name}", s.modelMetadata)
	mux.HandleFunc("GET /v2/models/{name}/versions/{version}", s.modelMetadata)
	mux.HandleFunc("GET /v2/models/{name}/ready", s.modelReady)
	mux.HandleFunc("GET /v2/models/{name}/versions/{version}/ready", s.modelReady)
	mux.HandleFunc("POST /v2/models/{name}/infer", s.restInfer)
	mux.HandleFunc("POST /v2/models/{name}/versions/{version}/infer", s.restInfer)
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		s.met.write(w)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no endpoint %s %s (see the Open Inference Protocol: GET /v2, GET /v2/models/{name}, POST /v2/models/{name}/infer, …)", r.Method, r.URL.Path))
	})
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"encoding the response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	w.Write(b)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func (s *Server) serverMetadata(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"name": s.cfg.Name, "version": s.cfg.Version, "extensions": []string{}})
}

type modelMeta struct {
	Name     string       `json:"name"`
	Versions []string     `json:"versions"`
	Platform string       `json:"platform"`
	Inputs   []TensorSpec `json:"inputs"`
	Outputs  []TensorSpec `json:"outputs"`
}

func (s *Server) modelMetadata(w http.ResponseWriter, r *http.Request) {
	l, err := s.model(r.PathValue("name"), r.PathValue("version"))
	if err != nil {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, modelMeta{Name: r.PathValue("name"), Versions: []string{l.version}, Platform: l.m.Platform(),
		Inputs: l.m.Inputs(), Outputs: l.m.Outputs()})
}

func (s *Server) modelReady(w http.ResponseWriter, r *http.Request) {
	if _, err := s.model(r.PathValue("name"), r.PathValue("version")); err != nil {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	w.WriteHeader(http.StatusOK)
}

// restTensor is a tensor of the REST protocol: data is a flat
// (row-major) or nested JSON array of numbers, or of strings for BYTES.
type restTensor struct {
	Name       string          `json:"name"`
	Shape      []int64         `json:"shape"`
	Datatype   string          `json:"datatype"`
	Parameters json.RawMessage `json:"parameters,omitempty"`
	Data       json.RawMessage `json:"data"`
}

type restRequest struct {
	ID         string          `json:"id,omitempty"`
	Parameters json.RawMessage `json:"parameters,omitempty"`
	Inputs     []restTensor    `json:"inputs"`
	Outputs    []struct {
		Name       string          `json:"name"`
		Parameters json.RawMessage `json:"parameters,omitempty"`
	} `json:"outputs,omitempty"`
}

type restOutput struct {
	Name     string  `json:"name"`
	Shape    []int64 `json:"shape"`
	Datatype string  `json:"datatype"`
	Data     any     `json:"data"`
}

type restResponse struct {
	ModelName    string       `json:"model_name"`
	ModelVersion string       `json:"model_version"`
	ID           string       `json:"id,omitempty"`
	Outputs      []restOutput `json:"outputs"`
}

func (s *Server) restInfer(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	name := r.PathValue("name")
	label := name
	if _, ok := s.entries[name]; !ok {
		label = "-" // unknown names do not become metric labels
	}
	code := http.StatusOK
	defer func() { s.met.request(label, "rest", strconv.Itoa(code), time.Since(start)) }()
	fail := func(c int, msg string) {
		code = c
		writeError(w, c, msg)
	}
	buf := bodyPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bodyPool.Put(buf)
	if r.ContentLength > 0 && r.ContentLength <= s.cfg.MaxBodyBytes {
		buf.Grow(int(r.ContentLength) + 1)
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	body := buf.Bytes()
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body above %d bytes", s.cfg.MaxBodyBytes))
			return
		}
		fail(http.StatusBadRequest, "reading the request body: "+err.Error())
		return
	}
	// Triton's binary data extension: a JSON header of
	// Inference-Header-Content-Length bytes, then the binary inputs.
	var bin []byte
	if h := r.Header.Get(binaryHeader); h != "" {
		n, err := strconv.ParseInt(h, 10, 64)
		if err != nil || n < 0 || n > int64(len(body)) {
			fail(http.StatusBadRequest, fmt.Sprintf("%s: %q is not a length within the %d-byte body", binaryHeader, h, len(body)))
			return
		}
		body, bin = body[:n], body[n:]
	}
	var req restRequest
	if err := json.Unmarshal(body, &req); err != nil {
		fail(http.StatusBadRequest, "request body: "+err.Error())
		return
	}
	if len(req.Inputs) == 0 {
		fail(http.StatusBadRequest, `request body: no "inputs"`)
		return
	}
	in := make([]*Tensor, len(req.Inputs))
	for i := range req.Inputs {
		if in[i], bin, err = req.Inputs[i].decode(bin); err != nil {
			fail(http.StatusBadRequest, err.Error())
			return
		}
	}
	if len(bin) > 0 {
		fail(http.StatusBadRequest, fmt.Sprintf("%d bytes of binary data that no input's binary_data_size claims", len(bin)))
		return
	}
	var want []string
	for _, o := range req.Outputs {
		want = append(want, o.Name)
	}
	res, err := s.infer(r.Context(), name, r.PathValue("version"), in, want)
	if err != nil {
		c, msg := restStatus(err)
		fail(c, msg)
		return
	}
	resp := restResponse{ModelName: res.model, ModelVersion: res.version, ID: req.ID, Outputs: make([]restOutput, len(res.outputs))}
	for i, o := range res.outputs {
		ro := restOutput{Name: o.Name, Shape: o.Shape, Datatype: o.Datatype}
		switch o.Datatype {
		case FP32:
			ro.Data = o.FP32
		case INT64:
			ro.Data = o.INT64
		case BYTES:
			ss := make([]string, len(o.Bytes))
			for j, b := range o.Bytes {
				ss[j] = string(b)
			}
			ro.Data = ss
		}
		resp.Outputs[i] = ro
	}
	writeJSON(w, http.StatusOK, resp)
}

// bodyPool recycles request-body buffers (the decoded request copies
// what it keeps).
var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// restStatus maps an inference error to an HTTP status and message, by
// its class (grpcCode).
func restStatus(err error) (int, string) {
	switch grpcCode(err) {
	case codes.NotFound:
		return http.StatusNotFound, err.Error()
	case codes.InvalidArgument:
		return http.StatusBadRequest, err.Error()
	case codes.DeadlineExceeded:
		return http.StatusGatewayTimeout, "inference timed out"
	case codes.Canceled:
		return 499, "request cancelled"
	}
	return http.StatusInternalServerError, "inference failed: " + err.Error()
}

// binaryHeader is the header of Triton's binary data extension.
const binaryHeader = "Inference-Header-Content-Length"

// decode reads a REST tensor's data by its datatype: from its "data", or,
// with the parameter binary_data_size (Triton's binary data extension),
// from the next bytes of bin, which it returns advanced.
func (rt *restTensor) decode(bin []byte) (*Tensor, []byte, error) {
	t := &Tensor{Name: rt.Name, Datatype: rt.Datatype, Shape: rt.Shape}
	if rt.Name == "" {
		return nil, bin, badRequest(`an input has no "name"`)
	}
	if rt.Shape == nil {
		return nil, bin, badRequest("input %q: no \"shape\"", rt.Name)
	}
	if len(rt.Parameters) > 0 {
		var p struct {
			Size *int64 `json:"binary_data_size"`
		}
		if err := json.Unmarshal(rt.Parameters, &p); err != nil {
			return nil, bin, badRequest("input %q: \"parameters\": %v", rt.Name, err)
		}
		if p.Size != nil {
			if *p.Size < 0 || *p.Size > int64(len(bin)) {
				return nil, bin, badRequest("input %q: binary_data_size %d, but %d binary bytes are left", rt.Name, *p.Size, len(bin))
			}
			if len(rt.Data) > 0 {
				return nil, bin, badRequest("input %q: both \"data\" and binary_data_size", rt.Name)
			}
			return t, bin[*p.Size:], t.setRaw(bin[:*p.Size])
		}
	}
	if len(rt.Data) == 0 {
		return nil, bin, badRequest("input %q: no \"data\"", rt.Name)
	}
	data := flatten(rt.Data)
	var err error
	switch rt.Datatype {
	case FP32:
		err = json.Unmarshal(data, &t.FP32)
	case INT64:
		err = json.Unmarshal(data, &t.INT64)
	case BYTES:
		var ss []string
		if err = json.Unmarshal(data, &ss); err == nil {
			t.Bytes = make([][]byte, len(ss))
			for i, s := range ss {
				// No copy: the decoded string is the request's own, and
				// models only read their inputs (Model.Infer).
				t.Bytes[i] = unsafe.Slice(unsafe.StringData(s), len(s))
			}
		}
	default:
		return nil, bin, badRequest("input %q: datatype %q is not served (FP32, INT64 or BYTES)", rt.Name, rt.Datatype)
	}
	if err != nil {
		return nil, bin, badRequest("input %q: \"data\" is not an array of %s: %v", rt.Name, rt.Datatype, err)
	}
	return t, bin, nil
}

// flatten turns a nested JSON array into a flat one by dropping the
// inner brackets (strings are copied as they are); a flat array comes
// back unchanged.
func flatten(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '[' {
		return b
	}
	if inner := bytes.TrimLeft(b[1:], " \t\r\n"); len(inner) == 0 || inner[0] != '[' {
		return b // flat: nothing to do (strings may hold brackets)
	}
	out := make([]byte, 0, len(b))
	out = append(out, '[')
	inStr, esc, depth := false, false, 0
	for _, c := range b {
		switch {
		case inStr:
			out = append(out, c)
			if esc {
				esc = false
			} else if c == '\\' {
				esc = true
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
			out = append(out, c)
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		case c == '[':
			depth++
			if n := len(out); n > 1 && out[n-1] != '[' && out[n-1] != ',' {
				out = append(out, ',')
			}
		case c == ']':
			depth--
		case c == ',':
			if n := len(out); n > 1 && out[n-1] != ',' && out[n-1] != '[' {
				out = append(out, ',')
			}
		default:
			out = append(out, c)
		}
	}
	if n := len(out); n > 1 && out[n-1] == ',' {
		out = out[:n-1]
	}
	if depth != 0 {
		return b // unbalanced: let json.Unmarshal report it
	}
	return append(out, ']')
}
