package sandbox

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Seed pushes the whole catalogue to the registry at host (e.g.
// "127.0.0.1:5000") with the given remote options (auth, transport) and
// returns the references pushed, in catalogue order. Loopback hosts are
// spoken to over plain HTTP.
func Seed(ctx context.Context, host string, opts ...remote.Option) ([]string, error) {
	var refs []string
	for _, s := range Specs() {
		ref, err := Push(ctx, host, s, opts...)
		if err != nil {
			return refs, err
		}
		refs = append(refs, ref)
	}
	return refs, nil
}

// Push builds the image s describes (deterministic content: the same spec
// always gives the same digest) and pushes it to the registry at host as
// host/Repo:Tag, which it returns.
func Push(ctx context.Context, host string, s Spec, opts ...remote.Option) (string, error) {
	ref := s.Ref(host)
	tag, err := name.NewTag(ref)
	if err != nil {
		return "", fmt.Errorf("sandbox: %w", err)
	}
	switch {
	case s.Kind == KindManifest && len(s.Platforms) != 1:
		return "", fmt.Errorf("sandbox: %s: a single-platform manifest needs exactly one platform, got %d", ref, len(s.Platforms))
	case s.Kind == KindIndex && len(s.Platforms) == 0:
		return "", fmt.Errorf("sandbox: %s: an index needs at least one platform", ref)
	case s.Kind != KindManifest && s.Kind != KindIndex:
		return "", fmt.Errorf("sandbox: %s: unknown kind %q", ref, s.Kind)
	}
	obj, err := s.build()
	if err != nil {
		return "", err
	}
	opts = append([]remote.Option{remote.WithContext(ctx)}, opts...)
	switch obj := obj.(type) {
	case v1.ImageIndex:
		err = remote.WriteIndex(tag, obj, opts...)
	case v1.Image:
		err = remote.Write(tag, obj, opts...)
	}
	if err != nil {
		return "", fmt.Errorf("sandbox: push %s: %w", ref, err)
	}
	return ref, nil
}
