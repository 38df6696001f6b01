package cli

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/source"
	"github.com/archwaydev/archway/internal/workload"
)

// startedLookup answers not found and closes started at its first call.
type startedLookup struct {
	once    sync.Once
	started chan struct{}
}

func (l *startedLookup) Lookup(_ context.Context, ref string) registry.Result {
	l.once.Do(func() { close(l.started) })
	return registry.Result{Ref: ref, Err: &registry.Error{Ref: ref, Cause: registry.CauseNotFound}}
}

// TestScanLooksUpWhileReading: images are looked up while other inputs are
// still being read. The second reader returns only once a lookup has
// started; a scan that read everything before looking anything up would
// wait for it in vain.
func TestScanLooksUpWhileReading(t *testing.T) {
	first := filepath.Join(t.TempDir(), "first.yaml")
	if err := os.WriteFile(first, []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: first}\nspec:\n  containers: [{name: c, image: r/first:1}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l := &startedLookup{started: make(chan struct{})}
	later := func(context.Context) ([]workload.Workload, []error) {
		select {
		case <-l.started:
		case <-time.After(20 * time.Second):
			t.Error("no lookup started while an input was still being read")
		}
		return []workload.Workload{{Kind: "Pod", Name: "later", Containers: []workload.Container{{Name: "c", Image: "r/later:1"}}}}, nil
	}
	rs := append(readers(scanUnits([]string{first}, "", scanOptions{})), later)
	in := readAndLookUp(t.Context(), rs, l, 2, nil)
	if len(in.errs) > 0 {
		t.Errorf("errors: %v", in.errs)
	}
	var ids []string
	for _, w := range in.workloads {
		ids = append(ids, w.ID())
	}
	if diff := cmp.Diff([]string{"Pod/first", "Pod/later"}, ids); diff != "" {
		t.Errorf("workloads (-want +got):\n%s", diff)
	}
	if len(in.images) != 2 {
		t.Errorf("looked up %d images, want 2", len(in.images))
	}
}

// TestScanUnits: how PATHs are split into units read in parallel.
func TestScanUnits(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{".git/config.yaml", "a.yaml", "notes.txt", "sub/b.yaml", "chart/Chart.yaml", "kust/kustomization.yaml"} {
		p := filepath.Join(root, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	o := scanOptions{values: []string{"v.yaml"}}
	tests := []struct {
		name  string
		paths []string
		kind  source.Kind
		want  []string
	}{
		{"plain directory: one unit per entry", []string{"."}, "", []string{
			"a.yaml  walked", "chart  ", "kust  ", "notes.txt  walked", "sub  ",
		}},
		{"--kind directory", []string{"."}, source.Directory, []string{
			"a.yaml  walked", "chart  ", "kust  ", "notes.txt  walked", "sub  ",
		}},
		{"--kind kubernetes: manifest files and directories", []string{"."}, source.Kubernetes, []string{
			"a.yaml kubernetes ", "chart kubernetes ", "kust kubernetes ", "sub kubernetes ",
		}},
		{"a chart is one unit with the values", []string{"chart"}, "", []string{"chart  values"}},
		{"a kustomization is one unit", []string{"kust"}, "", []string{"kust  values"}},
		{"--kind helm is one unit", []string{"chart"}, source.Helm, []string{"chart helm values"}},
		{"a file is one unit", []string{"a.yaml", "notes.txt"}, "", []string{"a.yaml  values", "notes.txt  values"}},
	}
	t.Chdir(root)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, u := range scanUnits(tt.paths, tt.kind, o) {
				flag := ""
				if u.walked {
					flag = "walked"
				}
				if len(u.opts.Helm.ValueFiles) > 0 {
					flag += "values"
				}
				got = append(got, filepath.ToSlash(u.path)+" "+string(u.opts.Kind)+" "+flag)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("units (-want +got):\n%s", diff)
			}
		})
	}
}
