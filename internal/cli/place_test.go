package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/postrender"

	"github.com/archwaydev/archway/internal/rewrite"
	"github.com/archwaydev/archway/internal/sandbox"
	"github.com/archwaydev/archway/internal/source/helm"
	"github.com/archwaydev/archway/internal/source/kube"
	"github.com/archwaydev/archway/internal/source/kustomize"
	"github.com/archwaydev/archway/internal/workload"
)

// placeFleet writes the example fleet pointing at a fresh sandbox registry
// into a temporary directory and returns the registry host and a function
// giving the absolute path of a fleet file.
func placeFleet(t *testing.T) (host string, at func(...string) string) {
	t.Helper()
	host = startSandbox(t)
	dir := t.TempDir()
	if err := sandbox.WriteFleet(dir, host); err != nil {
		t.Fatal(err)
	}
	return host, func(rel ...string) string { return filepath.Join(append([]string{dir}, rel...)...) }
}

// scrub replaces the registry host and the fleet directory in output.
func scrub(s, host string, at func(...string) string) string {
	dir := strings.TrimPrefix(filepath.ToSlash(at()), "/")
	return strings.ReplaceAll(strings.ReplaceAll(s, host, hostPlaceholder), dir, "FLEET")
}

// snapshot reads every file under dir.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func fleetArgs(at func(...string) string) []string {
	return []string{at("k8s"), at("ecs"), at("compose.yaml")}
}

func TestPlaceDryRun(t *testing.T) {
	host, at := placeFleet(t)
	before := snapshot(t, at())
	got := runArchway(t.Context(), "", append([]string{"place", "--arm-taint", "arm=true:NoSchedule", "--no-cache"}, fleetArgs(at)...)...)
	if got.code != ExitOK {
		t.Fatalf("exit code = %d, want 0; stderr:\n%s", got.code, got.stderr)
	}
	if diff := cmp.Diff(before, snapshot(t, at())); diff != "" {
		t.Errorf("a dry run changed files:\n%s", diff)
	}
	golden(t, "place_dryrun.golden", scrub(got.stdout, host, at))
	golden(t, "place_dryrun_stderr.golden", scrub(got.stderr, host, at))
}

func TestPlaceCheckInPlace(t *testing.T) {
	host, at := placeFleet(t)
	args := append([]string{"--arm-taint", "arm=true:NoSchedule", "--no-cache"}, fleetArgs(at)...)
	if err := os.Chmod(at("k8s", "billing.yaml"), 0o640); err != nil {
		t.Fatal(err)
	}
	if got := runArchway(t.Context(), "", append([]string{"place", "--check"}, args...)...); got.code != ExitUnsupported {
		t.Fatalf("--check before: exit code = %d, want %d; stderr:\n%s", got.code, ExitUnsupported, got.stderr)
	}
	got := runArchway(t.Context(), "", append([]string{"place", "--in-place"}, args...)...)
	if got.code != ExitOK {
		t.Fatalf("--in-place: exit code = %d, want 0; stderr:\n%s", got.code, got.stderr)
	}
	for _, f := range []string{"k8s/billing.yaml", "ecs/taskdef.json", "compose.yaml"} {
		b, err := os.ReadFile(at(f))
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "place_inplace_"+strings.NewReplacer("/", "_", ".", "_").Replace(f)+".golden", scrub(string(b), host, at))
	}
	if info, err := os.Stat(at("k8s", "billing.yaml")); err != nil || info.Mode().Perm() != 0o640 {
		t.Errorf("mode after --in-place = %v, %v; want 0640", info.Mode().Perm(), err)
	}
	// The cron job's image is missing from the registry: still skipped, so
	// a second check has nothing to change but says unknown.
	again := runArchway(t.Context(), "", append([]string{"place", "--check"}, args...)...)
	if again.code != ExitUnknown {
		t.Errorf("--check after: exit code = %d, want %d; stderr:\n%s", again.code, ExitUnknown, again.stderr)
	}
	if !strings.Contains(again.stderr, "would place 0 workload(s)") {
		t.Errorf("--check after --in-place still finds changes:\n%s", again.stderr)
	}
}

