package registrytest

import (
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/archwaydev/archway/internal/platform"
)

// LayeredImage returns an OCI image of the given layers (each with its
// history entry) whose config claims p (os, architecture, variant) and
// runs cfg (entrypoint, cmd, env …), for tests that look inside layers.
func LayeredImage(t testing.TB, p platform.Platform, cfg v1.Config, layers ...mutate.Addendum) v1.Image {
	t.Helper()
	img, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layers...)
	if err != nil {
		t.Fatalf("registrytest: append layers: %v", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatalf("registrytest: config: %v", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	cf.Config = cfg
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatalf("registrytest: set config: %v", err)
	}
	return mutate.ConfigMediaType(img, types.OCIConfigJSON)
}
