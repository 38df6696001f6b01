package kustomize

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/archwaydev/archway/internal/workload"
)

func summary(ws []workload.Workload) []string {
	var out []string
	for _, w := range ws {
		for _, c := range w.Containers {
			out = append(out, fmt.Sprintf("%s %s@%s %s(%s) %s@%s pinned=%v",
				w.Source, w.ID(), w.Location.String(), c.Name, c.Kind, c.Image, c.Location.String(), w.PinnedArchitectures))
		}
	}
	return out
}

func TestRead(t *testing.T) {
	const (
		dep = "testdata/base/deployment.yaml"
		cj  = "testdata/base/cronjob.yaml"
		ov  = "testdata/overlays/prod/kustomization.yaml"
	)
	tests := []struct {
		dir  string
		want []string
	}{
		{
			dir: "testdata/base",
			want: []string{
				"kustomize Deployment/api@" + dep + ":1:0 api(container) example/api:1.0@" + dep + ":19:18 pinned=[]",
				"kustomize Deployment/api@" + dep + ":1:0 sidecar(container) docker.io/library/redis:7.2@" + dep + ":21:18 pinned=[]",
				"kustomize Deployment/api@" + dep + ":1:0 migrate(init) example/migrate:1.0@" + dep + ":16:18 pinned=[]",
				"kustomize CronJob/report@" + cj + ":1:0 report(container) example/report:1.0@" + cj + ":14:22 pinned=[]",
			},
		},
		{
			dir: "testdata/overlays/prod",
			want: []string{
				"kustomize Deployment/prod/prod-api@" + dep + ":1:0 api(container) example/api:2.1@" + ov + ":8:5 pinned=[arm64]",
				"kustomize Deployment/prod/prod-api@" + dep + ":1:0 sidecar(container) docker.io/library/redis@sha256:1111111111111111111111111111111111111111111111111111111111111111@" + ov + ":12:5 pinned=[arm64]",
				"kustomize Deployment/prod/prod-api@" + dep + ":1:0 migrate(init) registry.example.com/tools/migrate:1.0@" + ov + ":10:5 pinned=[arm64]",
				"kustomize CronJob/prod/prod-report@" + cj + ":1:0 report(container) example/report:1.0@" + cj + ":14:22 pinned=[]",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			ws, notes, err := Read(tt.dir)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if len(notes) != 0 {
				t.Errorf("notes = %q, want none", notes)
			}
			if diff := cmp.Diff(tt.want, summary(ws)); diff != "" {
				t.Errorf("workloads (-want +got):\n%s", diff)
			}
			for _, w := range ws {
				if w.PodSpec == nil {
					t.Errorf("%s: no PodSpec", w.ID())
				}
			}
		})
	}
}

