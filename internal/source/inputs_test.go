package source

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/archwaydev/archway/internal/source/helm"
)

// TestInputs: how paths are split into inputs read in parallel.
func TestInputs(t *testing.T) {
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
	o := Options{Helm: helm.Options{ValueFiles: []string{"v.yaml"}}}
	tests := []struct {
		name  string
		paths []string
		kind  Kind
		want  []string
	}{
		{"plain directory: one unit per entry, the dot-directory noted as skipped", []string{"."}, "", []string{
			".git  skipped", "a.yaml  walked", "chart  walked", "kust  walked", "notes.txt  walked", "sub  walked",
		}},
		{"--kind directory", []string{"."}, Directory, []string{
			".git  skipped", "a.yaml  walked", "chart  walked", "kust  walked", "notes.txt  walked", "sub  walked",
		}},
		{"--kind kubernetes: manifest files and directories", []string{"."}, Kubernetes, []string{
			".git  skipped", "a.yaml kubernetes ", "chart kubernetes walked", "kust kubernetes walked", "sub kubernetes walked",
		}},
		{"a chart is one unit with the values", []string{"chart"}, "", []string{"chart  values"}},
		{"a kustomization is one unit", []string{"kust"}, "", []string{"kust  values"}},
		{"--kind helm is one unit", []string{"chart"}, Helm, []string{"chart helm values"}},
		{"a file is one unit", []string{"a.yaml", "notes.txt"}, "", []string{"a.yaml  values", "notes.txt  values"}},
	}
	t.Chdir(root)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			o.Kind = tt.kind
			for _, u := range Inputs(tt.paths, o) {
				flag := ""
				if u.skip != "" {
					flag = "skipped"
				}
				if u.walked {
					flag = "walked"
				}
				if len(u.Options.Helm.ValueFiles) > 0 {
					flag += "values"
				}
				got = append(got, filepath.ToSlash(u.Path)+" "+string(u.Options.Kind)+" "+flag)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("units (-want +got):\n%s", diff)
			}
		})
	}
}
