// Package imagebuild builds archway's own container image without a Docker
// engine: it cross-compiles the binary for each platform (static, CGO off),
// puts it with the CA certificates into one layer over nothing (no shell, no
// package manager), sets a non-root user and the entrypoint, and pushes a
// multi-arch index with go-containerregistry. `make image` and the webhook
// chart's image come from here.
package imagebuild

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
)

// NonRoot is the user and group the image runs as (distroless's nonroot).
const NonRoot = 65532

// DefaultPlatforms are the platforms archway's image is built for.
var DefaultPlatforms = []platform.Platform{platform.LinuxAMD64, platform.LinuxARM64}

// Options configure Build.
type Options struct {
	// Target is the tag to push the index to, e.g.
	// 123456789012.dkr.ecr.eu-west-1.amazonaws.com/archway:v1.2.3.
	Target string
	// Platforms to build; default DefaultPlatforms.
	Platforms []platform.Platform
	// ModuleDir is the archway checkout to build; default ".".
	ModuleDir string
	// Version is stamped into the binary (cli.version).
	Version string
	// CACerts is the CA bundle to ship; default
	// /etc/ssl/certs/ca-certificates.crt.
	CACerts string
	// Created is the images' creation time; zero gives the Unix epoch, so
	// the same sources give the same digests.
	Created time.Time
}

// Result is what Build pushed.
type Result struct {
	// Digest is the index's digest.
	Digest string
	// Images are the per-platform image digests, in Options.Platforms order.
	Images []string
}

// Build compiles, assembles and pushes the image through client's
// credentials and transport.
func Build(ctx context.Context, client *registry.Client, o Options) (Result, error) {
	if len(o.Platforms) == 0 {
		o.Platforms = DefaultPlatforms
	}
	if o.ModuleDir == "" {
		o.ModuleDir = "."
	}
	if o.CACerts == "" {
		o.CACerts = "/etc/ssl/certs/ca-certificates.crt"
	}
	if o.Created.IsZero() {
		o.Created = time.Unix(0, 0).UTC()
	}
	ref, err := client.ParseReference(o.Target)
	if err != nil {
		return Result{}, err
	}
	ropts, err := client.RemoteOptions(ctx, ref.Context())
	if err != nil {
		return Result{}, err
	}
	certs, err := os.ReadFile(o.CACerts)
	if err != nil {
		return Result{}, fmt.Errorf("CA certificates: %w", err)
	}
	work, err := os.MkdirTemp("", "archway-image-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(work)

	var res Result
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range o.Platforms {
		bin := filepath.Join(work, "archway-"+p.OS+"-"+p.Architecture+p.Variant)
		if err := compile(ctx, o, p, bin); err != nil {
			return Result{}, err
		}
		img, err := image(bin, certs, p, o.Created)
		if err != nil {
			return Result{}, fmt.Errorf("%s: %w", p, err)
		}
		d, err := img.Digest()
		if err != nil {
			return Result{}, err
		}
		if err := remote.Write(ref.Context().Digest(d.String()), img, ropts...); err != nil {
			return Result{}, fmt.Errorf("pushing the %s image: %w", p, err)
		}
		res.Images = append(res.Images, d.String())
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant}},
		})
	}
	d, err := idx.Digest()
	if err != nil {
		return Result{}, err
	}
	if err := remote.WriteIndex(ref, idx, ropts...); err != nil {
		return Result{}, fmt.Errorf("pushing the index: %w", err)
	}
	res.Digest = d.String()
	return res, nil
}

// compile builds a static archway binary for p.
func compile(ctx context.Context, o Options, p platform.Platform, out string) error {
	args := []string{"build", "-trimpath", "-o", out,
		"-ldflags", "-s -w -X github.com/archwaydev/archway/internal/cli.version=" + o.Version, "./cmd/archway"}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = o.ModuleDir
	env := append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Architecture)
	if p.Architecture == "arm" {
		env = append(env, "GOARM="+p.Variant[1:])
	}
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build for %s: %w\n%s", p, err, stderr.String())
	}
	return nil
}

// image is one platform's image: one layer with /archway and the CA
// bundle, non-root, entrypoint /archway.
func image(bin string, certs []byte, p platform.Platform, created time.Time) (v1.Image, error) {
	exe, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{
		{"etc/ssl/certs/ca-certificates.crt", 0o644, certs},
		{"archway", 0o755, exe},
	} {
		hdr := &tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), Uid: 0, Gid: 0, ModTime: created, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	layerBytes := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerBytes)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layer)
	if err != nil {
		return nil, err
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	cf.Created = v1.Time{Time: created}
	cf.Config.User = fmt.Sprintf("%d:%d", NonRoot, NonRoot)
	cf.Config.Entrypoint = []string{"/archway"}
	cf.Config.Env = []string{"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"}
	cf.Config.Labels = map[string]string{"org.opencontainers.image.source": "https://github.com/archwaydev/archway"}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	if _, err := img.Digest(); err != nil {
		return nil, errors.Join(errors.New("assembling the image"), err)
	}
	return img, nil
}
