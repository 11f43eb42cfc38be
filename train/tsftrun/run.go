package tsftrun

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/cpntrain/cpntrain/checkpoints"
	"github.com/cpntrain/cpntrain/datasets/nasbench201"
	"github.com/cpntrain/cpntrain/train/runlog"
)

// RunConfig is what both TSFT commands share: the data, the base model and
// the run folder.
type RunConfig struct {
	// DataDir holds the data sets (the NAS-Bench-201 latency files in
	// nasbench201.DirName).
	DataDir string
	// Spec is the base model; CacheDir caches it.
	Spec     BaseSpec
	CacheDir string
	// Dir is the run folder; Record what its config.json says besides the
	// settings; Force as runlog.StartOptions.Force.
	Dir    string
	Record func(settings any) any
	Force  bool
	// Log receives info lines and the progress bar (nil: discarded); Quiet
	// keeps the progress bar off.
	Log   io.Writer
	Quiet bool
}

func (rc RunConfig) log() io.Writer {
	if rc.Log == nil {
		return io.Discard
	}
	return rc.Log
}

func (rc RunConfig) start(settings any, checkpoint func() (int64, bool, error)) (*runlog.Session, error) {
	rec := settings
	if rc.Record != nil {
		rec = rc.Record(settings)
	}
	s, err := runlog.Start(rc.Dir, runlog.StartOptions{Config: rec, Settings: settings, Checkpoint: checkpoint, Force: rc.Force})
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(rc.log(), s.Describe())
	return s, nil
}

// LoadEnv reads HELP's NAS-Bench-201 latency data from the data sets
// folder dataDir.
func LoadEnv(dataDir string) (*Env, error) {
	d, err := nasbench201.Load(filepath.Join(dataDir, nasbench201.DirName))
	if err != nil {
		return nil, err
	}
	return NewEnv(d)
}

// PretrainReport is the outcome of RunPretrain.
type PretrainReport struct {
	Path    string
	Devices int
	Elapsed time.Duration
}

// RunPretrain builds (or rebuilds) the cached base model in the run
// folder rc.Dir: the epoch losses go to its metrics, the resumable state to
// the cache (StatePath), so an interrupted `tsft pretrain` resumes when run
// again with the same folder.
func RunPretrain(ctx context.Context, rc RunConfig) (rep PretrainReport, err error) {
	state := StatePath(rc.CacheDir, rc.Spec)
	run, err := rc.start(rc.Spec, func() (int64, bool, error) { return checkpoints.StepOf(state) })
	if err != nil {
		return rep, err
	}
	defer func() { err = run.End(err) }()
	env, err := LoadEnv(rc.DataDir)
	if err != nil {
		return rep, err
	}
	prog := runlog.NewProgress(rc.log(), rc.Spec.Pretrain.Epochs, "pretrain", rc.Quiet)
	if run.Resumed {
		prog.Add(int(run.ResumeStep), "")
	}
	start := time.Now()
	_, rep.Path, _, err = Base(ctx, env, rc.Spec, BaseOptions{CacheDir: rc.CacheDir, Rebuild: true, BeforeCheckpoint: run.Sync,
		Progress: func(ep, _ int, loss float64) {
			run.Scalar("losses/pretrain_mse", int64(ep), loss)
			prog.Add(1, fmt.Sprintf("loss=%.3g", loss))
		}})
	prog.Finish()
	rep.Devices, rep.Elapsed = len(rc.Spec.Devices), time.Since(start)
	return rep, err
}

// Write prints the report.
func (r PretrainReport) Write(w io.Writer) {
	fmt.Fprintf(w, "pretrained on %d devices in %.1f s → %s\n", r.Devices, r.Elapsed.Seconds(), r.Path)
}

// AdaptRun is one `cpntrain tsft --device D` experiment.
type AdaptRun struct {
	RunConfig
	// Device is the target device; Shots its measured cells (the
	// nasbench201.NumRefs reference architectures count toward them).
	Device string
	Shots  int
	Adapt  AdaptConfig
	// Select chooses the predictor by cross-validation (the default); nil
	// runs TSFT's two stages (with Adapt.BlendFolds' blend).
	Select *SelectConfig
	// Seed draws the shots and seeds the adaptation.
	Seed uint64
	// Measured, when set, adapts to the user's own device from these
	// measurements instead of Device and Shots (no held-out cells: the
	// report has no query score). MeasurementsFile is read into it
	// (ReadMeasurements, Device naming the device).
	Measured         *Measurements
	MeasurementsFile string
}