// TestPlaceReadOnly: a read-only file is refused (exit 4, untouched) and
// not counted as placed; the other files are written.
func TestPlaceReadOnly(t *testing.T) {
	_, at := placeFleet(t)
	ro := at("k8s", "billing.yaml")
	before, err := os.ReadFile(ro)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(ro, 0o444); err != nil {
		t.Fatal(err)
	}
	dry := runArchway(t.Context(), "", "place", "--check", "--no-cache", "--arm-taint", "arm=true:NoSchedule", at("k8s"))
	got := runArchway(t.Context(), "", "place", "--in-place", "--no-cache", "--arm-taint", "arm=true:NoSchedule", at("k8s"))
	if got.code != ExitError || !strings.Contains(got.stderr, "billing.yaml is read-only (mode 0444): left untouched") {
		t.Fatalf("exit code = %d, want %d with a read-only error; stderr:\n%s", got.code, ExitError, got.stderr)
	}
	if after, _ := os.ReadFile(ro); string(after) != string(before) {
		t.Error("the read-only file was written")
	}
	if info, _ := os.Stat(ro); info.Mode().Perm() != 0o444 {
		t.Errorf("mode = %v, want 0444 kept", info.Mode().Perm())
	}
	var wouldPlace, placed int
	if _, err := fmt.Sscanf(dry.stderr[strings.Index(dry.stderr, "would place"):], "would place %d", &wouldPlace); err != nil {
		t.Fatalf("no summary in --check's stderr:\n%s", dry.stderr)
	}
	if _, err := fmt.Sscanf(got.stderr[strings.Index(got.stderr, "placed "):], "placed %d", &placed); err != nil {
		t.Fatalf("no summary in stderr:\n%s", got.stderr)
	}
	if placed != wouldPlace-1 {
		t.Errorf("placed %d, want %d: the refused file's workload is not counted", placed, wouldPlace-1)
	}
}

