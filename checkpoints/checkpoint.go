package checkpoints

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/optim"
)

// Format and FormatVersion are the values of the "format" and
// "format_version" metadata entries of the files this package writes.
const (
	Format        = "cpntrain-checkpoint"
	FormatVersion = "1"
)

// Tensor name prefixes.
const (
	modelPrefix = "model/"
	optimPrefix = "optim/"
)

// Metadata keys.
const (
	keyFormat      = "format"
	keyVersion     = "format_version"
	keyModelKind   = "model_kind"
	keyModelConfig = "model_config"
	keyStep        = "step"
	keyRNG         = "rng_state"
	keyOptim       = "optim"
	keyExtra       = "extra"
)

// Errors wrapped by *Error; test for them with errors.Is.
var (
	// ErrCorrupt means the file is not well-formed safetensors: truncated,
	// header length beyond the file, invalid or duplicate JSON, unknown
	// dtype, offsets that do not match shapes or do not tile the data.
	ErrCorrupt = errors.New("corrupt safetensors file")
	// ErrChecksum means the sha256 entry is missing, malformed or does not
	// match the file's contents.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrFormat means the file is not a cpntrain checkpoint, has an
	// unsupported format_version, or has malformed metadata.
	ErrFormat = errors.New("not a valid cpntrain checkpoint")
	// ErrDType means a tensor is not F32.
	ErrDType = errors.New("wrong dtype")
	// ErrMissing means a tensor the model (or optimizer) needs is absent.
	ErrMissing = errors.New("missing tensor")
	// ErrUnexpected means the file holds a tensor nothing asked for.
	ErrUnexpected = errors.New("unexpected tensor")
	// ErrShape means a tensor's shape differs from the parameter's.
	ErrShape = errors.New("shape mismatch")
	// ErrNonFinite means a parameter or buffer holds NaN or ±Inf.
	ErrNonFinite = errors.New("non-finite value")
	// ErrKind means the checkpoint's model kind is not the expected one.
	ErrKind = errors.New("model kind mismatch")
	// ErrOptimizer means the optimizer rejected the saved state (another
	// kind of optimizer, other parameters, invalid hyper-parameters) or the
	// file has no optimizer state.
	ErrOptimizer = errors.New("optimizer state rejected")
	// ErrNotRegular means the path names something other than a regular
	// file (a directory, a device such as /dev/zero, a FIFO, a socket), which
	// the readers refuse before opening it.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge means the file is larger than MaxFileSize.
	ErrTooLarge = errors.New("file too large")
)

// Limits of the readers (Load, Inspect, StepOf), checked before anything is
// allocated: a file larger than MaxFileSize is refused with ErrTooLarge, and
// a header length (the first 8 bytes) beyond the end of the file or above
// MaxHeaderSize with ErrCorrupt. The safetensors format itself has no size
// limit (64-bit offsets); MaxFileSize is this package's policy, far above
// any cpntrain model, and the readers hold the whole file in memory.
// MaxHeaderSize is the limit of the reference implementation.
const (
	MaxFileSize   int64 = 16 << 30 // 16 GiB
	MaxHeaderSize int64 = maxHeader
)

