package cpn

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/cpntrain/cpntrain/rl"
)

// TestRestoreKeepsTheControllersEstimates: an environment restored from a
// snapshot into a fresh Env gives the wf baseline's decision of the
// original (the estimates travel in the observation), and then steps
// exactly as the original; a snapshot of the older format (no "format",
// observations as feature rows) is refused with a clear error.
func TestRestoreKeepsTheControllersEstimates(t *testing.T) {
	net := testNetwork(t, nil)
	a := NewEnv(net)
	if _, err := a.Reset(11); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 7; i++ { // a few decisions, so flows and busy nodes exist
		act, err := a.WaterFilling()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Step(act); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := a.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	b := NewEnv(net)
	if _, err := b.Restore(snap); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		wa, err1 := a.WaterFilling()
		wb, err2 := b.WaterFilling()
		if err1 != nil || err2 != nil || !reflect.DeepEqual(wa, wb) {
			t.Fatalf("decision %d: wf %v (%v) on the original, %v (%v) restored", i, wa, err1, wb, err2)
		}
		sa, _ := a.Step(wa)
		sb, _ := b.Step(wb)
		if sa.Reward != sb.Reward || !reflect.DeepEqual(sa.Obs, sb.Obs) {
			t.Fatalf("step %d: reward %v vs %v after restore", i, sa.Reward, sb.Reward)
		}
	}
	var old map[string]json.RawMessage
	if err := json.Unmarshal(snap, &old); err != nil {
		t.Fatal(err)
	}
	delete(old, "format")
	old["obs"] = json.RawMessage(`{"K":1,"P":1,"Task":[0.5,1],"Nodes":[0,0,0,0,0,0,0,0,0,0,0,0]}`)
	oldSnap, _ := json.Marshal(old)
	c := NewEnv(net)
	if _, err := c.Restore(oldSnap); err == nil || !strings.Contains(err.Error(), "format 1; this version reads format 2") {
		t.Fatalf("a snapshot of the older format: error %v", err)
	}
	var _ rl.Snapshotter[Obs] = c
}

// TestRestoreWithTenants: with other tenants on the nodes (busy 40 % of
// the time, jobs of 30 ms), sampled probes (σ 0.2), drifting traffic and
// bursts seen by 50 ms old probes, a restored environment steps exactly as
// the original (the tenants' timelines, both generators and the bursts'
// seed travel in the snapshot), tasks wait longer than without tenants,
// and a snapshot without the tenants' or the probes' generator or the
// bursts' seed is refused.
func TestRestoreWithTenants(t *testing.T) {
	net := testNetwork(t, func(c *Config) {
		c.Tenants, c.TenantJobMs, c.ProbeNoise = 0.4, 30, 0.2
		c.TrafficDrift, c.BurstShare, c.BurstSize, c.BurstMs, c.ProbeAgeMs = true, 0.4, 0.5, 5, 50
	})
	a := NewEnv(net)
	if _, err := a.Reset(12); err != nil {
		t.Fatal(err)
	}
	var withT float64
	for i := 0; i < 20; i++ {
		act, _ := a.WaterFilling()
		st, err := a.Step(act)
		if err != nil {
			t.Fatal(err)
		}
		withT += st.Info["wait_ms"]
	}
	snap, err := a.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	b := NewEnv(net)
	if _, err := b.Restore(snap); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		wa, _ := a.WaterFilling()
		wb, _ := b.WaterFilling()
		sa, _ := a.Step(wa)
		sb, _ := b.Step(wb)
		if sa.Reward != sb.Reward || !reflect.DeepEqual(sa.Obs, sb.Obs) {
			t.Fatalf("step %d after restore: reward %v vs %v", i, sa.Reward, sb.Reward)
		}
	}
	plain := NewEnv(testNetwork(t, nil))
	if _, err := plain.Reset(12); err != nil {
		t.Fatal(err)
	}
	var without float64
	for i := 0; i < 20; i++ {
		act, _ := plain.WaterFilling()
		st, _ := plain.Step(act)
		without += st.Info["wait_ms"]
	}
	if !(withT > without) {
		t.Fatalf("waiting with tenants %v ms, without %v ms", withT, without)
	}
	var m map[string]json.RawMessage
	_ = json.Unmarshal(snap, &m)
	delete(m, "tenant_rng")
	bad, _ := json.Marshal(m)
	if _, err := NewEnv(net).Restore(bad); err == nil || !strings.Contains(err.Error(), "tenant timelines") {
		t.Fatalf("snapshot without the tenants' generators: %v", err)
	}
	_ = json.Unmarshal(snap, &m)
	delete(m, "probe_rng")
	bad, _ = json.Marshal(m)
	if _, err := NewEnv(net).Restore(bad); err == nil || !strings.Contains(err.Error(), "probe generator") {
		t.Fatalf("snapshot without the probes' generator: %v", err)
	}
	_ = json.Unmarshal(snap, &m)
	delete(m, "burst_seed")
	bad, _ = json.Marshal(m)
	if _, err := NewEnv(net).Restore(bad); err == nil || !strings.Contains(err.Error(), "burst seed") {
		t.Fatalf("snapshot without the bursts' seed: %v", err)
	}
}
