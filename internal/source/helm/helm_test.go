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
			out = append(out, fmt.Sprintf("%s %s %s %s(%s) %s@%s pinned=%v",
				w.Source, w.ID(), where(w.Location), c.Name, c.Kind, c.Image, where(c.Location), w.PinnedArchitectures))
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
				"helm StatefulSet/release-name-db testdata/shop/charts/db/templates/statefulset.yaml:2:0 postgres(container) postgres:16.3@testdata/shop/charts/db/templates/statefulset.yaml:17:18 pinned=[]",
				"helm StatefulSet/release-name-db testdata/shop/charts/db/templates/statefulset.yaml:2:0 init-perms(init) busybox:1.36@testdata/shop/charts/db/templates/statefulset.yaml:14:18 pinned=[]",
				"helm Deployment/default/release-name-shop-web testdata/shop/templates/deployment.yaml:~2 web(container) example/shop-web:1.0.0@testdata/shop/templates/deployment.yaml:~22 pinned=[]",
			},
		},
		{
			name: "values file: new tag, worker enabled, pinned to arm64, subchart value",
			opts: Options{ReleaseName: "prod", Namespace: "shop", ValueFiles: []string{"testdata/values-prod.yaml"}},
			want: []string{
				"helm StatefulSet/prod-db testdata/shop/charts/db/templates/statefulset.yaml:2:0 postgres(container) registry.example.com/postgres:16.3@testdata/shop/charts/db/templates/statefulset.yaml:17:18 pinned=[]",
				"helm StatefulSet/prod-db testdata/shop/charts/db/templates/statefulset.yaml:2:0 init-perms(init) busybox:1.36@testdata/shop/charts/db/templates/statefulset.yaml:14:18 pinned=[]",
				"helm Deployment/shop/prod-shop-web testdata/shop/templates/deployment.yaml:2:0 web(container) example/shop-web:2.0.0@testdata/shop/templates/deployment.yaml:22:18 pinned=[arm64]",
				"helm Deployment/prod-shop-worker testdata/shop/templates/deployment.yaml:26:0 worker(container) example/shop-worker:1.0.0@testdata/shop/templates/deployment.yaml:34:18 pinned=[]",
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
				"helm Deployment/default/release-name-shop-web testdata/shop/templates/deployment.yaml:~2 web(container) example/shop-web-arm:3.1.4@testdata/shop/templates/deployment.yaml:~22 pinned=[arm64]",
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
	at := tgz + ":0:0"
	want := []string{
		"helm StatefulSet/release-name-db " + at + " postgres(container) postgres:16.3@" + at + " pinned=[]",
		"helm StatefulSet/release-name-db " + at + " init-perms(init) busybox:1.36@" + at + " pinned=[]",
		"helm Deployment/default/release-name-shop-web " + at + " web(container) example/shop-web:9.9.9@" + at + " pinned=[]",
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
			"helm Pod/good testdata/broken/templates/good.yaml:2:0 app(container) example/good:1@testdata/broken/templates/good.yaml:8:14 pinned=[]",
		}, summary(ws)); diff != "" {
			t.Errorf("workloads (-want +got):\n%s", diff)
		}
		var ke *kube.Error
		if !errors.As(err, &ke) || ke.File != "testdata/broken/templates/bad.yaml" || !strings.Contains(ke.Error(), "rendered line 4: ") {
			t.Fatalf("error = %v, want a *kube.Error in testdata/broken/templates/bad.yaml naming the rendered line", err)
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