// Error is the error type of Save, Load and Inspect. Err wraps one of the
// Err* values of this package, or an I/O error.
type Error struct {
	// Op is "save", "load" or "inspect".
	Op string
	// File is the checkpoint's path.
	File string
	// Tensor is the name of the offending tensor ("model/<param path>" or
	// "optim/<buffer key>"), or empty if the error is not about one.
	Tensor string
	// Err is the underlying error.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("checkpoints: ")
	if e.Op != "" {
		b.WriteString(e.Op + " ")
	}
	b.WriteString(e.File)
	if e.Tensor != "" {
		fmt.Fprintf(&b, ": tensor %q", e.Tensor)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns e.Err.
func (e *Error) Unwrap() error { return e.Err }

// fail returns err as an *Error for op and file, keeping its tensor if it is
// already an *Error.
func fail(op, file string, err error) error {
	var ce *Error
	if errors.As(err, &ce) {
		return &Error{Op: op, File: file, Tensor: ce.Tensor, Err: ce.Err}
	}
	return &Error{Op: op, File: file, Err: err}
}

// tensorErr returns an *Error about tensor wrapping kind with a message.
func tensorErr(tensor string, kind error, format string, args ...any) *Error {
	return &Error{Tensor: tensor, Err: fmt.Errorf("%w: %s", kind, fmt.Sprintf(format, args...))}
}

// Meta is the caller's metadata of a checkpoint.
type Meta struct {
	// ModelKind names the model ("syncgnn", "mlp", …); Load can require it
	// with ExpectKind.
	ModelKind string
	// ModelConfig is the model's configuration as JSON, stored compacted;
	// nil is stored as null and loaded back as nil.
	ModelConfig json.RawMessage
	// Step is the training step (not necessarily the optimizer's step).
	Step int64
	// RNGState is an opaque RNG state, for example the result of a
	// *rand.PCG's MarshalBinary; it is stored base64-encoded.
	RNGState []byte
	// Extra holds further caller state (buffer positions, best score, …) as
	// JSON values, stored compacted; an empty map is loaded back as nil.
	Extra map[string]json.RawMessage
}

// optimMeta is the JSON of the "optim" metadata entry.
type optimMeta struct {
	Kind  string             `json:"kind"`
	Step  int64              `json:"step"`
	Hyper map[string]float64 `json:"hyper"`
}

// Save writes model's parameters, opt's state (if opt is not nil) and meta
// to path, atomically: the file is written to a temporary file in the same
// directory, synced and closed, renamed over path, and the directory is
// synced. Either the old file or the complete new one is at path afterwards.
//
// It returns an error, and leaves path untouched, if a parameter path is
// malformed, a parameter or buffer holds NaN or ±Inf, a JSON field of meta is
// invalid, or writing fails. Like nn.Collect, it panics if model visits a
// parameter twice or two parameters under one path (a wiring bug).
func Save(path string, model nn.Module, opt optim.Optimizer, meta Meta) error {
	b, err := encodeCheckpoint(model, opt, meta)
	if err != nil {
		return fail("save", path, err)
	}
	if err := writeFileAtomic(path, b); err != nil {
		return fail("save", path, err)
	}
	return nil
}

// encodeCheckpoint returns the bytes Save writes.
func encodeCheckpoint(model nn.Module, opt optim.Optimizer, meta Meta) ([]byte, error) {
	if err := nn.CheckPaths(model); err != nil {
		return nil, err
	}
	var tensors []outTensor
	add := func(name string, t *nn.Tensor) error {
		if len(t.Data) != t.Rows*t.Cols {
			return tensorErr(name, ErrShape, "%d values for shape %s", len(t.Data), t.Shape())
		}
		for i, v := range t.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return tensorErr(name, ErrNonFinite, "%v at index %d; refusing to save", v, i)
			}
		}
		tensors = append(tensors, outTensor{name: name, rows: t.Rows, cols: t.Cols, data: t.Data})
		return nil
	}
	for _, np := range nn.Collect(model) {
		if err := add(modelPrefix+np.Path, np.Param.V); err != nil {
			return nil, err
		}
	}
	md := map[string]string{
		keyFormat:    Format,
		keyVersion:   FormatVersion,
		keyModelKind: meta.ModelKind,
		keyStep:      strconv.FormatInt(meta.Step, 10),
		keyRNG:       base64.StdEncoding.EncodeToString(meta.RNGState),
		keyOptim:     "null",
	}
	cfg := []byte("null")
	if len(meta.ModelConfig) > 0 {
		var buf bytes.Buffer
		if err := json.Compact(&buf, meta.ModelConfig); err != nil {
			return nil, fmt.Errorf("model config is not valid JSON: %v", err)
		}
		cfg = buf.Bytes()
	}
	md[keyModelConfig] = string(cfg)
	extra := meta.Extra
	if extra == nil {
		extra = map[string]json.RawMessage{}
	}
	ex, err := json.Marshal(extra)
	if err != nil {
		return nil, fmt.Errorf("extra metadata: %v", err)
	}
	md[keyExtra] = string(ex)
	if opt != nil {
		st := opt.State()
		om, err := json.Marshal(optimMeta{Kind: st.Kind, Step: st.Step, Hyper: st.Hyper})
		if err != nil {
			return nil, fmt.Errorf("optimizer state: %v", err)
		}
		md[keyOptim] = string(om)
		for _, k := range st.BufferKeys() {
			if err := add(optimPrefix+k, st.Buffers[k]); err != nil {
				return nil, err
			}
		}
	}
	return encode(tensors, md)
}

