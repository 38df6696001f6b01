package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/archwaydev/archway/internal/index"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/registrytest"
)

// TestIndexCreateCLI builds an OCI index and a Docker manifest list from
// buildx-style per-arch pushes on docker-registry with the command, then
// reads each back with archway's lookup, crane and regctl: all must report
// the same digest and platforms.
func TestIndexCreateCLI(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	d := registrytest.StartDistribution(t, registrytest.DistributionOptions{})
	for _, p := range []platform.Platform{platform.LinuxAMD64, platform.LinuxARM64} {
		idx := registrytest.WithAttestations(t, registrytest.Index(t, p))
		registrytest.PushIndex(t, d.Ref("ci/app:1.0-"+p.Architecture), idx, d.RemoteOptions()...)
	}
	crane := registrytest.NeedGoTool(t, "crane", "github.com/google/go-containerregistry/cmd/crane@v0.22.1")
	regctl := registrytest.NeedGoTool(t, "regctl", "github.com/regclient/regclient/cmd/regctl@v0.11.7")
	home := t.TempDir()
	run := func(t *testing.T, bin string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), bin, args...)
		cmd.Env = append(os.Environ(), "HOME="+home, "DOCKER_CONFIG="+filepath.Join(home, ".docker"))
		out, err := cmd.Output()
		if err != nil {
			var stderr string
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, stderr)
		}
		return strings.TrimSpace(string(out))
	}
	run(t, regctl, "registry", "set", "--tls", "disabled", d.Host)
	// Each tool's commands for: the digest of a reference, its manifest, and
	// the digest of one platform's image.
	tools := map[string]func(t *testing.T, what, ref, platform string) string{
		"crane": func(t *testing.T, what, ref, p string) string {
			switch what {
			case "digest":
				return run(t, crane, "--insecure", "digest", ref)
			case "manifest":
				return run(t, crane, "--insecure", "manifest", ref)
			}
			return run(t, crane, "--insecure", "digest", "--platform", p, ref)
		},
		"regctl": func(t *testing.T, what, ref, p string) string {
			switch what {
			case "digest":
				return run(t, regctl, "image", "digest", ref)
			case "manifest":
				return run(t, regctl, "manifest", "get", "--format", "raw-body", ref)
			}
			return run(t, regctl, "image", "digest", "--platform", p, ref)
		},
	}

	for _, mt := range []string{index.OCI, index.Docker} {
		t.Run(mt, func(t *testing.T) {
			target := d.Ref("ci/app:1.0-" + mt)
			args := []string{"index", "create", target, "--template", d.Ref("ci/app:1.0-{arch}"), "--media-type", mt,
				"--platforms", "linux/amd64,linux/arm64", "--expect", "linux/amd64,linux/arm64", "--tag", "latest-" + mt}
			got := runArchway(t.Context(), "", args...)
			if got.code != ExitOK {
				t.Fatalf("exit %d, stderr:\n%s", got.code, got.stderr)
			}
			digest := strings.TrimSpace(got.stdout)
			if !strings.HasPrefix(digest, "sha256:") || !strings.Contains(got.stderr, "wrote "+target) {
				t.Fatalf("stdout %q, stderr:\n%s", got.stdout, got.stderr)
			}
			again := runArchway(t.Context(), "", args...)
			if again.code != ExitOK || strings.TrimSpace(again.stdout) != digest || !strings.Contains(again.stderr, "unchanged") {
				t.Errorf("re-run: exit %d, stdout %q, stderr:\n%s", again.code, again.stdout, again.stderr)
			}

			c, err := registry.New(registry.WithoutCache())
			if err != nil {
				t.Fatal(err)
			}
			r := c.Lookup(t.Context(), target)
			if r.Err != nil || r.Digest != digest {
				t.Fatalf("lookup: digest %s, err %v; want %s", r.Digest, r.Err, digest)
			}
			want := map[string]string{}
			for _, e := range r.Entries {
				want[e.Platform.String()] = e.Digest
			}
			if len(want) != 2 {
				t.Fatalf("lookup platforms = %v, want amd64 and arm64", want)
			}
			for toolName, tool := range tools {
				t.Run(toolName, func(t *testing.T) {
					if top := tool(t, "digest", target, ""); top != digest {
						t.Errorf("digest = %s, want %s", top, digest)
					}
					body := tool(t, "manifest", target, "")
					var idx v1.IndexManifest
					if err := json.Unmarshal([]byte(body), &idx); err != nil {
						t.Fatalf("manifest: %v\n%s", err, body)
					}
					seen := map[string]string{}
					for _, m := range idx.Manifests {
						if m.Platform.OS != "unknown" {
							seen[m.Platform.OS+"/"+m.Platform.Architecture] = m.Digest.String()
						}
					}
					if diff := cmp.Diff(want, seen); diff != "" {
						t.Errorf("platforms (-archway +%s):\n%s", toolName, diff)
					}
					if string(idx.MediaType) != r.MediaType {
						t.Errorf("media type = %s, want %s", idx.MediaType, r.MediaType)
					}
					for p, pd := range want {
						if got := tool(t, "platform", target, p); got != pd {
							t.Errorf("%s digest = %s, want %s", p, got, pd)
						}
					}
				})
			}
		})
	}
}

