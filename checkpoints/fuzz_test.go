package checkpoints

import (
	"bytes"
	"encoding/binary"
	"math"
	"reflect"
	"testing"
)

// fixChecksum recomputes the checksum of b if its header holds a
// well-formed "sha256":"<64 hex digits>" entry, so that the fuzzer also
// reaches the checks that come after the checksum.
func fixChecksum(b []byte) []byte {
	if len(b) < 8 {
		return b
	}
	n := binary.LittleEndian.Uint64(b)
	if n > uint64(len(b)-8) {
		return b
	}
	header := b[8 : 8+n]
	i := bytes.Index(header, []byte(`"sha256":"`))
	if i < 0 || i+10+64 > len(header) {
		return b
	}
	digest := string(header[i+10 : i+10+64])
	pos, err := digestSpan(header, digest)
	if err != nil {
		return b
	}
	out := append([]byte(nil), b...)
	copy(out[8+pos:], fileDigest(out, pos))
	return out
}

// FuzzLoad feeds arbitrary bytes to Load and Inspect: they must never
// panic, a failed Load must leave the model and optimizer unchanged, and a
// successful one must yield finite values and round-trip: what was loaded,
// saved again and loaded into a fresh model gives the same parameters,
// optimizer state and metadata, and saving that gives the same bytes.
func FuzzLoad(f *testing.F) {
	valid, _, _ := validFile(f)
	f.Add(valid, false)
	f.Add(valid[:len(valid)/2], false)
	f.Add(valid[:7], false)
	ts, meta := decompose(f, valid)
	f.Add(mustEncode(f, ts[:2], meta), false)
	meta[keyOptim] = "null"
	f.Add(mustEncode(f, ts[:2], meta), false)
	f.Add(bytes.Replace(valid, []byte(`"F32"`), []byte(`"F64"`), 1), true)
	f.Add(bytes.Replace(valid, []byte(`"shape":[3,4]`), []byte(`"shape":[4,3]`), 1), true)
	f.Add(bytes.Replace(valid, []byte(`"shape":[3,4]`), []byte(`"shape":[3,5]`), 1), true)
	f.Add(bytes.Replace(valid, []byte(`"data_offsets":[0,`), []byte(`"data_offsets":[4,`), 1), true)
	nan := append([]byte(nil), valid...)
	binary.LittleEndian.PutUint32(nan[len(nan)-4:], math.Float32bits(float32(math.NaN())))
	f.Add(nan, true)
	f.Add(assemble(`{"__metadata__":`+metaJSON(nil)+`}`, nil), false)
	f.Add([]byte{}, false)

	f.Fuzz(func(t *testing.T, b []byte, fix bool) {
		if fix {
			b = fixChecksum(b)
		}
		_, _ = inspect(b)
		tg := newTarget()
		meta, err := load(b, tg.m, tg.opt)
		if err != nil {
			tg.unchanged(t)
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T %v is not an *Error", err, err)
			}
		} else {
			for path, vs := range values(tg.m) {
				for _, v := range vs {
					if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
						t.Fatalf("loaded non-finite %v into %s", v, path)
					}
				}
			}
			roundTrip(t, tg, meta)
		}
		// Without an optimizer.
		tg2 := newTarget()
		if _, err := load(b, tg2.m, nil, ExpectKind("tiny")); err != nil {
			if !reflect.DeepEqual(values(tg2.m), tg2.before) {
				t.Fatal("the model was modified by a failed load")
			}
		}
	})
}

// roundTrip saves what tg holds after a successful load (with the loaded
// meta), loads it into a fresh target and checks that nothing changed on
// the way: parameters, optimizer state, metadata, and the saved bytes.
func roundTrip(t *testing.T, tg *target, meta Meta) {
	t.Helper()
	b1, err := encodeCheckpoint(tg.m, tg.opt, meta)
	if err != nil {
		t.Fatalf("saving a loaded checkpoint: %v", err)
	}
	fresh := newTarget()
	meta1, err := load(b1, fresh.m, fresh.opt)
	if err != nil {
		t.Fatalf("loading a re-saved checkpoint: %v", err)
	}
	if !reflect.DeepEqual(values(fresh.m), values(tg.m)) {
		t.Fatal("parameters changed in a save/load round trip")
	}
	if !reflect.DeepEqual(fresh.opt.State(), tg.opt.State()) {
		t.Fatal("optimizer state changed in a save/load round trip")
	}
	if !reflect.DeepEqual(meta1, meta) {
		t.Fatalf("metadata changed in a save/load round trip:\n%+v\n%+v", meta, meta1)
	}
	b2, err := encodeCheckpoint(fresh.m, fresh.opt, meta1)
	if err != nil {
		t.Fatalf("saving a round-tripped checkpoint: %v", err)
	}
	if !bytes.Equal(b1, b2) {
		t.Fatal("saving the same state twice gave different bytes")
	}
}