// AdaptReport is the outcome of RunAdapt.
type AdaptReport struct {
	Device                     string
	Shots, Pseudo, Query       int
	BaseMSE, BaseRho, MSE, Rho float64
	// W is the blend weight of the network, Lambda the additive model's
	// ridge strength (+Inf: none).
	W, Lambda float64
	// Choice is what the selection chose ("" without selection), with its
	// cross-validated MSE and the calibrated base model's.
	Choice           string
	CVMSE, BaseCVMSE float64
	Times            Timing
	// BasePath is the base model's file; BaseLoaded says whether it came
	// from the cache.
	BasePath   string
	BaseLoaded bool
	ModelPath  string
}

// RunAdapt adapts the base model to the device in the run folder: the run
// folder and the cache are opened before any work, the base model comes
// from the cache or is pretrained (resumably) into it, and the adapted
// model and its scores go to the run folder. Adaptation takes seconds and
// is deterministic: an interrupted run starts it afresh when run again.
func RunAdapt(ctx context.Context, ar AdaptRun) (rep AdaptReport, err error) {
	settings := map[string]any{"device": ar.Device, "shots": ar.Shots, "adapt": ar.Adapt, "base": ar.Spec, "seed": ar.Seed}
	run, err := ar.start(settings, nil)
	if err != nil {
		return rep, err
	}
	defer func() { err = run.End(err) }()
	if err := os.MkdirAll(ar.CacheDir, 0o755); err != nil {
		return rep, fmt.Errorf("tsft: model cache: %w", err)
	}
	env, err := LoadEnv(ar.DataDir)
	if err != nil {
		return rep, err
	}
	if ar.MeasurementsFile != "" {
		f, err := os.Open(ar.MeasurementsFile)
		if err != nil {
			return rep, fmt.Errorf("--measurements: %w", err)
		}
		ar.Measured, err = ReadMeasurements(f, ar.MeasurementsFile, env.Data)
		f.Close()
		if err != nil {
			return rep, err
		}
		ar.Measured.Name = ar.Device
	}
	prog := runlog.NewProgress(ar.log(), ar.Spec.Pretrain.Epochs, "pretrain", ar.Quiet)
	start := time.Now()
	base, path, loaded, err := Base(ctx, env, ar.Spec, BaseOptions{CacheDir: ar.CacheDir,
		Progress: func(ep, _ int, loss float64) { prog.Add(1, fmt.Sprintf("loss=%.3g", loss)) }})
	if !loaded {
		prog.Finish()
	}
	if err != nil {
		return rep, err
	}
	rep.BasePath, rep.BaseLoaded = path, loaded
	if loaded {
		fmt.Fprintf(ar.log(), "base model: %s (cached)\n", path)
	} else {
		fmt.Fprintf(ar.log(), "base model: pretrained in %.1f s, cached at %s\n", time.Since(start).Seconds(), path)
	}
	rng := rand.New(rand.NewPCG(ar.Seed, 0x7a5))
	var task Task
	var ms *MsMap
	if ar.Measured != nil {
		// The user's own device: its measurements are all there is.
		task = ar.Measured.task(len(env.Data.RefIndices), len(env.Data.Archs))
		ar.Device, ar.Shots = ar.Measured.Name, len(ar.Measured.Cells)
		mm := ar.Measured.MsMap()
		ms = &mm
	} else {
		if task, err = env.NewTask(ar.Device, ar.Shots, rng); err != nil {
			return rep, err
		}
		if lat, ok := env.Raw[ar.Device]; ok {
			lo, hi := nasbench201.MinMax(lat, nasbench201.Pool(0, TrainPool))
			ms = &MsMap{Lo: lo, Hi: hi}
		}
	}
	rep.Device, rep.Shots, rep.Pseudo, rep.Query = ar.Device, ar.Shots, ar.Adapt.Pseudo, len(task.Query)
	rep.BaseMSE, rep.BaseRho, rep.MSE, rep.Rho = math.NaN(), math.NaN(), math.NaN(), math.NaN()
	if len(task.Query) > 0 {
		rep.BaseMSE, rep.BaseRho = task.Score(Predict(base, env.Features, task.Query, task.Device.Emb, nil))
	}
	var m *Adapted
	var tm Timing
	if ar.Select != nil {
		sel, dt, err := Select(base, env.Features, task.Device.Emb, task.Labelled, task.Y, ar.Adapt, *ar.Select, rng)
		if err != nil {
			return rep, err
		}
		m, tm.FineTune = &sel.Adapted, dt
		rep.Choice, rep.CVMSE, rep.BaseCVMSE = sel.String(), sel.CVMSE, sel.BaseCVMSE
	} else if m, tm, err = Adapt(base, env.Features, task.Device.Emb, task.Labelled, task.Y, task.Unlabelled, ar.Adapt, rng); err != nil {
		return rep, err
	}
	if len(task.Query) > 0 {
		rep.MSE, rep.Rho = task.Score(m.Predict(env.Features, task.Query, nil))
	}
	rep.W, rep.Lambda, rep.Times = float64(m.W), m.Add.Lambda, tm
	run.Scalars(0, map[string]float64{"query/mse": rep.MSE, "query/spearman": rep.Rho, "query/base_mse": rep.BaseMSE,
		"query/base_spearman": rep.BaseRho, "time/finetune_s": tm.FineTune.Seconds(), "time/pseudo_s": tm.Pseudo.Seconds()})
	rep.ModelPath = filepath.Join(run.Dir(), "tsft-"+ar.Device+".safetensors")
	meta := AdaptedMeta{Device: ar.Device, Shots: ar.Shots, Embedding: task.Device.Emb, Additive: m.Add, BlendW: m.W,
		Correction: m.Corr, DeadOffset: m.Dead, Choice: rep.Choice, Ms: ms}
	err = SaveModel(rep.ModelPath, m.Net, meta, int64(ar.Adapt.FineTuneSteps+ar.Adapt.PseudoSteps))
	return rep, err
}

