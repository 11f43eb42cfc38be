package serve

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/cpntrain/cpntrain/internal/oip/inferencepb"
)

// GRPC returns the gRPC side: inference.GRPCInferenceService. Errors
// carry codes: InvalidArgument for a bad request, NotFound for an unknown
// model or version, DeadlineExceeded past the timeout, Internal otherwise.
func (s *Server) GRPC() *grpc.Server {
	g := grpc.NewServer(grpc.MaxRecvMsgSize(int(s.cfg.MaxBodyBytes)))
	pb.RegisterGRPCInferenceServiceServer(g, &grpcService{s: s})
	return g
}

type grpcService struct {
	pb.UnimplementedGRPCInferenceServiceServer
	s *Server
}

func (g *grpcService) ServerLive(context.Context, *pb.ServerLiveRequest) (*pb.ServerLiveResponse, error) {
	return &pb.ServerLiveResponse{Live: true}, nil
}

func (g *grpcService) ServerReady(context.Context, *pb.ServerReadyRequest) (*pb.ServerReadyResponse, error) {
	return &pb.ServerReadyResponse{Ready: true}, nil
}

func (g *grpcService) ModelReady(_ context.Context, r *pb.ModelReadyRequest) (*pb.ModelReadyResponse, error) {
	_, err := g.s.model(r.GetName(), r.GetVersion())
	return &pb.ModelReadyResponse{Ready: err == nil}, nil
}

func (g *grpcService) ServerMetadata(context.Context, *pb.ServerMetadataRequest) (*pb.ServerMetadataResponse, error) {
	return &pb.ServerMetadataResponse{Name: g.s.cfg.Name, Version: g.s.cfg.Version, Extensions: []string{}}, nil
}

func specsPB(specs []TensorSpec) []*pb.ModelMetadataResponse_TensorMetadata {
	out := make([]*pb.ModelMetadataResponse_TensorMetadata, len(specs))
	for i, s := range specs {
		out[i] = &pb.ModelMetadataResponse_TensorMetadata{Name: s.Name, Datatype: s.Datatype, Shape: s.Shape}
	}
	return out
}

func (g *grpcService) ModelMetadata(_ context.Context, r *pb.ModelMetadataRequest) (*pb.ModelMetadataResponse, error) {
	l, err := g.s.model(r.GetName(), r.GetVersion())
	if err != nil {
		return nil, status.Error(codes.NotFound, err.Error())
	}
	return &pb.ModelMetadataResponse{Name: r.GetName(), Versions: []string{l.version}, Platform: l.m.Platform(),
		Inputs: specsPB(l.m.Inputs()), Outputs: specsPB(l.m.Outputs())}, nil
}

func (g *grpcService) ModelInfer(ctx context.Context, r *pb.ModelInferRequest) (*pb.ModelInferResponse, error) {
	start := time.Now()
	label := r.GetModelName()
	if _, ok := g.s.entries[label]; !ok {
		label = "-"
	}
	code := codes.OK
	defer func() { g.s.met.request(label, "grpc", code.String(), time.Since(start)) }()
	resp, err := g.infer(ctx, r)
	if err != nil {
		code = grpcCode(err)
		return nil, status.Error(code, err.Error())
	}
	return resp, nil
}

func (g *grpcService) infer(ctx context.Context, r *pb.ModelInferRequest) (*pb.ModelInferResponse, error) {
	raw := r.GetRawInputContents()
	if len(raw) > 0 && len(raw) != len(r.GetInputs()) {
		return nil, badRequest("raw_input_contents has %d entries for %d inputs", len(raw), len(r.GetInputs()))
	}
	if len(r.GetInputs()) == 0 {
		return nil, badRequest("no inputs")
	}
	in := make([]*Tensor, len(r.GetInputs()))
	for i, it := range r.GetInputs() {
		var rb []byte
		if len(raw) > 0 {
			rb = raw[i]
		}
		t, err := tensorFromPB(it, rb, len(raw) > 0)
		if err != nil {
			return nil, err
		}
		in[i] = t
	}
	var want []string
	for _, o := range r.GetOutputs() {
		want = append(want, o.GetName())
	}
	res, err := g.s.infer(ctx, r.GetModelName(), r.GetModelVersion(), in, want)
	if err != nil {
		return nil, err
	}
	resp := &pb.ModelInferResponse{ModelName: res.model, ModelVersion: res.version, Id: r.GetId()}
	for _, o := range res.outputs {
		ot := &pb.ModelInferResponse_InferOutputTensor{Name: o.Name, Datatype: o.Datatype, Shape: o.Shape}
		if len(raw) > 0 { // answer in kind: raw contents, as Triton's clients read them
			resp.RawOutputContents = append(resp.RawOutputContents, rawBytes(&o))
		} else {
			c := &pb.InferTensorContents{}
			switch o.Datatype {
			case FP32:
				c.Fp32Contents = o.FP32
			case INT64:
				c.Int64Contents = o.INT64
			case BYTES:
				c.BytesContents = o.Bytes
			}
			ot.Contents = c
		}
		resp.Outputs = append(resp.Outputs, ot)
	}
	return resp, nil
}

