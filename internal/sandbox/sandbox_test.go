package sandbox

import (
	"archive/tar"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	goldenfile "github.com/archwaydev/archway/internal/golden"
	"github.com/archwaydev/archway/internal/platform"
)

func startServer(t *testing.T) *Server {
	t.Helper()
	s, err := Start(t.Context())
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// TestCatalogShapes reads every catalogue entry back from a seeded
// in-process registry and checks its shape with go-containerregistry.
func TestCatalogShapes(t *testing.T) {
	s := startServer(t)
	wantTypes := map[string]types.MediaType{
		"demo/api:2.1":            types.OCIImageIndex,
		"demo/worker:1.0":         types.DockerManifestList,
		"demo/sidecar:1.0":        types.OCIImageIndex,
		"demo/legacy-billing:3.2": types.OCIManifestSchema1,
		"demo/edge-agent:0.9":     types.DockerManifestSchema2,
		"demo/pi-sensor:1.0":      types.OCIManifestSchema1,
		"demo/dotnet-app:4.8":     types.OCIImageIndex,
		"demo/nested:1.0":         types.OCIImageIndex,
		"demo/queue:1.0":          types.OCIManifestSchema1,
		"demo/queue:1.1":          types.OCIManifestSchema1,
		"demo/queue:2.0":          types.OCIImageIndex,
		"demo/queue:2.1":          types.OCIImageIndex,
	}
	if got, want := len(Catalog()), len(wantTypes); got != want {
		t.Fatalf("catalogue has %d images, test expects %d", got, want)
	}
	for _, img := range Catalog() {
		t.Run(img.Repo+":"+img.Tag, func(t *testing.T) {
			ref, err := name.ParseReference(img.Ref(s.Host))
			if err != nil {
				t.Fatal(err)
			}
			desc, err := remote.Get(ref, remote.WithContext(t.Context()))
			if err != nil {
				t.Fatalf("remote.Get: %v", err)
			}
			if want := wantTypes[img.Repo+":"+img.Tag]; desc.MediaType != want {
				t.Errorf("media type = %s, want %s", desc.MediaType, want)
			}
			var got []platform.Platform
			switch img.Kind {
			case KindIndex:
				if !desc.MediaType.IsIndex() {
					t.Fatalf("kind index but media type %s", desc.MediaType)
				}
				idx, err := desc.ImageIndex()
				if err != nil {
					t.Fatal(err)
				}
				got = indexPlatforms(t, idx, desc.MediaType)
			case KindManifest:
				im, err := desc.Image()
				if err != nil {
					t.Fatal(err)
				}
				got = []platform.Platform{imagePlatform(t, im, desc.MediaType)}
			default:
				t.Fatalf("unknown kind %q", img.Kind)
			}
			if diff := cmp.Diff(img.Platforms, got); diff != "" {
				t.Errorf("platforms (-catalogue +registry):\n%s", diff)
			}
		})
	}
}

// indexPlatforms returns the platforms of idx's image children, flattening
// nested indexes and checking attestation entries the way buildx writes
// them; every child's config must agree with its descriptor.
func indexPlatforms(t *testing.T, idx v1.ImageIndex, mt types.MediaType) []platform.Platform {
	t.Helper()
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	children := map[string]bool{}
	var out []platform.Platform
	for _, d := range im.Manifests {
		if d.MediaType.IsIndex() {
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, indexPlatforms(t, child, d.MediaType)...)
			continue
		}
		if want := childType(mt); d.MediaType != want {
			t.Errorf("child %s media type %s, want %s", d.Digest, d.MediaType, want)
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if d.Platform == nil {
			t.Fatalf("child %s has no platform", d.Digest)
		}
		if d.Platform.OS == "unknown" {
			checkAttestation(t, img, d, children)
			continue
		}
		children[d.Digest.String()] = true
		p := imagePlatform(t, img, d.MediaType)
		desc := platform.Platform{OS: d.Platform.OS, Architecture: d.Platform.Architecture, Variant: d.Platform.Variant, OSVersion: d.Platform.OSVersion}
		if diff := cmp.Diff(desc, p); diff != "" {
			t.Errorf("child %s descriptor and config disagree (-descriptor +config):\n%s", d.Digest, diff)
		}
		out = append(out, p)
	}
	return out
}

func childType(index types.MediaType) types.MediaType {
	if index == types.DockerManifestList {
		return types.DockerManifestSchema2
	}
	return types.OCIManifestSchema1
}

func checkAttestation(t *testing.T, img v1.Image, d v1.Descriptor, children map[string]bool) {
	t.Helper()
	if d.Annotations["vnd.docker.reference.type"] != "attestation-manifest" {
		t.Errorf("attestation %s: annotations %v", d.Digest, d.Annotations)
	}
	if ref := d.Annotations["vnd.docker.reference.digest"]; !children[ref] {
		t.Errorf("attestation %s refers to %q, not a platform image listed before it", d.Digest, ref)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "unknown" || cf.Architecture != "unknown" {
		t.Errorf("attestation config platform %s/%s, want unknown/unknown", cf.OS, cf.Architecture)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Layers) != 1 || m.Layers[0].MediaType != "application/vnd.in-toto+json" {
		t.Errorf("attestation layers %+v, want one in-toto layer", m.Layers)
	}
}

// imagePlatform reads img's config blob and checks that its media types
// are of the family mt says and that its program matches the platform.
func imagePlatform(t *testing.T, img v1.Image, mt types.MediaType) platform.Platform {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	wantConfig, wantLayer := types.OCIConfigJSON, types.OCILayer
	if mt == types.DockerManifestSchema2 {
		wantConfig, wantLayer = types.DockerConfigJSON, types.DockerLayer
	}
	if m.Config.MediaType != wantConfig {
		t.Errorf("config media type %s, want %s", m.Config.MediaType, wantConfig)
	}
	if len(m.Layers) != 1 || m.Layers[0].MediaType != wantLayer {
		t.Fatalf("layers %+v, want one %s", m.Layers, wantLayer)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if len(cf.RootFS.DiffIDs) != 1 {
		t.Errorf("config has %d diff_ids, want 1", len(cf.RootFS.DiffIDs))
	}
	layers, err := img.Layers() // validates the diff_id against the blob
	if err != nil {
		t.Fatal(err)
	}
	p := platform.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant, OSVersion: cf.OSVersion}
	checkProgram(t, layers[0], p)
	return p
}

// checkProgram finds the program in layer and checks its header.
func checkProgram(t *testing.T, layer v1.Layer, p platform.Platform) {
	t.Helper()
	rc, err := layer.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			t.Fatalf("no program in layer for %s", p)
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Mode&0o111 == 0 {
			continue
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if p.OS == "windows" {
			if !strings.HasPrefix(string(body), "MZ") {
				t.Errorf("%s: windows program %s has no MZ header", p, hdr.Name)
			}
			return
		}
		f, err := elf.NewFile(strings.NewReader(string(body)))
		if err != nil {
			t.Fatalf("%s: program %s: %v", p, hdr.Name, err)
		}
		if want := elfMachines[p.Architecture].machine; f.Machine != want {
			t.Errorf("%s: program machine %s, want %s", p, f.Machine, want)
		}
		return
	}
}

func TestMissingIsNotPushed(t *testing.T) {
	s := startServer(t)
	ref, err := name.ParseReference(s.Host + "/" + MissingRef)
	if err != nil {
		t.Fatal(err)
	}
	_, err = remote.Head(ref, remote.WithContext(t.Context()))
	var terr *transport.Error
	if !errors.As(err, &terr) || terr.StatusCode != http.StatusNotFound {
		t.Fatalf("HEAD %s: err = %v, want 404", ref, err)
	}
}

// TestDigestsStable pins every entry's digest: the catalogue is built from
// fixed content, so its digests never change between runs.
func TestDigestsStable(t *testing.T) {
	var b strings.Builder
	for _, e := range Specs() {
		obj, err := e.build()
		if err != nil {
			t.Fatal(err)
		}
		d, err := obj.(interface{ Digest() (v1.Hash, error) }).Digest()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s:%s %s\n", e.Repo, e.Tag, d)
	}
	goldenfile.Check(t, filepath.Join("testdata", "digests.golden"), []byte(b.String()))
}

func TestSeedUnreachable(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Seed(ctx, "127.0.0.1:1"); err == nil {
		t.Fatal("Seed to a closed port succeeded")
	}
}

func TestPushRejectsBadSpecs(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		want string
	}{
		{"manifest with two platforms", Spec{Image: Image{"x/a", "1", KindManifest, []platform.Platform{linuxAMD64, linuxARM64}}}, "exactly one platform"},
		{"index without platforms", Spec{Image: Image{"x/b", "1", KindIndex, nil}}, "at least one platform"},
		{"unknown kind", Spec{Image: Image{"x/c", "1", "chart", []platform.Platform{linuxAMD64}}}, `unknown kind "chart"`},
		{"no ELF machine", Spec{Image: Image{"x/d", "1", KindManifest, []platform.Platform{{OS: "linux", Architecture: "s390x"}}}}, "no ELF machine"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Push(t.Context(), "127.0.0.1:1", tt.spec)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Push: err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
