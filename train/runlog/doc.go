// Package runlog writes the folder of one training run and shows progress
// while it runs. Every training command of cpntrain uses it, so that all
// runs look the same on disk.
//
// # Overview
//
// Create makes a run folder holding
//
//	config.json                           the run's configuration (indented JSON)
//	metrics.jsonl                         one JSON object per logged step
//	events.out.tfevents.<unix>.<hostname> the same scalars for TensorBoard
//
// and returns a *Run. Scalar and Scalars log values under namespaced tags in
// the CleanRL way ("charts/episodic_return", "losses/value_loss",
// "charts/SPS"). Values logged for the same step are gathered into one line
// of metrics.jsonl,
//
//	{"step":2048,"wall_time":1764032400.123456,"charts/SPS":1510,"losses/value_loss":0.031}
//
// and one TensorBoard event. JSON numbers cannot express NaN or infinities,
// so metrics.jsonl holds them as the strings "NaN", "Inf" and "-Inf";
// Python's float() parses all three, and ReadMetrics restores them.
// TensorBoard stores every value as float32.
//
// Close flushes, syncs and closes the files and returns any write error the
// run met on the way; check it.
//
// # TensorBoard event files
//
// The event file is written without TensorFlow: each record is framed as
// TFRecord does (the length as a little-endian uint64, the masked CRC-32C of
// those 8 bytes, the data, the masked CRC-32C of the data, where the mask of
// a CRC c is ((c >> 15) | (c << 17)) + 0xa282ead8 and CRC-32C uses the
// Castagnoli polynomial), and the data is an Event protobuf encoded with
// protowire: wall_time (field 1, double), step (field 2, int64),
// file_version (field 3, "brain.Event:2" in the first record) and summary
// (field 5) holding Summary.Value{tag (1), simple_value (2, float)} entries.
// EventWriter writes such files; ReadEvents reads them back, checking both
// CRCs of every record, and reports a truncated or corrupt record with a
// *RecordError naming the file and the record's offset.
//
// # Progress
//
// NewProgress shows a progress bar (github.com/schollz/progressbar/v3) when
// its writer is a terminal and plain lines at most once a second otherwise,
// so that logs written to files hold no carriage returns.
package runlog