// tensorFromPB reads an input from its typed contents or its raw bytes.
func tensorFromPB(it *pb.ModelInferRequest_InferInputTensor, raw []byte, useRaw bool) (*Tensor, error) {
	t := &Tensor{Name: it.GetName(), Datatype: it.GetDatatype(), Shape: it.GetShape()}
	if t.Name == "" {
		return nil, badRequest("an input has no name")
	}
	if useRaw {
		return t, t.setRaw(raw)
	}
	c := it.GetContents()
	switch t.Datatype {
	case FP32:
		t.FP32 = c.GetFp32Contents()
	case INT64:
		t.INT64 = c.GetInt64Contents()
	case BYTES:
		t.Bytes = c.GetBytesContents()
	default:
		return nil, badRequest("input %q: datatype %q is not served (FP32, INT64 or BYTES)", t.Name, t.Datatype)
	}
	return t, nil
}

// setRaw sets t's contents from the protocol's raw encoding:
// little-endian values; BYTES elements each prefixed by a 4-byte
// little-endian length. BYTES elements share raw's memory.
func (t *Tensor) setRaw(raw []byte) error {
	switch t.Datatype {
	case FP32:
		if len(raw)%4 != 0 {
			return badRequest("input %q: %d raw bytes are not whole FP32 values", t.Name, len(raw))
		}
		t.FP32 = make([]float32, len(raw)/4)
		for i := range t.FP32 {
			t.FP32[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case INT64:
		if len(raw)%8 != 0 {
			return badRequest("input %q: %d raw bytes are not whole INT64 values", t.Name, len(raw))
		}
		t.INT64 = make([]int64, len(raw)/8)
		for i := range t.INT64 {
			t.INT64[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
		}
	case BYTES:
		for len(raw) > 0 {
			if len(raw) < 4 {
				return badRequest("input %q: truncated BYTES length prefix", t.Name)
			}
			n := binary.LittleEndian.Uint32(raw)
			if uint64(n) > uint64(len(raw)-4) {
				return badRequest("input %q: BYTES element of %d bytes past the end of the raw contents", t.Name, n)
			}
			t.Bytes = append(t.Bytes, raw[4:4+n])
			raw = raw[4+n:]
		}
	default:
		return badRequest("input %q: datatype %q is not served (FP32, INT64 or BYTES)", t.Name, t.Datatype)
	}
	return nil
}

// rawBytes encodes an output as the protocol's raw contents.
func rawBytes(o *Tensor) []byte {
	switch o.Datatype {
	case FP32:
		b := make([]byte, 4*len(o.FP32))
		for i, v := range o.FP32 {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		return b
	case INT64:
		b := make([]byte, 8*len(o.INT64))
		for i, v := range o.INT64 {
			binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
		}
		return b
	}
	var b []byte
	for _, e := range o.Bytes {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(e)))
		b = append(b, e...)
	}
	return b
}

// grpcCode classifies an inference error as a gRPC status code (REST maps
// the same classes to HTTP statuses: restStatus).
func grpcCode(err error) codes.Code {
	var nf *errNotFound
	switch {
	case errors.As(err, &nf):
		return codes.NotFound
	case isRequestError(err):
		return codes.InvalidArgument
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	}
	return codes.Internal
}
