package helm

import (
	"context"
	"errors"
	"fmt"
	"os"
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
				w.Source, w.ID(), w.Location.String(), c.Name, c.Kind, c.Image, c.Location.String(), w.PinnedArchitectures))
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
		{"missing values file", "testdata/shop", Options{ValueFiles: []string{"testdata/none.yaml"}}, "values file: stat testdata/none.yaml"},
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

// locations is one line per container: workload ID and location, container
// name, image and location.
func locations(ws []workload.Workload) []string {
	var out []string
	for _, w := range ws {
		for _, c := range w.Containers {
			out = append(out, fmt.Sprintf("%s@%s %s=%s@%s", w.ID(), w.Location.String(), c.Name, c.Image, c.Location.String()))
		}
	}
	return out
}

// TestReadLocations reads a chart written the way popular charts are (a
// kubeVersion constraint, a vendored subchart with its own, images written
// through helpers and conditionals, a Capabilities switch) and checks that
// every finding points at the template on disk and its line.
func TestReadLocations(t *testing.T) {
	ctx := context.Background()
	const dep = "testdata/web/templates/deployment.yaml"
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{
			name: "defaults: the image lines in order, the subchart's own file",
			want: []string{
				"StatefulSet/release-name-redis-master@testdata/web/charts/redis/templates/statefulset.yaml:2:0 redis=docker.io/bitnami/redis:7.2.4-debian-12-r9@testdata/web/charts/redis/templates/statefulset.yaml:17:18",
				"CronJob/release-name-web-cleanup@testdata/web/templates/cronjob.yaml:2:0 cleanup=busybox:1.36.1@testdata/web/templates/cronjob.yaml:14:22",
				"Deployment/release-name-web@" + dep + ":3:0 web=ghcr.io/example/web:2.3.1@" + dep + ":28:18",
				"Deployment/release-name-web@" + dep + ":3:0 statsd-exporter=quay.io/prometheus/statsd-exporter:v0.26.1@" + dep + ":33:18",
				"Deployment/release-name-web@" + dep + ":3:0 migrate=ghcr.io/example/web-migrate:2.3.1@" + dep + ":24:18",
			},
		},
		{
			name: "a conditional container left out: the image lines are approximate",
			opts: Options{Values: []string{"metrics.enabled=false,redis.enabled=false"}},
			want: []string{
				"CronJob/release-name-web-cleanup@testdata/web/templates/cronjob.yaml:2:0 cleanup=busybox:1.36.1@testdata/web/templates/cronjob.yaml:14:22",
				"Deployment/release-name-web@" + dep + ":3:0 web=ghcr.io/example/web:2.3.1@" + dep + ":~24",
				"Deployment/release-name-web@" + dep + ":3:0 migrate=ghcr.io/example/web-migrate:2.3.1@" + dep + ":~24",
			},
		},
		{
			name: "--api-versions switches the template to a Rollout",
			opts: Options{APIVersions: []string{"argoproj.io/v1alpha1/Rollout"}, Values: []string{"redis.enabled=false,metrics.enabled=false"}},
			want: []string{
				"CronJob/release-name-web-cleanup@testdata/web/templates/cronjob.yaml:2:0 cleanup=busybox:1.36.1@testdata/web/templates/cronjob.yaml:14:22",
				"Rollout/release-name-web@" + dep + ":6:0 web=ghcr.io/example/web:2.3.1@" + dep + ":~24",
				"Rollout/release-name-web@" + dep + ":6:0 migrate=ghcr.io/example/web-migrate:2.3.1@" + dep + ":~24",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, err := Read(ctx, "testdata/web", tt.opts)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if diff := cmp.Diff(tt.want, locations(ws)); diff != "" {
				t.Errorf("locations (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadKubeVersion checks the chart's kubeVersion constraint against the
// default (the Kubernetes minor of the linked client-go) and --kube-version.
func TestReadKubeVersion(t *testing.T) {
	ctx := context.Background()
	if _, err := Read(ctx, "testdata/web", Options{}); err != nil {
		t.Errorf("Read with the default kube version (%s): %v", DefaultKubeVersion(), err)
	}
	if _, err := Read(ctx, "testdata/web", Options{KubeVersion: "1.30.2"}); err != nil {
		t.Errorf("Read --kube-version 1.30.2: %v", err)
	}
	_, err := Read(ctx, "testdata/web", Options{KubeVersion: "v1.24.9"})
	if err == nil || !strings.Contains(err.Error(), "chart requires kubeVersion >=1.25.0-0, which is incompatible with Kubernetes v1.24.9") {
		t.Errorf("Read --kube-version v1.24.9: error = %v, want the constraint named", err)
	}
}

// TestDefaultKubeVersion checks the default against go.mod's client-go, so
// that it follows the dependency rather than a literal.
func TestDefaultKubeVersion(t *testing.T) {
	data, err := os.ReadFile("../../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	var want string
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == clientGo {
			v, ok := kubeVersionOf(f[1])
			if !ok {
				t.Fatalf("go.mod: cannot read %s %s", f[0], f[1])
			}
			want = v
		}
	}
	if want == "" {
		t.Fatal("go.mod does not require " + clientGo)
	}
	if got := DefaultKubeVersion(); got != want {
		t.Errorf("DefaultKubeVersion() = %s, want %s (from go.mod)", got, want)
	}
	if builtKubeVersion != want {
		t.Errorf("builtKubeVersion = %s, want %s (from go.mod): update it with client-go", builtKubeVersion, want)
	}
	for in, want := range map[string]string{"v0.37.2": "v1.37.0", "v0.40.0-alpha.1": "v1.40.0", "v1.2.3": "", "v0.x.1": ""} {
		if got, _ := kubeVersionOf(in); got != want {
			t.Errorf("kubeVersionOf(%s) = %q, want %q", in, got, want)
		}
	}
}

// TestReadPackagedSubchart reads the chart with its subchart packaged under
// charts/, as helm dependency build leaves it: the subchart's findings name
// the archive, with no line.
func TestReadPackagedSubchart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "web")
	if err := os.CopyFS(dir, os.DirFS("testdata/web")); err != nil {
		t.Fatal(err)
	}
	sub, err := loader.Load(filepath.Join(dir, "charts", "redis"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "charts", "redis")); err != nil {
		t.Fatal(err)
	}
	tgz, err := chartutil.Save(sub, filepath.Join(dir, "charts"))
	if err != nil {
		t.Fatal(err)
	}
	ws, err := Read(context.Background(), dir, Options{Values: []string{"metrics.enabled=false"}})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	got := locations(ws)
	want := "StatefulSet/release-name-redis-master@" + tgz + ":0:0 redis=docker.io/bitnami/redis:7.2.4-debian-12-r9@" + tgz + ":0:0"
	if len(got) == 0 || got[0] != want {
		t.Errorf("first finding = %q, want %q", got, want)
	}
}

// TestReadRenderErrorNamesFile: a template that fails to render is named
// by its file on disk, as findings are.
func TestReadRenderErrorNamesFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "web")
	if err := os.CopyFS(dir, os.DirFS("testdata/web")); err != nil {
		t.Fatal(err)
	}
	tpl := filepath.Join(dir, "templates", "cronjob.yaml")
	if err := os.WriteFile(tpl, []byte("kind: CronJob\nname: {{ required \"cleanup.name is required\" .Values.cleanup }}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Read(context.Background(), dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "("+tpl+":2:") || !strings.Contains(err.Error(), "cleanup.name is required") {
		t.Errorf("error = %v, want it to name %s:2", err, tpl)
	}
}

// Read renders the chart at path (a directory or a .tgz) and returns the
// workloads of its templates and its subcharts' templates, with Source set
// to workload.SourceHelm: RenderChart, then Workloads, in this process.
func Read(ctx context.Context, path string, opts Options) ([]workload.Workload, error) {
	r, err := RenderChart(path, opts)
	if err != nil {
		return nil, err
	}
	return Workloads(ctx, r)
}
