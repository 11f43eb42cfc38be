package checkpoints

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// This file holds the safetensors layer: a strict reader of any safetensors
// file and a writer of F32 tensors with a self-checksum.

// dtypeSizes gives the element size in bytes of every safetensors dtype.
var dtypeSizes = map[string]int64{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
	"I16": 2, "U16": 2, "F16": 2, "BF16": 2,
	"I32": 4, "U32": 4, "F32": 4,
	"I64": 8, "U64": 8, "F64": 8,
}

// tensorEntry is one tensor of a parsed file.
type tensorEntry struct {
	name       string
	dtype      string
	shape      []int64
	begin, end int64 // offsets into the data section
}

// rawFile is a parsed safetensors file; data aliases the file's bytes.
type rawFile struct {
	headerLen int64             // length of the JSON header in bytes
	header    []byte            // the JSON header, including padding
	meta      map[string]string // __metadata__, nil if absent
	tensors   []tensorEntry     // sorted by name
	byName    map[string]*tensorEntry
	data      []byte // the data section
}

// corrupt returns an ErrCorrupt error about tensor (may be empty).
func corrupt(tensor, format string, args ...any) *Error {
	return &Error{Tensor: tensor, Err: fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))}
}

// maxHeader bounds the JSON header, as the reference implementation does.
const maxHeader = 100 << 20

// parse validates the structure of a safetensors file: header length within
// the file, a JSON object without duplicate keys, string-valued metadata,
// known dtypes, non-negative shapes, offsets matching shapes and tiling the
// data section exactly (sorted, contiguous, no overlap, no gap, no trailing
// bytes). Errors are *Error values without File.
func parse(b []byte) (*rawFile, error) {
	if len(b) < 8 {
		return nil, corrupt("", "truncated: %d bytes, the header length alone needs 8", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n == 0 {
		return nil, corrupt("", "empty header")
	}
	if n > uint64(len(b)-8) {
		return nil, corrupt("", "header length %d beyond the end of the %d-byte file (truncated file?)", n, len(b))
	}
	if n > maxHeader {
		return nil, corrupt("", "header length %d exceeds the limit of %d bytes", n, maxHeader)
	}
	f := &rawFile{headerLen: int64(n), header: b[8 : 8+n], data: b[8+n:], byName: map[string]*tensorEntry{}}
	if f.header[0] != '{' {
		return nil, corrupt("", "header does not start with '{'")
	}
	dec := json.NewDecoder(bytes.NewReader(f.header))
	dec.DisallowUnknownFields()
	err := decodeObject(dec, func(key string) error {
		if key == "__metadata__" {
			f.meta = map[string]string{}
			return decodeObject(dec, func(k string) error {
				var v string
				if err := dec.Decode(&v); err != nil {
					return fmt.Errorf("__metadata__ %q: value must be a string: %v", k, err)
				}
				f.meta[k] = v
				return nil
			})
		}
		var e struct {
			DType       *string  `json:"dtype"`
			Shape       *[]int64 `json:"shape"`
			DataOffsets []int64  `json:"data_offsets"`
		}
		if err := dec.Decode(&e); err != nil {
			return &Error{Tensor: key, Err: fmt.Errorf("%w: header entry: %v", ErrCorrupt, err)}
		}
		switch {
		case e.DType == nil:
			return corrupt(key, "header entry has no dtype")
		case e.Shape == nil:
			return corrupt(key, "header entry has no shape")
		case len(e.DataOffsets) != 2:
			return corrupt(key, "data_offsets has %d values, want 2", len(e.DataOffsets))
		}
		f.tensors = append(f.tensors, tensorEntry{name: key, dtype: *e.DType, shape: *e.Shape,
			begin: e.DataOffsets[0], end: e.DataOffsets[1]})
		return nil
	})
	if err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			return nil, ce
		}
		return nil, corrupt("", "JSON header: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, corrupt("", "JSON header: unexpected data after the header object")
	}
	dataLen := int64(len(f.data))
	for i := range f.tensors {
		t := &f.tensors[i]
		size, ok := dtypeSizes[t.dtype]
		if !ok {
			return nil, corrupt(t.name, "unknown dtype %q", t.dtype)
		}
		nbytes := size
		for _, d := range t.shape {
			if d < 0 {
				return nil, corrupt(t.name, "negative dimension in shape %v", t.shape)
			}
			if d != 0 && nbytes > math.MaxInt64/d {
				return nil, corrupt(t.name, "shape %v is too large", t.shape)
			}
			nbytes *= d
		}
		if t.begin < 0 || t.end < t.begin {
			return nil, corrupt(t.name, "invalid data_offsets [%d %d]", t.begin, t.end)
		}
		if t.end > dataLen {
			return nil, corrupt(t.name, "data_offsets [%d %d] beyond the end of the %d-byte data section (truncated file?)",
				t.begin, t.end, dataLen)
		}
		if t.end-t.begin != nbytes {
			return nil, corrupt(t.name, "data_offsets [%d %d] hold %d bytes, shape %v of %s needs %d",
				t.begin, t.end, t.end-t.begin, t.shape, t.dtype, nbytes)
		}
	}
	// The tensors must tile the data section: sorted by offset, each starts
	// where the previous one ended.
	order := make([]*tensorEntry, len(f.tensors))
	for i := range f.tensors {
		order[i] = &f.tensors[i]
	}
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].begin != order[j].begin {
			return order[i].begin < order[j].begin
		}
		return order[i].end < order[j].end
	})
	var pos int64
	prev := ""
	for _, t := range order {
		if t.begin < pos {
			return nil, corrupt(t.name, "data_offsets [%d %d] overlap tensor %q", t.begin, t.end, prev)
		}
		if t.begin > pos {
			return nil, corrupt(t.name, "gap of %d bytes before data_offsets [%d %d]", t.begin-pos, t.begin, t.end)
		}
		pos = t.end
		if t.end > t.begin {
			prev = t.name
		}
	}
	if pos != dataLen {
		return nil, corrupt("", "%d bytes after the last tensor in the data section", dataLen-pos)
	}
	sort.Slice(f.tensors, func(i, j int) bool { return f.tensors[i].name < f.tensors[j].name })
	for i := range f.tensors {
		f.byName[f.tensors[i].name] = &f.tensors[i]
	}
	return f, nil
}

