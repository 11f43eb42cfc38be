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
	"strings"

	"github.com/cpntrain/cpntrain/checkpoints"
	"github.com/cpntrain/cpntrain/models/tsft"
	"github.com/cpntrain/cpntrain/train/runlog"
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

// StatePath is where the pretraining of spec's base model in cacheDir
// keeps its resumable state (removed once the model is cached).
func StatePath(cacheDir string, spec BaseSpec) string {
	return filepath.Join(cacheDir, strings.TrimSuffix(spec.CacheName(), ".safetensors")+".state.safetensors")
}

// BaseOptions says how Base gets a base model.
type BaseOptions struct {
	// CacheDir holds the cached base models and their pretraining states.
	CacheDir string
	// Rebuild pretrains even when the model is cached.
	Rebuild bool
	// Progress receives each pretraining epoch's mean loss.
	Progress Progress
	// BeforeCheckpoint is called before each epoch's state is saved.
	BeforeCheckpoint func() error
}

// Base returns the base model of spec: from the cache, or pretrained on
// env and cached (loaded false). Pretraining is resumable: its state is
// saved after every epoch (StatePath), and a pretraining of the same spec
// interrupted by a signal, a kill or a crash resumes from there, ending
// with the model of an uninterrupted run. One process at a time builds a
// given base model: a second gets an error naming the first.
func Base(ctx context.Context, env *Env, spec BaseSpec, o BaseOptions) (m *tsft.Model, path string, loaded bool, err error) {
	path = filepath.Join(o.CacheDir, spec.CacheName())
	if err := os.MkdirAll(o.CacheDir, 0o755); err != nil {
		return nil, path, false, fmt.Errorf("tsft: model cache: %w", err)
	}
	lock, err := runlog.LockPath(path + ".lock")
	if err != nil {
		return nil, path, false, fmt.Errorf("tsft: base model %s: %w", path, err)
	}
	defer func() { err = errors.Join(err, lock.Release()) }()
	if !o.Rebuild {
		m = tsft.New(spec.Model, rand.New(rand.NewPCG(0, 0)))
		if _, err := checkpoints.Load(path, m, nil, checkpoints.ExpectKind(tsft.Kind)); err == nil {
			return m, path, true, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, path, false, fmt.Errorf("cached base model unusable (delete it to rebuild): %w", err)
		}
	}
	var devs []Device
	for _, n := range spec.Devices {
		d, err := env.Device(n)
		if err != nil {
			return nil, path, false, err
		}
		devs = append(devs, d)
	}
	rng := rand.New(rand.NewPCG(spec.Seed, 0x75f7))
	m = tsft.New(spec.Model, rng)
	pc := spec.Pretrain
	pc.CheckpointPath, pc.BeforeCheckpoint = StatePath(o.CacheDir, spec), o.BeforeCheckpoint
	if err := Pretrain(ctx, m, env.Features, devs, pc, rng, o.Progress); err != nil {
		return nil, path, false, err
	}
	if err := SaveModel(path, m, spec, 0); err != nil {
		return nil, path, false, err
	}
	if err := os.Remove(pc.CheckpointPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, path, false, err
	}
	return m, path, false, nil
}

// LoadOrPretrain is Base from cacheDir with progress.
func LoadOrPretrain(ctx context.Context, env *Env, spec BaseSpec, cacheDir string, progress Progress) (m *tsft.Model, path string, loaded bool, err error) {
	return Base(ctx, env, spec, BaseOptions{CacheDir: cacheDir, Progress: progress})
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
