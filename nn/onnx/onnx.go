// Package onnx writes ONNX models: the protocol-buffer messages of
// onnx.proto (ModelProto, GraphProto, NodeProto, TensorProto,
// ValueInfoProto, AttributeProto) encoded by hand with protowire, and a
// small graph builder for the exporters under models/. Nothing here runs
// a model: the exported files are checked in ONNX Runtime and by ONNX's
// checker (see onnx_test.go and scripts/onnx).
//
// Field numbers follow onnx.proto of ONNX 1.12 (Apache-2.0, © the ONNX
// Project Contributors), the version Debian's python3-onnx ships; the
// files declare IR version 8 and opset 17, which that checker and ONNX
// Runtime 1.30 both accept.
package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"

	"google.golang.org/protobuf/encoding/protowire"
)

// Versions written into every model.
const (
	IRVersion = 8
	Opset     = 17
)

// Element types (TensorProto.DataType).
const (
	Float = 1
	Int64 = 7
	Bool  = 9
)

// Dim is one dimension of a value's shape: a fixed size, or a named
// dynamic size (Param, e.g. "batch") when Value is 0.
type Dim struct {
	Value int64
	Param string
}

// D returns fixed dimensions.
func D(sizes ...int64) []Dim {
	out := make([]Dim, len(sizes))
	for i, s := range sizes {
		out[i] = Dim{Value: s}
	}
	return out
}

// ValueInfo is a graph input or output: name, element type, shape and
// what it means (its doc string).
type ValueInfo struct {
	Name  string
	Elem  int32
	Shape []Dim
	Doc   string
}

// Tensor is an initializer: a constant of the graph (float32 or int64).
type Tensor struct {
	Name  string
	Dims  []int64
	Float []float32
	Int64 []int64
}

// Attribute kinds (AttributeProto.AttributeType).
const (
	attrFloat  = 1
	attrInt    = 2
	attrString = 3
	attrFloats = 6
	attrInts   = 7
)

// Attr is a node attribute.
type Attr struct {
	Name   string
	kind   int
	f      float32
	i      int64
	s      string
	floats []float32
	ints   []int64
}

// AttrInt, AttrFloat, AttrString, AttrInts and AttrFloats make attributes.
func AttrInt(name string, v int64) Attr         { return Attr{Name: name, kind: attrInt, i: v} }
func AttrFloat(name string, v float32) Attr     { return Attr{Name: name, kind: attrFloat, f: v} }
func AttrString(name, v string) Attr            { return Attr{Name: name, kind: attrString, s: v} }
func AttrInts(name string, v ...int64) Attr     { return Attr{Name: name, kind: attrInts, ints: v} }
func AttrFloats(name string, v ...float32) Attr { return Attr{Name: name, kind: attrFloats, floats: v} }

// Node is one operator application.
type Node struct {
	Op, Name string
	In, Out  []string
	Attrs    []Attr
}

// Graph is a computation graph under construction: exporters add
// constants and operators and name the inputs and outputs.
type Graph struct {
	Name, Doc string
	Nodes     []Node
	Inputs    []ValueInfo
	Outputs   []ValueInfo
	Inits     []Tensor
	names     map[string]int
}

// NewGraph returns an empty graph called name.
func NewGraph(name string) *Graph { return &Graph{Name: name, names: map[string]int{}} }

// fresh returns a name starting with prefix not used before in g.
func (g *Graph) fresh(prefix string) string {
	n := g.names[prefix]
	g.names[prefix] = n + 1
	if n == 0 {
		return prefix
	}
	return fmt.Sprintf("%s_%d", prefix, n)
}

// Fresh returns a value name starting with prefix not used before in g
// (for nodes with several outputs, added to Nodes by the caller).
func (g *Graph) Fresh(prefix string) string { return g.fresh(prefix) }

// Input declares a graph input and returns its name.
func (g *Graph) Input(name string, elem int32, shape []Dim, doc string) string {
	g.names[name]++
	g.Inputs = append(g.Inputs, ValueInfo{Name: name, Elem: elem, Shape: shape, Doc: doc})
	return name
}

// Output declares value as a graph output called name (an Identity node
// renames it) and returns name.
func (g *Graph) Output(value, name string, elem int32, shape []Dim, doc string) string {
	g.Nodes = append(g.Nodes, Node{Op: "Identity", Name: g.fresh("out_" + name), In: []string{value}, Out: []string{name}})
	g.Outputs = append(g.Outputs, ValueInfo{Name: name, Elem: elem, Shape: shape, Doc: doc})
	return name
}

// Const adds a float32 initializer of the given shape (a copy of data)
// and returns its name.
func (g *Graph) Const(name string, dims []int64, data []float32) string {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	if n != int64(len(data)) {
		panic(fmt.Sprintf("onnx: constant %s of shape %v has %d values", name, dims, len(data)))
	}
	name = g.fresh(name)
	g.Inits = append(g.Inits, Tensor{Name: name, Dims: append([]int64(nil), dims...), Float: append([]float32(nil), data...)})
	return name
}

