package nasbench201

import "fmt"

// The CIFAR-10 network of NAS-Bench-201 that Cost counts.
const (
	costImage   = 32 // input height and width
	costInCh    = 3  // input channels
	costStemCh  = 16 // channels of the stem and of stage 1
	costCells   = 5  // cells per stage
	costStages  = 3  // stages; channels double and resolution halves between them
	costClasses = 10 // CIFAR-10
)

// Cost returns the size of the NAS-Bench-201 CIFAR-10 network built from
// cell a: flops in millions of multiply-accumulates and params in millions
// of trainable parameters, the convention of the "flops" and "params"
// columns of NAS-Bench-201 (which come from the convolution and linear
// layers only). For the 15,625 cells flops lies in [7.78305, 220.11969] and
// params in [0.073306, 1.531546]; the all-none cell is at both minima (so
// is every cell without convolutions) and the all-nor_conv_3x3 cell at both
// maxima.
//
// The network: a stem conv 3×3, 3→16 channels, + BatchNorm at 32×32; three
// stages of 5 cells at 16, 32 and 64 channels and 32×32, 16×16 and 8×8;
// between stages a residual reduction block (ResNet basic block, stride 2:
// conv 3×3 stride 2 + BN + ReLU, conv 3×3 + BN, shortcut 2×2 average pool
// stride 2 + conv 1×1); then BN + ReLU, global average pooling and a linear
// layer 64→10 with bias. In a cell, nor_conv_k×k is ReLU → conv k×k C→C →
// BN, avg_pool_3x3 is a 3×3 average pool, skip_connect the identity and
// none the zero map. All convolutions have no bias and padding that keeps
// the size (stride 1) or halves it (stride 2).
//
// Counting convention:
//   - A convolution counts k·k·Cin·Cout·Hout·Wout multiply-accumulates and
//     k·k·Cin·Cout parameters.
//   - The linear layer counts 64·10 multiply-accumulates plus 10 bias
//     additions (650, as NAS-Bench-201's counter does) and 650 parameters.
//   - A BatchNorm counts 2·C parameters (weight and bias; the running
//     statistics are not parameters) and no flops.
//   - ReLU, pooling (in cells, in the shortcut and the global pool), the
//     sum of edges into a cell node and the residual addition count no
//     flops and have no parameters. Counting the additions of each 3×3
//     window of avg_pool_3x3 as flops would add 1.29024 M per avg_pool
//     edge (5 cells × 9 × (16·32² + 32·16² + 64·8²)).
//
// Cost panics if a is not Valid.
func (a Arch) Cost() (flops, params float64) {
	if !a.Valid() {
		panic(fmt.Sprintf("nasbench201: Cost of invalid Arch %v", [NumEdges]uint8(a)))
	}
	var macs, par int64
	conv := func(k, cin, cout, hout int) {
		macs += int64(k * k * cin * cout * hout * hout)
		par += int64(k * k * cin * cout)
	}
	bn := func(c int) { par += int64(2 * c) }

	c, h := costStemCh, costImage
	conv(3, costInCh, c, h) // stem
	bn(c)
	for stage := 0; stage < costStages; stage++ {
		if stage > 0 { // residual reduction block c → 2c, h → h/2
			cin := c
			c, h = 2*c, h/2
			conv(3, cin, c, h) // conv_a, stride 2
			bn(c)
			conv(3, c, c, h) // conv_b
			bn(c)
			conv(1, cin, c, h) // shortcut conv 1×1 after the 2×2 average pool
		}
		for cell := 0; cell < costCells; cell++ {
			for _, op := range a {
				switch op {
				case OpConv1x1:
					conv(1, c, c, h)
					bn(c)
				case OpConv3x3:
					conv(3, c, c, h)
					bn(c)
				}
			}
		}
	}
	bn(c) // last BN before ReLU and global pooling
	macs += int64(c*costClasses + costClasses)
	par += int64(c*costClasses + costClasses)
	return float64(macs) / 1e6, float64(par) / 1e6
}
