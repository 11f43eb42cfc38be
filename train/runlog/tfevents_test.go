package runlog

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// crc32cBitwise is an independent, bit-at-a-time CRC-32C (reflected
// Castagnoli polynomial 0x82F63B78), so that the tests do not check
// hash/crc32 against itself.
func crc32cBitwise(data []byte) uint32 {
	crc := ^uint32(0)
	for _, b := range data {
		crc ^= uint32(b)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0x82F63B78
			} else {
				crc >>= 1
			}
		}
	}
	return ^crc
}

func TestCRC32CKnownAnswers(t *testing.T) {
	t.Parallel()
	if got := crc32cBitwise([]byte("123456789")); got != 0xE3069283 {
		t.Fatalf("reference CRC-32C(123456789) = %#08x, want 0xE3069283", got)
	}
	tests := []struct {
		in   string
		want uint32 // Masked CRC, computed by hand from the known CRC.
	}{
		// CRC-32C("") = 0: rotating 0 gives 0, plus the delta.
		{"", 0xa282ead8},
		// CRC-32C("123456789") = 0xE3069283: (c>>15 | c<<17) = 0x2506c60d,
		// plus 0xa282ead8 = 0xc78ab0e5.
		{"123456789", 0xc78ab0e5},
	}
	for _, tt := range tests {
		if got := MaskedCRC32C([]byte(tt.in)); got != tt.want {
			t.Errorf("MaskedCRC32C(%q) = %#08x, want %#08x", tt.in, got, tt.want)
		}
		c := crc32cBitwise([]byte(tt.in))
		if got := (c>>15 | c<<17) + 0xa282ead8; got != tt.want {
			t.Errorf("independent mask of %q = %#08x, want %#08x", tt.in, got, tt.want)
		}
	}
	// A longer, less regular input against the bitwise reference.
	data := []byte("\x00\x01\xfe\xffbrain.Event:2 losses/value_loss")
	c := crc32cBitwise(data)
	if got, want := MaskedCRC32C(data), (c>>15|c<<17)+0xa282ead8; got != want {
		t.Errorf("MaskedCRC32C = %#08x, independent = %#08x", got, want)
	}
}

// Golden records: protobuf bytes written out by hand and checksums computed
// with Python's crc32c package.
var goldenRecords = []struct {
	name  string
	event Event
	hex   string
}{
	{
		name:  "file version",
		event: Event{WallTime: 1.5, FileVersion: FileVersion},
		// len=24 | masked crc | 09 <1.5 as double> 1a 0d "brain.Event:2" | masked crc
		hex: "1800000000000000" + "a37f4b22" +
			"09000000000000f83f" + "1a0d627261696e2e4576656e743a32" +
			"2a28646c",
	},
	{
		name:  "scalar",
		event: Event{WallTime: 2.25, Step: 7, Values: []Value{{Tag: "loss", SimpleValue: 0.5}}},
		// 09 <2.25> 10 07 2a 0d [0a 0b [0a 04 "loss" 15 <0.5 as float>]]
		hex: "1a00000000000000" + "129bd82d" +
			"0900000000000002401007" + "2a0d0a0b0a046c6f7373150000003f" +
			"b6a6c418",
	},
}

