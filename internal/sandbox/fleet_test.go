package sandbox_test

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	yaml "go.yaml.in/yaml/v3"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"

	"github.com/archwaydev/archway/internal/sandbox"
	"github.com/archwaydev/archway/internal/source/compose"
	"github.com/archwaydev/archway/internal/source/dockerfile"
	"github.com/archwaydev/archway/internal/source/ecs"
	"github.com/archwaydev/archway/internal/workload"
)

const host = "127.0.0.1:5000"

// summary is one line per workload: its ID, pinned architectures, and its
// containers as kind=image.
func summary(ws []workload.Workload) []string {
	var out []string
	for _, w := range ws {
		s := w.ID()
		if w.PinnedArchitectures != nil {
			s += fmt.Sprintf(" pinned=%v", w.PinnedArchitectures)
		}
		for _, c := range w.Containers {
			s += fmt.Sprintf(" %s=%s", c.Kind, c.Image)
		}
		out = append(out, s)
	}
	return out
}

func TestWriteFleet(t *testing.T) {
	dir := t.TempDir()
	if err := sandbox.WriteFleet(dir, host); err != nil {
		t.Fatalf("WriteFleet: %v", err)
	}

	wantFiles := []string{
		"app/Dockerfile",
		"chart/Chart.yaml",
		"chart/templates/_helpers.tpl",
		"chart/templates/deployment.yaml",
		"chart/values.yaml",
		"compose.yaml",
		"ecs/taskdef.json",
		"k8s/api.yaml",
		"k8s/billing.yaml",
		"k8s/edge.yaml",
		"k8s/report.yaml",
		"k8s/worker.yaml",
	}
	if diff := cmp.Diff(wantFiles, sandbox.FleetFiles()); diff != "" {
		t.Errorf("FleetFiles (-want +got):\n%s", diff)
	}
	// Exactly those files on disk (no temporary files left), and no
	// placeholder left in any of them.
	var onDisk []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		onDisk = append(onDisk, filepath.ToSlash(rel))
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(data, []byte(sandbox.FleetPlaceholder)) {
			t.Errorf("%s still holds %q", rel, sandbox.FleetPlaceholder)
		}
		if info, _ := d.Info(); info.Mode().Perm() != 0o644 {
			t.Errorf("%s mode = %v, want 0644", rel, info.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantFiles, onDisk); diff != "" {
		t.Errorf("files written (-want +got):\n%s", diff)
	}

	r := func(image string) string { return host + "/" + image }
	dockerfilePath := filepath.Join(dir, "app", "Dockerfile")
	tests := []struct {
		name string
		read func(string) ([]workload.Workload, error)
		path string
		want []string
	}{
		{
			name: "compose",
			read: compose.Read,
			path: filepath.Join(dir, "compose.yaml"),
			want: []string{
				"Service/shop/api container=" + r("demo/api:2.1"),
				"Service/shop/queue container=" + r("demo/queue:1.1"),
				"Service/shop/billing build=" + r("demo/worker:1.0") + " container=" + r("demo/legacy-billing:3.2"),
			},
		},
		{
			name: "dockerfile",
			read: dockerfile.Read,
			path: dockerfilePath,
			want: []string{"Dockerfile/" + dockerfilePath + " build=" + r("demo/worker:1.0") + " container=" + r("demo/legacy-billing:3.2")},
		},
		{
			name: "ecs",
			read: ecs.Read,
			path: filepath.Join(dir, "ecs", "taskdef.json"),
			want: []string{"TaskDefinition/checkout:4 container=" + r("demo/api:2.1") + " container=" + r("demo/legacy-billing:3.2")},
		},
		{
			name: "kubernetes",
			read: readManifests,
			path: filepath.Join(dir, "k8s"),
			want: []string{
				"Deployment/shop/api init=" + r("demo/sidecar:1.0") + " container=" + r("demo/api:2.1"),
				"Deployment/shop/billing container=" + r("demo/legacy-billing:3.2"),
				"Deployment/shop/edge pinned=[arm64] container=" + r("demo/edge-agent:0.9"),
				"CronJob/shop/report container=" + r("demo/missing:1.0"),
				"DaemonSet/shop/worker container=" + r("demo/worker:1.0"),
			},
		},
		{
			name: "helm",
			read: renderChart,
			path: filepath.Join(dir, "chart"),
			want: []string{"Deployment/shop/shop-queue container=" + r("demo/queue:1.1")},
		},
	}
	known := map[string]bool{host + "/" + sandbox.MissingRef: true}
	for _, img := range sandbox.Catalog() {
		known[img.Ref(host)] = true
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, err := tt.read(tt.path)
			if err != nil {
				t.Fatalf("read %s: %v", tt.path, err)
			}
			if diff := cmp.Diff(tt.want, summary(ws)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.path, diff)
			}
			// The demo must only point at what the sandbox serves.
			for _, w := range ws {
				for _, im := range w.Images() {
					if !known[im] {
						t.Errorf("%s: %s is not in the sandbox catalogue", w.ID(), im)
					}
				}
			}
		})
	}
}

