package index

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
)

// What Inspect found of an entry's config.
const (
	ConfigAgrees      = "agrees"      // the config names the declared platform
	ConfigDisagrees   = "disagrees"   // it names another one
	ConfigUndeclared  = "undeclared"  // the descriptor declares no platform; Config is the truth
	ConfigNoPlatform  = "no platform" // the config names no os or architecture
	ConfigAttestation = "attestation" // an attestation manifest: no platform to check
	ConfigMissing     = "missing"     // the registry does not have the entry (404)
	ConfigUnknown     = "unknown"     // it could not be read; Error says why
	ConfigNotChecked  = "not checked" // not an image (a nested index or an artifact)
)

// InspectedEntry is one entry of an inspected index.
type InspectedEntry struct {
	Entry
	// Declared is the platform the descriptor declares (nil when none).
	Declared *platform.Platform `json:"declared,omitempty"`
	// Config is one of the Config* constants.
	Config string `json:"config"`
	// AttestedBy lists the attestation manifests that describe this entry.
	AttestedBy []string `json:"attestedBy,omitempty"`
	// Error says why the entry could not be read (Config unknown or missing).
	Error string `json:"error,omitempty"`
}

// Inspection is what Inspect read of an index.
type Inspection struct {
	// Ref is the reference as given; Name is fully qualified.
	Ref  string `json:"ref"`
	Name string `json:"name"`
	// Digest, MediaType and Size describe the index (or image).
	Digest    string `json:"digest"`
	MediaType string `json:"mediaType"`
	Size      int64  `json:"size"`
	// Annotations are the index's own annotations.
	Annotations map[string]string `json:"annotations,omitempty"`
	// Platforms are the real platforms (from the configs), attestations
	// excluded.
	Platforms []string `json:"platforms"`
	// Entries are the index's entries in order; an image is one entry.
	Entries []InspectedEntry `json:"entries"`
	// Problems lists what is wrong: disagreeing or missing entries,
	// attestations whose image is not in the index.
	Problems []string `json:"problems,omitempty"`
	// Unknown lists entries that could not be read.
	Unknown []string `json:"unknown,omitempty"`
}

// Inspect reads the index (or single image) at ref and each entry's
// config. A ref that cannot be read is a *ReadError; what is wrong with
// the index itself is in Problems, what could not be read in Unknown.
func Inspect(ctx context.Context, c *registry.Client, ref string) (*Inspection, error) {
	r := newReader(c)
	pr, err := c.ParseReference(ref)
	if err != nil {
		return nil, &OptionError{Err: err}
	}
	m, err := r.get(ctx, pr)
	if err != nil {
		return nil, &ReadError{Ref: ref, Err: err}
	}
	in := &Inspection{Ref: ref, Name: pr.Name(), Digest: m.desc.Digest.String(),
		MediaType: string(m.desc.MediaType), Size: m.desc.Size, Platforms: []string{}}
	switch {
	case m.desc.MediaType.IsImage():
		e := InspectedEntry{Entry: Entry{Digest: in.Digest, MediaType: in.MediaType, Size: in.Size}}
		r.inspectImage(ctx, m, &e)
		in.add(e)
		return in, nil
	case !m.desc.MediaType.IsIndex():
		return nil, &ReadError{Ref: ref, Err: fmt.Errorf("media type %q is neither an image nor an index", m.desc.MediaType)}
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(m.body))
	if err != nil {
		return nil, &ReadError{Ref: ref, Err: err}
	}
	if len(idx.Manifests) > MaxEntries {
		return nil, &ReadError{Ref: ref, Err: fmt.Errorf("index has %d entries, over the cap of %d", len(idx.Manifests), MaxEntries)}
	}
	in.Annotations = idx.Annotations
	present := map[string]int{}
	for i, d := range idx.Manifests {
		present[d.Digest.String()] = i
	}
	for _, d := range idx.Manifests {
		e := InspectedEntry{Entry: Entry{Digest: d.Digest.String(), MediaType: string(d.MediaType), Size: d.Size, Annotations: d.Annotations}}
		if d.Platform != nil && d.Platform.OS != "" && d.Platform.Architecture != "" {
			p := fromV1(d.Platform)
			e.Declared = &p
		}
		cm, err := r.get(ctx, pr.Context().Digest(d.Digest.String()))
		switch {
		case registry.IsNotFound(err):
			e.Config, e.Error = ConfigMissing, "the registry does not have this entry"
		case err != nil:
			e.Config, e.Error = ConfigUnknown, err.Error()
		case cm.desc.Digest != d.Digest:
			e.Config, e.Error = ConfigUnknown, "the registry returned "+cm.desc.Digest.String()
		case isAttestation(d):
			e.Config, e.Attests = ConfigAttestation, d.Annotations[AnnotationRefDigest]
		case d.MediaType.IsImage():
			r.inspectImage(ctx, cm, &e)
		default:
			e.Config = ConfigNotChecked
		}
		in.add(e)
	}
	for i, e := range in.Entries {
		if e.Config != ConfigAttestation {
			continue
		}
		j, ok := present[e.Attests]
		if !ok || e.Attests == "" {
			in.Problems = append(in.Problems, fmt.Sprintf("attestation %s describes %s, which is not in the index", e.Digest, orNone(e.Attests)))
			continue
		}
		in.Entries[j].AttestedBy = append(in.Entries[j].AttestedBy, in.Entries[i].Digest)
	}
	return in, nil
}

// inspectImage reads an image entry's config and compares it with the
// declared platform.
func (r *reader) inspectImage(ctx context.Context, m manifest, e *InspectedEntry) {
	real, err := r.config(ctx, m.ref.Context(), m)
	var ce *CheckError
	switch {
	case errors.As(err, &ce):
		e.Config, e.Error = ConfigNoPlatform, ce.Problems[0]
		return
	case err != nil:
		e.Config, e.Error = ConfigUnknown, err.Error()
		return
	}
	e.Platform = &real
	switch {
	case e.Declared == nil:
		e.Config = ConfigUndeclared
	case agrees(*e.Declared, real):
		e.Config = ConfigAgrees
	default:
		e.Config = ConfigDisagrees
	}
}

// add appends e, recording its platform, problem or unknown.
func (in *Inspection) add(e InspectedEntry) {
	in.Entries = append(in.Entries, e)
	switch e.Config {
	case ConfigDisagrees:
		in.Problems = append(in.Problems, fmt.Sprintf("entry %s declares %s but its config says %s", e.Digest, e.Declared, e.Platform))
	case ConfigMissing:
		in.Problems = append(in.Problems, fmt.Sprintf("entry %s is missing from the registry (a dangling child)", e.Digest))
	case ConfigNoPlatform:
		in.Problems = append(in.Problems, e.Error)
	case ConfigUnknown:
		in.Unknown = append(in.Unknown, fmt.Sprintf("entry %s: %s", e.Digest, e.Error))
	}
	if e.Platform != nil && !slices.Contains(in.Platforms, e.Platform.String()) {
		in.Platforms = append(in.Platforms, e.Platform.String())
	}
}
