package nasbench201

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"strings"
)

// maxPTSize bounds the size of a .pt file and of its data.pkl record; the
// largest upstream file, str_arch2idx.pt, has 1.5 MB.
const maxPTSize = 64 << 20

// readFile reads the file at path, refusing files larger than maxPTSize.
// A missing file gives a *missingError.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &missingError{err}
		}
		return nil, fmt.Errorf("nasbench201: %w", err)
	}
	defer f.Close() // read-only: a Close error cannot lose data
	var buf bytes.Buffer
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 && fi.Size() <= maxPTSize {
		buf.Grow(int(fi.Size()) + bytes.MinRead)
	}
	_, err = buf.ReadFrom(io.LimitReader(f, maxPTSize+1))
	b := buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("nasbench201: %s: %w", path, err)
	}
	if len(b) > maxPTSize {
		return nil, fmt.Errorf("nasbench201: %s: larger than %d bytes, not a HELP data file", path, maxPTSize)
	}
	return b, nil
}

// missingError is a data file that does not exist; it says how to get the
// data and unwraps to the *fs.PathError (errors.Is(err, fs.ErrNotExist)).
type missingError struct{ err error }

func (e *missingError) Error() string {
	return "nasbench201: " + e.err.Error() +
		" (get the data with `cpntrain data fetch nasbench201`, or set CPNTRAIN_DATA to a folder holding nasbench201/)"
}

func (e *missingError) Unwrap() error { return e.err }

// decodePT returns the object pickled in the data.pkl record of a PyTorch
// zip archive (the format of torch.save since PyTorch 1.6): a zip whose
// records all sit in one top folder, "<name>/data.pkl" being the pickle.
// Tensors (persistent ids) and the legacy non-zip format are not supported.
// It never panics: an unexpected panic becomes an error.
func decodePT(b []byte) (v pyValue, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = pyValue{}, fmt.Errorf("internal error decoding the file (please report): %v", r)
		}
	}()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil && !(errors.Is(err, zip.ErrInsecurePath) && zr != nil) {
		if len(b) >= 2 && b[0] == 0x80 {
			return pyValue{}, errors.New("a bare pickle or the legacy (non-zip) torch.save format, not a PyTorch ≥ 1.6 zip archive; fetch the upstream file")
		}
		return pyValue{}, fmt.Errorf("not a PyTorch zip archive: %w", err)
	}
	var rec *zip.File
	for _, f := range zr.File {
		dir, file := path.Split(f.Name)
		if file != "data.pkl" || strings.Count(dir, "/") != 1 {
			continue
		}
		if rec != nil {
			return pyValue{}, fmt.Errorf("two pickle records, %q and %q", rec.Name, f.Name)
		}
		rec = f
	}
	if rec == nil {
		return pyValue{}, errors.New("no <archive>/data.pkl record: not a torch.save file")
	}
	if rec.UncompressedSize64 > maxPTSize {
		return pyValue{}, fmt.Errorf("%s: %d bytes, more than %d", rec.Name, rec.UncompressedSize64, maxPTSize)
	}
	rc, err := rec.Open()
	if err != nil {
		return pyValue{}, fmt.Errorf("%s: %w", rec.Name, err)
	}
	// The declared size presizes the buffer, within reason: it is not
	// trusted, the reader checks it and the CRC-32 at the end.
	var buf bytes.Buffer
	buf.Grow(int(min(rec.UncompressedSize64, 8*uint64(len(b)))) + bytes.MinRead)
	_, err = buf.ReadFrom(io.LimitReader(rc, maxPTSize+1))
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	p := buf.Bytes()
	if err != nil {
		return pyValue{}, fmt.Errorf("%s: %w", rec.Name, err)
	}
	if len(p) > maxPTSize {
		return pyValue{}, fmt.Errorf("%s: more than %d bytes", rec.Name, maxPTSize)
	}
	v, err = unpickle(p)
	if err != nil {
		return pyValue{}, fmt.Errorf("%s: %w", rec.Name, err)
	}
	return v, nil
}

