// Package embedding is a lookup table of learned vectors: row i of the table
// is the embedding of id i.
//
// Shapes: ids has N entries in [0, Num); the output is N×Dim.
package embedding

import (
	"fmt"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
)

// Config describes an embedding table.
type Config struct {
	Num, Dim int
}

// Validate reports a config that cannot build a table.
func (c Config) Validate() error {
	if c.Num <= 0 || c.Dim <= 0 {
		return fmt.Errorf("embedding: sizes must be positive, got %d×%d", c.Num, c.Dim)
	}
	return nil
}

// Model is an embedding table.
type Model struct {
	Config Config
	Table  *nn.Param
}

var _ nn.Module = (*Model)(nil)

// New returns a table initialised N(0, 1), as PyTorch's nn.Embedding.
func New(cfg Config, rng *rand.Rand) *Model {
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	m := &Model{Config: cfg, Table: nn.NewParam(cfg.Num, cfg.Dim)}
	nn.Normal(1)(m.Table, rng)
	return m
}

// Forward returns the embeddings of ids. It panics on an id out of range.
func (m *Model) Forward(t *nn.Tape, ids []int) *nn.Tensor { return t.Gather(m.Table.V, ids) }

// Params implements nn.Module: "table".
func (m *Model) Params(visit func(string, *nn.Param)) { visit("table", m.Table) }
