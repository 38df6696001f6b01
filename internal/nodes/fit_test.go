package nodes

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/source/kube"
	"github.com/archwaydev/archway/internal/workload"
)

// found is a successful lookup of an image for linux on archs.
func found(archs ...string) lookup.Result {
	var r lookup.Result
	for _, a := range archs {
		r.Entries = append(r.Entries, lookup.Entry{Platform: platform.Platform{OS: "linux", Architecture: a}})
	}
	return r
}

// fitImages are the images of testdata/fit-workloads.yaml.
var fitImages = Images{
	"amd64-only/app:1": found("amd64"),
	"multi/app:1":      found("amd64", "arm64"),
	"arm-only/app:1":   found("arm64"),
}

func fitWorkloads(t *testing.T) []workload.Workload {
	t.Helper()
	path := filepath.Join("testdata", "fit-workloads.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := kube.Parse(path, data)
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

// fitSummary is a WorkloadFit without its landings.
type fitSummary struct {
	CanLand, WrongArch, MissesArm []string
	FitsNone                      bool
}

func TestFit(t *testing.T) {
	fits := Fit(fitWorkloads(t), read(t, "fit-groups.yaml"), fitImages)
	got := map[string]fitSummary{}
	for _, f := range fits {
		got[f.Workload] = fitSummary{f.CanLand, f.WrongArch, f.MissesArm, f.FitsNone}
	}
	want := map[string]fitSummary{
		"Deployment/fit/amd-unpinned":            {CanLand: []string{"x86"}, WrongArch: []string{"arm-open", "arm-soft"}},
		"Deployment/fit/multi-no-toleration":     {CanLand: []string{"x86", "arm-open", "arm-soft"}, MissesArm: []string{"arm"}},
		"Deployment/fit/multi-on-arm":            {CanLand: []string{"arm"}},
		"Job/fit/arm-only-pinned-amd64":          {CanLand: []string{}, WrongArch: []string{"x86"}, FitsNone: true},
		"StatefulSet/fit/needs-gpu":              {CanLand: []string{}, FitsNone: true},
		"Deployment/fit/arm-affinity":            {CanLand: []string{"arm-open", "arm-soft"}},
		"Deployment/fit/tolerates-all-not-amd64": {CanLand: []string{"arm", "arm-open", "arm-soft", "spot"}},
		"Deployment/fit/spot-amd64":              {CanLand: []string{"spot"}, WrongArch: []string{"spot"}},
		"DaemonSet/fit/agent":                    {CanLand: []string{"arm-soft"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fits (-want +got):\n%s", diff)
	}

	findings := FitFindings(fits)
	Sort(findings)
	wantFindings := []string{
		"error workload-fits-no-group  Job/fit/arm-only-pinned-amd64",
		"error workload-fits-no-group  StatefulSet/fit/needs-gpu",
		"error workload-wrong-arch arm-open Deployment/fit/amd-unpinned",
		"error workload-wrong-arch arm-soft Deployment/fit/amd-unpinned",
		"error workload-wrong-arch spot Deployment/fit/spot-amd64",
		"error workload-wrong-arch x86 Job/fit/arm-only-pinned-amd64",
		"warning workload-misses-arm arm Deployment/fit/multi-no-toleration",
	}
	if diff := cmp.Diff(wantFindings, brief(findings)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	for _, f := range findings {
		if f.Rule == "workload-misses-arm" && f.Fix != "add the toleration: archway place --arm-taint=arm=true:NoSchedule" {
			t.Errorf("misses-arm fix: %q", f.Fix)
		}
	}
}

func TestFitUnknownImage(t *testing.T) {
	images := Images{
		"amd64-only/app:1": found("amd64"),
		"multi/app:1":      {Err: os.ErrDeadlineExceeded},
	}
	fits := Fit(fitWorkloads(t)[:2], read(t, "fit-groups.yaml"), images)
	if f := fits[1]; f.Archs != nil || f.Unknown == "" || f.FitsNone || len(f.WrongArch) != 0 {
		t.Errorf("a workload with an unknown image: %+v", f)
	}
	got := brief(FitFindings(fits))
	want := []string{
		"error workload-wrong-arch arm-open Deployment/fit/amd-unpinned",
		"error workload-wrong-arch arm-soft Deployment/fit/amd-unpinned",
		"unknown workload-image-unknown  Deployment/fit/multi-no-toleration",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

// TestFitKarpenter checks that a pod selecting a label Karpenter sets from
// the instance type it picks fits the NodePools that allow that value, on
// the architecture the value implies.
func TestFitKarpenter(t *testing.T) {
	groups := read(t, "karpenter.yaml", "eksctl-cluster.yaml")
	spec := func(family string) *corev1.PodSpec {
		return &corev1.PodSpec{
			NodeSelector: map[string]string{"karpenter.k8s.aws/instance-family": family},
			Tolerations:  []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			Containers:   []corev1.Container{{Name: "app", Image: "amd64-only/app:1"}},
		}
	}
	ws := []workload.Workload{
		{Kind: "Pod", Name: "wants-m7g", PodSpec: spec("m7g"), Containers: []workload.Container{{Name: "app", Image: "amd64-only/app:1"}}},
		{Kind: "Pod", Name: "wants-c6i", PodSpec: spec("c6i"), Containers: []workload.Container{{Name: "app", Image: "amd64-only/app:1"}}},
	}
	fits := Fit(ws, groups, fitImages)
	got := map[string]fitSummary{}
	for _, f := range fits {
		got[f.Workload] = fitSummary{f.CanLand, f.WrongArch, f.MissesArm, f.FitsNone}
		if !cmp.Equal(f.Unconsidered, []string{"future"}) {
			t.Errorf("%s: unconsidered %v, want [future] (unknown instance family)", f.Workload, f.Unconsidered)
		}
	}
	want := map[string]fitSummary{
		// m7g is arm64: Karpenter launches it from default, families and
		// tagged (not intel: cpu-manufacturer intel), and the amd64 image
		// dies there.
		"Pod/wants-m7g": {CanLand: []string{}, WrongArch: []string{"default", "families", "tagged"}, FitsNone: true},
		// c6i is amd64: default and intel allow it, families does not.
		"Pod/wants-c6i": {CanLand: []string{"default", "intel"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fits (-want +got):\n%s", diff)
	}
	for _, f := range FitFindings(fits) {
		if f.Rule == "workload-fits-no-group" && f.Severity != SeverityUnknown {
			t.Errorf("fits-no-group with a group of unknown architecture left out: severity %s, want unknown", f.Severity)
		}
	}
}
