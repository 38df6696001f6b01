package registrytest

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/archwaydev/archway/internal/platform"
)

// AttestationAnnotation is the annotation buildx sets on the attestation
// manifests it adds to an index.
const AttestationAnnotation = "vnd.docker.reference.type"

// Image returns a small random single-layer image (Docker schema 2 media
// types) whose config names p: os, architecture, variant and os.version.
func Image(t testing.TB, p platform.Platform) v1.Image {
	t.Helper()
	img, err := random.Image(128, 1)
	if err != nil {
		t.Fatalf("registrytest: random image: %v", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatalf("registrytest: config: %v", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant, cf.OSVersion = p.OS, p.Architecture, p.Variant, p.OSVersion
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatalf("registrytest: set config: %v", err)
	}
	return img
}

// OCIImage is Image with OCI media types for the manifest and config.
func OCIImage(t testing.TB, p platform.Platform) v1.Image {
	t.Helper()
	img := mutate.MediaType(Image(t, p), types.OCIManifestSchema1)
	return mutate.ConfigMediaType(img, types.OCIConfigJSON)
}

// Index returns an OCI image index with one Image per platform, each entry
// declaring its platform.
func Index(t testing.TB, platforms ...platform.Platform) v1.ImageIndex {
	t.Helper()
	var adds []mutate.IndexAddendum
	for _, p := range platforms {
		adds = append(adds, mutate.IndexAddendum{
			Add:        OCIImage(t, p),
			Descriptor: v1.Descriptor{Platform: V1Platform(p)},
		})
	}
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
}

// ManifestList is Index with Docker media types (a manifest list of Docker
// schema 2 images).
func ManifestList(t testing.TB, platforms ...platform.Platform) v1.ImageIndex {
	t.Helper()
	var adds []mutate.IndexAddendum
	for _, p := range platforms {
		adds = append(adds, mutate.IndexAddendum{
			Add:        Image(t, p),
			Descriptor: v1.Descriptor{Platform: V1Platform(p)},
		})
	}
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.DockerManifestList), adds...)
}

// WithAttestations returns idx with one buildx-style attestation manifest
// per existing entry: platform unknown/unknown and the
// vnd.docker.reference.type annotation.
func WithAttestations(t testing.TB, idx v1.ImageIndex) v1.ImageIndex {
	t.Helper()
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatalf("registrytest: index manifest: %v", err)
	}
	var adds []mutate.IndexAddendum
	for _, d := range m.Manifests {
		adds = append(adds, mutate.IndexAddendum{
			Add: OCIImage(t, platform.Platform{OS: "unknown", Architecture: "unknown"}),
			Descriptor: v1.Descriptor{
				Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"},
				Annotations: map[string]string{
					AttestationAnnotation:         "attestation-manifest",
					"vnd.docker.reference.digest": d.Digest.String(),
				},
			},
		})
	}
	return mutate.AppendManifests(idx, adds...)
}

// V1Platform converts p to go-containerregistry's platform type.
func V1Platform(p platform.Platform) *v1.Platform {
	return &v1.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, OSVersion: p.OSVersion}
}

// Push writes img to ref and returns its digest.
func Push(t testing.TB, ref string, img v1.Image, opts ...remote.Option) string {
	t.Helper()
	r := parse(t, ref)
	if err := remote.Write(r, img, opts...); err != nil {
		t.Fatalf("registrytest: push %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatalf("registrytest: digest: %v", err)
	}
	return d.String()
}

// PushIndex writes idx and all its children to ref and returns its digest.
func PushIndex(t testing.TB, ref string, idx v1.ImageIndex, opts ...remote.Option) string {
	t.Helper()
	r := parse(t, ref)
	if err := remote.WriteIndex(r, idx, opts...); err != nil {
		t.Fatalf("registrytest: push index %s: %v", ref, err)
	}
	d, err := idx.Digest()
	if err != nil {
		t.Fatalf("registrytest: digest: %v", err)
	}
	return d.String()
}

// PushRaw puts manifest bytes as they are, with the given media type, at
// ref and returns their digest; the blobs they name must already be there.
// It writes what the typed helpers cannot: schema 1 manifests, indexes
// without platforms, manifests whose config is not an image config.
func PushRaw(t testing.TB, ref string, mt types.MediaType, manifest []byte, opts ...remote.Option) string {
	t.Helper()
	r := parse(t, ref)
	raw := rawManifest{mt: mt, b: manifest}
	if err := remote.Put(r, raw, opts...); err != nil {
		t.Fatalf("registrytest: put %s: %v", ref, err)
	}
	return raw.digest()
}

func parse(t testing.TB, ref string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatalf("registrytest: reference %q: %v", ref, err)
	}
	return r
}

type rawManifest struct {
	mt types.MediaType
	b  []byte
}

func (r rawManifest) RawManifest() ([]byte, error)        { return r.b, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return r.mt, nil }
func (r rawManifest) digest() string {
	h, _, _ := v1.SHA256(bytesReader(r.b))
	return h.String()
}
