package runlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"

	"google.golang.org/protobuf/encoding/protowire"
)

// FileVersion is the file_version string that TensorBoard expects in the
// first event of every event file.
const FileVersion = "brain.Event:2"

// crcTable is the CRC-32C (Castagnoli) table that TFRecord framing uses.
var crcTable = crc32.MakeTable(crc32.Castagnoli)

// crcMaskDelta is the constant TFRecord adds after rotating a CRC.
const crcMaskDelta = 0xa282ead8

// recordHeaderLen is the size of the length field plus its masked CRC.
const recordHeaderLen = 8 + 4

// Errors wrapped by a *RecordError, for use with errors.Is.
var (
	// ErrTruncated reports a record that ends before its header, data or
	// checksum is complete, as when a file is read while it is being written
	// or was cut short.
	ErrTruncated = errors.New("truncated record")
	// ErrCorrupt reports a record whose checksums do not match its bytes, or
	// whose data is not a valid Event protobuf.
	ErrCorrupt = errors.New("corrupt record")
)

// RecordError describes a TFRecord that could not be read. Path names the
// file (empty when the bytes did not come from a file), Offset is the byte
// offset of the start of the record, and Err wraps ErrTruncated or
// ErrCorrupt with details.
type RecordError struct {
	// Path is the file the record was read from, or "".
	Path string
	// Offset is the byte offset of the start of the record.
	Offset int64
	// Err wraps ErrTruncated or ErrCorrupt.
	Err error
}

// Error returns a message naming the file and the record offset.
func (e *RecordError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("runlog: event record at offset %d: %v", e.Offset, e.Err)
	}
	return fmt.Sprintf("runlog: events file %s: record at offset %d: %v", e.Path, e.Offset, e.Err)
}

// Unwrap returns the underlying error.
func (e *RecordError) Unwrap() error { return e.Err }

// Value is one scalar of a TensorBoard summary: a tag such as
// "losses/value_loss" and its value, stored by TensorBoard as float32.
type Value struct {
	// Tag names the scalar (Summary.Value field 1).
	Tag string
	// SimpleValue is the scalar (Summary.Value field 2).
	SimpleValue float32
}

// Event is the subset of TensorBoard's Event protobuf that runlog writes and
// reads: wall_time (field 1, double, seconds since the Unix epoch), step
// (field 2, int64), file_version (field 3, string, set only in the first
// event of a file) and summary (field 5) holding scalar values.
//
// When decoding, summary values of other kinds (images, histograms,
// tensors) and unknown fields are skipped, so Values holds only the values
// that carry a simple_value.
type Event struct {
	// WallTime is the time of the event in seconds since the Unix epoch.
	WallTime float64
	// Step is the training step the values belong to.
	Step int64
	// FileVersion is FileVersion in the first event of a file and empty
	// in the others.
	FileVersion string
	// Values holds the scalars of the event's summary.
	Values []Value
}

// MaskedCRC32C returns the masked CRC-32C (Castagnoli) checksum of data as
// TFRecord framing stores it: the CRC rotated right by 15 bits plus
// 0xa282ead8, modulo 2³².
func MaskedCRC32C(data []byte) uint32 {
	return maskCRC(crc32.Checksum(data, crcTable))
}

func maskCRC(crc uint32) uint32 {
	return ((crc >> 15) | (crc << 17)) + crcMaskDelta
}

// AppendRecord appends data to dst in TFRecord framing and returns the
// extended slice: the length as a little-endian uint64, the masked CRC-32C
// of those 8 bytes, data itself, and the masked CRC-32C of data.
func AppendRecord(dst, data []byte) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(len(data)))
	dst = binary.LittleEndian.AppendUint32(dst, MaskedCRC32C(dst[start:start+8]))
	dst = append(dst, data...)
	return binary.LittleEndian.AppendUint32(dst, MaskedCRC32C(data))
}

// Protobuf field numbers of the messages runlog encodes.
const (
	eventWallTime    protowire.Number = 1
	eventStep        protowire.Number = 2
	eventFileVersion protowire.Number = 3
	eventSummary     protowire.Number = 5

	summaryValue protowire.Number = 1

	valueTag         protowire.Number = 1
	valueSimpleValue protowire.Number = 2
)