// LoadOption configures Load.
type LoadOption func(*loadConfig)

type loadConfig struct {
	kind string
}

// ExpectKind makes Load fail with ErrKind unless the checkpoint's model kind
// is kind.
func ExpectKind(kind string) LoadOption {
	return func(c *loadConfig) { c.kind = kind }
}

// Load reads the checkpoint at path, copies its tensors into model's
// parameters (in place) and, if opt is not nil, restores opt's state. It
// returns the checkpoint's metadata.
//
// Everything is validated before anything is changed: on any error, neither
// model nor opt is modified. Load fails on an unreadable, truncated or
// malformed file, a checksum mismatch, a wrong format or format_version,
// malformed metadata, a model kind other than the one given by ExpectKind, a
// missing, extra, non-F32, non-2-D or mis-shaped tensor, a NaN or ±Inf value,
// an optimizer state that opt rejects, or a missing optimizer state when opt
// is not nil. Errors are *Error values naming the file and, where there is
// one, the tensor. When opt is nil, optimizer tensors in the file are
// ignored. Load does not touch the gradients.
//
// Before it allocates memory for the file, Load refuses a path that is not a
// regular file (ErrNotRegular: a directory, a device, a FIFO; not even
// opened), a file larger than MaxFileSize (ErrTooLarge) and a header length
// beyond the file or above MaxHeaderSize (ErrCorrupt); it then reads exactly
// the size the file had when opened, so a file growing meanwhile does not
// make it read more.
//
// Load never panics because of the file's contents. Like nn.Collect, it
// panics if model visits a parameter twice or two parameters under one path
// (a wiring bug).
func Load(path string, model nn.Module, opt optim.Optimizer, opts ...LoadOption) (Meta, error) {
	b, err := readFile(path)
	if err != nil {
		return Meta{}, fail("load", path, err)
	}
	m, err := load(b, model, opt, opts...)
	if err != nil {
		return Meta{}, fail("load", path, err)
	}
	return m, nil
}

// checkpoint is a validated file with its decoded metadata.
type checkpoint struct {
	raw   *rawFile
	meta  Meta
	optim *optimMeta // nil when the file has no optimizer state
}

// open parses and validates b as a cpntrain checkpoint: structure, format,
// version, checksum, metadata, and that every tensor is F32, 2-D and named
// model/… or optim/… (optim/… only with optimizer state).
func open(b []byte) (*checkpoint, error) {
	raw, err := parse(b)
	if err != nil {
		return nil, err
	}
	if err := checkFormat(raw.meta); err != nil {
		return nil, err
	}
	if err := verifyChecksum(b, raw); err != nil {
		return nil, err
	}
	c := &checkpoint{raw: raw}
	if c.meta, c.optim, err = decodeMeta(raw.meta); err != nil {
		return nil, err
	}
	for i := range raw.tensors {
		t := &raw.tensors[i]
		switch {
		case t.dtype != "F32":
			return nil, tensorErr(t.name, ErrDType, "dtype %s, want F32", t.dtype)
		case len(t.shape) != 2:
			return nil, tensorErr(t.name, ErrShape, "shape %v, want [rows, cols]", t.shape)
		case strings.HasPrefix(t.name, modelPrefix):
		case strings.HasPrefix(t.name, optimPrefix):
			if c.optim == nil {
				return nil, tensorErr(t.name, ErrUnexpected, "optimizer buffer in a checkpoint without optimizer state")
			}
		default:
			return nil, tensorErr(t.name, ErrUnexpected, "name outside %q and %q", modelPrefix, optimPrefix)
		}
	}
	return c, nil
}

