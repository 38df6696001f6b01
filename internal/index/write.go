package index

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
)

// checkTags reads what each tag points at now and returns the tags that do
// not point at digest yet. A tag whose current image or index has
// platforms that next lacks is refused unless force.
func checkTags(ctx context.Context, r *reader, tags []name.Tag, digest string, next platform.Set, force bool) ([]name.Tag, error) {
	var stale []name.Tag
	var problems []string
	for _, t := range tags {
		m, err := r.get(ctx, t)
		switch {
		case registry.IsNotFound(err):
			stale = append(stale, t)
			continue
		case err != nil:
			return nil, &ReadError{Ref: t.Name(), Err: err}
		case m.desc.Digest.String() == digest:
			continue
		}
		stale = append(stale, t)
		if force {
			continue
		}
		now, err := r.platformsOf(ctx, m, 0)
		if err != nil {
			return nil, &ReadError{Ref: t.Name(), Err: fmt.Errorf("the image the tag points at now: %w", err)}
		}
		var lost []string
		for _, p := range now.List() {
			if !next.Contains(p) {
				lost = append(lost, p.String())
			}
		}
		if len(lost) > 0 {
			problems = append(problems, fmt.Sprintf("%s now has %s, which the new index lacks; give --force to replace it anyway", t.Name(), strings.Join(lost, ", ")))
		}
	}
	if len(problems) > 0 {
		return nil, &CheckError{Problems: problems}
	}
	return stale, nil
}

// platformsOf returns the platforms of what a tag points at: an index's
// declared platforms (attestations excluded, nested indexes followed; an
// entry without one is read from its config), or an image's config
// platform.
func (r *reader) platformsOf(ctx context.Context, m manifest, depth int) (platform.Set, error) {
	var s platform.Set
	if !m.desc.MediaType.IsIndex() {
		p, err := r.config(ctx, m.ref.Context(), m)
		return s.Add(p), err
	}
	if depth >= maxDepth {
		return s, fmt.Errorf("indexes nested deeper than %d", maxDepth)
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(m.body))
	if err != nil {
		return s, err
	}
	for _, d := range idx.Manifests {
		declared := d.Platform != nil && d.Platform.OS != "" && d.Platform.Architecture != ""
		switch {
		case isAttestation(d) || !d.MediaType.IsImage() && !d.MediaType.IsIndex():
		case declared && d.MediaType.IsImage():
			s = s.Add(fromV1(d.Platform))
		default:
			cm, err := r.get(ctx, m.ref.Context().Digest(d.Digest.String()))
			if err != nil {
				return s, err
			}
			ps, err := r.platformsOf(ctx, cm, depth+1)
			if err != nil {
				return s, err
			}
			for _, p := range ps.List() {
				s = s.Add(p)
			}
		}
	}
	return s, nil
}

// write copies the children that live in other repositories into repo by
// digest, then puts the index at each tag. go-containerregistry's
// remote.Write skips blobs and manifests the target has, mounts blobs from
// a repository of the same registry (asking for pull access to it), and
// uploads a blob when the mount is refused or fails; a child from another
// registry is streamed from it.
func write(ctx context.Context, r *reader, repo name.Repository, b *built, tags []name.Tag, jobs int) error {
	opts, err := r.options(ctx, repo)
	if err != nil {
		return err
	}
	// One Pusher for every write: one ping and one push token.
	p, err := remote.NewPusher(opts...)
	if err != nil {
		return err
	}
	opts = append(slices.Clip(opts), remote.Reuse(p))
	var g errgroup.Group
	g.SetLimit(jobs)
	for _, c := range b.children {
		if c.repo.Name() == repo.Name() {
			continue // read from the target repository: it is there
		}
		g.Go(func() error {
			srcOpts, err := r.options(ctx, c.repo)
			if err != nil {
				return err
			}
			d := c.desc.Digest.String()
			img, err := remote.Image(c.repo.Digest(d), srcOpts...)
			if err != nil {
				return fmt.Errorf("reading %s@%s: %w", c.repo, d, err)
			}
			if err := remote.Write(repo.Digest(d), img, opts...); err != nil {
				return fmt.Errorf("copying %s@%s to %s: %w", c.repo, d, repo, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	raw := rawIndex{mt: b.mediaType, body: b.body}
	for _, t := range tags {
		if err := remote.Put(t, raw, opts...); err != nil {
			return fmt.Errorf("putting the index at %s: %w", t, err)
		}
	}
	return nil
}

// rawIndex is index JSON to put as it is (remote.Taggable).
type rawIndex struct {
	mt   types.MediaType
	body []byte
}

func (r rawIndex) RawManifest() ([]byte, error)        { return r.body, nil }
func (r rawIndex) MediaType() (types.MediaType, error) { return r.mt, nil }
