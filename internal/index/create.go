package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
)

// Media types of the new index.
const (
	OCI    = "oci"    // OCI image index (the default)
	Docker = "docker" // Docker manifest list: no annotations, no attestations
)

// Source is one input of an index: a single-platform image or an index,
// by tag or digest, in any repository or registry.
type Source struct {
	// Ref is the image reference.
	Ref string
	// Platform is the platform the caller expects; zero means none. An
	// image's config must agree with it; of an index's images, the one
	// that does is taken.
	Platform platform.Platform
	// Annotations are added to the new index's descriptor of each of the
	// source's images (OCI only).
	Annotations map[string]string
}

// Options says what Create builds and how.
type Options struct {
	// Target is the tag the index is put at (a digest is refused).
	Target string
	// Tags are more tags in the target's repository to put it at.
	Tags []string
	// Sources are the inputs, in the order their entries take.
	Sources []Source
	// Annotations are the index's own annotations (OCI only).
	Annotations map[string]string
	// MediaType is OCI (default when empty) or Docker.
	MediaType string
	// Expect, when set, must be exactly the new index's platforms.
	Expect []platform.Platform
	// Force replaces a tag whose current image has platforms the new
	// index lacks; without it that is refused.
	Force bool
	// DryRun checks and builds the index without writing anything.
	DryRun bool
	// Jobs bounds how many sources are read, and children copied, at
	// once; default 4.
	Jobs int
}

// Entry is one entry of a new or inspected index.
type Entry struct {
	// Digest, MediaType and Size describe the entry's manifest.
	Digest    string `json:"digest"`
	MediaType string `json:"mediaType"`
	Size      int64  `json:"size"`
	// Platform is the platform the entry's config names (nil for an
	// attestation).
	Platform *platform.Platform `json:"platform,omitempty"`
	// Attests is, for an attestation manifest, the digest of its image.
	Attests string `json:"attests,omitempty"`
	// Annotations are the descriptor's annotations.
	Annotations map[string]string `json:"annotations,omitempty"`
	// Source is the reference the entry came from.
	Source string `json:"source,omitempty"`
}

// Result is what Create built and did.
type Result struct {
	// Target is the target tag, fully qualified.
	Target string `json:"target"`
	// Tags are every tag the index is (or, on a dry run, would be) put at.
	Tags []string `json:"tags"`
	// Digest, MediaType and Size describe the index.
	Digest    string `json:"digest"`
	MediaType string `json:"mediaType"`
	Size      int64  `json:"size"`
	// Platforms are the index's platforms, attestations excluded.
	Platforms []string `json:"platforms"`
	// Entries are the index's entries in order.
	Entries []Entry `json:"entries"`
	// Notes say what was left out and why.
	Notes []string `json:"notes,omitempty"`
	// Written lists the tags that were written (empty on a dry run and
	// when every tag already pointed at the index).
	Written []string `json:"written"`
	// DryRun is set when nothing was written on purpose.
	DryRun bool `json:"dryRun,omitempty"`
	// Manifest is the index JSON, byte for byte.
	Manifest json.RawMessage `json:"index"`
}

// Create reads the sources, checks them, builds the index and, unless
// DryRun, copies the children into the target repository and puts the
// index at the target tags. A failed check is a *CheckError and a source
// or target that could not be read a *ReadError; either way nothing is
// written. Options it cannot act on are an *OptionError.
func Create(ctx context.Context, c *registry.Client, o Options) (*Result, error) {
	if err := o.validate(); err != nil {
		return nil, &OptionError{Err: err}
	}
	tags, err := targetTags(c, o)
	if err != nil {
		return nil, &OptionError{Err: err}
	}
	r := newReader(c)
	children, notes, err := readSources(ctx, r, o)
	if err != nil {
		return nil, err
	}
	b, err := build(o, children)
	if err != nil {
		return nil, err
	}
	res := b.result(tags)
	res.Notes = append(notes, b.notes...)
	if err := expect(o.Expect, b.platforms); err != nil {
		return nil, err
	}
	stale, err := checkTags(ctx, r, tags, res.Digest, b.platforms, o.Force)
	if err != nil {
		return nil, err
	}
	if o.DryRun {
		res.DryRun = true
		return res, nil
	}
	if len(stale) == 0 {
		return res, nil
	}
	if err := write(ctx, r, tags[0].Context(), b, stale, o.jobs()); err != nil {
		return nil, err
	}
	for _, t := range stale {
		res.Written = append(res.Written, t.Name())
	}
	return res, nil
}