// TestReadShop reads a tree laid out the way real ones are (a base with a
// deprecated field, a Component with its own images: entry, an overlay
// with a name prefix, images: entries and a deprecated patch field) and
// checks every finding's file and line, and the warnings.
func TestReadShop(t *testing.T) {
	const (
		dep  = "testdata/shop/base/deployment.yaml"
		wrk  = "testdata/shop/base/worker.yaml"
		exp  = "testdata/shop/components/monitoring/exporter.yaml"
		comp = "testdata/shop/components/monitoring/kustomization.yaml"
		ov   = "testdata/shop/overlays/prod/kustomization.yaml"
	)
	ws, notes, err := Read("testdata/shop/overlays/prod")
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	want := []string{
		"kustomize Deployment/shop-prod/prod-api@" + dep + ":1:0 api(container) ghcr.io/example/shop-api:1.9.2@" + ov + ":10:5 pinned=[]",
		"kustomize Deployment/shop-prod/prod-api@" + dep + ":1:0 cache(container) registry.example.com/mirror/redis@sha256:2222222222222222222222222222222222222222222222222222222222222222@" + ov + ":12:5 pinned=[]",
		"kustomize Deployment/shop-prod/prod-api@" + dep + ":1:0 migrate(init) ghcr.io/example/shop-migrate:1.8.0@" + dep + ":17:18 pinned=[]",
		"kustomize Deployment/shop-prod/prod-worker@" + wrk + ":2:0 worker(container) ghcr.io/example/shop-worker:1.8.0@" + wrk + ":17:18 pinned=[]",
		"kustomize CronJob/shop-prod/prod-report@" + wrk + ":19:0 report(container) ghcr.io/example/shop-worker:1.8.0@" + wrk + ":32:22 pinned=[]",
		"kustomize Deployment/shop-prod/prod-redis-exporter@" + exp + ":1:0 exporter(container) docker.io/oliver006/redis_exporter:v1.58.0@" + comp + ":6:5 pinned=[]",
	}
	if diff := cmp.Diff(want, summary(ws)); diff != "" {
		t.Errorf("workloads (-want +got):\n%s", diff)
	}
	wantNotes := []string{
		"testdata/shop/overlays/prod/kustomization.yaml: 'patchesStrategicMerge' is deprecated. Please use 'patches' instead. Run 'kustomize edit fix' to update your Kustomization automatically.",
		"testdata/shop/base/kustomization.yaml: 'commonLabels' is deprecated. Please use 'labels' instead. Run 'kustomize edit fix' to update your Kustomization automatically.",
	}
	if diff := cmp.Diff(wantNotes, notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	// The fixed kustomization builds what kustomize builds: the labels
	// commonLabels set, on selectors too, and the patch applied.
	b, err := Build("testdata/shop/overlays/prod", BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := b.YAML
	for _, s := range []string{"app.kubernetes.io/part-of: shop", "replicas: 6"} {
		if !strings.Contains(string(out), s) {
			t.Errorf("build output lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(string(out), originAnnotation) {
		t.Errorf("Build output has origin annotations (place writes from it):\n%s", out)
	}
}

func TestIsComponent(t *testing.T) {
	for dir, want := range map[string]bool{
		"testdata/shop/components/monitoring": true,
		"testdata/shop/overlays/prod":         false,
		"testdata/nope":                       false,
	} {
		if got := IsComponent(dir); got != want {
			t.Errorf("IsComponent(%s) = %v, want %v", dir, got, want)
		}
	}
}

func TestReadErrors(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ dir, want string }{
		{"testdata/broken", "kustomize build testdata/broken: "},
		{"testdata/nope", "kustomize build testdata/nope: "},
	} {
		t.Run(tt.dir, func(t *testing.T) {
			ws, _, err := Read(tt.dir)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error = %v, want prefix %q", err, tt.want)
			}
			if strings.Contains(err.Error(), wd) {
				t.Errorf("error %q names the machine's directory %s for a relative input", err, wd)
			}
			if len(ws) != 0 {
				t.Errorf("got %d workloads", len(ws))
			}
		})
	}
	abs, err := filepath.Abs("testdata/broken")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Read(abs); err == nil || !strings.Contains(err.Error(), abs) {
		t.Errorf("error = %v, want the absolute input %s kept", err, abs)
	}
}

// TestBuildSortOptions: a kustomization's own sortOptions are applied, and
// kustomize has no reason to log about the order option.
func TestBuildSortOptions(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{
		"kustomization.yaml": "resources: [a.yaml]\nsortOptions:\n  order: legacy\n",
		"a.yaml":             "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: z}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !hasSortOptions(dir) {
		t.Fatal("hasSortOptions = false")
	}
	var logged bytes.Buffer // kustomize logs through the standard logger
	log.SetOutput(&logged)
	defer log.SetOutput(os.Stderr)
	b, err := Build(dir, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := b.YAML
	if logged.Len() > 0 {
		t.Errorf("kustomize logged: %s", logged.String())
	}
	if !strings.HasPrefix(string(out), "apiVersion: v1\nkind: Namespace") {
		t.Errorf("legacy order not applied (Namespace first):\n%s", out)
	}
}

// TestFixedBuildsTheSame: the kustomizations archway hands kustomize,
// fixed, build exactly what the files as written build (kustomize prints
// its deprecation warnings for the latter, in this test's output).
func TestFixedBuildsTheSame(t *testing.T) {
	for _, dir := range []string{"testdata/shop/overlays/prod", "testdata/shop/base", "testdata/overlays/prod"} {
		t.Run(dir, func(t *testing.T) {
			m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
			if err != nil {
				t.Fatal(err)
			}
			want, err := m.AsYaml()
			if err != nil {
				t.Fatal(err)
			}
			got, err := Build(dir, BuildOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), string(got.YAML)); diff != "" {
				t.Errorf("build output (-as written +fixed):\n%s", diff)
			}
		})
	}
}

// Read builds the kustomization in dir in this process and returns the
// workloads of the output: Build with origins, then Workloads.
func Read(dir string) ([]workload.Workload, []string, error) {
	b, err := Build(dir, BuildOptions{Origins: true})
	if err != nil {
		return nil, b.Warnings, err
	}
	ws, err := Workloads(dir, b.YAML)
	return ws, b.Warnings, err
}
