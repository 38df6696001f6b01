package assess

import (
	"fmt"
	"testing"
	"time"

	"github.com/archwaydev/archway/internal/workload"
)

// TestAssessLinear: assessing 20× the workloads of one image takes about
// 20× as long, not 400× (an image's workload list was once built with a
// linear search per workload). Each size is timed at its best of three.
func TestAssessLinear(t *testing.T) {
	fleet := func(n int) []workload.Workload {
		ws := make([]workload.Workload, n)
		for i := range ws {
			ws[i] = workload.Workload{Source: workload.SourceKubernetes, Kind: "Pod", Namespace: "ns",
				Name: fmt.Sprintf("pod-%06d", i), Containers: []workload.Container{ctr(workload.ContainerRegular, "app", "multi:1")}}
		}
		return ws
	}
	best := func(ws []workload.Workload) time.Duration {
		var b time.Duration
		for range 3 {
			start := time.Now()
			rep := Assess(ws, images, arm64)
			d := time.Since(start)
			if len(rep.Images) != 1 || len(rep.Images[0].Workloads) != len(ws) {
				t.Fatalf("image lists %d workloads, want %d", len(rep.Images[0].Workloads), len(ws))
			}
			if b == 0 || d < b {
				b = d
			}
		}
		return b
	}
	small, large := best(fleet(2_000)), best(fleet(40_000))
	ratio := float64(large) / float64(small)
	t.Logf("2,000 workloads: %s; 40,000: %s (%.1f×)", small, large, ratio)
	if ratio > 60 {
		t.Errorf("20× the workloads took %.1f× as long: quadratic, not linear", ratio)
	}
}
