package topology

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DirName is the folder of the topology files under the data sets root
// (CPNTRAIN_DATA): DirName/cfr-rl/<file> and DirName/topologyzoo/<file>.gml.
const DirName = "topologies"

// dataset is one topology Load knows.
type dataset struct {
	name string // canonical name, the graph's Name
	path string // under DirName, slash-separated
	gml  bool
}

var datasets = []dataset{
	{"Abilene", "cfr-rl/Abilene", false},
	{"Ebone", "cfr-rl/Ebone", false},
	{"Sprintlink", "cfr-rl/Sprintlink", false},
	{"Tiscali", "cfr-rl/Tiscali", false},
	{"UsCarrier", "topologyzoo/UsCarrier.gml", true},
	{"Kdl", "topologyzoo/Kdl.gml", true},
	{"Internet2", "topologyzoo/Internet2.gml", true},
}

// abileneRouters are the Abilene routers in the order of the CFR-RL file
// and of the Abilene traffic matrices: the routers' names in alphabetical
// order, as in Yin Zhang's Abilene data set (the order is inferred: each
// of the 15 links of the file joins the routers it joins in Abilene).
var abileneRouters = [12]string{
	"ATLAM5", "ATLAng", "CHINng", "DNVRng", "HSTNng", "IPLSng",
	"KSCYng", "LOSAng", "NYCMng", "SNVAng", "STTLng", "WASHng",
}

// Names returns the names Load accepts, lower case.
func Names() []string {
	names := make([]string, len(datasets))
	for i, d := range datasets {
		names[i] = strings.ToLower(d.name)
	}
	return names
}

// LoadFile reads a topology from a file of the user's: Topology Zoo GML
// (a name ending in .gml) or CFR-RL's text format (anything else). The
// graph is named after the file.
func LoadFile(path string) (*Graph, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("topology: %w", err)
	}
	defer f.Close() // read-only
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	var g *Graph
	if strings.EqualFold(filepath.Ext(path), ".gml") {
		g, err = ReadGML(f, filepath.Base(path))
	} else {
		g, err = ReadCFRRL(f, filepath.Base(path))
	}
	if err != nil {
		return nil, fmt.Errorf("topology file %s: %w", path, err)
	}
	g.Name = name
	return g, nil
}

// Load reads topology name (case-insensitive; one of Names: abilene,
// ebone, sprintlink, tiscali, uscarrier, kdl, internet2) from the data
// sets root dir, i.e. the folder holding DirName (CPNTRAIN_DATA, or the
// dest of Fetch). The graph's Name is the canonical one ("Abilene",
// "UsCarrier", …); Abilene's nodes are labelled with their router names.
func Load(dir, name string) (*Graph, error) {
	for _, d := range datasets {
		if !strings.EqualFold(name, d.name) {
			continue
		}
		path := filepath.Join(dir, DirName, filepath.FromSlash(d.path))
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("topology: %w (fetch the data with topology.Fetch or `cpntrain data fetch`)", err)
		}
		defer f.Close() // read-only
		var g *Graph
		if d.gml {
			g, err = ReadGML(f, filepath.Base(path))
		} else {
			g, err = ReadCFRRL(f, filepath.Base(path))
		}
		if err != nil {
			return nil, err
		}
		g.Name = d.name
		if d.name == "Abilene" && g.N == len(abileneRouters) {
			for i := range g.Nodes {
				g.Nodes[i].Label = abileneRouters[i]
			}
		}
		return g, nil
	}
	return nil, fmt.Errorf("topology: unknown topology %q; known: %s", name, strings.Join(Names(), ", "))
}

// LoadAbileneTM reads the 2,016 Abilene traffic matrices of CFR-RL (12×12,
// 5-minute intervals) from the data sets root dir; Unit is AbileneTMUnit.
func LoadAbileneTM(dir string) (*TrafficMatrices, error) {
	path := filepath.Join(dir, DirName, "cfr-rl", "AbileneTM")
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("topology: %w (fetch the data with topology.Fetch or `cpntrain data fetch`)", err)
	}
	defer f.Close() // read-only
	tm, err := ReadTM(f, "AbileneTM")
	if err != nil {
		return nil, err
	}
	if tm.N != len(abileneRouters) {
		return nil, fmt.Errorf("topology: AbileneTM: %d×%d matrices, want 12×12", tm.N, tm.N)
	}
	tm.Unit = AbileneTMUnit
	return tm, nil
}