// decodeObject reads a JSON object from dec, calling value for each key
// (value must consume the key's value); it rejects duplicate keys.
func decodeObject(dec *json.Decoder, value func(key string) error) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("got %v, want an object", tok)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("got %v, want an object key", tok)
		}
		if seen[key] {
			return fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		if err := value(key); err != nil {
			return err
		}
	}
	_, err = dec.Token() // the closing '}'
	return err
}

// f32 returns the values of t (which must be F32) decoded from the data
// section.
func (f *rawFile) f32(t *tensorEntry) []float32 {
	raw := f.data[t.begin:t.end]
	out := make([]float32, len(raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out
}

// firstNonFinite returns the index of the first NaN or ±Inf value of the F32
// tensor t, or -1.
func (f *rawFile) firstNonFinite(t *tensorEntry) int {
	raw := f.data[t.begin:t.end]
	for i := 0; i+4 <= len(raw); i += 4 {
		if binary.LittleEndian.Uint32(raw[i:])&0x7f800000 == 0x7f800000 {
			return i / 4
		}
	}
	return -1
}

// checksumKey is the metadata key of the self-checksum.
const checksumKey = "sha256"

// checksumPlaceholder stands for the digest while it is computed.
var checksumPlaceholder = strings.Repeat("0", sha256.Size*2)

// digestSpan returns the position in header of the 64 hex digits of the
// checksum digest, located as the only occurrence of "sha256":"<digest>".
func digestSpan(header []byte, digest string) (int, error) {
	if len(digest) != sha256.Size*2 || strings.ToLower(digest) != digest {
		return 0, fmt.Errorf("%q is not 64 lower-case hex digits", digest)
	}
	if _, err := hex.DecodeString(digest); err != nil {
		return 0, fmt.Errorf("%q is not 64 lower-case hex digits", digest)
	}
	pat := []byte(`"` + checksumKey + `":"` + digest + `"`)
	i := bytes.Index(header, pat)
	if i < 0 || bytes.Index(header[i+1:], pat) >= 0 {
		return 0, fmt.Errorf(`the header does not hold "%s":"<digest>" exactly once`, checksumKey)
	}
	return i + len(pat) - 1 - len(digest), nil
}

// fileDigest is the hex SHA-256 of file with the 64 bytes at 8+digestPos
// (the digest's position in the header) replaced by ASCII zeros.
func fileDigest(file []byte, digestPos int) string {
	h := sha256.New()
	at := 8 + digestPos
	h.Write(file[:at])
	h.Write([]byte(checksumPlaceholder))
	h.Write(file[at+len(checksumPlaceholder):])
	return hex.EncodeToString(h.Sum(nil))
}

// verifyChecksum checks the sha256 metadata of a parsed file.
func verifyChecksum(file []byte, f *rawFile) error {
	digest, ok := f.meta[checksumKey]
	if !ok {
		return &Error{Err: fmt.Errorf("%w: metadata has no %q", ErrChecksum, checksumKey)}
	}
	pos, err := digestSpan(f.header, digest)
	if err != nil {
		return &Error{Err: fmt.Errorf("%w: %v", ErrChecksum, err)}
	}
	if got := fileDigest(file, pos); got != digest {
		return &Error{Err: fmt.Errorf("%w: file digest %s, recorded %s (corrupted file)", ErrChecksum, got, digest)}
	}
	return nil
}

// outTensor is a tensor to write: [rows, cols], or shape when set.
type outTensor struct {
	name       string
	rows, cols int
	shape      []int
	data       []float32
}

// Tensor is a named float32 tensor of any shape, row-major, for
// EncodeSafetensors.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// EncodeSafetensors returns a plain safetensors file (not a cpntrain
// checkpoint: no format entries) holding the tensors as F32 in name order,
// with meta (which must not contain "sha256") and the sha256 entry of the
// package comment. The exporters write it for other tools.
func EncodeSafetensors(tensors []Tensor, meta map[string]string) ([]byte, error) {
	out := make([]outTensor, len(tensors))
	for i, t := range tensors {
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		out[i] = outTensor{name: t.Name, shape: shape, data: t.Data}
	}
	return encode(out, meta)
}

// encode returns a safetensors file holding tensors as F32 [rows, cols] in
// name order, with meta (which must not contain "sha256") plus a sha256
// entry computed as documented in the package comment. The header is padded
// with spaces to a multiple of 8 bytes so that the data section is aligned.
func encode(tensors []outTensor, meta map[string]string) ([]byte, error) {
	if _, ok := meta[checksumKey]; ok {
		return nil, fmt.Errorf("metadata must not set %q", checksumKey)
	}
	sorted := append([]outTensor(nil), tensors...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	type entry struct {
		DType       string   `json:"dtype"`
		Shape       []int    `json:"shape"`
		DataOffsets [2]int64 `json:"data_offsets"`
	}
	header := make(map[string]any, len(sorted)+1)
	var off int64
	for i, t := range sorted {
		if t.name == "__metadata__" || (i > 0 && sorted[i-1].name == t.name) {
			return nil, fmt.Errorf("invalid or duplicate tensor name %q", t.name)
		}
		shape := t.shape
		if shape == nil {
			shape = []int{t.rows, t.cols}
		}
		size := 1
		for _, d := range shape {
			if d < 0 {
				size = -1
				break
			}
			size *= d
		}
		if size < 0 || len(t.data) != size {
			return nil, fmt.Errorf("tensor %q: %d values for shape %v", t.name, len(t.data), shape)
		}
		n := int64(4 * len(t.data))
		header[t.name] = entry{DType: "F32", Shape: shape, DataOffsets: [2]int64{off, off + n}}
		off += n
	}
	m := make(map[string]string, len(meta)+1)
	for k, v := range meta {
		m[k] = v
	}
	m[checksumKey] = checksumPlaceholder
	header["__metadata__"] = m
	js, err := json.Marshal(header)
	if err != nil {
		return nil, err
	}
	pad := (8 - len(js)%8) % 8
	hlen := len(js) + pad
	out := make([]byte, 8+int64(hlen)+off)
	binary.LittleEndian.PutUint64(out, uint64(hlen))
	copy(out[8:], js)
	for i := 8 + len(js); i < 8+hlen; i++ {
		out[i] = ' '
	}
	p := 8 + hlen
	for _, t := range sorted {
		for _, v := range t.data {
			binary.LittleEndian.PutUint32(out[p:], math.Float32bits(v))
			p += 4
		}
	}
	pos, err := digestSpan(out[8:8+hlen], checksumPlaceholder)
	if err != nil {
		return nil, err
	}
	copy(out[8+pos:], fileDigest(out, pos))
	return out, nil
}