func TestWriteFleetReplaces(t *testing.T) {
	dir := t.TempDir()
	if err := sandbox.WriteFleet(dir, "127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	if err := sandbox.WriteFleet(dir, "localhost:5001"); err != nil {
		t.Fatalf("second WriteFleet: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte("image: localhost:5001/demo/api:2.1")) || bytes.Contains(data, []byte("127.0.0.1:1/")) {
		t.Errorf("compose.yaml not rewritten for the new host:\n%s", data)
	}
}

func TestWriteFleetErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir, host, want string
	}{
		{name: "empty host", dir: t.TempDir(), host: "", want: `sandbox: write fleet: invalid registry host ""`},
		{name: "host with path", dir: t.TempDir(), host: "127.0.0.1:5000/x", want: `sandbox: write fleet: invalid registry host "127.0.0.1:5000/x"`},
		{name: "dir is a file", dir: file, host: host, want: "sandbox: write fleet: mkdir " + file + ": not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sandbox.WriteFleet(tt.dir, tt.host)
			if err == nil || err.Error() != tt.want {
				t.Errorf("WriteFleet error = %v, want %q", err, tt.want)
			}
		})
	}
}

// readManifests is a stand-in for the Kubernetes reader (tested in its own
// package): it decodes every document of every file under dir and lists
// the pod templates' images and nodeSelector architecture.
func readManifests(dir string) ([]workload.Workload, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	var ws []workload.Workload
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		got, err := decodeManifests(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		ws = append(ws, got...)
	}
	return ws, nil
}

type podSpec struct {
	NodeSelector   map[string]string        `yaml:"nodeSelector"`
	InitContainers []struct{ Image string } `yaml:"initContainers"`
	Containers     []struct{ Image string }
}

type template struct {
	Spec podSpec
}

type object struct {
	Kind     string
	Metadata struct{ Name, Namespace string }
	Spec     struct {
		Template    template
		JobTemplate struct{ Spec struct{ Template template } } `yaml:"jobTemplate"`
	}
}

func decodeManifests(data []byte) ([]workload.Workload, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var ws []workload.Workload
	for {
		var o object
		if err := dec.Decode(&o); err == io.EOF {
			return ws, nil
		} else if err != nil {
			return nil, err
		}
		spec := o.Spec.Template.Spec
		if o.Kind == "CronJob" {
			spec = o.Spec.JobTemplate.Spec.Template.Spec
		}
		if len(spec.Containers) == 0 {
			continue // not a workload
		}
		w := workload.Workload{Kind: o.Kind, Namespace: o.Metadata.Namespace, Name: o.Metadata.Name}
		if a, ok := spec.NodeSelector[workload.ArchLabel]; ok {
			w.PinnedArchitectures = []string{a}
		}
		for _, c := range spec.InitContainers {
			w.Containers = append(w.Containers, workload.Container{Kind: workload.ContainerInit, Image: c.Image})
		}
		for _, c := range spec.Containers {
			w.Containers = append(w.Containers, workload.Container{Kind: workload.ContainerRegular, Image: c.Image})
		}
		ws = append(ws, w)
	}
}

// renderChart renders the chart with the Helm SDK, as release "shop" in
// namespace "shop", and decodes what it renders.
func renderChart(dir string) ([]workload.Workload, error) {
	ch, err := loader.Load(dir)
	if err != nil {
		return nil, err
	}
	opts := chartutil.ReleaseOptions{Name: "shop", Namespace: "shop", IsInstall: true}
	vals, err := chartutil.ToRenderValues(ch, nil, opts, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, err
	}
	out, err := engine.Render(ch, vals)
	if err != nil {
		return nil, err
	}
	var ws []workload.Workload
	for name, manifest := range out {
		if !strings.HasSuffix(name, ".yaml") {
			continue
		}
		got, err := decodeManifests([]byte(manifest))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for i := range got {
			got[i].Namespace = opts.Namespace
		}
		ws = append(ws, got...)
	}
	return ws, nil
}