func TestGoldenRecords(t *testing.T) {
	t.Parallel()
	for _, g := range goldenRecords {
		want, err := hex.DecodeString(g.hex)
		if err != nil {
			t.Fatal(err)
		}
		got := AppendRecord(nil, AppendEvent(nil, g.event))
		if !bytes.Equal(got, want) {
			t.Errorf("%s: encoded\n%x\nwant\n%x", g.name, got, want)
		}
		// The framing checksums, recomputed independently.
		c := crc32cBitwise(want[:8])
		if got := (c>>15 | c<<17) + 0xa282ead8; got != le32(want[8:12]) {
			t.Errorf("%s: length CRC %#08x, independent %#08x", g.name, le32(want[8:12]), got)
		}
		events, err := DecodeEvents(want)
		if err != nil {
			t.Fatalf("%s: DecodeEvents: %v", g.name, err)
		}
		if !reflect.DeepEqual(events, []Event{g.event}) {
			t.Errorf("%s: decoded %+v, want %+v", g.name, events, g.event)
		}
	}
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func sampleEvents() []Event {
	return []Event{
		{WallTime: 1764032400.25, FileVersion: FileVersion},
		{WallTime: 1764032401.5, Step: 0, Values: []Value{{Tag: "charts/SPS", SimpleValue: 0}}},
		{WallTime: 1764032402.75, Step: 1, Values: []Value{
			{Tag: "losses/value_loss", SimpleValue: 0.125},
			{Tag: "losses/policy_loss", SimpleValue: -3.5},
			{Tag: "charts/episodic_return", SimpleValue: float32(math.Inf(1))},
		}},
		{WallTime: 1764032403, Step: -5, Values: []Value{{Tag: "", SimpleValue: float32(math.Copysign(0, -1))}}},
		{WallTime: 1764032404, Step: math.MaxInt64, Values: []Value{{Tag: "héllo/ü", SimpleValue: math.MaxFloat32}}},
	}
}

func writeEventFile(t *testing.T, events []Event) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := NewEventWriter(&buf)
	for _, e := range events {
		if err := w.WriteEvent(e); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "events.out.tfevents.1.test")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, buf.Bytes()
}

func TestEventRoundTrip(t *testing.T) {
	t.Parallel()
	want := sampleEvents()
	path, _ := writeEventFile(t, want)
	got, err := ReadEvents(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
	}
	// NaN does not compare equal; check its bits survive.
	nan := float32(math.NaN())
	_, data := writeEventFile(t, []Event{{Step: 3, Values: []Value{{Tag: "x", SimpleValue: nan}}}})
	ev, err := DecodeEvents(data)
	if err != nil {
		t.Fatal(err)
	}
	if math.Float32bits(ev[0].Values[0].SimpleValue) != math.Float32bits(nan) {
		t.Errorf("NaN bits changed: %#x", math.Float32bits(ev[0].Values[0].SimpleValue))
	}
}

func TestReadEventsEmptyFile(t *testing.T) {
	t.Parallel()
	path, _ := writeEventFile(t, nil)
	got, err := ReadEvents(path)
	if err != nil || len(got) != 0 {
		t.Fatalf("ReadEvents(empty) = %v, %v; want no events, no error", got, err)
	}
}

