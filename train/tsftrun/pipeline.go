package tsftrun

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/cpntrain/cpntrain/checkpoints"
	"github.com/cpntrain/cpntrain/models/tsft"
)

// BaseSpec identifies a pretrained base model: everything that determines
// its weights.
type BaseSpec struct {
	// Version is tsft.ModelVersion: a cached model built by other model
	// code is never reused.
	Version  int            `json:"version"`
	Model    tsft.Config    `json:"model"`
	Pretrain PretrainConfig `json:"pretrain"`
	Devices  []string       `json:"devices"`
	Seed     uint64         `json:"seed"`
}

// CacheName returns the checkpoint file name of the base model of s: a
// hash of the spec, so a changed config never reuses a stale model.
func (s BaseSpec) CacheName() string {
	s.Version = tsft.ModelVersion
	b, _ := json.Marshal(s)
	h := sha256.Sum256(b)
	return "tsft-base-" + hex.EncodeToString(h[:6]) + ".safetensors"
}

// PretrainBase builds the base model of spec on env.
func PretrainBase(ctx context.Context, env *Env, spec BaseSpec, progress Progress) (*tsft.Model, error) {
	var devs []Device
	for _, n := range spec.Devices {
		d, err := env.Device(n)
		if err != nil {
			return nil, err
		}
		devs = append(devs, d)
	}
	rng := rand.New(rand.NewPCG(spec.Seed, 0x75f7))
	m := tsft.New(spec.Model, rng)
	if err := Pretrain(ctx, m, env.Features, devs, spec.Pretrain, rng, progress); err != nil {
		return nil, err
	}
	return m, nil
}

// LoadOrPretrain returns the base model of spec from cacheDir if a
// checkpoint of that spec exists there, otherwise pretrains it and saves the
// checkpoint. loaded reports which happened.
func LoadOrPretrain(ctx context.Context, env *Env, spec BaseSpec, cacheDir string, progress Progress) (m *tsft.Model, path string, loaded bool, err error) {
	path = filepath.Join(cacheDir, spec.CacheName())
	m = tsft.New(spec.Model, rand.New(rand.NewPCG(0, 0)))
	if _, err = checkpoints.Load(path, m, nil, checkpoints.ExpectKind(tsft.Kind)); err == nil {
		return m, path, true, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, path, false, fmt.Errorf("cached base model unusable (delete it to rebuild): %w", err)
	}
	m, err = PretrainBase(ctx, env, spec, progress)
	if err != nil {
		return nil, path, false, err
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, path, false, err
	}
	if err := SaveModel(path, m, spec, 0); err != nil {
		return nil, path, false, err
	}
	return m, path, false, nil
}

// SaveModel writes m as a checkpoint with the spec in its metadata.
func SaveModel(path string, m *tsft.Model, spec any, step int64) error {
	sb, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	return checkpoints.Save(path, m, nil, checkpoints.Meta{
		ModelKind:   tsft.Kind,
		ModelConfig: m.ConfigJSON(),
		Step:        step,
		Extra:       map[string]json.RawMessage{"spec": sb},
	})
}
