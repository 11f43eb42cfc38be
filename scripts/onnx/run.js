// Runs an ONNX model in ONNX Runtime (CPU) on the inputs read as JSON from
// stdin and prints the outputs as JSON: the cross-check of
// internal/onnx/onnxtest. Input: {"name": {"type": "float32"|"int64"|"bool",
// "dims": [...], "data": [...]}, ...}. Output: {"name": {"dims": [...],
// "data": [...]}, ...}.
const ort = require('onnxruntime-node');
const fs = require('fs');

async function main() {
  const model = process.argv[2];
  const req = JSON.parse(fs.readFileSync(0, 'utf8'));
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  const feeds = {};
  for (const [name, t] of Object.entries(req)) {
    let data;
    switch (t.type) {
      case 'float32': data = Float32Array.from(t.data); break;
      case 'int64': data = BigInt64Array.from(t.data.map(BigInt)); break;
      case 'bool': data = Uint8Array.from(t.data.map((v) => (v ? 1 : 0))); break;
      default: throw new Error(`input ${name}: unknown type ${t.type}`);
    }
    feeds[name] = new ort.Tensor(t.type, data, t.dims);
  }
  const out = await session.run(feeds);
  const res = {};
  for (const [name, t] of Object.entries(out)) {
    // JSON has no NaN or Infinity: those travel as strings.
    res[name] = { dims: t.dims.map(Number), data: Array.from(t.data, (v) => (Number.isFinite(Number(v)) ? Number(v) : String(v))) };
  }
  process.stdout.write(JSON.stringify(res));
}

main().catch((e) => { console.error(e.message || e); process.exit(1); });
