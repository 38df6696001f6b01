package index

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
)

// Bounds on what is read, so hostile input gets a clear error.
const (
	// MaxManifestBytes caps a manifest or config blob.
	MaxManifestBytes = 4 << 20
	// MaxEntries caps the entries of one index, and of the new index.
	MaxEntries = 512
	// maxDepth caps how deeply indexes may nest inside a source.
	maxDepth = 3
)

// Annotations buildx puts on attestation manifests in an index.
const (
	// AnnotationRefType marks an attestation manifest ("attestation-manifest").
	AnnotationRefType = "vnd.docker.reference.type"
	// AnnotationRefDigest is the digest of the image an attestation describes.
	AnnotationRefDigest = "vnd.docker.reference.digest"
)

// reader reads manifests and configs through one registry client, with
// remote options made once per repository.
type reader struct {
	c    *registry.Client
	mu   sync.Mutex
	opts map[string][]remote.Option
}

func newReader(c *registry.Client) *reader {
	return &reader{c: c, opts: map[string][]remote.Option{}}
}

// options returns the remote options for repo: the client's credentials
// and transport, and one go-containerregistry Puller per repository, so
// the registry is pinged and a token fetched once, not on every read.
func (r *reader) options(ctx context.Context, repo name.Repository) ([]remote.Option, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if o, ok := r.opts[repo.Name()]; ok {
		return o, nil
	}
	o, err := r.c.RemoteOptions(ctx, repo)
	if err != nil {
		return nil, err
	}
	p, err := remote.NewPuller(o...)
	if err != nil {
		return nil, err
	}
	o = append(o, remote.Reuse(p))
	r.opts[repo.Name()] = o
	return o, nil
}

// manifest is one manifest read from a registry.
type manifest struct {
	ref  name.Reference
	desc v1.Descriptor // media type, size and digest of body
	body []byte
}

// get reads the manifest at ref, bounded by MaxManifestBytes.
func (r *reader) get(ctx context.Context, ref name.Reference) (manifest, error) {
	opts, err := r.options(ctx, ref.Context())
	if err != nil {
		return manifest{}, err
	}
	d, err := remote.Get(ref, opts...)
	if err != nil {
		return manifest{}, err
	}
	if d.Size > MaxManifestBytes || int64(len(d.Manifest)) > MaxManifestBytes {
		return manifest{}, fmt.Errorf("manifest %s is %d bytes, over the %d-byte cap", d.Digest, len(d.Manifest), MaxManifestBytes)
	}
	return manifest{ref: ref, desc: d.Descriptor, body: d.Manifest}, nil
}

// child is an entry of the new index: a platform image, or an attestation
// manifest of one.
type child struct {
	desc    v1.Descriptor     // as the source index had it, or as read
	repo    name.Repository   // where the manifest is read from
	source  string            // the source reference as given
	real    platform.Platform // from the config; zero for an attestation
	attests string            // for an attestation: the digest of its image
}

