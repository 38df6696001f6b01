package helm

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/archwaydev/archway/internal/source/kube"
	"github.com/archwaydev/archway/internal/workload"
)

// summary is one line per container: workload, where it is, image and
// where the image is, plus the pinned architectures.
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
	ctx := context.Background()
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{
			name: "chart defaults",
			want: []string{
				"helm StatefulSet/release-name-db shop/charts/db/templates/statefulset.yaml:1 postgres(container) postgres:16.3:17:18 pinned=[]",
				"helm StatefulSet/release-name-db shop/charts/db/templates/statefulset.yaml:1 init-perms(init) busybox:1.36:14:18 pinned=[]",
				"helm Deployment/default/release-name-shop-web shop/templates/deployment.yaml:1 web(container) example/shop-web:1.0.0:18:18 pinned=[]",
			},
		},
		{
			name: "values file: new tag, worker enabled, pinned to arm64, subchart value",
			opts: Options{ReleaseName: "prod", Namespace: "shop", ValueFiles: []string{"testdata/values-prod.yaml"}},
			want: []string{
				"helm StatefulSet/prod-db shop/charts/db/templates/statefulset.yaml:1 postgres(container) registry.example.com/postgres:16.3:17:18 pinned=[]",
				"helm StatefulSet/prod-db shop/charts/db/templates/statefulset.yaml:1 init-perms(init) busybox:1.36:14:18 pinned=[]",
				"helm Deployment/shop/prod-shop-web shop/templates/deployment.yaml:1 web(container) example/shop-web:2.0.0:20:18 pinned=[arm64]",
				"helm Deployment/prod-shop-worker shop/templates/deployment.yaml:22 worker(container) example/shop-worker:1.0.0:31:18 pinned=[]",
			},
		},
		{
			name: "--set overrides the values file and disables the subchart",
			opts: Options{
				ValueFiles:   []string{"testdata/values-prod.yaml"},
				Values:       []string{"image.tag=3.1.4,db.enabled=false", "worker.enabled=false"},
				StringValues: []string{"image.repository=example/shop-web-arm"},
			},
			want: []string{
				"helm Deployment/default/release-name-shop-web shop/templates/deployment.yaml:1 web(container) example/shop-web-arm:3.1.4:20:18 pinned=[arm64]",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, err := Read(ctx, "testdata/shop", tt.opts)
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

func TestReadPackagedChart(t *testing.T) {
	ch, err := loader.Load("testdata/shop")
	if err != nil {
		t.Fatal(err)
	}
	tgz, err := chartutil.Save(ch, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(tgz) != "shop-0.3.0.tgz" {
		t.Fatalf("packaged as %s", tgz)
	}
	ws, err := Read(context.Background(), tgz, Options{Values: []string{"image.tag=9.9.9"}})
	if err != nil {
		t.Fatalf("Read(%s): %v", tgz, err)
	}
	want := []string{
		"helm StatefulSet/release-name-db shop/charts/db/templates/statefulset.yaml:1 postgres(container) postgres:16.3:17:18 pinned=[]",
		"helm StatefulSet/release-name-db shop/charts/db/templates/statefulset.yaml:1 init-perms(init) busybox:1.36:14:18 pinned=[]",
		"helm Deployment/default/release-name-shop-web shop/templates/deployment.yaml:1 web(container) example/shop-web:9.9.9:18:18 pinned=[]",
	}
	if diff := cmp.Diff(want, summary(ws)); diff != "" {
		t.Errorf("workloads (-want +got):\n%s", diff)
	}
}

func TestReadErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("bad template output keeps the good templates", func(t *testing.T) {
		ws, err := Read(ctx, "testdata/broken", Options{})
		if diff := cmp.Diff([]string{
			"helm Pod/good broken/templates/good.yaml:1 app(container) example/good:1:8:14 pinned=[]",
		}, summary(ws)); diff != "" {
			t.Errorf("workloads (-want +got):\n%s", diff)
		}
		var ke *kube.Error
		if !errors.As(err, &ke) || ke.File != "broken/templates/bad.yaml" || ke.Line == 0 {
			t.Fatalf("error = %v, want a *kube.Error in broken/templates/bad.yaml with a line", err)
		}
	})
	for _, tt := range []struct {
		name, path string
		opts       Options
		want       string
	}{
		{"missing dependency", "testdata/missing-dep", Options{}, "missing from charts/ (run helm dependency build): redis"},
		{"no chart", "testdata/nope", Options{}, "helm: loading chart testdata/nope"},
		{"missing values file", "testdata/shop", Options{ValueFiles: []string{"testdata/none.yaml"}}, "values file: open testdata/none.yaml"},
		{"bad --set", "testdata/shop", Options{Values: []string{"image.tag"}}, `--set "image.tag": key "tag" has no value`},
		{"bad kube version", "testdata/shop", Options{KubeVersion: "nonsense"}, "helm: chart testdata/shop: "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ws, err := Read(ctx, tt.path, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
			if len(ws) != 0 {
				t.Errorf("got %d workloads with a fatal error", len(ws))
			}
		})
	}
}