func TestReadEventsMissingFile(t *testing.T) {
	t.Parallel()
	_, err := ReadEvents(filepath.Join(t.TempDir(), "nope"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want not-exist", err)
	}
}

func TestUnmarshalEventSkipsUnknown(t *testing.T) {
	t.Parallel()
	// An Event with an unknown varint field 4, a summary value holding an
	// image (field 4) instead of a simple value, a wall time with the
	// wrong wire type (varint), then a scalar value.
	data, err := hex.DecodeString(
		"2001" + // field 4 varint 1 (unknown)
			"0805" + // field 1 as varint: wrong wire type, skipped
			"1003" + // step 3
			"2a15" + // summary, 21 bytes
			"0a07" + "0a01" + "69" + "2202" + "0a00" + // value{tag "i", image{}}
			"0a0a" + "0a01" + "61" + "15" + "0000803f" + "3800") // value{tag "a", 1.0, field 7}
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalEvent(data)
	if err != nil {
		t.Fatal(err)
	}
	want := Event{Step: 3, Values: []Value{{Tag: "a", SimpleValue: 1}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestCorruptAndTruncated(t *testing.T) {
	t.Parallel()
	_, data := writeEventFile(t, sampleEvents())
	firstLen := 12 + int(le32(data)) + 4 // Offset of the second record.

	flip := func(i int) []byte {
		b := bytes.Clone(data)
		b[i] ^= 0x40
		return b
	}
	tests := []struct {
		name       string
		data       []byte
		wantErr    error
		wantOffset int64
		wantEvents int
	}{
		{"header cut", data[:firstLen+5], ErrTruncated, int64(firstLen), 1},
		{"data cut", data[:firstLen+20], ErrTruncated, int64(firstLen), 1},
		{"last crc cut", data[:len(data)-1], ErrTruncated, -1, len(sampleEvents()) - 1},
		{"length flipped", flip(firstLen + 1), ErrCorrupt, int64(firstLen), 1},
		{"length crc flipped", flip(9), ErrCorrupt, 0, 0},
		{"data flipped", flip(firstLen + 14), ErrCorrupt, int64(firstLen), 1},
		{"data crc flipped", flip(firstLen - 2), ErrCorrupt, 0, 0},
		{"huge length", hugeLengthRecord(), ErrTruncated, 0, 0},
		{"garbage payload", AppendRecord(nil, []byte{0xff, 0xff}), ErrCorrupt, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "events.bad")
			if err := os.WriteFile(path, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			events, err := ReadEvents(path)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			var re *RecordError
			if !errors.As(err, &re) {
				t.Fatalf("err %T is not a *RecordError", err)
			}
			if re.Path != path {
				t.Errorf("Path = %q, want %q", re.Path, path)
			}
			if tt.wantOffset >= 0 && re.Offset != tt.wantOffset {
				t.Errorf("Offset = %d, want %d", re.Offset, tt.wantOffset)
			}
			if msg := err.Error(); !bytes.Contains([]byte(msg), []byte(path)) || !bytes.Contains([]byte(msg), []byte("offset")) {
				t.Errorf("message %q does not name the file and offset", msg)
			}
			if len(events) != tt.wantEvents {
				t.Errorf("got %d events before the error, want %d", len(events), tt.wantEvents)
			}
		})
	}
}

// hugeLengthRecord is a header with a valid length CRC claiming 2⁶⁴-1 data
// bytes: the reader must report truncation, not allocate or overflow.
func hugeLengthRecord() []byte {
	b := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	c := MaskedCRC32C(b)
	return append(b, byte(c), byte(c>>8), byte(c>>16), byte(c>>24), 1, 2, 3, 4, 5)
}

func FuzzReadEvents(f *testing.F) {
	var buf bytes.Buffer
	w := NewEventWriter(&buf)
	for _, e := range sampleEvents() {
		if err := w.WriteEvent(e); err != nil {
			f.Fatal(err)
		}
	}
	valid := buf.Bytes()
	f.Add(valid)
	f.Add(valid[:len(valid)-3])
	f.Add([]byte{})
	f.Add(hugeLengthRecord())
	f.Add(AppendRecord(nil, []byte{0x2a, 0x02, 0x0a, 0x00}))
	for _, g := range goldenRecords {
		b, _ := hex.DecodeString(g.hex)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		events, err := DecodeEvents(data)
		if err != nil {
			var re *RecordError
			if !errors.As(err, &re) {
				t.Fatalf("error %v is not a *RecordError", err)
			}
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v is neither ErrTruncated nor ErrCorrupt", err)
			}
			if re.Offset < 0 || re.Offset > int64(len(data)) {
				t.Fatalf("offset %d outside the %d input bytes", re.Offset, len(data))
			}
			return
		}
		// Whatever decodes must survive our own encoding unchanged.
		var out bytes.Buffer
		w := NewEventWriter(&out)
		for _, e := range events {
			if err := w.WriteEvent(e); err != nil {
				t.Fatal(err)
			}
		}
		again, err := DecodeEvents(out.Bytes())
		if err != nil {
			t.Fatalf("re-decoding our own encoding: %v", err)
		}
		if !sameEvents(events, again) {
			t.Fatalf("re-encoding changed events:\n%+v\n%+v", events, again)
		}
	})
}

// sameEvents compares events bit for bit, so that NaN equals NaN.
func sameEvents(a, b []Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if math.Float64bits(x.WallTime) != math.Float64bits(y.WallTime) || x.Step != y.Step ||
			x.FileVersion != y.FileVersion || len(x.Values) != len(y.Values) {
			return false
		}
		for j := range x.Values {
			if x.Values[j].Tag != y.Values[j].Tag ||
				math.Float32bits(x.Values[j].SimpleValue) != math.Float32bits(y.Values[j].SimpleValue) {
				return false
			}
		}
	}
	return true
}
