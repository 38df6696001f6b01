package cli

import (
	"debug/elf"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/crane"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registrytest"
)

// verifyImages pushes, to a fresh in-process registry, images whose
// entrypoint /app is the head of this test binary (an ELF of the host's
// architecture): "honest" claims the host's architecture, "liar" another
// one, "claims" is an index entry for the other architecture whose config
// says the host's.
func verifyImages(t *testing.T) (host string) {
	t.Helper()
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head := make([]byte, 64<<10) // all the verifier reads of a file
	if _, err := io.ReadFull(f, head); err != nil {
		t.Fatal(err)
	}
	other := "arm64"
	if runtime.GOARCH == "arm64" {
		other = "amd64"
	}
	files := map[string][]byte{"app": head}
	if interp := loaderOf(t, exe); interp != "" {
		files[strings.TrimPrefix(interp, "/")] = head // an ELF of the right machine will do
	}
	layer, err := crane.Layer(files)
	if err != nil {
		t.Fatal(err)
	}
	image := func(arch string) v1.Image {
		return registrytest.LayeredImage(t, platform.Platform{OS: "linux", Architecture: arch}, v1.Config{Entrypoint: []string{"/app"}},
			mutate.Addendum{Layer: layer, History: v1.History{CreatedBy: "COPY app /app"}})
	}
	r := registrytest.StartInProcess(t)
	registrytest.Push(t, r.Ref("honest:1"), image(runtime.GOARCH))
	registrytest.Push(t, r.Ref("liar:1"), image(other))
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), mutate.IndexAddendum{
		Add: image(runtime.GOARCH), Descriptor: v1.Descriptor{Platform: registrytest.V1Platform(platform.Platform{OS: "linux", Architecture: other})},
	})
	registrytest.PushIndex(t, r.Ref("claims:1"), idx)
	return r.Host
}

// loaderOf returns the PT_INTERP of the ELF file at path, or "".
func loaderOf(t *testing.T, path string) string {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b, err := io.ReadAll(p.Open())
			if err != nil {
				t.Fatal(err)
			}
			return strings.TrimRight(string(b), "\x00")
		}
	}
	return ""
}

func TestVerifyExitCodes(t *testing.T) {
	host := verifyImages(t)
	df := filepath.Join(t.TempDir(), "Dockerfile")
	if err := os.WriteFile(df, []byte("FROM debian:12\nRUN curl -fsSLO https://example.invalid/tool-linux-amd64.tgz\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want int
		out  string // in stdout
	}{
		{"honest", []string{host + "/honest:1"}, ExitOK, `"verdict": "verified"`},
		{"liar", []string{host + "/liar:1"}, ExitUnsupported, "'exec format error'"},
		{"mismatch wins over unknown", []string{host + "/liar:1", host + "/nope:1"}, ExitUnsupported, `"unknown": 1`},
		{"unknown", []string{host + "/nope:1"}, ExitUnknown, "NAME_UNKNOWN"},
		{"claims only", []string{"--claims-only", host + "/claims:1"}, ExitUnsupported, "but the image config says linux/" + runtime.GOARCH},
		{"platform missing", []string{"--platform", "linux/s390x", host + "/honest:1"}, ExitUnsupported, `"verdict": "missing"`},
		{"dockerfile", []string{"--dockerfile", df}, ExitUnsupported, "tool-linux-${TARGETARCH}.tgz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runArchway(t.Context(), "", append([]string{"verify", "-o", "json"}, tt.args...)...)
			if got.code != tt.want || !strings.Contains(got.stdout, tt.out) {
				t.Errorf("exit code = %d, want %d; stdout should contain %q\nstdout:\n%s\nstderr:\n%s", got.code, tt.want, tt.out, got.stdout, got.stderr)
			}
			if !json.Valid([]byte(got.stdout)) {
				t.Errorf("stdout is not JSON:\n%s", got.stdout)
			}
		})
	}
	// The table names the layer's history line and the owner.
	got := runArchway(t.Context(), "", "verify", "-o", "table", host+"/liar:1")
	for _, want := range []string{"MISMATCH", "layer 0: COPY app /app", "owner: unowned: downloaded or copied in", "0 verified, 1 mismatch"} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, got.stdout)
		}
	}
}

func TestVerifyUsageErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no images", nil, "no images given"},
		{"bad platform", []string{"--platform", "linux/sparc99", "nginx:1.27"}, `unknown architecture "sparc99"`},
		{"bad output", []string{"-o", "yaml", "nginx:1.27"}, `-o "yaml": want table or json`},
		{"bad reference", []string{"nginx:1.27", "UPPER/Case::x"}, `argument 2: `},
		{"images and dockerfile", []string{"--dockerfile", "Dockerfile", "nginx:1.27"}, "not both"},
		{"missing dockerfile", []string{"--dockerfile", filepath.Join(t.TempDir(), "nope")}, "no such file"},
		{"bad allow glob", []string{"--allow", "/usr/[bin", "nginx:1.27"}, `--allow: glob "/usr/[bin": syntax error in pattern`},
		{"bad layer jobs", []string{"--layer-jobs", "0", "nginx:1.27"}, "--layer-jobs must be at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runArchway(t.Context(), "", append([]string{"verify"}, tt.args...)...)
			if got.code != ExitUsage || !strings.Contains(got.stderr, tt.wantErr) || got.stdout != "" {
				t.Errorf("exit %d, stderr %q, stdout %q; want %d, %q, nothing", got.code, got.stderr, got.stdout, ExitUsage, tt.wantErr)
			}
		})
	}
}

func TestVerifyHelp(t *testing.T) {
	got := runArchway(t.Context(), "", "verify", "--help")
	for _, want := range []string{"archway verify --dockerfile Dockerfile", "--allow GLOB", "--claims-only", "2  no mismatch, but at least one image could not be told"} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

// TestIndexCreateVerify: index create --verify refuses a source whose
// binaries are not of the platform it claims (exit 1, nothing written) and
// assembles honest ones.
func TestIndexCreateVerify(t *testing.T) {
	host := verifyImages(t)
	base := []string{"index", "create", "--verify", "--insecure-registry", host, "--no-cache"}
	liar := runArchway(t.Context(), "", append(base, host+"/multi:bad", host+"/liar:1")...)
	if liar.code != ExitUnsupported || !strings.Contains(liar.stderr, "binaries disagree with the platform it claims") {
		t.Fatalf("lying source: exit %d, want %d with the mismatch; stderr:\n%s", liar.code, ExitUnsupported, liar.stderr)
	}
	if got := runArchway(t.Context(), "", "index", "inspect", "--insecure-registry", host, host+"/multi:bad"); got.code == ExitOK {
		t.Errorf("the refused index was written:\n%s", got.stdout)
	}
	honest := runArchway(t.Context(), "", append(base, host+"/multi:good", host+"/honest:1")...)
	if honest.code != ExitOK || !strings.HasPrefix(honest.stdout, "sha256:") {
		t.Fatalf("honest source: exit %d; stdout %q; stderr:\n%s", honest.code, honest.stdout, honest.stderr)
	}
}

// TestScanDeep: scan --deep looks inside the images: one that claims the
// target but carries binaries of another architecture makes its workload
// not ready, where a plain scan trusts the registry.
func TestScanDeep(t *testing.T) {
	host := verifyImages(t)
	other := "arm64"
	if runtime.GOARCH == "arm64" {
		other = "amd64"
	}
	pod := filepath.Join(t.TempDir(), "pod.yaml")
	if err := os.WriteFile(pod, []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: liar}\nspec:\n  containers: [{name: c, image: "+host+"/liar:1}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"scan", "--platform", "linux/" + other, "--insecure-registry", host, "--no-cache", "-o", "json", pod}
	plain := runArchway(t.Context(), "", args...)
	if plain.code != ExitOK || !strings.Contains(plain.stdout, `"verdict": "ready"`) {
		t.Fatalf("plain scan: exit %d, want ready; stdout:\n%s\nstderr:\n%s", plain.code, plain.stdout, plain.stderr)
	}
	deep := runArchway(t.Context(), "", append([]string{args[0], "--deep"}, args[1:]...)...)
	if deep.code != ExitUnsupported || !strings.Contains(deep.stdout, `"verdict": "not-ready"`) || !strings.Contains(deep.stdout, "its binaries are not") {
		t.Fatalf("scan --deep: exit %d, want not-ready because of the binaries; stdout:\n%s\nstderr:\n%s", deep.code, deep.stdout, deep.stderr)
	}
}
