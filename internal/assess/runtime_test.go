package assess

import (
	"testing"

	"github.com/archwaydev/archway/internal/workload"
)

// TestProve checks that running pods outrank the registry both ways, and
// that evidence from other architectures proves nothing.
func TestProve(t *testing.T) {
	execErr := []workload.ExecFormatError{{Pod: "api-1", Container: "api", Node: "arm-1", Architecture: "arm64", Message: "exec format error"}}
	tests := []struct {
		name        string
		image       string
		rt          *workload.Runtime
		wantVerdict Verdict
		wantProven  Verdict
		wantReasons int
	}{
		{"no evidence", "amd:1", nil, NotReady, "", 1},
		{"running on amd64 proves nothing", "denied:1", &workload.Runtime{Pods: 1, Running: map[string]int{"amd64": 1}}, Unknown, "", 1},
		{"running on arm64 proves an unknown image ready", "denied:1", &workload.Runtime{Pods: 1, Running: map[string]int{"arm64": 1}}, Ready, Ready, 3},
		{"running on arm64 agrees with the registry", "multi:1", &workload.Runtime{Pods: 2, Running: map[string]int{"arm64": 2}}, Ready, Ready, 1},
		{"exec format error on arm64 proves not ready", "multi:1", &workload.Runtime{Pods: 2, Running: map[string]int{"arm64": 1}, ExecFormatErrors: execErr}, NotReady, NotReady, 2},
		{"exec format error elsewhere proves nothing", "multi:1", &workload.Runtime{ExecFormatErrors: []workload.ExecFormatError{{Architecture: "amd64"}}}, Ready, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := deploy(ctr(workload.ContainerRegular, "api", tt.image))
			w.Runtime = tt.rt
			r := Assess([]workload.Workload{w}, images, arm64)
			wr := r.Workloads[0]
			if wr.Verdict != tt.wantVerdict || wr.Proven != tt.wantProven {
				t.Errorf("verdict %s proven %q, want %s proven %q; reasons %q", wr.Verdict, wr.Proven, tt.wantVerdict, tt.wantProven, wr.Reasons)
			}
			if len(wr.Reasons) != tt.wantReasons {
				t.Errorf("reasons = %q, want %d", wr.Reasons, tt.wantReasons)
			}
			if got := r.Summary.Workloads.Total; got != 1 {
				t.Errorf("summary total = %d", got)
			}
		})
	}
	w := deploy(ctr(workload.ContainerRegular, "api", "denied:1"))
	w.Runtime = &workload.Runtime{Running: map[string]int{"arm64": 1}}
	if s := Assess([]workload.Workload{w}, images, arm64).Summary.Workloads; s.Ready != 1 || s.Unknown != 0 {
		t.Errorf("summary counts the registry's verdict, not the proven one: %+v", s)
	}
}
