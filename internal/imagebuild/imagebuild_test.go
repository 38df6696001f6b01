package imagebuild

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	yaml "go.yaml.in/yaml/v3"

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
	client, err := registry.New(registry.WithoutCache(), registry.WithInsecure(reg.Host), registry.WithRequestTimeout(10*time.Minute))
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

// TestReleaseWorkflow: the release recipe parses, runs on version tags,
// and builds the image with make image, a target the Makefile has.
func TestReleaseWorkflow(t *testing.T) {
	data, err := os.ReadFile("../../.github/workflows/release.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Name        string            `yaml:"name"`
		Permissions map[string]string `yaml:"permissions"`
		On          struct {
			Push struct {
				Tags []string `yaml:"tags"`
			} `yaml:"push"`
		} `yaml:"on"`
		Jobs map[string]struct {
			RunsOn string `yaml:"runs-on"`
			Steps  []struct {
				Name string         `yaml:"name"`
				Uses string         `yaml:"uses"`
				With map[string]any `yaml:"with"`
				Run  string         `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true) // YAML 1.2: "on" is a key, not true
	if err := dec.Decode(&wf); err != nil {
		t.Fatalf("release.yaml: %v", err)
	}
	if len(wf.On.Push.Tags) == 0 {
		t.Error("release.yaml does not run on tags")
	}
	var runs []string
	for _, j := range wf.Jobs {
		for _, s := range j.Steps {
			runs = append(runs, s.Run)
		}
	}
	all := strings.Join(runs, "\n")
	if !strings.Contains(all, "make image REGISTRY=") || !strings.Contains(all, "archway verify") {
		t.Errorf("release.yaml steps do not build with make image and verify:\n%s", all)
	}
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mk), "\nimage:\n") || !strings.Contains(string(mk), "./hack/image") {
		t.Error("the Makefile has no image target running hack/image")
	}
}
