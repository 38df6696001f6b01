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
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/archwaydev/archway/internal/source/helm"
	"github.com/archwaydev/archway/internal/source/kube"
	"github.com/archwaydev/archway/internal/workload"
)

const repo = "testdata/repo"

func TestDetect(t *testing.T) {
	tmp := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ch, err := loader.Load(filepath.Join(repo, "charts", "api"))
	if err != nil {
		t.Fatal(err)
	}
	tgz, err := chartutil.Save(ch, tmp)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		path    string
		want    Kind
		wantErr string
	}{
		{repo, Directory, ""},
		{repo + "/k8s", Directory, ""},
		{repo + "/charts/api", Helm, ""},
		{repo + "/charts/api/Chart.yaml", Helm, ""},
		{tgz, Helm, ""},
		{repo + "/deploy/base", Kustomize, ""},
		{repo + "/deploy/base/kustomization.yaml", Kustomize, ""},
		{repo + "/k8s/app.yaml", Kubernetes, ""},
		{repo + "/k8s/pod.json", Kubernetes, ""},
		{repo + "/ecs/task.json", ECS, ""},
		{repo + "/ecs/containers.json", ECS, ""},
		{repo + "/docker-compose.yml", Compose, ""},
		{repo + "/docker/api.Dockerfile", Dockerfile, ""},
		{write("Dockerfile", "FROM alpine\n"), Dockerfile, ""},
		{write("Dockerfile.arm64", "FROM alpine\n"), Dockerfile, ""},
		{write("Containerfile.prod", "FROM alpine\n"), Dockerfile, ""},
		{write("compose.prod.yaml", "services: {a: {image: x}}\n"), Compose, ""},
		{write("Containerfile", "FROM alpine\n"), Dockerfile, ""},
		{write("compose.override.yaml", "services: {}\n"), Compose, ""},
		{write("stack.yml", "# a compose file under another name\nservices:\n  web:\n    image: nginx\n"), Compose, ""},
		{write("describe.json", `{"taskDefinition": {"family": "x", "containerDefinitions": []}}`), ECS, ""},
		{write("multi.yaml", "foo: bar\n---\napiVersion: v1\nkind: ConfigMap\n"), Kubernetes, ""},
		{write("split.yaml", "apiVersion: v1\n---\nkind: Pod\n"), "", "not a known kind of input"},
		{write("flow.yaml", "{apiVersion: v1, kind: Pod, spec: {containers: []}}\n"), Kubernetes, ""},
		{write("flow-compose.yml", "{services: {web: {image: nginx}}}\n"), Compose, ""},
		{repo + "/docker/Dockerfile.dockerignore", "", "not a known kind of input"},
		{repo + "/ecs/settings.json", "", "not a known kind of input"},
		{repo + "/values.yaml", "", "not a known kind of input"},
		{repo + "/docs/README.md", "", "not a known kind of input"},
		{write("other.tgz", "not gzip"), "", "not a known kind of input"},
		{write("bad.json", "{\n  \"kind\": \"Pod\",\n  oops\n}\n"), "", "bad.json: line 3: invalid character 'o'"},
		{write("bad.yaml", "a: b\nc: [\n"), Kubernetes, ""},
		{filepath.Join(tmp, "missing.yaml"), "", "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			got, err := Detect(tt.path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Detect(%s) = %q, %v; want error containing %q", tt.path, got, err, tt.wantErr)
				}
				if strings.Contains(tt.wantErr, "known kind") && !errors.Is(err, ErrUnknownKind) {
					t.Errorf("error %v does not wrap ErrUnknownKind", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Detect(%s) = %q, %v; want %q", tt.path, got, err, tt.want)
			}
		})
	}
}

// summary is one line per workload: source, ID, location and images.
func summary(ws []workload.Workload) []string {
	var out []string
	for _, w := range ws {
		out = append(out, fmt.Sprintf("%s %s %s:%d %v", w.Source, w.ID(), w.Location.File, w.Location.Line, w.Images()))
	}
	return out
}