// checkFormat checks the format and format_version entries.
func checkFormat(md map[string]string) error {
	f, ok := md[keyFormat]
	if !ok {
		return &Error{Err: fmt.Errorf("%w: no %q metadata (not written by cpntrain?)", ErrFormat, keyFormat)}
	}
	if f != Format {
		return &Error{Err: fmt.Errorf("%w: format %q, want %q", ErrFormat, f, Format)}
	}
	if v := md[keyVersion]; v != FormatVersion {
		return &Error{Err: fmt.Errorf("%w: unsupported format_version %q (this build reads %q)", ErrFormat, v, FormatVersion)}
	}
	return nil
}

// decodeMeta decodes the cpntrain metadata entries.
func decodeMeta(md map[string]string) (Meta, *optimMeta, error) {
	bad := func(key, format string, args ...any) error {
		return &Error{Err: fmt.Errorf("%w: metadata %q: %s", ErrFormat, key, fmt.Sprintf(format, args...))}
	}
	for _, k := range []string{keyModelKind, keyModelConfig, keyStep, keyRNG, keyOptim, keyExtra} {
		if _, ok := md[k]; !ok {
			return Meta{}, nil, bad(k, "missing")
		}
	}
	var m Meta
	m.ModelKind = md[keyModelKind]
	if cfg := md[keyModelConfig]; cfg != "null" {
		if !json.Valid([]byte(cfg)) {
			return Meta{}, nil, bad(keyModelConfig, "not valid JSON")
		}
		m.ModelConfig = json.RawMessage(cfg)
	}
	step, err := strconv.ParseInt(md[keyStep], 10, 64)
	if err != nil {
		return Meta{}, nil, bad(keyStep, "%v", err)
	}
	m.Step = step
	if s := md[keyRNG]; s != "" {
		if m.RNGState, err = base64.StdEncoding.DecodeString(s); err != nil {
			return Meta{}, nil, bad(keyRNG, "%v", err)
		}
	}
	if err := strictJSON(md[keyExtra], &m.Extra); err != nil {
		return Meta{}, nil, bad(keyExtra, "%v", err)
	}
	if len(m.Extra) == 0 {
		m.Extra = nil
	}
	var om *optimMeta
	if s := md[keyOptim]; s != "null" {
		om = new(optimMeta)
		if err := strictJSON(s, om); err != nil {
			return Meta{}, nil, bad(keyOptim, "%v", err)
		}
		if om.Kind == "" {
			return Meta{}, nil, bad(keyOptim, "no optimizer kind")
		}
	}
	return m, om, nil
}