func (o Options) validate() error {
	switch {
	case o.MediaType != "" && o.MediaType != OCI && o.MediaType != Docker:
		return fmt.Errorf("media type %q: want %s or %s", o.MediaType, OCI, Docker)
	case len(o.Sources) == 0:
		return errors.New("no sources: give the per-arch images the index lists")
	case len(o.Sources) > MaxEntries:
		return fmt.Errorf("%d sources, over the cap of %d", len(o.Sources), MaxEntries)
	}
	if o.MediaType == Docker {
		if len(o.Annotations) > 0 {
			return errors.New("a Docker manifest list cannot carry annotations; use the OCI media type or drop them")
		}
		for _, s := range o.Sources {
			if len(s.Annotations) > 0 {
				return fmt.Errorf("%s: a Docker manifest list cannot carry descriptor annotations; use the OCI media type or drop them", s.Ref)
			}
		}
	}
	return nil
}

func (o Options) jobs() int {
	if o.Jobs < 1 {
		return 4
	}
	return o.Jobs
}

// targetTags parses the target and the extra tags, all in one repository.
func targetTags(c *registry.Client, o Options) ([]name.Tag, error) {
	ref, err := c.ParseReference(o.Target)
	if err != nil {
		return nil, err
	}
	t, ok := ref.(name.Tag)
	if !ok {
		return nil, fmt.Errorf("target %s: give a tag, not a digest (the index's digest is known only once it is built)", o.Target)
	}
	tags := []name.Tag{t}
	for _, s := range o.Tags {
		ref, err := c.ParseReference(t.Context().Name() + ":" + s)
		if err != nil {
			return nil, fmt.Errorf("tag %q: %w", s, err)
		}
		if tt, ok := ref.(name.Tag); ok && !slices.Contains(tags, tt) {
			tags = append(tags, tt)
		} else if !ok {
			return nil, fmt.Errorf("tag %q is not a tag", s)
		}
	}
	return tags, nil
}