func TestIndexCreateCLIErrors(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	s := registrytest.StartInProcess(t)
	registrytest.Push(t, s.Ref("app:amd64"), registrytest.Image(t, platform.LinuxAMD64))
	registrytest.Push(t, s.Ref("app:arm64"), registrytest.Image(t, platform.LinuxARM64))
	spec := filepath.Join(t.TempDir(), "spec.yaml")
	if err := os.WriteFile(spec, []byte("image: "+s.Ref("app:spec")+"\nmanifests:\n  - image: "+s.Ref("app:amd64")+"\n    platform: linux/arm64\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no sources", []string{s.Ref("app:1")}, ExitUsage, "at least one SOURCE"},
		{"template without platforms", []string{s.Ref("app:1"), "--template", "x-{arch}"}, ExitUsage, "--platforms"},
		{"spec and args", []string{"-f", spec, s.Ref("app:1")}, ExitUsage, "give no TARGET"},
		{"spec and password on stdin", []string{"-f", "-", "--username", "u", "--password-stdin"}, ExitUsage, "both read stdin"},
		{"bad media type", []string{"--media-type", "v2", s.Ref("app:1"), s.Ref("app:amd64")}, ExitUsage, "want oci or docker"},
		{"bad annotation", []string{"--annotation", "novalue", s.Ref("app:1"), s.Ref("app:amd64")}, ExitUsage, "KEY=VALUE"},
		{"annotation on docker", []string{"--media-type", "docker", "--annotation", "a=b", s.Ref("app:1"), s.Ref("app:amd64")}, ExitUsage, "cannot carry annotations"},
		{"mismatch from spec", []string{"-f", spec}, ExitUnsupported, "declared linux/arm64 but its config says linux/amd64"},
		{"expect", []string{"--expect", "linux/amd64,linux/arm64", s.Ref("app:1"), s.Ref("app:amd64")}, ExitUnsupported, "lacks linux/arm64"},
		{"missing source", []string{s.Ref("app:1"), s.Ref("app:nope")}, ExitUnknown, "app:nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := runArchway(t.Context(), "", append([]string{"index", "create", "--no-cache"}, tc.args...)...)
			if got.code != tc.code || !strings.Contains(got.stderr, tc.want) {
				t.Errorf("exit %d (want %d), stderr:\n%s\nwant %q", got.code, tc.code, got.stderr, tc.want)
			}
			if got.stdout != "" {
				t.Errorf("stdout = %q, want nothing", got.stdout)
			}
		})
	}

	t.Run("spec on stdin", func(t *testing.T) {
		spec := "image: " + s.Ref("app:stdin") + "\nmanifests:\n  - image: " + s.Ref("app:amd64") + "\n  - image: " + s.Ref("app:arm64") + "\n    platform: {os: linux, architecture: arm64}\n"
		got := runArchway(t.Context(), spec, "index", "create", "--no-cache", "--dry-run", "-f", "-")
		var idx v1.IndexManifest
		if got.code != ExitOK || json.Unmarshal([]byte(got.stdout), &idx) != nil || len(idx.Manifests) != 2 || idx.Manifests[1].Platform.Architecture != "arm64" {
			t.Errorf("exit %d, stdout %q, stderr %s", got.code, got.stdout, got.stderr)
		}
	})

	t.Run("dry run and json", func(t *testing.T) {
		got := runArchway(t.Context(), "", "index", "create", "--no-cache", "--dry-run", s.Ref("app:1"), s.Ref("app:amd64"), s.Ref("app:arm64"))
		var idx v1.IndexManifest
		if got.code != ExitOK || json.Unmarshal([]byte(got.stdout), &idx) != nil || len(idx.Manifests) != 2 {
			t.Fatalf("dry run: exit %d, stdout %q, stderr %s", got.code, got.stdout, got.stderr)
		}
		h, _, _ := v1.SHA256(strings.NewReader(strings.TrimSuffix(got.stdout, "\n")))
		got = runArchway(t.Context(), "", "index", "create", "--no-cache", "-o", "json", s.Ref("app:1"), s.Ref("app:amd64"), s.Ref("app:arm64"))
		var res index.Result
		if got.code != ExitOK || json.Unmarshal([]byte(got.stdout), &res) != nil {
			t.Fatalf("json: exit %d, stdout %q, stderr %s", got.code, got.stdout, got.stderr)
		}
		if res.Digest != h.String() || len(res.Written) != 1 || !cmp.Equal(res.Platforms, []string{"linux/amd64", "linux/arm64"}) {
			t.Errorf("json result %+v; want digest %s (the dry run's bytes)", res, h)
		}
	})
}