// strictJSON decodes s into v, rejecting unknown fields and trailing data.
func strictJSON(s string, v any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// load is Load on the file's bytes.
func load(b []byte, model nn.Module, opt optim.Optimizer, opts ...LoadOption) (Meta, error) {
	var cfg loadConfig
	for _, o := range opts {
		o(&cfg)
	}
	c, err := open(b)
	if err != nil {
		return Meta{}, err
	}
	if cfg.kind != "" && c.meta.ModelKind != cfg.kind {
		return Meta{}, &Error{Err: fmt.Errorf("%w: checkpoint holds model kind %q, want %q", ErrKind, c.meta.ModelKind, cfg.kind)}
	}
	if err := nn.CheckPaths(model); err != nil {
		return Meta{}, err
	}
	params := nn.Collect(model)

	// Validate the model's tensors.
	srcs := make([]*tensorEntry, len(params))
	want := make(map[string]bool, len(params))
	for i, np := range params {
		name := modelPrefix + np.Path
		want[name] = true
		t, ok := c.raw.byName[name]
		if !ok {
			return Meta{}, tensorErr(name, ErrMissing, "the model has parameter %q (%s), the checkpoint does not", np.Path, np.Param.V.Shape())
		}
		v := np.Param.V
		if len(v.Data) != v.Rows*v.Cols {
			return Meta{}, tensorErr(name, ErrShape, "model parameter has %d values for shape %s", len(v.Data), v.Shape())
		}
		if t.shape[0] != int64(v.Rows) || t.shape[1] != int64(v.Cols) {
			return Meta{}, tensorErr(name, ErrShape, "checkpoint has shape %v, model parameter is [%d %d]", t.shape, v.Rows, v.Cols)
		}
		if k := c.raw.firstNonFinite(t); k >= 0 {
			return Meta{}, tensorErr(name, ErrNonFinite, "%v at index %d", c.raw.f32(t)[k], k)
		}
		srcs[i] = t
	}
	for i := range c.raw.tensors {
		t := &c.raw.tensors[i]
		if strings.HasPrefix(t.name, modelPrefix) && !want[t.name] {
			return Meta{}, tensorErr(t.name, ErrUnexpected, "the checkpoint has it, the model has no parameter %q", strings.TrimPrefix(t.name, modelPrefix))
		}
	}

	// Restore the optimizer: LoadState validates everything before it
	// changes anything, and nothing after it can fail.
	if opt != nil {
		if c.optim == nil {
			return Meta{}, &Error{Err: fmt.Errorf("%w: the checkpoint has no optimizer state", ErrOptimizer)}
		}
		st := optim.State{Kind: c.optim.Kind, Step: c.optim.Step, Hyper: c.optim.Hyper, Buffers: map[string]*nn.Tensor{}}
		if st.Hyper == nil {
			st.Hyper = map[string]float64{}
		}
		for i := range c.raw.tensors {
			t := &c.raw.tensors[i]
			key, ok := strings.CutPrefix(t.name, optimPrefix)
			if !ok {
				continue
			}
			if k := c.raw.firstNonFinite(t); k >= 0 {
				return Meta{}, tensorErr(t.name, ErrNonFinite, "%v at index %d", c.raw.f32(t)[k], k)
			}
			rows, cols := t.shape[0], t.shape[1]
			if rows > math.MaxInt32 || cols > math.MaxInt32 {
				return Meta{}, tensorErr(t.name, ErrShape, "shape %v too large", t.shape)
			}
			st.Buffers[key] = &nn.Tensor{Rows: int(rows), Cols: int(cols), Data: c.raw.f32(t)}
		}
		if err := opt.LoadState(st); err != nil {
			e := &Error{Err: fmt.Errorf("%w: %w", ErrOptimizer, err)}
			var se *optim.StateError
			if errors.As(err, &se) && se.Buffer != "" {
				e.Tensor = optimPrefix + se.Buffer
			}
			return Meta{}, e
		}
	}

	// Copy the values.
	for i, np := range params {
		copy(np.Param.V.Data, c.raw.f32(srcs[i]))
	}
	return c.meta, nil
}

// TensorInfo describes one tensor of a file.
type TensorInfo struct {
	// Name is the tensor's name, e.g. "model/encoder/w".
	Name string
	// DType is the safetensors dtype, "F32" in cpntrain checkpoints.
	DType string
	// Shape is the tensor's shape.
	Shape []int64
	// Offsets are the begin and end byte offsets in the data section.
	Offsets [2]int64
}

// OptimInfo describes the optimizer state of a checkpoint.
type OptimInfo struct {
	// Kind is the optimizer's kind ("sgd", "adam", "adamw").
	Kind string
	// Step is the optimizer's step count.
	Step int64
	// Hyper holds the optimizer's hyper-parameters.
	Hyper map[string]float64
}

// Info describes a safetensors file, as Inspect returns it.
type Info struct {
	// File is the inspected path.
	File string
	// Size is the file size in bytes; HeaderBytes the length of the JSON
	// header (with padding); DataBytes the length of the data section.
	Size, HeaderBytes, DataBytes int64
	// Metadata holds all __metadata__ entries, as stored.
	Metadata map[string]string
	// Checkpoint reports whether the file is a cpntrain checkpoint of a
	// supported version; Meta and Optim are filled only then.
	Checkpoint bool
	// Meta is the checkpoint's decoded metadata.
	Meta Meta
	// Optim is the checkpoint's optimizer state, nil if it has none.
	Optim *OptimInfo
	// ChecksumOK reports whether the sha256 entry matches the contents.
	// It is false for files without one.
	ChecksumOK bool
	// ChecksumErr explains a false ChecksumOK.
	ChecksumErr error
	// Tensors lists the tensors in name order.
	Tensors []TensorInfo
}

// StepOf returns the training step of the checkpoint at path; ok is false
// when there is no file there. A file that is not a cpntrain checkpoint is
// an error, and so is a path that is not a regular file (ErrNotRegular) or a
// file Inspect refuses as too large.
func StepOf(path string) (step int64, ok bool, err error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	info, err := Inspect(path)
	if err != nil {
		return 0, false, err
	}
	if !info.Checkpoint {
		return 0, false, fail("inspect", path, errors.New("not a cpntrain checkpoint"))
	}
	return info.Meta.Step, true, nil
}

// Inspect describes the safetensors file at path without loading it into a
// model, for diagnostics. It works on any well-formed safetensors file; for a
// cpntrain checkpoint it also decodes the metadata.
//
// Inspect returns an error (an *Error) if the file cannot be read, is not
// well-formed safetensors, or claims to be a cpntrain checkpoint but has an
// unsupported version or malformed metadata. A checksum mismatch is not an
// error for Inspect: it is reported in Info.ChecksumOK and Info.ChecksumErr,
// so that a damaged file can still be examined. Load always enforces it.
// Like Load, Inspect refuses a path that is not a regular file, a file above
// MaxFileSize and an impossible header length before allocating anything.
func Inspect(path string) (Info, error) {
	b, err := readFile(path)
	if err != nil {
		return Info{}, fail("inspect", path, err)
	}
	info, err := inspect(b)
	if err != nil {
		return Info{}, fail("inspect", path, err)
	}
	info.File = path
	return info, nil
}

// readFile returns the contents of the safetensors file at path, checking
// before it allocates anything that path is a regular file (a device such as
// /dev/zero, a FIFO or a directory is refused without being opened, since
// opening a FIFO blocks), that its size is at most MaxFileSize, and that the
// header length in its first 8 bytes fits in the file and under
// MaxHeaderSize. It reads exactly the size the file had when opened. Errors
// are *Error values without Op and File, or I/O errors.
func readFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := checkRegular(fi); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The path may have been replaced between Stat and Open.
	ofi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := checkRegular(ofi); err != nil {
		return nil, err
	}
	return readSized(f, ofi.Size())
}

