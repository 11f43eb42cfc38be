// Package topology reads the network topologies of the RLMS-CPN
// experiments, provides the graph type and path algorithms a network
// simulator needs, generates topologies and traffic matrices for graphs
// that have none, and downloads the files from pinned upstream revisions.
//
// # Data
//
// The files live under <root>/topologies, root being the data sets folder
// (CPNTRAIN_DATA, e.g. ../shared/datasets, or the dest given to Fetch):
//
//   - cfr-rl/Abilene, Ebone, Sprintlink, Tiscali: the four topologies of
//     the RLMS-CPN experiments (12 nodes / 30 directed links, 23/76,
//     44/166, 49/172), and cfr-rl/AbileneTM, 2,016 measured 12×12 Abilene
//     traffic matrices at 5-minute intervals, from the CFR-RL repository
//     (github.com/jrayzhang6/CFR-RL at CFRRLRevision, folder data; MIT
//     licence, cfr-rl/LICENSE.CFR-RL). Read with ReadCFRRL and ReadTM.
//   - topologyzoo/UsCarrier.gml (158 nodes), Kdl.gml (754), Internet2.gml
//     (20): Internet Topology Zoo graphs (github.com/mroughan/
//     InternetTopologyZoo at ZooRevision, folder gml). Read with ReadGML.
//
// Load(root, name) reads one by name and LoadAbileneTM(root) the traffic
// matrices; Fetch downloads all of them with SHA-256 checks into the same
// layout.
//
// # Units
//
// A Graph's links are directed; Capacity is in bit/s, Delay (propagation
// only) in seconds, Weight is the routing weight. Traffic matrix demands
// are in bit/s once multiplied by TrafficMatrices.Unit (Demands does it).
//
// # Modelling choices
//
// The files do not all give capacities and delays in physical units; the
// readers map them as follows.
//
// CFR-RL Abilene (the column header says kbps): capacities are kbit/s
// (9.92 Gbit/s, and 2.48 Gbit/s for ATLAng–IPLSng). The OSPF weights are
// roughly proportional to distance: with the routers placed in their
// cities (Atlanta, Chicago, Denver, Houston, Indianapolis, Kansas City,
// Los Angeles, New York, Sunnyvale, Seattle, Washington), weight / great-
// circle km has median 0.86 over the 14 inter-city links (range 0.61–
// 1.28; TestAbileneWeightsTrackDistance checks it). So a weight unit is
// taken as 1/0.86 ≈ 1.16 km of fibre: Delay = weight × 5.8 µs
// (AbileneDelayPerWeight), 4.1 ms for the median link (weight 700), 12.2
// ms for the longest (Denver–Seattle, 2095), 5.8 µs for the two Atlanta
// routers (weight 1). The node order is the alphabetical order of the
// router names (ATLAM5, ATLAng, CHINng, …, WASHng), as in Yin Zhang's
// Abilene data the traffic matrices come from; Load labels the nodes so.
//
// CFR-RL Rocketfuel topologies (Ebone, Sprintlink, Tiscali): the
// bandwidth column is relative, ⌊1000 / weight⌋ (the weights are
// inverse-capacity OSPF weights, 2…39). One unit is RocketfuelUnit = 20
// Mbit/s, so the largest class (500) is 10 Gbit/s like Abilene's
// backbone, 250 is 5 Gbit/s and the smallest (25) 0.5 Gbit/s. The weights
// carry no distance, and the files no coordinates, so the delay is taken
// proportional to the weight, Delay = weight × 0.5 ms
// (RocketfuelDelayPerWeight): 2 ms for the typical link (weight 4), 1 to
// 19.5 ms overall — a plausible range for PoP-to-PoP links of a
// continental backbone, with slower links longer, as inverse-capacity
// weights suggest.
//
// Topology Zoo (ReadGML): nodes keep their file order; edges are
// undirected, so each becomes two directed links; parallel edges are
// merged into one link (its capacity is their largest LinkSpeedRaw) and
// self loops dropped. Only the largest connected component is kept; the
// dropped nodes are counted in Info.DroppedNodes (none in the three files
// here; Kdl has 4 merged parallel edges). Capacity is LinkSpeedRaw (bit/s)
// when the edge has one, else DefaultCapacity = 10 Gbit/s (all three files
// have none). Delay is the great-circle distance between the endpoints'
// Latitude/Longitude at FibreSpeed = 2×10⁸ m/s (5 µs/km). A link with an
// endpoint lacking coordinates gets the median delay of the graph's links
// that have coordinates at both ends, and if there are none (Internet2)
// DefaultDelay = 5 ms, the delay of 1,000 km; Info.FallbackDelays counts
// them. The nodes without coordinates are the Zoo's hyperedge junctions
// (6 in UsCarrier, 28 in Kdl, 3 in Internet2), which are kept as nodes and
// flagged Node.Hyperedge, and all of Internet2's nodes. Weights are 1
// (hop count, which is what OSPF's inverse-capacity default gives for
// equal capacities).
//
// Every delay is at least MinDelay = 5 µs (1 km of fibre), so co-located
// nodes are never joined by a zero-delay link.
//
// AbileneTM: the values are in units of 100 bytes per 5-minute interval
// (CFR-RL's env.py converts them to kbit/s as v × 100 × 8 / 300 / 1000),
// so AbileneTMUnit = 8/3 bit/s per unit. The diagonal (a router's traffic
// to itself) is present in the file; Demands zeroes it, as CFR-RL does.
//
// Generated topologies: Waxman places nodes in a 2,000 km square, joins
// them with BRITE's Waxman probability and then joins the components, so
// the graph is connected; links have DefaultCapacity, Euclidean fibre
// delay and weight 1. Gravity draws gravity-model traffic matrices.
//
// # Paths
//
// Paths are lists of link indices. Graph.HopDistances is a breadth-first
// search; Graph.ShortestPath is Dijkstra; Graph.KShortestPaths is Yen's
// algorithm for loopless paths with Lawler's refinement and A* spur
// searches guided by the exact distances to the destination, ordered by
// cost, then hops, then link indices. A PathFinder reuses its buffers
// and the search towards the last destination across queries: on Kdl
// (754 nodes, 1,790 links) k = 3 paths between node 0 and a node 16 to
// 43 hops away take 0.2–0.3 ms (BenchmarkKShortestKdl, 2-core machine).
//
// # Robustness
//
// The readers never panic on any input, bound what they allocate
// (MaxNodes, MaxLinks, line and token lengths) and report errors with the
// file name and line, e.g. "topology: Abilene:7: capacity "abc" is not a
// number". Everything is deterministic: no result depends on map order.
package topology