// ConstInt64 adds an int64 initializer and returns its name.
func (g *Graph) ConstInt64(name string, dims []int64, data []int64) string {
	name = g.fresh(name)
	g.Inits = append(g.Inits, Tensor{Name: name, Dims: append([]int64(nil), dims...), Int64: append([]int64(nil), data...)})
	return name
}

// Scalar adds a float32 scalar constant.
func (g *Graph) Scalar(name string, v float32) string { return g.Const(name, nil, []float32{v}) }

// Op adds a node of operator op with one output and returns the output's
// name.
func (g *Graph) Op(op string, in []string, attrs ...Attr) string {
	out := g.fresh(op)
	g.Nodes = append(g.Nodes, Node{Op: op, Name: "n_" + out, In: in, Out: []string{out}, Attrs: attrs})
	return out
}

// Model is an ONNX model: a graph, its producer and metadata (written as
// metadata_props, sorted by key).
type Model struct {
	Graph           *Graph
	Producer        string
	ProducerVersion string
	Doc             string
	Meta            map[string]string
}

// Marshal encodes the model as an ONNX ModelProto.
func (m *Model) Marshal() []byte {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, IRVersion)
	b = appendString(b, 2, m.Producer)
	b = appendString(b, 3, m.ProducerVersion)
	b = appendString(b, 6, m.Doc)
	b = appendMessage(b, 7, m.Graph.marshal())
	var op []byte
	op = appendString(op, 1, "")
	op = protowire.AppendTag(op, 2, protowire.VarintType)
	op = protowire.AppendVarint(op, Opset)
	b = appendMessage(b, 8, op)
	keys := make([]string, 0, len(m.Meta))
	for k := range m.Meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var e []byte
		e = appendString(e, 1, k)
		e = appendString(e, 2, m.Meta[k])
		b = appendMessage(b, 14, e)
	}
	return b
}

func (g *Graph) marshal() []byte {
	var b []byte
	for _, n := range g.Nodes {
		b = appendMessage(b, 1, n.marshal())
	}
	b = appendString(b, 2, g.Name)
	for _, t := range g.Inits {
		b = appendMessage(b, 5, t.marshal())
	}
	b = appendString(b, 10, g.Doc)
	for _, v := range g.Inputs {
		b = appendMessage(b, 11, v.marshal())
	}
	for _, v := range g.Outputs {
		b = appendMessage(b, 12, v.marshal())
	}
	return b
}

func (n Node) marshal() []byte {
	var b []byte
	for _, s := range n.In {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, s)
	}
	for _, s := range n.Out {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendString(b, s)
	}
	b = appendString(b, 3, n.Name)
	b = appendString(b, 4, n.Op)
	for _, a := range n.Attrs {
		b = appendMessage(b, 5, a.marshal())
	}
	return b
}

func (a Attr) marshal() []byte {
	var b []byte
	b = appendString(b, 1, a.Name)
	switch a.kind {
	case attrFloat:
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.f))
	case attrInt:
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(a.i))
	case attrString:
		b = protowire.AppendTag(b, 4, protowire.BytesType)
		b = protowire.AppendString(b, a.s)
	case attrFloats:
		for _, f := range a.floats {
			b = protowire.AppendTag(b, 7, protowire.Fixed32Type)
			b = protowire.AppendFixed32(b, math.Float32bits(f))
		}
	case attrInts:
		for _, i := range a.ints {
			b = protowire.AppendTag(b, 8, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(i))
		}
	}
	b = protowire.AppendTag(b, 20, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(a.kind))
	return b
}

func (t Tensor) marshal() []byte {
	var b []byte
	for _, d := range t.Dims {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(d))
	}
	elem := Float
	var raw []byte
	if t.Int64 != nil {
		elem = Int64
		raw = make([]byte, 8*len(t.Int64))
		for i, v := range t.Int64 {
			binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
		}
	} else {
		raw = make([]byte, 4*len(t.Float))
		for i, v := range t.Float {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
		}
	}
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(elem))
	b = appendString(b, 8, t.Name)
	b = protowire.AppendTag(b, 9, protowire.BytesType)
	b = protowire.AppendBytes(b, raw)
	return b
}

func (v ValueInfo) marshal() []byte {
	var shape []byte
	for _, d := range v.Shape {
		var dim []byte
		if d.Param != "" {
			dim = appendString(dim, 2, d.Param)
		} else {
			dim = protowire.AppendTag(dim, 1, protowire.VarintType)
			dim = protowire.AppendVarint(dim, uint64(d.Value))
		}
		shape = appendMessage(shape, 1, dim)
	}
	var tt []byte
	tt = protowire.AppendTag(tt, 1, protowire.VarintType)
	tt = protowire.AppendVarint(tt, uint64(v.Elem))
	if v.Shape != nil { // nil: shape unknown (an empty non-nil shape is a scalar's)
		tt = appendMessage(tt, 2, shape)
	}
	var typ []byte
	typ = appendMessage(typ, 1, tt)
	var b []byte
	b = appendString(b, 1, v.Name)
	b = appendMessage(b, 2, typ)
	b = appendString(b, 3, v.Doc)
	return b
}

// appendString appends a string field, leaving out the empty string.
func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// appendMessage appends an embedded message (written even when empty:
// an empty shape is a scalar's).
func appendMessage(b []byte, num protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}