func TestIndexInspectCLI(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	d := registrytest.StartDistribution(t, registrytest.DistributionOptions{})
	idx := registrytest.WithAttestations(t, registrytest.Index(t, platform.LinuxAMD64, platform.LinuxARM64))
	registrytest.PushIndex(t, d.Ref("app:1"), idx, d.RemoteOptions()...)
	got := runArchway(t.Context(), "", "index", "inspect", "--no-cache", d.Ref("app:1"))
	if got.code != ExitOK || strings.Count(got.stdout, " agrees ") != 2 || strings.Count(got.stdout, "attested by") != 2 || strings.Count(got.stdout, "\nattestation ") != 2 || strings.Count(got.stdout, "describes sha256:") != 2 {
		t.Errorf("inspect: exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	gone := m.Manifests[0].Digest.String()
	ref, err := name.ParseReference(d.Ref("app@" + gone))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Delete(ref, d.RemoteOptions()...); err != nil {
		t.Fatal(err)
	}
	got = runArchway(t.Context(), "", "index", "inspect", "--no-cache", "-o", "json", d.Ref("app:1"))
	var in index.Inspection
	if err := json.Unmarshal([]byte(got.stdout), &in); err != nil {
		t.Fatalf("json: %v\n%s", err, got.stdout)
	}
	if got.code != ExitUnsupported || in.Entries[0].Config != index.ConfigMissing || len(in.Problems) != 1 {
		t.Errorf("after deleting a child: exit %d, entry %+v, problems %v", got.code, in.Entries[0], in.Problems)
	}
	if got := runArchway(t.Context(), "", "index", "inspect", "--no-cache", d.Ref("app:missing")); got.code != ExitUnknown {
		t.Errorf("missing ref: exit %d, want %d; %s", got.code, ExitUnknown, got.stderr)
	}
}
