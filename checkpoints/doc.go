// Package checkpoints saves and restores training state — a model's
// parameters, an optimizer's state and the caller's metadata — as
// safetensors files.
//
// # Overview
//
// The package knows tensors and metadata, not models: a model gives it named
// parameters (nn.Module) and a kind and configuration (Meta); it gives back
// the same.
//
// Save writes a model, an optimizer (or nil) and a Meta; Load restores
// them in place and returns the Meta, optionally requiring a model kind with
// ExpectKind; Inspect describes a file without a model. See Example and
// ExampleInspect.
//
// # File format (format_version 1)
//
// A checkpoint is a plain safetensors file, readable by any safetensors
// reader:
//
//   - 8 bytes: little-endian uint64 N, the length of the JSON header;
//   - N bytes: the JSON header, padded with spaces (0x20) so that 8+N is a
//     multiple of 8;
//   - the data section: the raw little-endian values of all tensors,
//     contiguous, in the order of their names.
//
// The header maps each tensor name to {"dtype":"F32","shape":[rows,cols],
// "data_offsets":[begin,end]} (offsets relative to the data section). Model
// parameters are named "model/<param path>" and optimizer buffers
// "optim/<buffer key>" (e.g. "optim/encoder/w/exp_avg", see optim.State).
// The "__metadata__" entry maps strings to strings:
//
//	format          "cpntrain-checkpoint"
//	format_version  "1"
//	model_kind      Meta.ModelKind
//	model_config    Meta.ModelConfig, compact JSON, "null" if none
//	step            Meta.Step in decimal
//	rng_state       Meta.RNGState in standard base64 (with padding)
//	optim           {"kind":…,"step":…,"hyper":{…}} or "null" without optimizer
//	extra           Meta.Extra as a compact JSON object
//	sha256          the checksum, see below
//
// The checksum is the lower-case hexadecimal SHA-256 of the whole file
// (length prefix, header and data) as written, except that the 64 digits of
// the checksum itself are replaced by 64 ASCII '0' characters. The header
// holds the entry as the byte sequence "sha256":"<64 digits>" exactly once,
// so a reader verifies a file by replacing those digits with zeros and
// hashing; in Python:
//
//	digest = meta["sha256"]
//	ok = hashlib.sha256(raw.replace(digest.encode(), b"0" * 64, 1)).hexdigest() == digest
//
// (the 64 digits occur nowhere else in a valid file unless by a SHA-256
// collision). The checksum thus covers the tensors and every metadata entry.
//
// # Invariants
//
//   - Save is atomic: temporary file in the same directory, fsync, close,
//     rename, fsync of the directory. It refuses NaN and ±Inf values.
//   - Load validates everything — structure, checksum, format and version,
//     metadata, model kind, names, dtypes, shapes, finiteness, the optimizer
//     state — before it changes anything: on error the model and the
//     optimizer are untouched. It never panics on any input file (FuzzLoad).
//   - Every error is an *Error naming the file and, where there is one, the
//     tensor, and wraps one of ErrCorrupt, ErrChecksum, ErrFormat, ErrDType,
//     ErrMissing, ErrUnexpected, ErrShape, ErrNonFinite, ErrKind,
//     ErrOptimizer, ErrNotRegular (a device, FIFO or folder: refused before
//     any read), ErrTooLarge (over MaxFileSize), or an I/O error.
//   - The reader is strict: duplicate JSON keys, unknown header fields,
//     unknown dtypes, offsets that do not match the shape, overlap, leave
//     gaps or extra bytes are all rejected (as by the reference safetensors
//     implementation).
//
// # References
//
// The safetensors format: https://github.com/huggingface/safetensors.
package checkpoints