// checkRegular returns an ErrNotRegular error unless fi is a regular file.
func checkRegular(fi fs.FileInfo) error {
	mode := fi.Mode()
	if mode.IsRegular() {
		return nil
	}
	what := "not a file"
	switch {
	case mode.IsDir():
		what = "a directory"
	case mode&fs.ModeCharDevice != 0:
		what = "a character device"
	case mode&fs.ModeDevice != 0:
		what = "a block device"
	case mode&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case mode&fs.ModeSocket != 0:
		what = "a socket"
	case mode&fs.ModeIrregular != 0:
		what = "an irregular file"
	}
	return &Error{Err: fmt.Errorf("%w: it is %s", ErrNotRegular, what)}
}

// readSized reads a safetensors file of size bytes from r: it refuses a
// size above MaxFileSize, reads the 8-byte header length and refuses one
// that cannot be right (beyond the end of the file, above MaxHeaderSize),
// then allocates size bytes and reads exactly that many (through a
// LimitReader, so a file that grew is read as it was when sized). Files
// shorter than 8 bytes or with a zero header length are returned as read,
// for parse to reject.
func readSized(r io.Reader, size int64) ([]byte, error) {
	if size < 0 {
		return nil, &Error{Err: fmt.Errorf("%w: negative size %d", ErrCorrupt, size)}
	}
	if size > MaxFileSize || uint64(size) > math.MaxInt {
		return nil, &Error{Err: fmt.Errorf("%w: %d bytes, the limit is %d (MaxFileSize)", ErrTooLarge, size, MaxFileSize)}
	}
	r = io.LimitReader(r, size)
	var prefix [8]byte
	n := min(size, 8)
	if _, err := io.ReadFull(r, prefix[:n]); err != nil {
		return nil, shrank(err, size)
	}
	if n == 8 {
		hlen := binary.LittleEndian.Uint64(prefix[:])
		// The same checks, and messages, as parse's.
		if hlen > uint64(size-8) {
			return nil, corrupt("", "header length %d beyond the end of the %d-byte file (truncated file?)", hlen, size)
		}
		if hlen > uint64(MaxHeaderSize) {
			return nil, corrupt("", "header length %d exceeds the limit of %d bytes", hlen, MaxHeaderSize)
		}
	}
	b := make([]byte, size)
	copy(b, prefix[:n])
	if _, err := io.ReadFull(r, b[n:]); err != nil {
		return nil, shrank(err, size)
	}
	return b, nil
}

