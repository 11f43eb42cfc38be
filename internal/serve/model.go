// Package serve is cpntrain's decision service: the Open Inference
// Protocol (KServe v2 / Triton) over REST and gRPC for the models a
// training command wrote, with Prometheus metrics, request limits, model
// reload without dropping requests, and graceful shutdown.
//
// A served model is anything with named input and output tensors (Model);
// train/serverun adapts cpntrain's models to it. The REST side follows the
// protocol's HTTP/REST specification (JSON tensors, `{"error": …}` bodies
// with 4xx codes for bad requests), the gRPC side its
// inference.GRPCInferenceService (internal/oip/inferencepb).
package serve

import (
	"context"
	"errors"
	"fmt"
)

// Datatypes of the protocol that served models use.
const (
	FP32  = "FP32"
	INT64 = "INT64"
	BYTES = "BYTES"
)

// Tensor is one named input or output: exactly one of FP32, INT64 and
// Bytes holds its row-major contents, by Datatype.
type Tensor struct {
	Name     string
	Datatype string
	Shape    []int64
	FP32     []float32
	INT64    []int64
	Bytes    [][]byte
}

// Len returns the number of elements the contents hold.
func (t *Tensor) Len() int {
	switch t.Datatype {
	case FP32:
		return len(t.FP32)
	case INT64:
		return len(t.INT64)
	case BYTES:
		return len(t.Bytes)
	}
	return 0
}

// checkShape reports a tensor whose shape does not match its contents.
func (t *Tensor) checkShape() error {
	n := int64(1)
	for _, d := range t.Shape {
		if d < 0 || d > 1<<31 {
			return badRequest("input %q: shape %v has a negative or huge dimension", t.Name, t.Shape)
		}
		n *= d
		if n > 1<<31 {
			return badRequest("input %q: shape %v is too large", t.Name, t.Shape)
		}
	}
	if int64(t.Len()) != n {
		return badRequest("input %q: shape %v needs %d elements, the data has %d", t.Name, t.Shape, n, t.Len())
	}
	return nil
}

// TensorSpec describes an input or output in the model's metadata: -1
// for a dimension of variable size.
type TensorSpec struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

// Model is a served model. Infer must be safe for concurrent use; it
// gets the request's inputs by name (checked against Inputs: names,
// datatypes, shapes' ranks and fixed sizes) and returns every output. It
// must not modify its inputs (BYTES elements may share memory with the
// decoded request).
type Model interface {
	Platform() string
	Inputs() []TensorSpec
	Outputs() []TensorSpec
	Infer(ctx context.Context, in map[string]*Tensor) ([]Tensor, error)
}

// Loader reads a model file.
type Loader func(path string) (Model, error)

// RequestError is an error of the request (HTTP 400, gRPC
// InvalidArgument): a missing or malformed input, a wrong shape.
type RequestError struct{ msg string }

func (e *RequestError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &RequestError{msg: fmt.Sprintf(format, args...)}
}

// BadRequest returns a RequestError (for models' Infer).
func BadRequest(format string, args ...any) error { return badRequest(format, args...) }

// isRequestError reports whether err is the request's fault.
func isRequestError(err error) bool {
	var re *RequestError
	return errors.As(err, &re)
}

// checkInputs matches the request's inputs against the model's specs.
func checkInputs(specs []TensorSpec, in []*Tensor) (map[string]*Tensor, error) {
	byName := make(map[string]*Tensor, len(in))
	for _, t := range in {
		if _, dup := byName[t.Name]; dup {
			return nil, badRequest("input %q given twice", t.Name)
		}
		byName[t.Name] = t
	}
	for name := range byName {
		found := false
		for _, s := range specs {
			found = found || s.Name == name
		}
		if !found {
			return nil, badRequest("unknown input %q (the model takes %s)", name, specNames(specs))
		}
	}
	for _, s := range specs {
		t, ok := byName[s.Name]
		if !ok {
			return nil, badRequest("missing input %q (%s %v)", s.Name, s.Datatype, s.Shape)
		}
		if t.Datatype != s.Datatype {
			return nil, badRequest("input %q: datatype %s, the model takes %s", s.Name, t.Datatype, s.Datatype)
		}
		if len(t.Shape) != len(s.Shape) {
			return nil, badRequest("input %q: shape %v, the model takes %v (-1: any size)", s.Name, t.Shape, s.Shape)
		}
		for i, d := range s.Shape {
			if d >= 0 && t.Shape[i] != d {
				return nil, badRequest("input %q: shape %v, the model takes %v (-1: any size)", s.Name, t.Shape, s.Shape)
			}
		}
		if err := t.checkShape(); err != nil {
			return nil, err
		}
	}
	return byName, nil
}

func specNames(specs []TensorSpec) string {
	s := ""
	for i, sp := range specs {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %s %v", sp.Name, sp.Datatype, sp.Shape)
	}
	return s
}
