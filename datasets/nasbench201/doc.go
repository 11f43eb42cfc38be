// Package nasbench201 reads HELP's measured latencies of the 15,625
// NAS-Bench-201 cells on 27 devices, in their upstream format, and
// describes the cells: parsing, the graph encoding of BRP-NAS and HELP, and
// the network's FLOPs and parameters.
//
// # Overview
//
// The data is the folder data/nasbench201 of the HELP repository
// (github.com/HayeonLee/HELP, NeurIPS 2021, MIT licence) at Revision:
//
//	latency/<device>.pt          27 files: latency in ms of each architecture index
//	str_arch2idx.pt              architecture string → index 0 … 15624
//	hardware_embedding_index.pt  the 10 reference architecture indices
//	LICENSE.HELP                 the repository's LICENSE
//
// Load reads the folder (usually $CPNTRAIN_DATA/nasbench201; see DirName)
// into a Data; Fetch downloads it, checked against embedded SHA-256 sums.
// The package reads nothing else of the project.
//
// Each .pt file is what torch.save writes since PyTorch 1.6: a zip archive
// whose record <name>/data.pkl holds a pickle (protocol 2) of a plain
// Python list or dict — no tensors. The package decodes it with archive/zip
// and a small pickle decoder of its own that accepts only lists, dicts,
// ints, floats, strings, None and booleans, checks every length against the
// bytes present and never panics; it is cross-checked in the tests against
// github.com/nlpodyssey/gopickle and against values read with Python.
// (gopickle itself allocates whatever size a malformed pickle announces: 13
// bytes can abort the process with an out-of-memory error, which recover
// cannot catch.) Load reads and decodes the files in parallel, all 27
// devices in about 50–150 ms.
//
// # Architectures
//
// A cell is a DAG of 4 nodes; each of its 6 edges (u→v), u < v, carries one
// of 5 operations, OpNames: none (zero), skip_connect (identity),
// nor_conv_1x1 and nor_conv_3x3 (ReLU → conv → BatchNorm) and avg_pool_3x3.
// Node v sums its incoming edges; node 3 is the cell's output. Arch holds
// the operation index of each edge in the order of the architecture string
// and of Edges, (0→1) | (0→2) (1→2) | (0→3) (1→3) (2→3):
//
//	|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|
//	= Arch{OpConv3x3, OpConv3x3, OpAvgPool, OpSkip, OpConv3x3, OpSkip}
//
// The architecture index of a cell is that of str_arch2idx.pt (not the
// base-5 order of Arch): Data.Archs[i] is the cell of index i, and every
// latency file is indexed the same way. Data.IndexOf and IndexOfString go
// the other way.
//
// # Graph encoding
//
// Encode gives the op-on-node DAG of BRP-NAS and HELP: 8 nodes — 0 the
// input, 1+k the operation of edge k, 7 the output — with adj[i][j] = 1
// when node i feeds node j. The links are the same for every cell:
//
//	input → (0→1), (0→2), (0→3)
//	(0→1) → (1→2), (1→3)
//	(0→2), (1→2) → (2→3)
//	(0→3), (1→3), (2→3) → output
//
// and the one-hot operation matrix has 7 columns: FeatInput (0) input,
// FeatOutput (1) output, then FeatOp+op: 2 none, 3 skip_connect,
// 4 nor_conv_1x1, 5 nor_conv_3x3, 6 avg_pool_3x3. Unlike BRP-NAS's pruned
// form, none and skip nodes stay in the graph; a model sees them through
// their one-hot row. (HELP's loader reads its graphs from an
// architecture.pt that is not part of this folder, and adds a global node
// fed by every node, and self-loops, with utils.add_global_node.)
//
// # FLOPs and parameters
//
// Cost counts the CIFAR-10 network of NAS-Bench-201 (stem, 3 stages of 5
// cells at 16/32/64 channels, residual reduction blocks, classifier) the way
// NAS-Bench-201 reports "flops" and "params": multiply-accumulates of the
// convolution and linear layers (plus the classifier's 10 bias additions)
// in millions, and trainable parameters (conv and linear weights, linear
// bias, BatchNorm weight and bias) in millions. BatchNorm, ReLU, pooling
// and additions count no flops. The space spans [7.78305, 220.11969] M
// flops and [0.073306, 1.531546] M parameters, from the all-none cell (or
// any cell without convolutions) to the all-nor_conv_3x3 cell. See
// Arch.Cost for the details.
//
// # HELP's protocol
//
// HELP (Lee et al., "HELP: Hardware-Adaptive Efficient Latency Prediction
// for NAS via Meta-Learning", NeurIPS 2021; loader.py, utils.py and the
// defaults of parser.py) uses the data this way, and the TSFT experiments
// mirror it:
//
//   - Pools: the training pool is the first HELPTrainPool (900)
//     architecture indices, the query (test) pool the next HELPQueryPool
//     (1000), indices 900 … 1899 (Pool).
//   - Outliers: in each pool and for each device, the architectures are
//     sorted by latency and the lowest and highest 10% dropped
//     (TrimOutliers): 720 of the training pool, 800 of the query pool.
//   - Normalisation: per device, min-max over the trimmed training pool,
//     mapped to [0.05, 0.95] (Normalize with HELPPortion 0.9; values
//     outside the pool's range map outside [0.05, 0.95]).
//     NormalizedLatency does all of this.
//   - Hardware embedding: a device's latencies on the 10 reference
//     architectures (RefIndices), min-max normalised among themselves to
//     [0, 1] (HardwareEmbedding).
//   - Devices (HELPDevices): meta-training 1080ti_1, 1080ti_32,
//     1080ti_256, silver_4114, silver_4210r, samsung_a50, pixel3,
//     essential_ph_1, samsung_s7; meta-validation titanx_1, titanx_32,
//     titanx_256, gold_6240; meta-test (unseen) titan_rtx_256, gold_6226,
//     fpga, pixel2, raspi4, eyeriss. A new device gets 10 target samples
//     (num_samples) drawn from its trimmed training pool.
//   - Published Spearman ρ on the meta-test devices with 10 samples (HELP):
//     titan_rtx_256 0.987, gold_6226 0.989, pixel2 0.802, raspi4 0.890,
//     eyeriss 0.940, fpga 0.985 (mean 0.932).
//
// # Notes on the data
//
//   - The phones essential_ph_1, pixel2, samsung_a50 and samsung_s7 report
//     whole milliseconds (39 to 79 distinct values per device); pixel3
//     reports fractions.
//   - eyeriss and fpga latencies depend only on how many nor_conv_3x3,
//     nor_conv_1x1 and avg_pool_3x3 edges a cell has, not on where they are
//     (38 and 84 distinct values): these look computed rather than
//     measured. Rank metrics meet many ties on these devices and on the
//     phones; TrimOutliers breaks ties by index, where HELP's unstable
//     argsort may keep other indices at the two cuts.
//   - 341 cells are not Connected (no path of non-none edges from input to
//     output: the network outputs a constant). On pixel3 283 of them, on
//     raspi4 289, were measured faster than every connected cell — down to
//     0.0033 ms and 0.011 ms, against at least 1.05 ms and 2.5 ms for
//     connected cells — presumably because those runtimes removed the dead
//     computation; on the other devices they look like ordinary cells.
//
// # Errors
//
// Errors start with "nasbench201: " and name the file concerned. A missing
// file satisfies errors.Is(err, fs.ErrNotExist) and says how to get the
// data (`cpntrain data fetch nasbench201`, or CPNTRAIN_DATA). Encode and
// Cost panic on an invalid Arch (an operation index ≥ NumOps), a programmer
// error.
package nasbench201
