package nasbench201

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// DirName is the name of the data folder under a datasets root such as
// $CPNTRAIN_DATA: Load reads <root>/nasbench201, Fetch writes there.
const DirName = "nasbench201"

// NumRefs is the number of reference architectures whose latencies HELP
// uses as a device's hardware embedding (hardware_embedding_index.pt).
const NumRefs = 10

// The files of the data folder, relative to it.
const (
	archIndexFile = "str_arch2idx.pt"
	refIndexFile  = "hardware_embedding_index.pt"
	latencyDir    = "latency"
)

// devices are the 27 measured devices, sorted: GPUs (suffix = batch size),
// Intel CPUs, phones, Raspberry Pi 4, an FPGA and the Eyeriss ASIC.
var devices = [...]string{
	"1080ti_1", "1080ti_256", "1080ti_32",
	"2080ti_1", "2080ti_256", "2080ti_32",
	"essential_ph_1", "eyeriss", "fpga", "gold_6226", "gold_6240",
	"pixel2", "pixel3", "raspi4", "samsung_a50", "samsung_s7",
	"silver_4114", "silver_4210r",
	"titan_rtx_1", "titan_rtx_256", "titan_rtx_32",
	"titanx_1", "titanx_256", "titanx_32",
	"titanxp_1", "titanxp_256", "titanxp_32",
}

// Devices returns the names of the 27 devices with measured latencies,
// sorted. The caller may modify the slice.
func Devices() []string { return slices.Clone(devices[:]) }

// latencyFile is the path of a device's latency file relative to the data
// folder, slash-separated.
func latencyFile(device string) string { return latencyDir + "/" + device + ".pt" }

// Data is the NAS-Bench-201 latency data set of HELP.
type Data struct {
	// Archs holds the cell of each architecture index 0 … NumArchs-1, the
	// indexing of str_arch2idx.pt, which all other files follow.
	Archs []Arch
	// Latency maps a device name to the latency in milliseconds of each
	// architecture index on that device. The phones (essential_ph_1,
	// pixel2, samsung_a50, samsung_s7) report whole milliseconds.
	Latency map[string][]float32
	// RefIndices are the NumRefs reference architecture indices of
	// hardware_embedding_index.pt (see HardwareEmbedding).
	RefIndices []int
	// Dir is the data folder the data was loaded from.
	Dir string

	byCode []int32 // architecture index by Arch.code(); built by Load
}

// Load reads the data folder dir (usually <root>/nasbench201, see
// DirName): the architecture index, the reference indices, and the latency
// files of the given devices (a name given twice is read once), or of all
// 27 devices (see Devices) when none is given. Files are read in HELP's upstream format (PyTorch zip archives
// holding a pickle) and validated: NumArchs distinct architectures, NumArchs
// finite non-negative latencies per device, NumRefs distinct indices.
//
// An unknown device name is an error listing the known ones. A missing file
// is an error saying how to get the data that satisfies
// errors.Is(err, fs.ErrNotExist); any other error names the file and the
// problem.
func Load(dir string, devices ...string) (*Data, error) {
	if len(devices) == 0 {
		devices = Devices()
	}
	var unique []string
	for _, dev := range devices {
		if !isDevice(dev) {
			return nil, fmt.Errorf("nasbench201: unknown device %q; known devices: %s", dev, strings.Join(Devices(), ", "))
		}
		if !slices.Contains(unique, dev) {
			unique = append(unique, dev)
		}
	}
	devices = unique
	d := &Data{Dir: dir, Latency: make(map[string][]float32, len(devices))}

	// The files are independent: read and decode them in parallel.
	type job struct {
		rel    string
		decode func(b []byte) error
	}
	var mu sync.Mutex
	jobs := []job{
		{archIndexFile, func(b []byte) (err error) { d.Archs, err = decodeArchIndex(b); return err }},
		{refIndexFile, func(b []byte) (err error) { d.RefIndices, err = decodeRefIndices(b); return err }},
	}
	for _, dev := range devices {
		jobs = append(jobs, job{latencyFile(dev), func(b []byte) error {
			lat, err := decodeLatency(b)
			if err == nil {
				mu.Lock()
				d.Latency[dev] = lat
				mu.Unlock()
			}
			return err
		}})
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() { errs[i] = loadFile(filepath.Join(dir, filepath.FromSlash(j.rel)), j.decode) })
	}
	wg.Wait()
	for _, err := range errs { // the first error in file order, deterministically
		if err != nil {
			return nil, err
		}
	}
	d.byCode = make([]int32, NumArchs)
	for i, a := range d.Archs {
		d.byCode[a.code()] = int32(i)
	}
	return d, nil
}

// loadFile reads the file at path and decodes it; an error names the file.
func loadFile(path string, decode func(b []byte) error) error {
	b, err := readFile(path)
	if err != nil {
		return err
	}
	if err := decode(b); err != nil {
		return fmt.Errorf("nasbench201: %s: %w", path, err)
	}
	return nil
}

func isDevice(name string) bool {
	_, ok := slices.BinarySearch(devices[:], name)
	return ok
}

// IndexOf returns the architecture index of a, and false if a is not Valid
// or not in d.Archs.
func (d *Data) IndexOf(a Arch) (int, bool) {
	if !a.Valid() {
		return -1, false
	}
	if d.byCode != nil {
		return int(d.byCode[a.code()]), true
	}
	i := slices.Index(d.Archs, a) // a Data not made by Load
	return i, i >= 0
}

// IndexOfString returns the architecture index of the NAS-Bench-201
// architecture string s (see ParseArch).
func (d *Data) IndexOfString(s string) (int, error) {
	a, err := ParseArch(s)
	if err != nil {
		return -1, err
	}
	i, ok := d.IndexOf(a)
	if !ok {
		return -1, fmt.Errorf("nasbench201: architecture %s not in the data", s)
	}
	return i, nil
}

// Devices returns the names of the devices whose latencies d holds, sorted.
func (d *Data) Devices() []string {
	names := make([]string, 0, len(d.Latency))
	for name := range d.Latency {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