// shrank describes an error reading a file of size bytes: one that became
// shorter while it was read, or another I/O error.
func shrank(err error, size int64) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("the file became shorter while being read (expected %d bytes): %w", size, io.ErrUnexpectedEOF)
	}
	return err
}

// inspect is Inspect on the file's bytes.
func inspect(b []byte) (Info, error) {
	raw, err := parse(b)
	if err != nil {
		return Info{}, err
	}
	info := Info{
		Size:        int64(len(b)),
		HeaderBytes: raw.headerLen,
		DataBytes:   int64(len(raw.data)),
		Metadata:    raw.meta,
	}
	for _, t := range raw.tensors {
		info.Tensors = append(info.Tensors, TensorInfo{Name: t.name, DType: t.dtype,
			Shape: append([]int64{}, t.shape...), Offsets: [2]int64{t.begin, t.end}})
	}
	if err := verifyChecksum(b, raw); err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			err = ce.Err
		}
		info.ChecksumErr = err
	} else {
		info.ChecksumOK = true
	}
	if _, ok := raw.meta[keyFormat]; !ok || raw.meta[keyFormat] != Format {
		return info, nil
	}
	if err := checkFormat(raw.meta); err != nil {
		return Info{}, err
	}
	m, om, err := decodeMeta(raw.meta)
	if err != nil {
		return Info{}, err
	}
	info.Checkpoint = true
	info.Meta = m
	if om != nil {
		info.Optim = &OptimInfo{Kind: om.Kind, Step: om.Step, Hyper: om.Hyper}
	}
	return info, nil
}

// ReadModelTensors reads a checkpoint's model tensors — validated as Load
// validates the file (structure, format, checksum, metadata) — without a
// model to load them into: their names without the "model/" prefix, in
// name order, with their [rows, cols] shapes. The exporters use it to
// write any model kind's parameters for other tools.
func ReadModelTensors(path string) (Meta, []Tensor, error) {
	b, err := readFile(path)
	if err != nil {
		return Meta{}, nil, fail("read", path, err)
	}
	c, err := open(b)
	if err != nil {
		return Meta{}, nil, fail("read", path, err)
	}
	var out []Tensor
	for i := range c.raw.tensors {
		t := &c.raw.tensors[i]
		if !strings.HasPrefix(t.name, modelPrefix) {
			continue
		}
		out = append(out, Tensor{Name: strings.TrimPrefix(t.name, modelPrefix), Shape: []int{int(t.shape[0]), int(t.shape[1])}, Data: c.raw.f32(t)})
	}
	return c.meta, out, nil
}
