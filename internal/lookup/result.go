package lookup

import (
	"github.com/archwaydev/archway/internal/platform"
)

// Kind says whether a reference resolved to an index or to a single manifest.
type Kind string

// The kinds of manifest a reference can resolve to.
const (
	KindIndex    Kind = "index"    // OCI image index or Docker manifest list
	KindManifest Kind = "manifest" // single-platform manifest
)

// Entry is one platform an image supports and the manifest that provides it.
type Entry struct {
	Platform platform.Platform `json:"platform"`
	// Digest is the platform manifest's digest (for a single-platform image,
	// the image's own digest).
	Digest string `json:"digest"`
}

// Result is what a lookup learned about one reference.
type Result struct {
	// Ref is the reference as the caller gave it.
	Ref string `json:"ref"`
	// Name is the fully qualified reference, e.g.
	// index.docker.io/library/nginx:latest.
	Name string `json:"name,omitempty"`
	// Digest is the digest the reference resolved to.
	Digest string `json:"digest,omitempty"`
	// Kind is index or manifest.
	Kind Kind `json:"kind,omitempty"`
	// MediaType is the top-level manifest's media type.
	MediaType string `json:"mediaType,omitempty"`
	// Entries are the platforms the image supports, attestations excluded,
	// nested indexes flattened, in index order.
	Entries []Entry `json:"platforms,omitempty"`
	// NoRunnable is set when the registry served an index that lists no
	// runnable platform: its entries are all attestations, signatures or
	// other artifacts, so the image runs nowhere (Entries is empty).
	NoRunnable bool `json:"noRunnablePlatform,omitempty"`
	// Err is set when the lookup failed; then the platforms are unknown.
	// It is a *Error whose Cause classifies the failure.
	Err error `json:"-"`
}

// Platforms returns the set of platforms the image supports.
func (r Result) Platforms() platform.Set {
	var s platform.Set
	for _, e := range r.Entries {
		s = s.Add(e.Platform)
	}
	return s
}

// Known reports whether the lookup succeeded, so Platforms is the truth.
func (r Result) Known() bool { return r.Err == nil }