// decodeLatency decodes a latency/<device>.pt file: a list of NumArchs
// finite, non-negative ints or floats.
func decodeLatency(b []byte) ([]float32, error) {
	v, err := decodePT(b)
	if err != nil {
		return nil, err
	}
	if v.kind != pyListKind {
		return nil, fmt.Errorf("holds a %s, want a list of %d latencies", typeName(v), NumArchs)
	}
	list := v.list()
	if len(list.items) != NumArchs {
		return nil, fmt.Errorf("holds %d latencies, want %d", len(list.items), NumArchs)
	}
	lat := make([]float32, NumArchs)
	for i, it := range list.items {
		x, err := number(it)
		if err != nil {
			return nil, fmt.Errorf("latency %d is a %s, want a number", i, typeName(it))
		}
		f := float32(x)
		if math.IsNaN(x) || math.IsInf(float64(f), 0) || x < 0 {
			return nil, fmt.Errorf("latency %d is %v, want a finite non-negative number", i, x)
		}
		lat[i] = f
	}
	return lat, nil
}

// decodeArchIndex decodes str_arch2idx.pt: a dict from the NumArchs
// architecture strings to the indices 0 … NumArchs-1, each once. It returns
// the Arch of each index.
func decodeArchIndex(b []byte) ([]Arch, error) {
	v, err := decodePT(b)
	if err != nil {
		return nil, err
	}
	if v.kind != pyDictKind {
		return nil, fmt.Errorf("holds a %s, want a dict from architecture strings to indices", typeName(v))
	}
	d := v.dict()
	if len(d.keys) != NumArchs {
		return nil, fmt.Errorf("holds %d architectures, want %d", len(d.keys), NumArchs)
	}
	archs := make([]Arch, NumArchs)
	seenIdx := make([]bool, NumArchs)
	seenArch := make([]bool, NumArchs)
	for i, k := range d.keys {
		if k.kind != pyStr {
			return nil, fmt.Errorf("key %d is a %s, want an architecture string", i, typeName(k))
		}
		s := k.str()
		a, err := ParseArch(s)
		if err != nil {
			return nil, err
		}
		if d.vals[i].kind != pyInt {
			return nil, fmt.Errorf("index of %s is a %s, want an int", s, typeName(d.vals[i]))
		}
		idx := d.vals[i].int()
		if idx < 0 || idx >= NumArchs {
			return nil, fmt.Errorf("index of %s is %d, want 0 … %d", s, idx, NumArchs-1)
		}
		if seenIdx[idx] {
			return nil, fmt.Errorf("index %d is given to two architectures (%s and %s)", idx, archs[idx], s)
		}
		c := a.code()
		if seenArch[c] {
			return nil, fmt.Errorf("architecture %s appears twice", s)
		}
		seenArch[c] = true
		seenIdx[idx] = true
		archs[idx] = a
	}
	return archs, nil // NumArchs distinct indices in range: all are present
}

// decodeRefIndices decodes hardware_embedding_index.pt: a list of NumRefs
// distinct architecture indices.
func decodeRefIndices(b []byte) ([]int, error) {
	v, err := decodePT(b)
	if err != nil {
		return nil, err
	}
	if v.kind != pyListKind {
		return nil, fmt.Errorf("holds a %s, want a list of %d architecture indices", typeName(v), NumRefs)
	}
	list := v.list()
	if len(list.items) != NumRefs {
		return nil, fmt.Errorf("holds %d indices, want %d", len(list.items), NumRefs)
	}
	refs := make([]int, NumRefs)
	for i, it := range list.items {
		if it.kind != pyInt {
			return nil, fmt.Errorf("element %d is a %s, want an int", i, typeName(it))
		}
		x := it.int()
		if x < 0 || x >= NumArchs {
			return nil, fmt.Errorf("element %d is %d, want 0 … %d", i, x, NumArchs-1)
		}
		for _, r := range refs[:i] {
			if r == int(x) {
				return nil, fmt.Errorf("index %d appears twice", x)
			}
		}
		refs[i] = int(x)
	}
	return refs, nil
}
