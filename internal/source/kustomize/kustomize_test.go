package kustomize

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/archwaydev/archway/internal/workload"
)

func summary(ws []workload.Workload) []string {
	var out []string
	for _, w := range ws {
		for _, c := range w.Containers {
			out = append(out, fmt.Sprintf("%s %s %s:%d %s(%s) %s:%d:%d pinned=%v",
				w.Source, w.ID(), w.Location.File, w.Location.Line, c.Name, c.Kind, c.Image, c.Location.Line, c.Location.Column, w.PinnedArchitectures))
		}
	}
	return out
}

func TestRead(t *testing.T) {
	tests := []struct {
		dir  string
		want []string
	}{
		{
			dir: "testdata/base",
			want: []string{
				"kustomize Deployment/api kustomize build testdata/base:1 api(container) example/api:1.0:15:16 pinned=[]",
				"kustomize Deployment/api kustomize build testdata/base:1 sidecar(container) docker.io/library/redis:7.2:17:16 pinned=[]",
				"kustomize Deployment/api kustomize build testdata/base:1 migrate(init) example/migrate:1.0:20:16 pinned=[]",
				"kustomize CronJob/report kustomize build testdata/base:23 report(container) example/report:1.0:33:20 pinned=[]",
			},
		},
		{
			dir: "testdata/overlays/prod",
			want: []string{
				"kustomize Deployment/prod/prod-api kustomize build testdata/overlays/prod:1 api(container) example/api:2.1:16:16 pinned=[arm64]",
				"kustomize Deployment/prod/prod-api kustomize build testdata/overlays/prod:1 sidecar(container) docker.io/library/redis@sha256:1111111111111111111111111111111111111111111111111111111111111111:18:16 pinned=[arm64]",
				"kustomize Deployment/prod/prod-api kustomize build testdata/overlays/prod:1 migrate(init) registry.example.com/tools/migrate:1.0:21:16 pinned=[arm64]",
				"kustomize CronJob/prod/prod-report kustomize build testdata/overlays/prod:26 report(container) example/report:1.0:37:20 pinned=[]",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			ws, err := Read(tt.dir)
			if err != nil {
				t.Fatalf("Read: %v", err)
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

// TestLocationsMatchBuildOutput checks the documented promise: a
// container's line is the line of its image in the build output.
func TestLocationsMatchBuildOutput(t *testing.T) {
	dir := "testdata/overlays/prod"
	out, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(out), "\n")
	ws, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		for _, c := range w.Containers {
			line := lines[c.Location.Line-1]
			if got := line[c.Location.Column-1:]; got != c.Image {
				t.Errorf("%s %s: build output line %d from column %d is %q, want %q", w.ID(), c.Name, c.Location.Line, c.Location.Column, got, c.Image)
			}
		}
	}
}

func TestReadErrors(t *testing.T) {
	for _, tt := range []struct{ dir, want string }{
		{"testdata/broken", "kustomize build testdata/broken: "},
		{"testdata/nope", "kustomize build testdata/nope: "},
	} {
		t.Run(tt.dir, func(t *testing.T) {
			ws, err := Read(tt.dir)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error = %v, want prefix %q", err, tt.want)
			}
			if len(ws) != 0 {
				t.Errorf("got %d workloads", len(ws))
			}
		})
	}
}
