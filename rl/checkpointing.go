package rl

// Checkpointing makes a training run resumable; every trainer's Config has
// one (Config.Checkpoint).
//
// With Path set, the trainer saves everything its run depends on — the
// model, the optimizer, the generators, the counters, and the
// environments' snapshots where it needs them (they must implement
// Snapshotter) — to Path atomically every Every units of its progress
// (actor-critic and policy gradient: updates; PPO: iterations; DQN:
// environment steps; 0: never) and once more when its context ends, and
// Train starts by resuming from Path if the file exists. A resumed run
// ends exactly as an uninterrupted one with the same seed, on one thread.
type Checkpointing struct {
	Path  string
	Every int64
	// Before, when set, is called before each checkpoint is written (to
	// make the metrics logged so far durable, so that a checkpoint never
	// covers steps the log lost); its error stops training.
	Before func() error `json:"-"`
}

// Due reports whether a periodic checkpoint is due after n units.
func (c Checkpointing) Due(n int64) bool { return c.Path != "" && c.Every > 0 && n%c.Every == 0 }

// Save calls Before and then save(Path), when Path is set.
func (c Checkpointing) Save(save func(path string) error) error {
	if c.Path == "" {
		return nil
	}
	if c.Before != nil {
		if err := c.Before(); err != nil {
			return err
		}
	}
	return save(c.Path)
}
