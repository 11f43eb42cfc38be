package topology

import "github.com/cpntrain/cpntrain/datasets/internal/fetch"

// Pinned upstream revisions.
const (
	// CFRRLRevision is the commit of github.com/jrayzhang6/CFR-RL the
	// CFR-RL topologies and the Abilene traffic matrices are pinned to.
	CFRRLRevision = "0ab3288a8571c8e196caa376496451621358f01a"
	// ZooRevision is the commit of github.com/mroughan/InternetTopologyZoo
	// the Topology Zoo GML files are pinned to.
	ZooRevision = "a725bbc4763bf1d0eaea64089ba00c2fe9427fe3"
)

// DefaultBaseURL is the root Fetch downloads from: GitHub's raw file
// server, under which each file is at <owner>/<repository>/<commit>/<path>.
const DefaultBaseURL = "https://raw.githubusercontent.com"

const (
	cfrrlRemote = "jrayzhang6/CFR-RL/" + CFRRLRevision + "/"
	zooRemote   = "mroughan/InternetTopologyZoo/" + ZooRevision + "/"
)

// files lists every file of the data folder with its remote path under the
// base URL, size and SHA-256 (the values of SHA256SUMS of the reference
// data). LICENSE.CFR-RL is the CFR-RL repository's LICENSE (MIT).
var files = []fetch.File{
	{Name: "cfr-rl/Abilene", Remote: cfrrlRemote + "data/Abilene", Size: 648, SHA256: "4b511e170477ca3d5bcf4014917402ecbb3227e3ab3e2c665334376d49b91ea6"},
	{Name: "cfr-rl/AbileneTM", Remote: cfrrlRemote + "data/AbileneTM", Size: 4066272, SHA256: "82d537e0e4081ef39675a2c0cb997881fcdf5537de369dd3403c87f65b977737"},
	{Name: "cfr-rl/Ebone", Remote: cfrrlRemote + "data/Ebone", Size: 1214, SHA256: "625b083013d9411137ef14f54781e775f8d8ba36e4646442d84ee5823ad02ee4"},
	{Name: "cfr-rl/LICENSE.CFR-RL", Remote: cfrrlRemote + "LICENSE", Size: 1071, SHA256: "e1de1b382fde6800a06506c48ee808a2c7c4018ae3ab7121df193704500e2e72"},
	{Name: "cfr-rl/Sprintlink", Remote: cfrrlRemote + "data/Sprintlink", Size: 2653, SHA256: "8c17876e0ececfc121f03a6da3d4f34809c2c033ddcdbb7c4f1d9063e03922cd"},
	{Name: "cfr-rl/Tiscali", Remote: cfrrlRemote + "data/Tiscali", Size: 2785, SHA256: "c97633354f7ecb167f33902ab291835e79ae4965e37b6496b6e7c0c49c661d94"},
	{Name: "topologyzoo/Internet2.gml", Remote: zooRemote + "gml/Internet2.gml", Size: 2504, SHA256: "fc91480f18cf4e38786df64f51743564ccd305b2881204e47926bb386835f04b"},
	{Name: "topologyzoo/Kdl.gml", Remote: zooRemote + "gml/Kdl.gml", Size: 171759, SHA256: "b4f40aa8ce207a8296c858aba83d5d2c4a6f18ded6a245e7a34b1fc1ad45288f"},
	{Name: "topologyzoo/UsCarrier.gml", Remote: zooRemote + "gml/UsCarrier.gml", Size: 31816, SHA256: "1f517790ef5b8badc84fd6cc69d8ff89a20e486593585002975aaadf384893a7"},
}
