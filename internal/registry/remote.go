package registry

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/archwaydev/archway/internal/lookup"
)

// ParseReference reads ref as lookups do: go-containerregistry's rules
// (Docker Hub defaults, tag latest), with the registries of WithInsecure
// marked as plain HTTP.
func (c *Client) ParseReference(ref string) (name.Reference, error) {
	r, err := c.parse(ref)
	if err != nil {
		return nil, &lookup.Error{Ref: ref, Cause: lookup.CauseBadReference, Err: err}
	}
	return r, nil
}

// RemoteOptions returns go-containerregistry remote options that reach
// repo the way this Client does: its credentials (WithBasicAuth, else the
// keychain), its transport (user agent, retries, per-request timeout) and
// ctx. Commands that read or write more than manifests (blobs, pushes) use
// these with the remote package, so every command authenticates alike.
func (c *Client) RemoteOptions(ctx context.Context, repo name.Repository) ([]remote.Option, error) {
	auth, err := c.auth(ctx, repo)
	if err != nil {
		return nil, err
	}
	return []remote.Option{
		remote.WithAuth(auth),
		remote.WithTransport(c.base),
		remote.WithContext(ctx),
	}, nil
}

// Repository reads a repository name (no tag or digest) as ParseReference
// does, e.g. for a push target.
func (c *Client) Repository(repo string) (name.Repository, error) {
	r, err := c.parse(repo + ":latest")
	if err != nil {
		return name.Repository{}, &lookup.Error{Ref: repo, Cause: lookup.CauseBadReference, Err: fmt.Errorf("repository %q: %w", repo, err)}
	}
	return r.Context(), nil
}
