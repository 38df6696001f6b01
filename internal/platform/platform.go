package platform

import (
	"errors"
	"fmt"
	"strings"
)

// Platform is an operating system and CPU architecture an image can run on,
// in the vocabulary of the OCI image spec (GOOS/GOARCH names).
type Platform struct {
	// OS is the operating system, e.g. "linux" or "windows".
	OS string `json:"os"`
	// Architecture is the CPU architecture, e.g. "amd64" or "arm64".
	Architecture string `json:"architecture"`
	// Variant is the CPU variant, e.g. "v7" for arm; empty when none.
	Variant string `json:"variant,omitempty"`
	// OSVersion is the OS build, set by registries for windows images.
	OSVersion string `json:"os.version,omitempty"`
}

// Common platforms.
var (
	LinuxAMD64 = Platform{OS: "linux", Architecture: "amd64"}
	LinuxARM64 = Platform{OS: "linux", Architecture: "arm64"}
)

// Parse reads "os/arch[/variant]" or a bare "arch[/variant]" (OS linux) and
// returns the normalised platform. Architecture aliases such as aarch64,
// x86_64, armhf and armel are accepted.
func Parse(s string) (Platform, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" {
		return Platform{}, errors.New("empty platform")
	}
	parts := strings.Split(s, "/")
	var p Platform
	switch len(parts) {
	case 1:
		p = Platform{Architecture: parts[0]}
	case 2:
		if isOS(parts[0]) {
			p = Platform{OS: parts[0], Architecture: parts[1]}
		} else {
			p = Platform{Architecture: parts[0], Variant: parts[1]}
		}
	case 3:
		if !isOS(parts[0]) {
			return Platform{}, fmt.Errorf("%q: unknown OS %q", s, parts[0])
		}
		p = Platform{OS: parts[0], Architecture: parts[1], Variant: parts[2]}
	default:
		return Platform{}, fmt.Errorf("%q: want os/arch[/variant]", s)
	}
	for _, part := range parts {
		if part == "" {
			return Platform{}, fmt.Errorf("%q: empty component", s)
		}
		if strings.IndexFunc(part, badComponentRune) >= 0 {
			return Platform{}, fmt.Errorf("%q: %q is not a platform component (letters, digits, '.', '_', '-')", s, part)
		}
	}
	p = Normalize(p)
	if !knownArch[p.Architecture] {
		return Platform{}, fmt.Errorf("%q: unknown architecture %q (want e.g. linux/arm64, linux/amd64, linux/arm/v7)", s, p.Architecture)
	}
	return p, nil
}

