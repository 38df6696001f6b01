package report

import (
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/archwaydev/archway/internal/assess"
	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/workload"
)

// fixFirstReport: three workloads; a:1 alone blocks w1 and, with b:1, w2;
// b:1 blocks w2 and w3, with an unknown image beside it in w3.
func fixFirstReport() assess.Report {
	amd, arm := platform.LinuxAMD64, platform.LinuxARM64
	images := map[string]lookup.Result{
		"a:1":  found("a:1", "sha256:a", amd),
		"b:1":  found("b:1", "sha256:b", amd),
		"ok:1": found("ok:1", "sha256:c", amd, arm),
		"u:1":  {Ref: "u:1", Err: &lookup.Error{Ref: "u:1", Cause: lookup.CauseTimeout}},
	}
	w := func(name string, imgs ...string) workload.Workload {
		wl := workload.Workload{Source: workload.SourceKubernetes, Kind: "Deployment", Namespace: "ns", Name: name}
		for i, im := range imgs {
			wl.Containers = append(wl.Containers, workload.Container{Name: string(rune('a' + i)), Kind: workload.ContainerRegular, Image: im})
		}
		return wl
	}
	req := func(cpu string) corev1.Container {
		return corev1.Container{Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}}}
	}
	always := corev1.ContainerRestartPolicyAlways
	sidecar := req("100m")
	sidecar.RestartPolicy = &always
	w1, w2 := w("w1", "a:1", "ok:1"), w("w2", "a:1", "b:1")
	// 500m + 250m, a 2-CPU init container, a 100m sidecar: 2.1 CPU.
	w1.PodSpec = &corev1.PodSpec{Containers: []corev1.Container{req("500m"), req("250m")}, InitContainers: []corev1.Container{sidecar, req("2")}}
	w2.PodSpec = &corev1.PodSpec{Containers: []corev1.Container{req("1"), {}}}
	return assess.Assess([]workload.Workload{
		w1, w2, w("w3", "b:1", "u:1"), w("w4", "ok:1"), w("w5", "a:1"),
	}, images, arm)
}

func TestFixFirst(t *testing.T) {
	got := FixFirst(fixFirstReport(), map[string]string{"a:1": "move to a:2"})
	if len(got) != 2 {
		t.Fatalf("FixFirst = %+v", got)
	}
	a, b := got[0], got[1]
	if a.Ref != "a:1" || a.Blocks != 3 || a.Unblocks != 2 || a.CPUMillis != 3100 || a.Advice != "move to a:2" || strings.Join(a.Workloads, ",") != "Deployment/ns/w1,Deployment/ns/w2,Deployment/ns/w5" {
		t.Errorf("first = %+v", a)
	}
	if b.Ref != "b:1" || b.Blocks != 2 || b.Unblocks != 0 || b.CPUMillis != 1000 || b.Advice != "" {
		t.Errorf("second = %+v", b)
	}
}

// TestFixFirstInEveryFormat: with WithAdvice every format has the images
// section (HTML as a table above the workloads); without it none has.
func TestFixFirstInEveryFormat(t *testing.T) {
	r := fixFirstReport()
	with := []Option{WithAdvice(map[string]string{"a:1": "move to a:2"})}
	for _, f := range []Format{Table, Markdown, HTML, JSON, SARIF} {
		out := string(render(t, f, r, with...))
		plain := string(render(t, f, r))
		mark := map[Format]string{Table: "IMAGES TO FIX FIRST (2)", Markdown: "### Images to fix first", HTML: `<table id="fix-first">`, JSON: `"fixFirst"`, SARIF: `"archway.fixFirst"`}[f]
		if !strings.Contains(out, mark) || !strings.Contains(out, "move to a:2") || (f != JSON && f != SARIF && !strings.Contains(out, "3.1 CPU")) {
			t.Errorf("%s with advice lacks the section:\n%s", f, out)
		}
		if strings.Contains(plain, mark) {
			t.Errorf("%s without advice has the section", f)
		}
		if f == HTML && strings.Index(out, `id="fix-first"`) > strings.Index(out, `id="workloads"`) {
			t.Error("HTML: the images table is not above the workloads")
		}
		if f == JSON {
			var doc JSONReport
			if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.FixFirst) != 2 || doc.FixFirst[0].Ref != "a:1" {
				t.Errorf("JSON fixFirst = %+v, %v", doc.FixFirst, err)
			}
		}
	}
}