func TestPlaceOutputDir(t *testing.T) {
	_, at := placeFleet(t)
	before := snapshot(t, at("k8s"))
	out := filepath.Join(t.TempDir(), "out")
	got := runArchway(t.Context(), "", "place", "--no-cache", "--output-dir", out, at("k8s"))
	if got.code != ExitOK {
		t.Fatalf("exit code = %d; stderr:\n%s", got.code, got.stderr)
	}
	if diff := cmp.Diff(before, snapshot(t, at("k8s"))); diff != "" {
		t.Errorf("-o changed the inputs:\n%s", diff)
	}
	b, err := os.ReadFile(filepath.Join(out, "billing.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ws, err := kube.Parse("billing.yaml", b)
	if err != nil || len(ws) != 1 {
		t.Fatalf("placed billing.yaml: %d workloads, %v", len(ws), err)
	}
	if diff := cmp.Diff([]string{"amd64"}, ws[0].PinnedArchitectures); diff != "" {
		t.Errorf("billing pinned (-want +got):\n%s", diff)
	}
}

func TestPlaceBadFileUntouched(t *testing.T) {
	_, at := placeFleet(t)
	bad := "apiVersion: v1\nkind: Pod\nspec:\n  containers: [\n"
	if err := os.WriteFile(at("k8s", "broken.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	got := runArchway(t.Context(), "", "place", "--no-cache", "--in-place", at())
	if !strings.Contains(got.stderr, "chart is a Helm chart, skipped") {
		t.Errorf("the chart was not skipped with a note:\n%s", got.stderr)
	}
	if got.code != ExitError {
		t.Errorf("exit code = %d, want %d", got.code, ExitError)
	}
	if !strings.Contains(got.stderr, "k8s/broken.yaml:") || !strings.Contains(got.stderr, "left untouched") {
		t.Errorf("stderr does not name the bad file:\n%s", got.stderr)
	}
	if b, _ := os.ReadFile(at("k8s", "broken.yaml")); string(b) != bad {
		t.Error("the bad file was changed")
	}
	if b, _ := os.ReadFile(at("k8s", "billing.yaml")); !strings.Contains(string(b), "kubernetes.io/arch") {
		t.Error("the good files were not placed")
	}
}

func TestPlaceUsage(t *testing.T) {
	for _, args := range [][]string{
		{"place", "--in-place", "--check", "x.yaml"},
		{"place"},
		{"place", "--post-renderer", "x.yaml"},
		{"place", "--arm-taint=arm=true", "x.yaml"},
		{"place", "--prefer", "arm64=500", "x.yaml"},
		{"place", "--style", "labels", "x.yaml"},
		{"place", "--platform", "linux/s390x", "x.yaml"},
		{"place", "--cluster-archs", "sparc", "x.yaml"},
		{"place", "--kustomize-patch", "--post-renderer"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			got := runArchway(t.Context(), "", args...)
			if got.code != ExitUsage {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", got.code, ExitUsage, got.stderr)
			}
		})
	}
}

// TestPlaceHelmPostRenderer runs archway the way Helm 3 does: through
// helm's own postrender.NewExec, with the chart's rendered manifests on
// stdin and the placed ones read from stdout.
func TestPlaceHelmPostRenderer(t *testing.T) {
	host, at := placeFleet(t)
	chrt, err := loader.Load(at("chart"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := helm.Render(chrt, helm.Options{ReleaseName: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	var rendered bytes.Buffer
	for name, content := range files {
		rendered.WriteString("---\n# Source: " + name + "\n" + content)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(execEnv, "1")
	pr, err := postrender.NewExec(self, "place", "--post-renderer", "--arm-taint", "arm=true:NoSchedule", "--no-cache")
	if err != nil {
		t.Fatal(err)
	}
	out, err := pr.Run(&rendered)
	if err != nil {
		t.Fatalf("post-renderer: %v", err)
	}
	ws, err := kube.Parse("post-rendered", out.Bytes())
	if err != nil || len(ws) != 1 {
		t.Fatalf("post-rendered output: %d workloads, %v\n%s", len(ws), err, out)
	}
	w := ws[0]
	if w.Containers[0].Image != host+"/demo/queue:1.1" {
		t.Errorf("image = %q", w.Containers[0].Image)
	}
	if diff := cmp.Diff([]string{"amd64"}, w.PinnedArchitectures); diff != "" {
		t.Errorf("queue 1.1 is amd64 only; pinned (-want +got):\n%s", diff)
	}
	if !strings.Contains(out.String(), "# Source: queue/templates/deployment.yaml") {
		t.Errorf("Helm's source comment was lost:\n%s", out)
	}
	// Failure is a non-zero exit, which Helm turns into an error.
	bad, _ := postrender.NewExec(self, "place", "--post-renderer", "--no-cache")
	if _, err := bad.Run(bytes.NewBufferString("kind: Pod\nspec: [\n")); err == nil {
		t.Error("a stream that does not parse: want an error from the post-renderer")
	}
}

func TestPlaceKustomizePatch(t *testing.T) {
	host := startSandbox(t)
	dir := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(content, "REGISTRY", host)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("base/kustomization.yaml", "resources:\n- deploy.yaml\n")
	write("base/deploy.yaml", `apiVersion: apps/v1
kind: Deployment
metadata:
  name: billing
spec:
  selector:
    matchLabels: {app: billing}
  template:
    metadata:
      labels: {app: billing}
    spec:
      containers:
      - name: billing
        image: REGISTRY/demo/legacy-billing:3.2
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: edge
spec:
  selector:
    matchLabels: {app: edge}
  template:
    metadata:
      labels: {app: edge}
    spec:
      containers:
      - name: edge
        image: REGISTRY/demo/edge-agent:0.9
`)
	overlay := filepath.Join(dir, "overlay")
	write("overlay/kustomization.yaml", `# Production overlay.
namePrefix: prod-
namespace: shop
resources:
- ../base # the shared base
`)
	base := snapshot(t, filepath.Join(dir, "base"))
	got := runArchway(t.Context(), "", "place", "--kustomize-patch", "--in-place", "--arm-taint", "arm=true:NoSchedule", "--no-cache", overlay)
	if got.code != ExitOK {
		t.Fatalf("exit code = %d; stderr:\n%s", got.code, got.stderr)
	}
	if diff := cmp.Diff(base, snapshot(t, filepath.Join(dir, "base"))); diff != "" {
		t.Errorf("the base was edited:\n%s", diff)
	}
	k, _ := os.ReadFile(filepath.Join(overlay, "kustomization.yaml"))
	golden(t, "place_kustomization.golden", string(k))
	patch, _ := os.ReadFile(filepath.Join(overlay, rewrite.PatchFile))
	golden(t, "place_kustomize_patch.golden", strings.ReplaceAll(string(patch), host, hostPlaceholder))

	// kustomize itself applies the patch.
	b, err := kustomize.Build(overlay, kustomize.BuildOptions{})
	built := b.YAML
	if err != nil {
		t.Fatal(err)
	}
	ws, err := kube.Parse("built", built)
	if err != nil {
		t.Fatal(err)
	}
	pinned := map[string][]string{}
	for _, w := range ws {
		pinned[w.Namespace+"/"+w.Name] = w.PinnedArchitectures
		if w.Name == "prod-edge" && !hasArmToleration(w) {
			t.Errorf("prod-edge lacks the arm toleration")
		}
	}
	want := map[string][]string{"shop/prod-billing": {"amd64"}, "shop/prod-edge": {"arm64"}}
	if diff := cmp.Diff(want, pinned); diff != "" {
		t.Errorf("built placement (-want +got):\n%s", diff)
	}

	// A second run changes nothing.
	before := snapshot(t, dir)
	again := runArchway(t.Context(), "", "place", "--kustomize-patch", "--check", "--arm-taint", "arm=true:NoSchedule", "--no-cache", overlay)
	if again.code != ExitOK {
		t.Errorf("second --check: exit code = %d; stderr:\n%s", again.code, again.stderr)
	}
	runArchway(t.Context(), "", "place", "--kustomize-patch", "--in-place", "--arm-taint", "arm=true:NoSchedule", "--no-cache", overlay)
	if diff := cmp.Diff(before, snapshot(t, dir)); diff != "" {
		t.Errorf("a second --in-place changed files:\n%s", diff)
	}
}

func hasArmToleration(w workload.Workload) bool {
	for _, tol := range w.PodSpec.Tolerations {
		if tol.Key == "arm" && tol.Value == "true" {
			return true
		}
	}
	return false
}
