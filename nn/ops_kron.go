package nn

// Kron returns the Kronecker product a ⊗ b: for a (p×q) and b (r×s), the
// (p·r)×(q·s) matrix whose block (i, j) is a[i,j]·b. A graph convolution
// over a batch of graphs that all share one small topology Â is one matmul
// with Kron(Âᵀ, W) on node features flattened per graph (row-major), which
// is how models/tsft runs its GCN over NAS-Bench-201 cells.
func (t *Tape) Kron(a, b *Tensor) *Tensor {
	p, q, r, s := a.Rows, a.Cols, b.Rows, b.Cols
	out, rec := t.outFull(p*r, q*s, a, b)
	cols := q * s
	for i := 0; i < p; i++ {
		for j := 0; j < q; j++ {
			av := a.Data[i*q+j]
			for x := 0; x < r; x++ {
				row := out.Data[(i*r+x)*cols+j*s : (i*r+x)*cols+j*s+s]
				for y, bv := range b.Data[x*s : x*s+s] {
					row[y] = av * bv
				}
			}
		}
	}
	if rec {
		t.push(func() {
			g := out.Grad
			if g == nil {
				return
			}
			var ga, gb []float32
			if a.needGrad {
				ga = t.grad(a)
			}
			if b.needGrad {
				gb = t.grad(b)
			}
			for i := 0; i < p; i++ {
				for j := 0; j < q; j++ {
					av := a.Data[i*q+j]
					var sa float32
					for x := 0; x < r; x++ {
						grow := g[(i*r+x)*cols+j*s : (i*r+x)*cols+j*s+s]
						brow := b.Data[x*s : x*s+s]
						for y, gv := range grow {
							sa += gv * brow[y]
							if gb != nil {
								gb[x*s+y] += av * gv
							}
						}
					}
					if ga != nil {
						ga[i*q+j] += sa
					}
				}
			}
		})
	}
	return out
}
