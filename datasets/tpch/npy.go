package tpch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A minimal .npy reader (NumPy's format: magic, version, header length, a
// Python-literal header dict, then the data) for the two kinds of file
// the TPC-H folder holds: little-endian float64 matrices and 0-d object
// arrays (a pickle). Every length is checked against the file before
// anything is allocated: a malformed file is an error, never a huge
// allocation or a panic.

// npyFile is a parsed .npy file.
type npyFile struct {
	descr   string
	fortran bool
	shape   []int
	data    []byte
}

// parseNPY reads the preamble and header of b.
func parseNPY(b []byte) (npyFile, error) {
	var f npyFile
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		return f, errors.New(`not a .npy file (no \x93NUMPY magic)`)
	}
	var prefix, hlen int
	switch b[6] {
	case 1:
		prefix, hlen = 10, int(binary.LittleEndian.Uint16(b[8:10]))
	case 2, 3:
		if len(b) < 12 {
			return f, errors.New("a truncated .npy preamble")
		}
		prefix, hlen = 12, int(binary.LittleEndian.Uint32(b[8:12]))
	default:
		return f, fmt.Errorf(".npy version %d.%d: want 1, 2 or 3", b[6], b[7])
	}
	if hlen < 0 || hlen > len(b)-prefix {
		return f, fmt.Errorf("a .npy header of %d bytes in a file of %d", hlen, len(b))
	}
	h := strings.TrimSpace(string(b[prefix : prefix+hlen]))
	f.data = b[prefix+hlen:]
	if !strings.HasPrefix(h, "{") || !strings.HasSuffix(h, "}") {
		return f, fmt.Errorf(".npy header %q is not a dict", h)
	}
	h = strings.TrimSpace(h[1 : len(h)-1])
	seen := map[string]bool{}
	for h != "" {
		key, rest, ok := strings.Cut(h, ":")
		if !ok {
			return f, fmt.Errorf(".npy header: no value after %q", h)
		}
		key = strings.Trim(strings.TrimSpace(key), `'"`)
		rest = strings.TrimSpace(rest)
		var val string
		if strings.HasPrefix(rest, "(") {
			end := strings.IndexByte(rest, ')')
			if end < 0 {
				return f, errors.New(".npy header: an unclosed shape")
			}
			val, rest = rest[:end+1], rest[end+1:]
		} else {
			end := strings.IndexByte(rest, ',')
			if end < 0 {
				end = len(rest)
			}
			val, rest = strings.TrimSpace(rest[:end]), rest[end:]
		}
		rest = strings.TrimSpace(rest)
		rest = strings.TrimSpace(strings.TrimPrefix(rest, ","))
		if seen[key] {
			return f, fmt.Errorf(".npy header: %q twice", key)
		}
		seen[key] = true
		switch key {
		case "descr":
			f.descr = strings.Trim(val, `'"`)
		case "fortran_order":
			switch val {
			case "False":
			case "True":
				f.fortran = true
			default:
				return f, fmt.Errorf(".npy header: fortran_order %q", val)
			}
		case "shape":
			if len(val) < 2 || val[0] != '(' || val[len(val)-1] != ')' {
				return f, fmt.Errorf(".npy header: shape %q is not a tuple", val)
			}
			inner := strings.TrimSpace(val[1 : len(val)-1])
			for _, p := range strings.Split(inner, ",") {
				p = strings.TrimSpace(p)
				if p == "" {
					continue
				}
				n, err := strconv.Atoi(p)
				if err != nil || n < 0 || n > 1<<30 {
					return f, fmt.Errorf(".npy header: shape %s", val)
				}
				f.shape = append(f.shape, n)
			}
		default:
			return f, fmt.Errorf(".npy header: unknown key %q", key)
		}
		h = rest
	}
	if !seen["descr"] || !seen["shape"] {
		return f, errors.New(".npy header: no descr or shape")
	}
	return f, nil
}
