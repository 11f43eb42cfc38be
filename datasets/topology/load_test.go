package topology

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoadNames(t *testing.T) {
	root := dataRoot(t)
	if want := []string{"abilene", "ebone", "sprintlink", "tiscali", "uscarrier", "kdl", "internet2"}; !slices.Equal(Names(), want) {
		t.Errorf("Names() = %v", Names())
	}
	for _, name := range []string{"Abilene", "ABILENE", "abilene"} {
		g, err := Load(root, name)
		if err != nil || g.Name != "Abilene" {
			t.Fatalf("Load(%q): %v, %v", name, g, err)
		}
		if g.Nodes[0].Label != "ATLAM5" || g.Nodes[11].Label != "WASHng" {
			t.Errorf("labels %v", g.Nodes)
		}
	}
	g, err := Load(root, "UsCarrier")
	if err != nil || g.Name != "UsCarrier" {
		t.Errorf("Load(UsCarrier): %v, %v", g, err)
	}
	if _, err := Load(root, "geant"); err == nil || !strings.Contains(err.Error(), `unknown topology "geant"; known: abilene, ebone`) {
		t.Errorf("unknown name: %v", err)
	}
}

func TestLoadMissing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := Load(dir, "kdl"); err == nil || !strings.Contains(err.Error(), "Kdl.gml") || !strings.Contains(err.Error(), "Fetch") {
		t.Errorf("err = %v", err)
	}
	if _, err := LoadAbileneTM(dir); err == nil || !strings.Contains(err.Error(), "AbileneTM") {
		t.Errorf("err = %v", err)
	}
}

// TestLoadFile: a user's CFR-RL text file (a 3-node ring written here)
// and GML file are read by their extension and named after the file; a
// broken file's error names it.
func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	txt := filepath.Join(dir, "ring.txt")
	os.WriteFile(txt, []byte("Node_num: 3\tEdge_num: 6\nLink_index\tSource\tDestination\tWeights\tBandwidth\n"+
		"0\t0\t1\t2\t500\n1\t1\t0\t2\t500\n2\t1\t2\t2\t500\n3\t2\t1\t2\t500\n4\t2\t0\t2\t500\n5\t0\t2\t2\t500\n"), 0o644)
	g, err := LoadFile(txt)
	if err != nil {
		t.Fatal(err)
	}
	// Rocketfuel-style bandwidth 500 units of 20 Mbit/s, 0.5 ms per weight.
	if g.Name != "ring" || g.N != 3 || len(g.Links) != 6 || g.Links[0].Capacity != 500*RocketfuelUnit || g.Links[0].Delay != 2*RocketfuelDelayPerWeight {
		t.Fatalf("ring: %s, %d nodes, %d links, link 0 %+v", g.Name, g.N, len(g.Links), g.Links[0])
	}
	gml := filepath.Join(dir, "Two.GML")
	os.WriteFile(gml, []byte(`graph [ node [ id 0 label "a" Latitude 0 Longitude 0 ] node [ id 1 label "b" Latitude 0 Longitude 1 ] node [ id 2 label "c" Latitude 1 Longitude 1 ]
edge [ source 0 target 1 ] edge [ source 1 target 2 ] ]`), 0o644)
	if g, err = LoadFile(gml); err != nil || g.Name != "Two" || g.N != 3 {
		t.Fatalf("GML: %v, %v", g, err)
	}
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("nonsense\n"), 0o644)
	if _, err := LoadFile(bad); err == nil || !strings.Contains(err.Error(), "bad.txt") {
		t.Fatalf("broken file: %v", err)
	}
	if _, err := LoadFile(filepath.Join(dir, "none.gml")); err == nil {
		t.Fatal("missing file: no error")
	}
}
