package policyreport

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/archwaydev/archway/internal/assess"
	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/workload"
)

// fleet returns n Deployments in namespace shop, each of image, with a
// long name so results are big.
func fleet(n int, image string, edit func(*corev1.PodSpec)) []workload.Workload {
	var ws []workload.Workload
	for i := range n {
		spec := &corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}}
		if edit != nil {
			edit(spec)
		}
		ws = append(ws, workload.Workload{
			Source: workload.SourceCluster, APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop",
			Name:       fmt.Sprintf("service-%04d-%s", i, strings.Repeat("x", 200)),
			Containers: []workload.Container{{Name: "app", Kind: workload.ContainerRegular, Image: image}},
			PodSpec:    spec, PinnedArchitectures: workload.PodArchitectures(spec),
		})
	}
	return ws
}

var images = map[string]lookup.Result{
	"multi:1": {Ref: "multi:1", Entries: []lookup.Entry{{Platform: platform.LinuxAMD64}, {Platform: platform.LinuxARM64}}},
}

// TestSplitBySize checks that no report exceeds MaxBytes of JSON or
// MaxResults, that parts are named in order, and that every result is
// kept exactly once.
func TestSplitBySize(t *testing.T) {
	rep := assess.Assess(fleet(300, "multi:1", nil), images, platform.LinuxARM64)
	const maxBytes = 64 << 10
	reports := Build(rep, Options{MaxBytes: maxBytes, MaxResults: 250, Now: time.Unix(1700000000, 0)})
	if len(reports) < 3 {
		t.Fatalf("%d reports, want the 600 results split into several", len(reports))
	}
	total := 0
	for i, r := range reports {
		if want := Name("arm64", i); r.GetName() != want {
			t.Errorf("report %d is %s, want %s", i, r.GetName(), want)
		}
		b, err := json.Marshal(r.Object)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > maxBytes {
			t.Errorf("%s is %d bytes, over %d", r.GetName(), len(b), maxBytes)
		}
		rs := r.Object["results"].([]any)
		if len(rs) > 250 {
			t.Errorf("%s has %d results", r.GetName(), len(rs))
		}
		if got := r.Object["summary"].(map[string]any)["pass"].(int64); got != int64(len(rs)) {
			t.Errorf("%s summary pass = %d, want %d", r.GetName(), got, len(rs))
		}
		total += len(rs)
	}
	if total != 600 {
		t.Errorf("%d results in all, want 600 (two rules for each of 300 workloads)", total)
	}
}

// TestOpenReportsAndWarn checks the OpenReports shape and that a ready
// workload pinned away from arm64 warns.
func TestOpenReportsAndWarn(t *testing.T) {
	pinned := fleet(1, "multi:1", func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{workload.ArchLabel: "amd64"} })
	reports := Build(assess.Assess(pinned, images, platform.LinuxARM64), Options{Format: OpenReports})
	if len(reports) != 1 {
		t.Fatalf("%d reports", len(reports))
	}
	r := reports[0]
	if r.GetAPIVersion() != "openreports.io/v1alpha1" || r.GetKind() != "Report" || r.Object["source"] != Source {
		t.Errorf("got %s %s source %v", r.GetAPIVersion(), r.GetKind(), r.Object["source"])
	}
	res := r.Object["results"].([]any)[0].(map[string]any)
	if res["rule"] != "images-support-arm64" || res["result"] != Warn || !strings.Contains(res["message"].(string), "could move") {
		t.Errorf("images result = %v", res)
	}
}

// BenchmarkBuild builds the reports of 10,000 workloads in one namespace.
func BenchmarkBuild(b *testing.B) {
	rep := assess.Assess(fleet(10000, "multi:1", nil), images, platform.LinuxARM64)
	b.ResetTimer()
	for b.Loop() {
		if n := len(Build(rep, Options{})); n < 2 {
			b.Fatalf("%d reports", n)
		}
	}
}
