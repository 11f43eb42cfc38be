package topology

import (
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
