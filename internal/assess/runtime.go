package assess

import (
	"fmt"
	"strings"

	"github.com/archwaydev/archway/internal/platform"
)

// prove applies the evidence of a workload's running pods, which
// outranks what the registry says: a container that failed with exec
// format error on a node of the target architecture proves the workload
// not ready; a pod of it running there, every container up, proves it
// ready. Either way the verdict becomes the proven one and a reason says
// why (and when the registry disagreed).
func prove(wr *WorkloadResult, target platform.Platform) {
	rt := wr.Workload.Runtime
	if rt == nil {
		return
	}
	arch := target.Architecture
	var failed []string
	for _, e := range rt.ExecFormatErrors {
		if e.Architecture == arch {
			failed = append(failed, fmt.Sprintf("pod %s container %s on node %s (%s): %s", e.Pod, e.Container, e.Node, arch, e.Message))
		}
	}
	was := wr.Verdict
	switch {
	case len(failed) > 0:
		wr.Proven = NotReady
		wr.Reasons = append(wr.Reasons, "proven not ready: exec format error on "+arch+": "+strings.Join(failed, "; "))
	case rt.Running[arch] > 0:
		wr.Proven = Ready
		wr.Reasons = append(wr.Reasons, fmt.Sprintf("proven ready: %d %s running on %s nodes now", rt.Running[arch], plural(rt.Running[arch], "pod", "pods"), arch))
	default:
		return
	}
	wr.Verdict = wr.Proven
	if was != wr.Proven {
		wr.Reasons = append(wr.Reasons, fmt.Sprintf("the registry's answer alone said %s", was))
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