// AppendEvent appends the protobuf encoding of e to dst and returns the
// extended slice. As in proto3, a zero wall time, a zero step and an empty
// file version are omitted, and the summary is written only when e has
// values.
func AppendEvent(dst []byte, e Event) []byte {
	if e.WallTime != 0 || math.Signbit(e.WallTime) {
		dst = protowire.AppendTag(dst, eventWallTime, protowire.Fixed64Type)
		dst = protowire.AppendFixed64(dst, math.Float64bits(e.WallTime))
	}
	if e.Step != 0 {
		dst = protowire.AppendTag(dst, eventStep, protowire.VarintType)
		dst = protowire.AppendVarint(dst, uint64(e.Step))
	}
	if e.FileVersion != "" {
		dst = protowire.AppendTag(dst, eventFileVersion, protowire.BytesType)
		dst = protowire.AppendString(dst, e.FileVersion)
	}
	if len(e.Values) == 0 {
		return dst
	}
	summaryLen := 0
	for _, v := range e.Values {
		n := valueSize(v)
		summaryLen += protowire.SizeTag(summaryValue) + protowire.SizeBytes(n)
	}
	dst = protowire.AppendTag(dst, eventSummary, protowire.BytesType)
	dst = protowire.AppendVarint(dst, uint64(summaryLen))
	for _, v := range e.Values {
		dst = protowire.AppendTag(dst, summaryValue, protowire.BytesType)
		dst = protowire.AppendVarint(dst, uint64(valueSize(v)))
		dst = protowire.AppendTag(dst, valueTag, protowire.BytesType)
		dst = protowire.AppendString(dst, v.Tag)
		dst = protowire.AppendTag(dst, valueSimpleValue, protowire.Fixed32Type)
		dst = protowire.AppendFixed32(dst, math.Float32bits(v.SimpleValue))
	}
	return dst
}

// valueSize is the encoded size of a Summary.Value holding v. The tag and
// the simple value are always written, so that a zero value and an empty tag
// survive a round trip through readers that check field presence.
func valueSize(v Value) int {
	return protowire.SizeTag(valueTag) + protowire.SizeBytes(len(v.Tag)) +
		protowire.SizeTag(valueSimpleValue) + protowire.SizeFixed32()
}

// UnmarshalEvent decodes the protobuf encoding of an Event. Unknown fields,
// fields with an unexpected wire type and summary values without a
// simple_value are skipped; malformed wire data is an error.
func UnmarshalEvent(data []byte) (Event, error) {
	var e Event
	err := walkFields(data, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
		switch {
		case num == eventWallTime && typ == protowire.Fixed64Type:
			v, n := protowire.ConsumeFixed64(b)
			e.WallTime = math.Float64frombits(v)
			return n, nil
		case num == eventStep && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			e.Step = int64(v)
			return n, nil
		case num == eventFileVersion && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			e.FileVersion = string(v)
			return n, nil
		case num == eventSummary && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return n, nil
			}
			vals, err := unmarshalSummary(v, e.Values)
			if err != nil {
				return 0, fmt.Errorf("summary: %w", err)
			}
			e.Values = vals
			return n, nil
		}
		return skipField, nil
	})
	return e, err
}

// unmarshalSummary appends the simple values of a Summary message to vals.
func unmarshalSummary(data []byte, vals []Value) ([]Value, error) {
	err := walkFields(data, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
		if num != summaryValue || typ != protowire.BytesType {
			return skipField, nil
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return n, nil
		}
		val, ok, err := unmarshalValue(v)
		if err != nil {
			return 0, fmt.Errorf("value %d: %w", len(vals), err)
		}
		if ok {
			vals = append(vals, val)
		}
		return n, nil
	})
	return vals, err
}

// unmarshalValue decodes a Summary.Value; ok is false when it carries no
// simple_value.
func unmarshalValue(data []byte) (v Value, ok bool, err error) {
	err = walkFields(data, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
		switch {
		case num == valueTag && typ == protowire.BytesType:
			s, n := protowire.ConsumeBytes(b)
			v.Tag = string(s)
			return n, nil
		case num == valueSimpleValue && typ == protowire.Fixed32Type:
			x, n := protowire.ConsumeFixed32(b)
			v.SimpleValue = math.Float32frombits(x)
			ok = n >= 0
			return n, nil
		}
		return skipField, nil
	})
	return v, ok, err
}

// skipField is returned by a walkFields callback to have the field skipped
// as unknown. It differs from every protowire error code.
const skipField = math.MinInt

