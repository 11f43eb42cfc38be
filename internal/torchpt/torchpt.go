// Package torchpt writes PyTorch state dicts in PyTorch's own file format
// (torch.save since 1.6: a zip archive holding a protocol-2 pickle of an
// OrderedDict of tensors and one raw little-endian file per storage), so
// that torch.load(path, weights_only=True) reads them: the pickle uses
// only collections.OrderedDict, torch._utils._rebuild_tensor_v2,
// torch.FloatStorage and "storage" persistent ids, which the
// weights-only unpickler allows.
package torchpt

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Tensor is one float32 entry of a state dict, row-major.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// archive is the folder name inside the zip (torch.save uses the file's
// base name; torch.load accepts any single top folder).
const archive = "archive"

// Write writes the tensors, in order, as a state dict to w.
func Write(w io.Writer, tensors []Tensor) error {
	for _, t := range tensors {
		n := 1
		for _, d := range t.Shape {
			if d < 0 {
				return fmt.Errorf("torchpt: tensor %s: negative dimension in %v", t.Name, t.Shape)
			}
			n *= d
		}
		if n != len(t.Data) {
			return fmt.Errorf("torchpt: tensor %s of shape %v has %d values", t.Name, t.Shape, len(t.Data))
		}
	}
	z := zip.NewWriter(w)
	put := func(name string, data []byte) error {
		f, err := z.CreateHeader(&zip.FileHeader{Name: archive + "/" + name, Method: zip.Store})
		if err != nil {
			return err
		}
		_, err = f.Write(data)
		return err
	}
	if err := put("data.pkl", pickle(tensors)); err != nil {
		return err
	}
	for i, t := range tensors {
		b := make([]byte, 4*len(t.Data))
		for j, v := range t.Data {
			binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(v))
		}
		if err := put("data/"+strconv.Itoa(i), b); err != nil {
			return err
		}
	}
	if err := put("byteorder", []byte("little")); err != nil {
		return err
	}
	if err := put("version", []byte("3\n")); err != nil {
		return err
	}
	return z.Close()
}

// Pickle opcodes (protocol 2).
const (
	opProto      = 0x80
	opGlobal     = 'c'
	opEmptyTuple = ')'
	opReduce     = 'R'
	opMark       = '('
	opBinUnicode = 'X'
	opBinInt     = 'J'
	opTuple      = 't'
	opBinPersID  = 'Q'
	opNewFalse   = 0x89
	opSetItems   = 'u'
	opStop       = '.'
)

type pk struct{ bytes.Buffer }

func (p *pk) global(module, name string) {
	p.WriteByte(opGlobal)
	p.WriteString(module + "\n" + name + "\n")
}

func (p *pk) str(s string) {
	p.WriteByte(opBinUnicode)
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(s)))
	p.Write(n[:])
	p.WriteString(s)
}

func (p *pk) int(v int) {
	p.WriteByte(opBinInt)
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(int32(v)))
	p.Write(n[:])
}

func (p *pk) ints(v []int) {
	p.WriteByte(opMark)
	for _, x := range v {
		p.int(x)
	}
	p.WriteByte(opTuple)
}

func (p *pk) orderedDict() {
	p.global("collections", "OrderedDict")
	p.WriteByte(opEmptyTuple)
	p.WriteByte(opReduce)
}

// pickle returns OrderedDict(name → _rebuild_tensor_v2(storage i, 0,
// shape, contiguous strides, False, OrderedDict())).
func pickle(tensors []Tensor) []byte {
	var p pk
	p.WriteByte(opProto)
	p.WriteByte(2)
	p.orderedDict()
	if len(tensors) > 0 {
		p.WriteByte(opMark)
		for i, t := range tensors {
			p.str(t.Name)
			p.global("torch._utils", "_rebuild_tensor_v2")
			p.WriteByte(opMark)
			// persistent id ("storage", torch.FloatStorage, key, "cpu", numel)
			p.WriteByte(opMark)
			p.str("storage")
			p.global("torch", "FloatStorage")
			p.str(strconv.Itoa(i))
			p.str("cpu")
			p.int(len(t.Data))
			p.WriteByte(opTuple)
			p.WriteByte(opBinPersID)
			p.int(0)
			p.ints(t.Shape)
			stride := make([]int, len(t.Shape))
			s := 1
			for d := len(t.Shape) - 1; d >= 0; d-- {
				stride[d] = s
				s *= t.Shape[d]
			}
			p.ints(stride)
			p.WriteByte(opNewFalse)
			p.orderedDict()
			p.WriteByte(opTuple)
			p.WriteByte(opReduce)
		}
		p.WriteByte(opSetItems)
	}
	p.WriteByte(opStop)
	return p.Bytes()
}
