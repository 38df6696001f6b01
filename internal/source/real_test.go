package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// realTree lays out, under a temporary directory made the working
// directory, a repository the way real ones are: a chart with a
// kubeVersion constraint and a subchart, a kustomize tree with a Component
// and images: entries, a compose file with a wasm service and build
// contexts, a monitoring stack's custom resources, an empty manifest, a
// whitespace-only JSON file, a symbolic link and a dot-directory.
func realTree(t *testing.T) {
	t.Helper()
	root := t.TempDir()
	for dst, src := range map[string]string{
		"charts/web": "helm/testdata/web",
		"deploy":     "kustomize/testdata/shop",
		"app":        "compose/testdata/wasm",
		"monitoring": "kube/testdata/operators",
	} {
		if err := os.CopyFS(filepath.Join(root, dst), os.DirFS(src)); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range map[string]string{
		"k8s/empty.yaml":   "",
		"k8s/blank.json":   " \n\t\n",
		".github/ci.yaml":  "on: push\n",
		"docs/README.md":   "# docs\n",
		"k8s/pod.yaml":     "apiVersion: v1\nkind: Pod\nmetadata:\n  name: debug\nspec:\n  containers:\n    - name: shell\n      image: busybox:1.36.1\n",
		"k8s/.keep":        "",
		"k8s/values.yaml":  "replicas: 2\n",
		"k8s/nested/x.yml": "",
	} {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("pod.yaml", filepath.Join(root, "k8s", "link.yaml")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
}

// readInputs reads paths the way a scan does: split into inputs, read one
// by one, merged.
func readInputs(ctx context.Context, paths []string) Result {
	var rs []Result
	for _, in := range Inputs(paths, Options{}) {
		rs = append(rs, in.Read(ctx))
	}
	return Merge(rs...)
}

func TestReadRealTree(t *testing.T) {
	realTree(t)
	for name, read := range map[string]func() Result{
		"Inputs":     func() Result { return readInputs(t.Context(), []string{"."}) },
		"ReadResult": func() Result { return ReadResult(t.Context(), ".", Options{}) },
	} {
		t.Run(name, func(t *testing.T) {
			r := read()
			if len(r.Errs) > 0 {
				t.Errorf("errors: %q", r.Errs)
			}
			var got []string
			for _, w := range r.Workloads {
				got = append(got, fmt.Sprintf("%s %s %s:%d", w.Source, w.ID(), filepath.ToSlash(w.Location.File), w.Location.Line))
			}
			want := []string{
				// The Dockerfiles under app/ are reported under the services that build them.
				"compose Service/storefront/api app/compose.yaml:3",
				"compose Service/storefront/edge app/compose.yaml:10",
				"compose Service/storefront/spin app/compose.yaml:14",
				"compose Service/storefront/reports app/compose.yaml:17",
				"compose Service/storefront/legacy app/compose.yaml:20",
				"compose Service/storefront/db app/compose.yaml:23",
				"helm StatefulSet/release-name-redis-master charts/web/charts/redis/templates/statefulset.yaml:2",
				"helm CronJob/release-name-web-cleanup charts/web/templates/cronjob.yaml:2",
				"helm Deployment/release-name-web charts/web/templates/deployment.yaml:3",
				// deploy/components/monitoring is a Component: built by the overlay only.
				"kustomize Deployment/api deploy/base/deployment.yaml:1",
				"kustomize Deployment/worker deploy/base/worker.yaml:2",
				"kustomize CronJob/report deploy/base/worker.yaml:19",
				"kustomize Deployment/shop-prod/prod-api deploy/base/deployment.yaml:1",
				"kustomize Deployment/shop-prod/prod-worker deploy/base/worker.yaml:2",
				"kustomize CronJob/shop-prod/prod-report deploy/base/worker.yaml:19",
				"kustomize Deployment/shop-prod/prod-redis-exporter deploy/components/monitoring/exporter.yaml:1",
				"kubernetes Pod/debug k8s/pod.yaml:1",
				"kubernetes Prometheus/monitoring/main monitoring/monitoring.yaml:2",
				"kubernetes Alertmanager/monitoring/main monitoring/monitoring.yaml:19",
				"kubernetes Database/orders monitoring/monitoring.yaml:47",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("workloads (-want +got):\n%s", diff)
			}
			var skipped []string
			for _, s := range r.Skipped {
				skipped = append(skipped, filepath.ToSlash(s.Path)+": "+s.Why)
			}
			wantSkipped := []string{
				".github: a dot-directory, not entered",
				"deploy/components/monitoring: a kustomize Component, built by the kustomizations that use it",
				"docs/README.md: not a known kind of input",
				"k8s/.keep: not a known kind of input",
				// k8s/link.yaml links to k8s/pod.yaml: read once, under that name.
				"k8s/values.yaml: not a known kind of input",
				"app/api/Dockerfile: a Dockerfile that compose service api builds, reported under the service",
				"app/edge/Dockerfile: a Dockerfile that compose service edge builds, reported under the service",
			}
			if diff := cmp.Diff(sortedSkips(wantSkipped), sortedSkips(skipped)); diff != "" {
				t.Errorf("skipped (-want +got):\n%s", diff)
			}
			// Inputs read: compose.yaml, the chart, the two kustomizations,
			// the four manifest files (two of them empty), monitoring.yaml.
			if r.Read != 9 {
				t.Errorf("read %d inputs, want 9", r.Read)
			}
			wantNotes := []string{
				"deploy/overlays/prod/kustomization.yaml: 'patchesStrategicMerge' is deprecated.",
				"deploy/base/kustomization.yaml: 'commonLabels' is deprecated.",
			}
			for _, n := range wantNotes {
				// Once, although the base is built alone and by the overlay.
				if c := strings.Count(strings.Join(r.Notes, "\n"), n); c != 1 {
					t.Errorf("notes have %q %d times, want once: %q", n, c, r.Notes)
				}
			}
		})
	}
}

// sortedSkips sorts skip lines: inputs are read in parallel, so the order
// of skips across inputs is not the walk's.
func sortedSkips(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestReadEmptyFiles: an empty or whitespace-only manifest, YAML or JSON,
// is no objects, not an error, whether named or found in a walk.
func TestReadEmptyFiles(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{"empty.yaml": "", "blank.yml": "\n  \n", "empty.json": "", "blank.json": "\r\n\t ", "bom.json": "\xef\xbb\xbf\n"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			if kind, err := Detect(p); err != nil || kind != Kubernetes {
				t.Errorf("Detect = %q, %v; want kubernetes", kind, err)
			}
			r := ReadResult(t.Context(), p, Options{})
			if len(r.Workloads) != 0 || len(r.Errs) != 0 || r.Read != 1 {
				t.Errorf("ReadResult = %d workloads, errors %q, %d read; want none, none, 1", len(r.Workloads), r.Errs, r.Read)
			}
		})
	}
	r := ReadResult(t.Context(), dir, Options{})
	if len(r.Errs) != 0 || r.Read != 5 {
		t.Errorf("walk: errors %q, %d read; want none, 5", r.Errs, r.Read)
	}
}

// TestReadNothing: what a scan that finds nothing says it read.
func TestReadNothing(t *testing.T) {
	empty := t.TempDir()
	links := t.TempDir()
	for _, n := range []string{"a.yaml", "b.yaml"} {
		if err := os.Symlink(filepath.Join(empty, "nowhere.yaml"), filepath.Join(links, n)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		path, want string
		errs       int // dangling links are input problems (package walk)
	}{
		{empty, "0 inputs read, nothing skipped", 0},
		{links, "0 inputs read, nothing skipped", 2},
	}
	for _, tt := range tests {
		r := readInputs(t.Context(), []string{tt.path})
		if got := r.Summary(); got != tt.want || len(r.Workloads) != 0 || len(r.Errs) != tt.errs {
			t.Errorf("%s: %d workloads, %d errors %v, Summary() = %q; want none, %d, %q", tt.path, len(r.Workloads), len(r.Errs), r.Errs, got, tt.errs, tt.want)
		}
		for _, err := range r.Errs {
			if !strings.Contains(err.Error(), "which does not exist") {
				t.Errorf("error %v does not say the link is dangling", err)
			}
		}
	}
}

// TestReadComponent: a kustomize Component named as an input is an error
// that says what to do (a walk skips it); the error names the path as
// given.
func TestReadComponent(t *testing.T) {
	const dir = "kustomize/testdata/shop/components/monitoring"
	_, err := Read(t.Context(), dir, Options{})
	if err == nil || !strings.Contains(err.Error(), dir+": a kustomize Component, built by the kustomizations that use it: scan a kustomization that uses it") {
		t.Errorf("error = %v", err)
	}
	wd, _ := os.Getwd()
	if err != nil && strings.Contains(err.Error(), wd) {
		t.Errorf("error %q names the machine's path", err)
	}
	if errors.Is(err, ErrUnknownKind) {
		t.Errorf("error %v is an unknown kind", err)
	}
}

// TestReadDockerfileNamed: a Dockerfile named as an input is reported on
// its own even when a compose service named beside it builds it: only a
// walk leaves it to the service.
func TestReadDockerfileNamed(t *testing.T) {
	realTree(t)
	r := readInputs(t.Context(), []string{"app/compose.yaml", "app/api/Dockerfile"})
	var got []string
	for _, w := range r.Workloads {
		got = append(got, w.ID())
	}
	want := []string{
		"Service/storefront/api", "Service/storefront/edge", "Service/storefront/spin",
		"Service/storefront/reports", "Service/storefront/legacy", "Service/storefront/db",
		"Dockerfile/app/api/Dockerfile",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("workloads (-want +got):\n%s", diff)
	}
	if len(r.Skipped) != 0 {
		t.Errorf("skipped %q, want nothing", r.Skipped)
	}
}
