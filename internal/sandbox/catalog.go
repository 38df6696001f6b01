package sandbox

import (
	"github.com/archwaydev/archway/internal/platform"
)

// Kinds of catalogue images.
const (
	KindIndex    = "index"    // OCI image index or Docker manifest list
	KindManifest = "manifest" // single-platform manifest
)

// MissingRef is a reference (relative to the sandbox host) that is
// deliberately never pushed, to show an "unknown: not found" verdict.
const MissingRef = "demo/missing:1.0"

// Image describes one catalogue entry.
type Image struct {
	// Repo is the repository, e.g. "demo/api".
	Repo string
	// Tag is the tag, e.g. "2.1".
	Tag string
	// Kind is KindIndex or KindManifest.
	Kind string
	// Platforms are the platforms the image supports (attestations
	// excluded, nested indexes flattened), in index order.
	Platforms []platform.Platform
}

// Ref returns the image's reference in the registry at host, e.g.
// "127.0.0.1:5000/demo/api:2.1".
func (i Image) Ref(host string) string { return host + "/" + i.Repo + ":" + i.Tag }

// Spec is an Image and how it is built.
type Spec struct {
	Image
	// Docker uses Docker media types (manifest list, schema 2 manifest,
	// container config, gzip layer) instead of OCI ones.
	Docker bool
	// Attest adds a buildx-style attestation manifest per platform image
	// (indexes only).
	Attest bool
	// Nested wraps the platform images in an inner index (indexes only).
	Nested bool
}

var (
	linuxAMD64   = platform.LinuxAMD64
	linuxARM64   = platform.LinuxARM64
	linuxARMv7   = platform.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}
	windowsAMD64 = platform.Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.20348.2700"}
)

// Specs returns the catalogue with how each image is built, in a fixed order.
func Specs() []Spec {
	ps := func(p ...platform.Platform) []platform.Platform { return p }
	return []Spec{
		{Image: Image{"demo/api", "2.1", KindIndex, ps(linuxAMD64, linuxARM64)}, Attest: true},
		{Image: Image{"demo/worker", "1.0", KindIndex, ps(linuxAMD64, linuxARM64, linuxARMv7)}, Docker: true},
		{Image: Image{"demo/sidecar", "1.0", KindIndex, ps(linuxAMD64, linuxARM64)}},
		{Image: Image{"demo/legacy-billing", "3.2", KindManifest, ps(linuxAMD64)}},
		{Image: Image{"demo/edge-agent", "0.9", KindManifest, ps(linuxARM64)}, Docker: true},
		{Image: Image{"demo/pi-sensor", "1.0", KindManifest, ps(linuxARMv7)}},
		{Image: Image{"demo/dotnet-app", "4.8", KindIndex, ps(linuxAMD64, windowsAMD64)}},
		{Image: Image{"demo/nested", "1.0", KindIndex, ps(linuxAMD64, linuxARM64)}, Nested: true},
		{Image: Image{"demo/queue", "1.0", KindManifest, ps(linuxAMD64)}},
		{Image: Image{"demo/queue", "1.1", KindManifest, ps(linuxAMD64)}},
		{Image: Image{"demo/queue", "2.0", KindIndex, ps(linuxAMD64, linuxARM64)}},
		{Image: Image{"demo/queue", "2.1", KindIndex, ps(linuxAMD64, linuxARM64)}},
	}
}

// Catalog returns the catalogue's images, in a fixed order.
func Catalog() []Image {
	es := Specs()
	out := make([]Image, len(es))
	for i, e := range es {
		out[i] = e.Image
	}
	return out
}