// readSources reads every source at once (bounded) and returns their
// children in source order; every check problem of every source is in one
// CheckError.
func readSources(ctx context.Context, r *reader, o Options) ([]child, []string, error) {
	type slot struct {
		children []child
		notes    []string
		err      error
	}
	slots := make([]slot, len(o.Sources))
	var g errgroup.Group
	g.SetLimit(o.jobs())
	for i, s := range o.Sources {
		g.Go(func() error {
			cs, notes, err := r.resolve(ctx, s)
			for j := range cs {
				if cs[j].attests == "" {
					cs[j].desc.Annotations = merge(cs[j].desc.Annotations, s.Annotations)
				}
			}
			slots[i] = slot{cs, notes, err}
			return nil
		})
	}
	_ = g.Wait()
	var (
		children []child
		notes    []string
		problems []string
		errs     []error
	)
	for _, s := range slots {
		var ce *CheckError
		switch {
		case errors.As(s.err, &ce):
			problems = append(problems, ce.Problems...)
		case s.err != nil:
			errs = append(errs, s.err)
		}
		children = append(children, s.children...)
		notes = append(notes, s.notes...)
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	if len(problems) > 0 {
		return nil, nil, &CheckError{Problems: problems}
	}
	return children, notes, nil
}

// built is a new index: its JSON and the children it lists.
type built struct {
	mediaType types.MediaType
	body      []byte
	digest    v1.Hash
	children  []child // in index order
	platforms platform.Set
	notes     []string
}

// build checks the children (one image per platform, attestations whose
// image is in the index) and makes the index JSON. The same children give
// the same bytes.
func build(o Options, children []child) (*built, error) {
	b := &built{mediaType: types.OCIImageIndex}
	if o.MediaType == Docker {
		b.mediaType = types.DockerManifestList
	}
	var (
		images   []child
		atts     []child
		seen     = map[string]string{} // digest → source
		byPlat   = map[string]child{}
		problems []string
	)
	for _, c := range children {
		d := c.desc.Digest.String()
		if c.real.IsZero() {
			atts = append(atts, c)
			continue
		}
		if src, ok := seen[d]; ok {
			b.notes = append(b.notes, fmt.Sprintf("%s: image %s is also given by %s; listed once", c.source, d, src))
			continue
		}
		seen[d] = c.source
		key := c.real.String() + " " + c.real.OSVersion
		if prev, ok := byPlat[key]; ok {
			problems = append(problems, fmt.Sprintf("two images for %s: %s from %s and %s from %s", c.real, prev.desc.Digest, prev.source, d, c.source))
			continue
		}
		byPlat[key] = c
		images = append(images, c)
		b.platforms = b.platforms.Add(c.real)
	}
	if len(problems) > 0 {
		return nil, &CheckError{Problems: problems}
	}
	b.children = images
	kept := map[string]bool{}
	for _, c := range atts {
		d := c.desc.Digest.String()
		switch {
		case kept[d]:
		case b.mediaType == types.DockerManifestList:
			b.notes = append(b.notes, fmt.Sprintf("%s: attestation %s left out: a Docker manifest list cannot carry the annotations that link it to its image", c.source, d))
		case c.attests == "" || seen[c.attests] == "":
			b.notes = append(b.notes, fmt.Sprintf("%s: attestation %s left out: the image it describes (%s) is not in the new index", c.source, d, orNone(c.attests)))
		default:
			kept[d] = true
			b.children = append(b.children, c)
		}
	}
	if len(b.children) > MaxEntries {
		return nil, fmt.Errorf("the index would have %d entries, over the cap of %d", len(b.children), MaxEntries)
	}
	idx := v1.IndexManifest{SchemaVersion: 2, MediaType: b.mediaType}
	if b.mediaType == types.OCIImageIndex && len(o.Annotations) > 0 {
		idx.Annotations = maps.Clone(o.Annotations)
	}
	for _, c := range b.children {
		d := v1.Descriptor{MediaType: c.desc.MediaType, Size: c.desc.Size, Digest: c.desc.Digest}
		if c.real.IsZero() {
			d.Platform = c.desc.Platform
		} else {
			d.Platform = toV1(c.real)
		}
		if b.mediaType == types.DockerManifestList && c.desc.MediaType == types.OCIManifestSchema1 {
			b.notes = append(b.notes, fmt.Sprintf("%s: %s is an OCI manifest in a Docker manifest list; clients that only know Docker media types may refuse it", c.source, c.desc.Digest))
		}
		if len(c.desc.Annotations) > 0 {
			if b.mediaType == types.DockerManifestList {
				b.notes = append(b.notes, fmt.Sprintf("%s: annotations of %s left out: a Docker manifest list cannot carry them", c.source, c.desc.Digest))
			} else {
				d.Annotations = c.desc.Annotations
			}
		}
		idx.Manifests = append(idx.Manifests, d)
	}
	body, err := json.Marshal(idx)
	if err != nil {
		return nil, err
	}
	h, _, err := v1.SHA256(strings.NewReader(string(body)))
	if err != nil {
		return nil, err
	}
	b.body, b.digest = body, h
	return b, nil
}

func (b *built) result(tags []name.Tag) *Result {
	res := &Result{
		Target:    tags[0].Name(),
		Digest:    b.digest.String(),
		MediaType: string(b.mediaType),
		Size:      int64(len(b.body)),
		Manifest:  b.body,
		Written:   []string{},
	}
	for _, t := range tags {
		res.Tags = append(res.Tags, t.Name())
	}
	for _, p := range b.platforms.List() {
		res.Platforms = append(res.Platforms, p.String())
	}
	for _, c := range b.children {
		e := Entry{Digest: c.desc.Digest.String(), MediaType: string(c.desc.MediaType), Size: c.desc.Size,
			Attests: c.attests, Annotations: c.desc.Annotations, Source: c.source}
		if !c.real.IsZero() {
			p := c.real
			e.Platform = &p
		}
		res.Entries = append(res.Entries, e)
	}
	return res
}

// expect fails unless got is exactly want (when want is set).
func expect(want []platform.Platform, got platform.Set) error {
	if len(want) == 0 {
		return nil
	}
	w := platform.NewSet(want...)
	var missing, extra []string
	for _, p := range w.List() {
		if !got.Contains(p) {
			missing = append(missing, p.String())
		}
	}
	for _, p := range got.List() {
		if !w.Contains(p) {
			extra = append(extra, p.String())
		}
	}
	var problems []string
	if len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("expected %s, but the index lacks %s", w, strings.Join(missing, ", ")))
	}
	if len(extra) > 0 {
		problems = append(problems, fmt.Sprintf("expected exactly %s, but the index also has %s", w, strings.Join(extra, ", ")))
	}
	if len(problems) > 0 {
		return &CheckError{Problems: problems}
	}
	return nil
}

func merge(a, b map[string]string) map[string]string {
	if len(b) == 0 {
		return a
	}
	out := maps.Clone(a)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, b)
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none named"
	}
	return s
}
