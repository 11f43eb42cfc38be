"""Read a TensorBoard event file without TensorFlow and print it as JSON.

Usage: python3 read_tfevents.py EVENTS_FILE

Each record is checked as TFRecord framing demands (length as uint64 LE,
masked CRC-32C of the length, data, masked CRC-32C of the data) and the data
is decoded with python protobuf against an Event message built from a
descriptor here, independently of the Go code that wrote the file.
Exits with status 3 if python3-protobuf or python3-crc32c is missing.
"""
import json
import math
import struct
import sys

try:
    import crc32c
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
except ImportError as e:  # The Go test skips on status 3.
    print("missing python package: %s" % e, file=sys.stderr)
    sys.exit(3)


def masked_crc(data):
    c = crc32c.crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def event_class():
    F = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(name="cpntrain_event.proto", package="cpntest", syntax="proto3")

    def msg(name, fields):
        m = fdp.message_type.add(name=name)
        for fname, num, ftype, label, tname in fields:
            f = m.field.add(name=fname, number=num, type=ftype, label=label)
            if tname:
                f.type_name = tname

    opt, rep = F.LABEL_OPTIONAL, F.LABEL_REPEATED
    msg("Value", [("tag", 1, F.TYPE_STRING, opt, None), ("simple_value", 2, F.TYPE_FLOAT, opt, None)])
    msg("Summary", [("value", 1, F.TYPE_MESSAGE, rep, ".cpntest.Value")])
    msg("Event", [
        ("wall_time", 1, F.TYPE_DOUBLE, opt, None),
        ("step", 2, F.TYPE_INT64, opt, None),
        ("file_version", 3, F.TYPE_STRING, opt, None),
        ("summary", 5, F.TYPE_MESSAGE, opt, ".cpntest.Summary"),
    ])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    desc = pool.FindMessageTypeByName("cpntest.Event")
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(desc)
    return message_factory.MessageFactory(pool).GetPrototype(desc)


def fmt_float(x):
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Inf" if x > 0 else "-Inf"
    return x


def main(path):
    Event = event_class()
    data = open(path, "rb").read()
    off, out = 0, []
    while off < len(data):
        header = data[off:off + 12]
        if len(header) < 12:
            sys.exit("%s: truncated header at offset %d" % (path, off))
        (length,) = struct.unpack("<Q", header[:8])
        (len_crc,) = struct.unpack("<I", header[8:12])
        if masked_crc(header[:8]) != len_crc:
            sys.exit("%s: bad length CRC at offset %d" % (path, off))
        payload = data[off + 12:off + 12 + length]
        tail = data[off + 12 + length:off + 16 + length]
        if len(payload) != length or len(tail) != 4:
            sys.exit("%s: truncated record at offset %d" % (path, off))
        if masked_crc(payload) != struct.unpack("<I", tail)[0]:
            sys.exit("%s: bad data CRC at offset %d" % (path, off))
        ev = Event()
        ev.ParseFromString(payload)
        out.append({
            "wall_time": ev.wall_time,
            "step": str(ev.step),  # As a string: JSON readers may lose int64 precision.
            "file_version": ev.file_version,
            "values": [{"tag": v.tag, "simple_value": fmt_float(v.simple_value)} for v in ev.summary.value],
        })
        off += 16 + length
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