// config reads the platform an image manifest's config blob names; a
// config without os or architecture is an error.
func (r *reader) config(ctx context.Context, repo name.Repository, m manifest) (platform.Platform, error) {
	man, err := v1.ParseManifest(bytes.NewReader(m.body))
	if err != nil {
		return platform.Platform{}, fmt.Errorf("manifest %s: %w", m.desc.Digest, err)
	}
	cd := man.Config
	switch {
	case cd.MediaType != "" && !cd.MediaType.IsConfig():
		return platform.Platform{}, fmt.Errorf("manifest %s: config media type %q is not an image config", m.desc.Digest, cd.MediaType)
	case cd.Digest.Algorithm != "sha256":
		return platform.Platform{}, fmt.Errorf("manifest %s: config digest %q is not sha256", m.desc.Digest, cd.Digest)
	case cd.Size > MaxManifestBytes:
		return platform.Platform{}, fmt.Errorf("config %s is %d bytes, over the %d-byte cap", cd.Digest, cd.Size, MaxManifestBytes)
	}
	opts, err := r.options(ctx, repo)
	if err != nil {
		return platform.Platform{}, err
	}
	l, err := remote.Layer(repo.Digest(cd.Digest.String()), opts...)
	if err != nil {
		return platform.Platform{}, fmt.Errorf("config %s: %w", cd.Digest, err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return platform.Platform{}, fmt.Errorf("config %s: %w", cd.Digest, err)
	}
	defer rc.Close()
	body, err := io.ReadAll(io.LimitReader(rc, MaxManifestBytes+1))
	if err != nil {
		return platform.Platform{}, fmt.Errorf("config %s: %w", cd.Digest, err)
	}
	if len(body) > MaxManifestBytes {
		return platform.Platform{}, fmt.Errorf("config %s is over the %d-byte cap", cd.Digest, MaxManifestBytes)
	}
	if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != cd.Digest.Hex {
		return platform.Platform{}, fmt.Errorf("config blob does not match its digest %s", cd.Digest)
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(body))
	if err != nil {
		return platform.Platform{}, fmt.Errorf("config %s: %w", cd.Digest, err)
	}
	if cfg.OS == "" || cfg.Architecture == "" {
		return platform.Platform{}, &CheckError{Problems: []string{fmt.Sprintf("image %s: its config names no platform (os %q, architecture %q)", m.desc.Digest, cfg.OS, cfg.Architecture)}}
	}
	return platform.Normalize(platform.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant, OSVersion: cfg.OSVersion}), nil
}

// resolve reads one source and returns its children: the image itself, or
// an index's images (nested indexes flattened) and attestations. A declared
// platform picks the matching image of an index source.
func (r *reader) resolve(ctx context.Context, src Source) ([]child, []string, error) {
	ref, err := r.c.ParseReference(src.Ref)
	if err != nil {
		return nil, nil, &OptionError{Err: err}
	}
	m, err := r.get(ctx, ref)
	if err != nil {
		return nil, nil, &ReadError{Ref: src.Ref, Err: err}
	}
	w := walker{r: r, src: src, repo: ref.Context()}
	switch mt := m.desc.MediaType; {
	case mt.IsIndex():
		if err := w.index(ctx, m, 0); err != nil {
			return nil, nil, err
		}
	case mt.IsImage():
		if err := w.image(ctx, m, nil); err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, &ReadError{Ref: src.Ref, Err: fmt.Errorf("media type %q is neither an image nor an index", mt)}
	}
	if src.Platform.IsZero() {
		return w.out, w.notes, nil
	}
	return w.pick()
}

// walker gathers the children of one source.
type walker struct {
	r     *reader
	src   Source
	repo  name.Repository
	out   []child
	notes []string
}

func (w *walker) index(ctx context.Context, m manifest, depth int) error {
	idx, err := v1.ParseIndexManifest(bytes.NewReader(m.body))
	if err != nil {
		return &ReadError{Ref: w.src.Ref, Err: fmt.Errorf("index %s: %w", m.desc.Digest, err)}
	}
	if len(idx.Manifests) > MaxEntries {
		return &ReadError{Ref: w.src.Ref, Err: fmt.Errorf("index %s has %d entries, over the cap of %d", m.desc.Digest, len(idx.Manifests), MaxEntries)}
	}
	for _, d := range idx.Manifests {
		switch {
		case isAttestation(d):
			w.out = append(w.out, child{desc: d, repo: w.repo, source: w.src.Ref, attests: d.Annotations[AnnotationRefDigest]})
		case d.MediaType.IsIndex():
			if depth+1 >= maxDepth {
				return &ReadError{Ref: w.src.Ref, Err: fmt.Errorf("indexes nested deeper than %d", maxDepth)}
			}
			cm, err := w.r.get(ctx, w.repo.Digest(d.Digest.String()))
			if err != nil {
				return &ReadError{Ref: w.src.Ref + "@" + d.Digest.String(), Err: err}
			}
			if err := w.index(ctx, cm, depth+1); err != nil {
				return err
			}
		case d.MediaType.IsImage():
			cm, err := w.r.get(ctx, w.repo.Digest(d.Digest.String()))
			if err != nil {
				return &ReadError{Ref: w.src.Ref + "@" + d.Digest.String(), Err: err}
			}
			cm.desc.Annotations = d.Annotations
			if err := w.image(ctx, cm, d.Platform); err != nil {
				return err
			}
		default:
			w.notes = append(w.notes, fmt.Sprintf("%s: entry %s (%s) is not an image; left out", w.src.Ref, d.Digest, d.MediaType))
		}
	}
	return nil
}

