package imagebuild

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/archwaydev/archway/internal/app"
	"github.com/archwaydev/archway/internal/assess"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/registrytest"
	"github.com/archwaydev/archway/internal/verify"
)

// TestBuild builds archway's image into a registry on loopback; archway
// check then reports exactly linux/amd64 and linux/arm64, archway verify
// finds every binary of each platform built for it, the image runs as
// non-root with /archway as its entrypoint, and a second build gives the
// same digest.
func TestBuild(t *testing.T) {
	reg := registrytest.StartInProcess(t)
	client, err := registry.New(registry.WithoutCache(), registry.WithInsecure(reg.Host))
	if err != nil {
		t.Fatal(err)
	}
	target := reg.Ref("archway:test")
	o := Options{Target: target, ModuleDir: "../..", Version: "v0.0.0-test"}
	res, err := Build(t.Context(), client, o)
	if err != nil {
		t.Fatal(err)
	}

	rep := app.Check(t.Context(), client, []string{target}, app.CheckOptions{Targets: DefaultPlatforms, Jobs: 1})
	img := rep.Images[0]
	if img.Verdict != assess.Supported || img.Digest != res.Digest {
		t.Fatalf("check: %s %s (%v), want supported at %s", img.Verdict, img.Digest, img.Err, res.Digest)
	}
	var got []string
	for _, p := range img.Platforms().List() {
		got = append(got, p.String())
	}
	if d := cmp.Diff([]string{"linux/amd64", "linux/arm64"}, got); d != "" {
		t.Errorf("platforms (-want +got):\n%s", d)
	}

	v, err := verify.Image(t.Context(), client, target, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Verdict != verify.Verified || len(v.Platforms) != 2 {
		t.Fatalf("verify: %s with %d platforms (%s), want verified for both", v.Verdict, len(v.Platforms), v.Error)
	}
	for _, p := range v.Platforms {
		if p.Binaries[p.Platform.Architecture] != 1 || len(p.Binaries) != 1 {
			t.Errorf("%s: binaries %v, want exactly one ELF, of %s", p.Platform, p.Binaries, p.Platform.Architecture)
		}
	}

	ref, err := client.ParseReference(target)
	if err != nil {
		t.Fatal(err)
	}
	ropts, err := client.RemoteOptions(t.Context(), ref.Context())
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range DefaultPlatforms {
		arch, err := remote.Image(ref.Context().Digest(res.Images[i]), ropts...)
		if err != nil {
			t.Fatal(err)
		}
		cf, err := arch.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.Config.User != "65532:65532" || cmp.Diff([]string{"/archway"}, cf.Config.Entrypoint) != "" || cf.Architecture != p.Architecture || !cf.Created.Equal(time.Unix(0, 0)) {
			t.Errorf("%s config: user %q entrypoint %q arch %q created %v", p, cf.Config.User, cf.Config.Entrypoint, cf.Architecture, cf.Created)
		}
		layers, err := arch.Layers()
		if err != nil || len(layers) != 1 {
			t.Errorf("%s: %d layers (%v), want one", p, len(layers), err)
		}
	}

	again, err := Build(t.Context(), client, Options{Target: reg.Ref("archway:again"), ModuleDir: "../..", Version: "v0.0.0-test", Platforms: []platform.Platform{platform.LinuxAMD64, platform.LinuxARM64}})
	if err != nil {
		t.Fatal(err)
	}
	if again.Digest != res.Digest {
		t.Errorf("second build: digest %s, want %s (the same sources give the same image)", again.Digest, res.Digest)
	}
}
