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
	opts = append([]remote.Option{remote.WithContext(ctx)}, opts...)
	var refs []string
	for _, e := range entries() {
		ref := e.Ref(host)
		tag, err := name.NewTag(ref)
		if err != nil {
			return refs, fmt.Errorf("sandbox: %w", err)
		}
		obj, err := e.build()
		if err != nil {
			return refs, err
		}
		switch obj := obj.(type) {
		case v1.ImageIndex:
			err = remote.WriteIndex(tag, obj, opts...)
		case v1.Image:
			err = remote.Write(tag, obj, opts...)
		}
		if err != nil {
			return refs, fmt.Errorf("sandbox: push %s: %w", ref, err)
		}
		refs = append(refs, ref)
	}
	return refs, nil
}