// image adds an image manifest, its platform read from its config and
// checked against the platform its index declared (declared may be nil).
func (w *walker) image(ctx context.Context, m manifest, declared *v1.Platform) error {
	real, err := w.r.config(ctx, w.repo, m)
	var ce *CheckError
	switch {
	case errors.As(err, &ce):
		ce.Problems[0] = w.src.Ref + ": " + ce.Problems[0]
		return err
	case err != nil:
		return &ReadError{Ref: w.src.Ref, Err: err}
	}
	if declared != nil && declared.OS != "" && declared.Architecture != "" {
		dp := fromV1(declared)
		if !agrees(dp, real) {
			return &CheckError{Problems: []string{fmt.Sprintf("%s: entry %s declares %s but its config says %s", w.src.Ref, m.desc.Digest, dp, real)}}
		}
	}
	w.out = append(w.out, child{desc: m.desc, repo: w.repo, source: w.src.Ref, real: real})
	return nil
}

// pick keeps the image matching the source's declared platform and the
// attestations; an image source must match it, an index source must have
// it.
func (w *walker) pick() ([]child, []string, error) {
	var images []child
	var have []string
	for _, c := range w.out {
		if c.attests != "" || c.real.IsZero() {
			continue
		}
		have = append(have, c.real.String())
		if agrees(w.src.Platform, c.real) {
			images = append(images, c)
		}
	}
	if len(images) == 0 {
		if len(have) == 1 {
			return nil, nil, &CheckError{Problems: []string{fmt.Sprintf("%s: declared %s but its config says %s", w.src.Ref, w.src.Platform, have[0])}}
		}
		return nil, nil, &CheckError{Problems: []string{fmt.Sprintf("%s has no %s image (it has %v)", w.src.Ref, w.src.Platform, have)}}
	}
	out := images
	for _, c := range w.out {
		if c.real.IsZero() {
			out = append(out, c)
		}
	}
	return out, w.notes, nil
}

// agrees reports whether a declared platform matches the one a config
// names: OS and architecture equal, and variant and OS version equal when
// both name one.
func agrees(declared, real platform.Platform) bool {
	declared, real = platform.Normalize(declared), platform.Normalize(real)
	if declared.OS != real.OS || declared.Architecture != real.Architecture {
		return false
	}
	if declared.Variant != "" && real.Variant != "" && declared.Variant != real.Variant {
		return false
	}
	return declared.OSVersion == "" || real.OSVersion == "" || declared.OSVersion == real.OSVersion
}

func fromV1(p *v1.Platform) platform.Platform {
	return platform.Normalize(platform.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, OSVersion: p.OSVersion})
}

func toV1(p platform.Platform) *v1.Platform {
	return &v1.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, OSVersion: p.OSVersion}
}

// isAttestation reports whether an index entry is an attestation manifest
// (buildx provenance or SBOM) rather than a platform image.
func isAttestation(d v1.Descriptor) bool {
	if d.Annotations[AnnotationRefType] != "" {
		return true
	}
	return d.Platform != nil && (d.Platform.OS == "unknown" || d.Platform.Architecture == "unknown")
}

// MediaTypeName names a manifest media type for people, e.g. "OCI image
// index"; an unfamiliar one is returned as it is.
func MediaTypeName(mt string) string {
	switch types.MediaType(mt) {
	case types.OCIImageIndex:
		return "OCI image index"
	case types.DockerManifestList:
		return "Docker manifest list"
	case types.OCIManifestSchema1:
		return "OCI manifest"
	case types.DockerManifestSchema2:
		return "Docker manifest"
	}
	return mt
}
