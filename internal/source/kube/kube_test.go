package kube

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	goldenfile "github.com/archwaydev/archway/internal/golden"
	"github.com/archwaydev/archway/internal/workload"
)

// golden compares got, as indented JSON, with testdata/name.golden.json.
func golden(t *testing.T, name string, got any) {
	t.Helper()
	data, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, '\n')
	goldenfile.Check(t, filepath.Join("testdata", name+".golden.json"), data)
}

func TestReadFiles(t *testing.T) {
	for _, name := range []string{"workloads.yaml", "crds.yaml", "lists.yaml", "pod.json"} {
		t.Run(name, func(t *testing.T) {
			ws, err := Read(filepath.Join("testdata", name))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			for _, w := range ws {
				if w.PodSpec == nil {
					t.Errorf("%s: PodSpec is nil", w.ID())
				}
			}
			golden(t, strings.TrimSuffix(name, filepath.Ext(name)), ws)
		})
	}
}

func TestPodSpec(t *testing.T) {
	ws, err := Read(filepath.Join("testdata", "workloads.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]workload.Workload{}
	for _, w := range ws {
		byID[w.ID()] = w
	}
	web := byID["Deployment/shop/web"]
	if web.PodSpec == nil {
		t.Fatal("Deployment/shop/web missing")
	}
	if got, want := web.PodSpec.NodeSelector, map[string]string{"kubernetes.io/arch": "amd64"}; !cmp.Equal(got, want) {
		t.Errorf("nodeSelector = %v, want %v", got, want)
	}
	if got := web.PodSpec.Containers[0].Resources.Requests.Cpu().MilliValue(); got != 100 {
		t.Errorf("cpu request = %dm, want 100m", got)
	}
	if got := web.PodSpec.Containers[0].Ports[0].ContainerPort; got != 80 {
		t.Errorf("containerPort = %d, want 80", got)
	}
	pod := byID["Pod/tools/debug"]
	if pod.PodSpec == nil || len(pod.PodSpec.InitContainers) != 2 || len(pod.PodSpec.EphemeralContainers) != 1 {
		t.Fatalf("Pod/tools/debug spec = %+v", pod.PodSpec)
	}
	if p := pod.PodSpec.InitContainers[1].RestartPolicy; p == nil || *p != corev1.ContainerRestartPolicyAlways {
		t.Errorf("sidecar restartPolicy = %v, want Always", p)
	}
	ds := byID["DaemonSet/kube-system/node-agent"]
	if ds.PodSpec == nil || len(ds.PodSpec.Tolerations) != 1 || ds.PodSpec.Tolerations[0].Value != "arm64" {
		t.Errorf("DaemonSet tolerations = %+v", ds.PodSpec)
	}
}

func TestReadDirectory(t *testing.T) {
	ws, err := Read(filepath.Join("testdata", "tree"))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	type row struct{ ID, Image string }
	var got []row
	for _, w := range ws {
		got = append(got, row{w.ID(), w.Location.File + ":" + w.Containers[0].Image})
	}
	want := []row{
		{"Job/tree-job", "testdata/tree/apps/nested/job.yml:example/tree-job:1"},
		{"Pod/tree-pod", "testdata/tree/apps/nested/pod.JSON:example/tree-pod:1"},
		{"Deployment/tree-web", "testdata/tree/apps/web.yaml:example/tree-web:1"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("workloads (-want +got):\n%s", diff)
	}
}

func TestMalformed(t *testing.T) {
	ws, err := Read(filepath.Join("testdata", "malformed.yaml"))
	var names []string
	for _, w := range ws {
		names = append(names, w.Name)
	}
	if diff := cmp.Diff([]string{"first", "third", "last"}, names); diff != "" {
		t.Errorf("workloads read around the bad documents (-want +got):\n%s", diff)
	}
	var msgs []string
	for _, e := range Errors(err) {
		var ke *Error
		if !asError(e, &ke) {
			t.Errorf("error %v is %T, want *kube.Error", e, e)
		}
		msgs = append(msgs, e.Error())
	}
	want := []string{
		"testdata/malformed.yaml: line 13: yaml: did not find expected ',' or '}'",
		"testdata/malformed.yaml: line 33: Deployment wrong-type: spec.template.spec: json: cannot unmarshal string into Go struct field ContainerPort.containers.ports.containerPort of type int32",
		"testdata/malformed.yaml: line 39: Deployment no-template: no pod spec at spec.template.spec",
	}
	if diff := cmp.Diff(want, msgs); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	*target = e
	return ok
}

func TestParseEdgeCases(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string // ID@line:image@line:col for each container
		wantErr string
	}{
		{
			name: "empty stream",
			in:   "",
		},
		{
			name: "comments and separators only",
			in:   "# nothing\n---\n---\n# still nothing\n",
		},
		{
			name: "leading separator with comment and BOM",
			in:   "\xef\xbb\xbf--- # first\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: c, image: 'a:1'}\n",
			want: []string{"Pod/p@2:a:1@7:22"},
		},
		{
			name: "anchors and aliases",
			in:   "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - &c\n    name: c\n    image: img:1\n  initContainers:\n  - *c\n",
			want: []string{"Pod/p@1:img:1@8:12", "img:1@8:12"},
		},
		{
			name:    "scalar document",
			in:      "just a string\n",
			wantErr: "x.yaml: line 1: expected a Kubernetes object (a mapping), found the scalar \"just a string\"",
		},
		{
			name:    "containers not a list",
			in:      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: {}\n",
			wantErr: "x.yaml: line 5: Pod p: spec: json: cannot unmarshal object into Go struct field PodSpec.containers of type []v1.Container",
		},
		{
			name: "custom resource whose spec is pod-like",
			in:   "apiVersion: example.com/v1\nkind: Sandbox\nmetadata: {name: s}\nspec:\n  containers:\n  - name: c\n    image: img:2\n",
			want: []string{"Sandbox/s@1:img:2@7:12"},
		},
		{
			name: "custom resource with a spec that is not pod-like",
			in:   "apiVersion: example.com/v1\nkind: Bucket\nmetadata: {name: b}\nspec:\n  size: 10Gi\n",
		},
		{
			name: "generateName and no image",
			in:   "apiVersion: batch/v1\nkind: Job\nmetadata: {generateName: run-}\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n",
			want: []string{"Job/run-@1:@8:9"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, err := Parse("x.yaml", []byte(tt.in))
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.wantErr {
				t.Errorf("error = %q, want %q", gotErr, tt.wantErr)
			}
			var got []string
			for _, w := range ws {
				for i, c := range w.Containers {
					s := c.Image + "@" + itoa(c.Location.Line) + ":" + itoa(c.Location.Column)
					if i == 0 {
						s = w.ID() + "@" + itoa(w.Location.Line) + ":" + s
					}
					got = append(got, s)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("containers (-want +got):\n%s", diff)
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