// Write prints the report: the scores of the base model and of the
// adapted one, and the stage times.
func (r AdaptReport) Write(w io.Writer) {
	if r.Query == 0 {
		fmt.Fprintf(w, "device %s: %d measured cells (the %d reference architectures and %d more); nothing is held out, so the only score is the cross-validated one\n",
			r.Device, r.Shots, nasbench201.NumRefs, r.Shots-nasbench201.NumRefs)
		if r.Choice != "" {
			fmt.Fprintf(w, "chosen by cross-validation: %s\ncross-validated MSE on the measured cells (normalised to their range): chosen %.5f, calibrated base model %.5f; selection %.0f ms\n",
				r.Choice, r.CVMSE, r.BaseCVMSE, float64(r.Times.FineTune.Microseconds())/1e3)
		}
		fmt.Fprintf(w, "adapted model: %s (predict with 'cpntrain tsft predict --model …')\n", r.ModelPath)
		return
	}
	fmt.Fprintf(w, "device %s, %d shots (%d reference + %d pool), %d pseudo-labels, query set %d cells\n",
		r.Device, r.Shots, nasbench201.NumRefs, r.Shots-nasbench201.NumRefs, r.Pseudo, r.Query)
	fmt.Fprintf(w, "| model | MSE (normalised) | Spearman ρ |\n|---|---|---|\n")
	fmt.Fprintf(w, "| base model alone | %.5f | %.4f |\n", r.BaseMSE, r.BaseRho)
	label := "TSFT (fine-tune + pseudo-label)"
	switch {
	case r.Choice != "":
		label = "chosen by cross-validation: " + r.Choice
	case r.W < 1 && math.IsInf(r.Lambda, 1):
		label = fmt.Sprintf("TSFT (fine-tune + pseudo-label), scaled by %.1f (no layer-wise model fits these shots)", r.W)
	case r.W < 1:
		label = fmt.Sprintf("TSFT (fine-tune + pseudo-label), blended %.1f·TSFT + %.1f·layer-wise", r.W, 1-r.W)
	}
	fmt.Fprintf(w, "| %s | %.5f | %.4f |\n", label, r.MSE, r.Rho)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }
	if r.Choice != "" {
		fmt.Fprintf(w, "cross-validated MSE on the measured cells: chosen %.5f, calibrated base model %.5f; selection %.0f ms\n", r.CVMSE, r.BaseCVMSE, ms(r.Times.FineTune))
		fmt.Fprintf(w, "adapted model: %s\n", r.ModelPath)
		return
	}
	fmt.Fprintf(w, "stage 1 (fine-tune) %.0f ms, stage 2 (pseudo-label) %.0f ms, total %.0f ms\n",
		ms(r.Times.FineTune), ms(r.Times.Pseudo), ms(r.Times.FineTune+r.Times.Pseudo))
	fmt.Fprintf(w, "adapted model: %s\n", r.ModelPath)
}
