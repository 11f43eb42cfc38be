package topology

import "math"

// Physical defaults; see the package documentation.
const (
	// FibreSpeed is the propagation speed of light in fibre, m/s: delays
	// are 5 µs per km.
	FibreSpeed = 2e8
	// EarthRadius is the mean radius of the Earth in metres, for
	// great-circle distances.
	EarthRadius = 6_371_008.8
	// MinDelay is the smallest propagation delay given to a link, in
	// seconds: that of 1 km of fibre, for co-located nodes.
	MinDelay = 5e-6
	// DefaultCapacity is the capacity, in bits per second, of links whose
	// source gives none (Topology Zoo files without LinkSpeedRaw,
	// generated graphs): 10 Gbit/s.
	DefaultCapacity = 10e9
	// DefaultDelay is the propagation delay, in seconds, of Topology Zoo
	// links when no link of the graph has coordinates at both ends
	// (Internet2): 5 ms, the delay of 1,000 km of fibre.
	DefaultDelay = 5e-3
)

// greatCircle returns the great-circle distance in metres between two
// points given in degrees (haversine formula).
func greatCircle(lat1, lon1, lat2, lon2 float64) float64 {
	const rad = math.Pi / 180
	p1, p2 := lat1*rad, lat2*rad
	dp := p2 - p1
	dl := (lon2 - lon1) * rad
	a := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * EarthRadius * math.Asin(math.Sqrt(min(1, max(0, a))))
}

// fibreDelay returns the propagation delay over d metres of fibre, at
// least MinDelay.
func fibreDelay(d float64) float64 {
	return max(d/FibreSpeed, MinDelay)
}