// badComponentRune reports a rune no OS, architecture or variant name has.
func badComponentRune(r rune) bool {
	return (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '.' && r != '_' && r != '-'
}

// MustParse is Parse for constants in code and tests; it panics on error.
func MustParse(s string) Platform {
	p, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return p
}

// ParseList reads a comma-separated list of platforms, e.g.
// "linux/arm64,linux/amd64".
func ParseList(s string) ([]Platform, error) {
	var out []Platform
	for _, f := range strings.Split(s, ",") {
		if strings.TrimSpace(f) == "" {
			continue
		}
		p, err := Parse(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, errors.New("empty platform list")
	}
	return out, nil
}

// Normalize returns p with canonical names: lower case, linux when the OS
// is empty, architecture aliases resolved, and the variant that is implied
// by the architecture (arm64/v8) dropped.
func Normalize(p Platform) Platform {
	p.OS = strings.ToLower(p.OS)
	p.Architecture = strings.ToLower(p.Architecture)
	p.Variant = strings.ToLower(p.Variant)
	if p.OS == "" {
		p.OS = "linux"
	}
	if p.OS == "macos" || p.OS == "osx" {
		p.OS = "darwin"
	}
	switch p.Architecture {
	case "aarch64", "arm64v8":
		p.Architecture = "arm64"
	case "x86_64", "x86-64", "x64", "amd64v1":
		p.Architecture = "amd64"
	case "i386", "i686", "x86":
		p.Architecture = "386"
	case "armhf", "armv7", "armv7l", "arm32v7":
		p.Architecture, p.Variant = "arm", "v7"
	case "armel", "armv6", "armv6l", "arm32v6":
		p.Architecture, p.Variant = "arm", "v6"
	case "armv5", "arm32v5":
		p.Architecture, p.Variant = "arm", "v5"
	case "ppc64el":
		p.Architecture = "ppc64le"
	}
	switch {
	case p.Architecture == "arm64" && p.Variant == "v8":
		p.Variant = ""
	case p.Architecture == "amd64" && p.Variant == "v1":
		p.Variant = ""
	case p.Architecture == "arm" && p.Variant == "":
		// An arm image without a variant is, by Docker's convention, v7.
		p.Variant = "v7"
	case p.Architecture == "arm" && p.Variant == "7":
		p.Variant = "v7"
	case p.Architecture == "arm" && p.Variant == "6":
		p.Variant = "v6"
	}
	return p
}

// String formats the platform as os/arch[/variant].
func (p Platform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// IsZero reports whether p is the zero Platform.
func (p Platform) IsZero() bool { return p == Platform{} }

// IsUnknown reports whether p is the unknown/unknown platform that buildx
// uses for attestation manifests; such an entry is not a platform.
func (p Platform) IsUnknown() bool {
	return p.OS == "unknown" || p.Architecture == "unknown"
}

// Satisfies reports whether an image built for p runs on a node of platform
// target. The rules, after normalising both sides:
//   - OS and architecture must be equal (a windows image never runs on a
//     linux node; no emulation is assumed).
//   - A variant in the target is the node's level. For arm64 (v8, v8.2,
//     v9, ...) and amd64 (v1, v2, v3, v4), an image built for the same or a
//     lower level runs there: an arm64 (v8) image runs on an arm64/v9 node,
//     an amd64 (v1) image on amd64/v3; an image built for a higher level
//     than the node does not (its instructions may be missing).
//   - A target without a variant accepts any variant of its architecture.
//   - 32-bit arm variants must be equal: an arm/v6 image is not assumed to
//     run on an arm/v7 target, because not every v7 kernel and libc runs v6
//     binaries, and a verdict must not guess.
//   - OSVersion is ignored: it is build metadata of windows images.
func (p Platform) Satisfies(target Platform) bool {
	p, target = Normalize(p), Normalize(target)
	if p.OS != target.OS || p.Architecture != target.Architecture {
		return false
	}
	if target.Variant == "" || p.Variant == target.Variant {
		return true
	}
	if p.Architecture != "arm64" && p.Architecture != "amd64" {
		return false
	}
	have, ok1 := level(p)
	want, ok2 := level(target)
	return ok1 && ok2 && compareLevel(have, want) <= 0
}

// level reads the variant of an arm64 or amd64 platform as a version: ""
// is the architecture's baseline (arm64 v8, amd64 v1).
func level(p Platform) ([2]int, bool) {
	v := p.Variant
	if v == "" {
		if p.Architecture == "arm64" {
			return [2]int{8, 0}, true
		}
		return [2]int{1, 0}, true
	}
	if !strings.HasPrefix(v, "v") {
		return [2]int{}, false
	}
	major, minor, _ := strings.Cut(v[1:], ".")
	var l [2]int
	if _, err := fmt.Sscanf(major, "%d", &l[0]); err != nil {
		return l, false
	}
	if minor != "" {
		if _, err := fmt.Sscanf(minor, "%d", &l[1]); err != nil {
			return l, false
		}
	}
	return l, true
}

func compareLevel(a, b [2]int) int {
	switch {
	case a[0] != b[0]:
		return a[0] - b[0]
	default:
		return a[1] - b[1]
	}
}

func isOS(s string) bool { return knownOS[s] }

var knownOS = map[string]bool{
	"linux": true, "windows": true, "darwin": true, "freebsd": true, "netbsd": true,
	"openbsd": true, "solaris": true, "illumos": true, "aix": true, "plan9": true,
	"android": true, "ios": true, "js": true, "wasip1": true, "wasi": true, "unknown": true, "macos": true, "osx": true,
}

var knownArch = map[string]bool{
	"amd64": true, "arm64": true, "arm": true, "386": true, "ppc64le": true, "ppc64": true,
	"s390x": true, "riscv64": true, "mips64le": true, "mips64": true, "mipsle": true, "mips": true,
	"loong64": true, "wasm": true, "unknown": true,
}
