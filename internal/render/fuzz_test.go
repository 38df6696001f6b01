package render

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/archwaydev/archway/internal/source/helm"
	"github.com/archwaydev/archway/internal/source/kustomize"
)

// fuzzLimits keep each fuzz input cheap: a hostile one ends at a bound
// (the bounds themselves are tested in render_test.go).
var fuzzLimits = Limits{Timeout: 2 * time.Second, Memory: 128 << 20}

// checkChildError fails for an error that is neither a bound nor the
// job's own error: the child crashed or broke the protocol.
func checkChildError(t *testing.T, err error) {
	t.Helper()
	if err == nil || errors.Is(err, ErrTimeout) || errors.Is(err, ErrMemory) {
		return
	}
	if msg := err.Error(); strings.Contains(msg, "the render process failed") || strings.Contains(msg, "not its protocol") || strings.Contains(msg, "answered nothing") {
		t.Fatalf("the child broke: %v", err)
	}
}

// FuzzHelm renders a chart of one template and a values file, both
// arbitrary, through the bounded child, and reads what it rendered.
func FuzzHelm(f *testing.F) {
	f.Add(podTemplate, "image: nginx:1.27\n")
	f.Add("{{ include \"x\" . }}\n{{ define \"x\" }}{{ include \"x\" . }}{{ end }}\n", "")
	f.Add("{{ toYaml .Values | nindent 2 }}\n", "a: &a [x, x]\nb: [*a, *a]\n")
	f.Add("kind: Pod\nspec:\n  containers:\n  - image: {{ .Values.image | quote }}\n", "image: {x: 1}\n")
	f.Add("{{ tpl .Values.t . }}\n", "t: \"{{ .Release.Name }}\"\n")
	f.Add("apiVersion: v1\nkind: List\nitems:\n{{- range until 3 }}\n- kind: Pod\n  metadata: {name: p{{ . }}}\n  spec: {containers: [{name: c, image: a}]}\n{{- end }}\n", "")
	f.Fuzz(func(t *testing.T, tmpl, values string) {
		dir := writeFiles(t, map[string]string{
			"Chart.yaml":         "apiVersion: v2\nname: fuzz\nversion: 0.1.0\n",
			"values.yaml":        values,
			"templates/one.yaml": tmpl,
		})
		r, _, err := Helm(context.Background(), dir, helm.Options{}, fuzzLimits)
		checkChildError(t, err)
		if err != nil {
			return
		}
		ws, _ := helm.Workloads(context.Background(), r)
		for _, w := range ws {
			if rel, err := filepath.Rel(dir, w.Location.File); err != nil || strings.HasPrefix(rel, "..") {
				t.Errorf("workload %s located outside the chart: %s", w.ID(), w.Location.File)
			}
		}
	})
}

// FuzzKustomize builds a kustomization and one resource file, both
// arbitrary, through the bounded child (no network: remote entries are
// refused), and reads what it built.
func FuzzKustomize(f *testing.F) {
	f.Add("resources: [res.yaml]\n", deployment)
	f.Add("resources: [res.yaml]\nimages:\n- name: nginx\n  newTag: \"2\"\nnamePrefix: p-\n", deployment)
	f.Add("resources: [res.yaml]\npatches:\n- patch: |-\n    - op: replace\n      path: /spec/replicas\n      value: 3\n  target: {kind: Deployment}\n", deployment)
	f.Add("resources: [res.yaml, http://127.0.0.1:1/x.yaml]\n", deployment)
	f.Add("resources: [res.yaml]\n", "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n")
	f.Add("bases: [.]\n", "")
	f.Add("resources: [../../../../etc]\n", "")
	f.Fuzz(func(t *testing.T, kust, res string) {
		dir := writeFiles(t, map[string]string{"kustomization.yaml": kust, "res.yaml": res})
		b, err := Kustomize(context.Background(), dir, kustomize.BuildOptions{Origins: true}, fuzzLimits)
		checkChildError(t, err)
		if err != nil {
			return
		}
		_, _ = kustomize.Workloads(dir, b.YAML)
	})
}
