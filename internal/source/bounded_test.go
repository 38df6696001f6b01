package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/archwaydev/archway/internal/render"
)

// TestReadBoundedRenders: a chart whose template never ends and one that
// eats memory fail alone, each with its bound; the good chart, the
// kustomization and the manifest beside them are still read.
func TestReadBoundedRenders(t *testing.T) {
	root := t.TempDir()
	write := func(name, content string) {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	chartYAML := func(name string) string { return "apiVersion: v2\nname: " + name + "\nversion: 0.1.0\n" }
	pod := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\nspec:\n  containers:\n  - name: c\n    image: example/%s:1\n"
	write("charts/endless/Chart.yaml", chartYAML("endless"))
	write("charts/endless/templates/x.yaml", "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}\n")
	write("charts/hungry/Chart.yaml", chartYAML("hungry"))
	write("charts/hungry/templates/x.yaml", "{{ range until 2000000000 }}x{{ end }}\n")
	write("charts/good/Chart.yaml", chartYAML("good"))
	write("charts/good/templates/pod.yaml", strings.ReplaceAll(pod, "%s", "good"))
	write("deploy/kustomization.yaml", "resources: [pod.yaml]\n")
	write("deploy/pod.yaml", strings.ReplaceAll(pod, "%s", "kust"))
	write("k8s/pod.yaml", strings.ReplaceAll(pod, "%s", "plain"))

	start := time.Now()
	r := ReadResult(context.Background(), root, Options{Render: render.Limits{Timeout: 2 * time.Second, Memory: 256 << 20}})
	t.Logf("read in %v", time.Since(start).Round(time.Millisecond))
	var got []string
	for _, w := range r.Workloads {
		got = append(got, w.ID())
	}
	if diff := cmp.Diff([]string{"Pod/good", "Pod/kust", "Pod/plain"}, got); diff != "" {
		t.Errorf("workloads (-want +got):\n%s", diff)
	}
	var timeouts, memory int
	for _, err := range r.Errs {
		switch {
		case errors.Is(err, render.ErrTimeout):
			timeouts++
			if !strings.Contains(err.Error(), "charts/endless") {
				t.Errorf("timeout error does not name its chart: %v", err)
			}
		case errors.Is(err, render.ErrMemory):
			memory++
			if !strings.Contains(err.Error(), "charts/hungry") {
				t.Errorf("memory error does not name its chart: %v", err)
			}
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if timeouts != 1 || memory != 1 {
		t.Errorf("errors %q: want one timeout and one memory bound", r.Errs)
	}
}

// TestReadSpecialFiles: an input that is a device or a named pipe, of any
// kind, is refused at once instead of read without end.
func TestReadSpecialFiles(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []Kind{"", Kubernetes, ECS, Compose, Dockerfile} {
		for _, path := range []string{"/dev/zero", fifo} {
			r := ReadResult(context.Background(), path, Options{Kind: kind})
			if len(r.Errs) != 1 || len(r.Workloads) != 0 {
				t.Errorf("%s as %q: errors %v, %d workloads", path, kind, r.Errs, len(r.Workloads))
			}
		}
	}
}
