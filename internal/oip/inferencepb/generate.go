// Package inferencepb is the Go code protoc generates from
// grpc_predict_v2.proto: the Open Inference Protocol's gRPC messages and
// the GRPCInferenceService client and server interfaces.
package inferencepb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative grpc_predict_v2.proto