// walkFields calls field for every field of the protobuf message in data,
// with b starting at the field's value. field returns the number of value
// bytes it consumed, a negative protowire error code, or skipField.
func walkFields(data []byte, field func(protowire.Number, protowire.Type, []byte) (int, error)) error {
	for off := 0; off < len(data); {
		num, typ, n := protowire.ConsumeTag(data[off:])
		if n < 0 {
			return fmt.Errorf("byte %d: %w", off, protowire.ParseError(n))
		}
		off += n
		m, err := field(num, typ, data[off:])
		if err != nil {
			return err
		}
		if m == skipField {
			m = protowire.ConsumeFieldValue(num, typ, data[off:])
		}
		if m < 0 {
			return fmt.Errorf("field %d at byte %d: %w", num, off, protowire.ParseError(m))
		}
		off += m
	}
	return nil
}

// EventWriter writes events in TFRecord framing to an underlying writer. It
// does no buffering of its own; wrap a file in a bufio.Writer for that. An
// EventWriter is not safe for concurrent use.
type EventWriter struct {
	w       io.Writer
	payload []byte
	record  []byte
}

// NewEventWriter returns an EventWriter writing to w. It writes nothing
// until WriteEvent is called; an event file must start with an event whose
// FileVersion is FileVersion (see WriteFileVersion).
func NewEventWriter(w io.Writer) *EventWriter {
	return &EventWriter{w: w}
}

// WriteFileVersion writes the first event of an event file: wallTime (in
// seconds since the Unix epoch) and FileVersion.
func (w *EventWriter) WriteFileVersion(wallTime float64) error {
	return w.WriteEvent(Event{WallTime: wallTime, FileVersion: FileVersion})
}

// WriteEvent writes e as one TFRecord and returns any error of the
// underlying writer.
func (w *EventWriter) WriteEvent(e Event) error {
	w.payload = AppendEvent(w.payload[:0], e)
	w.record = AppendRecord(w.record[:0], w.payload)
	_, err := w.w.Write(w.record)
	return err
}

// ReadEvents reads and decodes every event of the TensorBoard event file at
// path, checking both CRCs of every record. On a truncated or corrupt record
// it returns the events before it together with a *RecordError naming the
// file and the offset of the bad record.
func ReadEvents(path string) ([]Event, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("runlog: read events: %w", err)
	}
	events, err := DecodeEvents(data)
	var re *RecordError
	if errors.As(err, &re) {
		re.Path = path
	}
	return events, err
}

// DecodeEvents decodes the events in data, the contents of an event file.
// It behaves like ReadEvents, except that the *RecordError it returns has an
// empty Path.
func DecodeEvents(data []byte) ([]Event, error) {
	var events []Event
	for off := 0; off < len(data); {
		payload, n, err := nextRecord(data[off:])
		if err == nil {
			var e Event
			e, err = UnmarshalEvent(payload)
			if err != nil {
				err = fmt.Errorf("%w: event protobuf: %v", ErrCorrupt, err)
			} else {
				events = append(events, e)
			}
		}
		if err != nil {
			return events, &RecordError{Offset: int64(off), Err: err}
		}
		off += n
	}
	return events, nil
}

// nextRecord checks the TFRecord at the start of b and returns its payload
// and its total length in bytes.
func nextRecord(b []byte) (payload []byte, n int, err error) {
	if len(b) < recordHeaderLen {
		return nil, 0, fmt.Errorf("%w: header has %d of %d bytes", ErrTruncated, len(b), recordHeaderLen)
	}
	length := binary.LittleEndian.Uint64(b)
	if got, want := MaskedCRC32C(b[:8]), binary.LittleEndian.Uint32(b[8:]); got != want {
		return nil, 0, fmt.Errorf("%w: length checksum is %#08x, stored %#08x", ErrCorrupt, got, want)
	}
	avail := uint64(len(b) - recordHeaderLen)
	if length > avail || avail-length < 4 {
		return nil, 0, fmt.Errorf("%w: record of %d data bytes plus 4 checksum bytes, but only %d bytes remain",
			ErrTruncated, length, avail)
	}
	end := recordHeaderLen + int(length)
	payload = b[recordHeaderLen:end]
	if got, want := MaskedCRC32C(payload), binary.LittleEndian.Uint32(b[end:]); got != want {
		return nil, 0, fmt.Errorf("%w: data checksum is %#08x, stored %#08x", ErrCorrupt, got, want)
	}
	return payload, end + 4, nil
}