func TestReadDirectory(t *testing.T) {
	ws, err := Read(context.Background(), repo, Options{
		// Values apply only to a chart given as the input, not to one found
		// in a walk; the release name does apply.
		Helm: helm.Options{ReleaseName: "demo", Values: []string{"tag=9.9"}},
	})
	want := []string{
		"helm Deployment/demo-api testdata/repo/charts/api/templates/deployment.yaml:2 [example/chart-api:1.0]",
		"kustomize Job/migrate testdata/repo/deploy/base/job.yaml:1 [example/migrate:7]",
		"dockerfile Dockerfile/testdata/repo/docker/api.Dockerfile testdata/repo/docker/api.Dockerfile:1 [golang:1.23 gcr.io/distroless/static:nonroot]",
		"compose Service/repo/cache testdata/repo/docker-compose.yml:2 [redis:7.2]",
		"ecs TaskDefinition/containers testdata/repo/ecs/containers.json:1 [example/ecs-worker:1]",
		"ecs TaskDefinition/billing testdata/repo/ecs/task.json:1 [example/billing:4.2]",
		"kubernetes Deployment/app testdata/repo/k8s/app.yaml:1 [example/app:1.0]",
		"kubernetes Pod/json-pod testdata/repo/k8s/pod.json:1 [example/json-pod:1]",
	}
	if diff := cmp.Diff(want, summary(ws)); diff != "" {
		t.Errorf("workloads (-want +got):\n%s", diff)
	}
	errs := kube.Errors(err)
	if len(errs) != 1 {
		t.Fatalf("errors = %q, want one, for k8s/broken.yaml", errs)
	}
	var ke *kube.Error
	if !errors.As(errs[0], &ke) || ke.File != "testdata/repo/k8s/broken.yaml" || ke.Line == 0 {
		t.Errorf("error = %v, want a *kube.Error naming testdata/repo/k8s/broken.yaml and a line", errs[0])
	}
}

func TestReadOptions(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		path string
		opts Options
		want []string
	}{
		{
			name: "chart with --set",
			path: repo + "/charts/api",
			opts: Options{Helm: helm.Options{Values: []string{"tag=2.0"}}},
			want: []string{"helm Deployment/release-name-api testdata/repo/charts/api/templates/deployment.yaml:2 [example/chart-api:2.0]"},
		},
		{
			name: "Chart.yaml names its chart",
			path: repo + "/charts/api/Chart.yaml",
			want: []string{"helm Deployment/release-name-api testdata/repo/charts/api/templates/deployment.yaml:2 [example/chart-api:1.0]"},
		},
		{
			name: "kind override reads a kustomize base as plain manifests",
			path: repo + "/deploy/base",
			opts: Options{Kind: Kubernetes},
			want: []string{"kubernetes Job/migrate testdata/repo/deploy/base/job.yaml:1 [example/migrate:1]"},
		},
		{
			name: "kustomization file names its directory",
			path: repo + "/deploy/base/kustomization.yaml",
			want: []string{"kustomize Job/migrate testdata/repo/deploy/base/job.yaml:1 [example/migrate:7]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, err := Read(ctx, tt.path, tt.opts)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if diff := cmp.Diff(tt.want, summary(ws)); diff != "" {
				t.Errorf("workloads (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name, path string
		opts       Options
		want       string
	}{
		{"unknown file", repo + "/values.yaml", Options{}, "not a known kind of input"},
		{"missing path", repo + "/nope", Options{}, "no such file or directory"},
		{"bad kind", repo, Options{Kind: "terraform"}, `unknown input kind "terraform"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ws, err := Read(ctx, tt.path, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) || len(ws) != 0 {
				t.Fatalf("Read = %d workloads, %v; want none and an error containing %q", len(ws), err, tt.want)
			}
		})
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Read(cancelled, repo, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Read with a cancelled context: error = %v, want context.Canceled", err)
	}
}

func TestParseKind(t *testing.T) {
	for in, want := range map[string]Kind{"": "", "auto": "", "k8s": Kubernetes, "Kubernetes": Kubernetes, "helm": Helm, " ecs ": ECS, "directory": Directory} {
		if got, err := ParseKind(in); err != nil || got != want {
			t.Errorf("ParseKind(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseKind("terraform"); err == nil {
		t.Error("ParseKind(terraform) succeeded")
	}
}
