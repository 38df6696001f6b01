package cluster

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/archwaydev/archway/internal/workload"
)

// execFormat is what a kernel says when a binary is for another
// architecture; runtimes pass it on in the container's reason or message.
const execFormat = "exec format error"

// addPod adds one pod's status to rt: the architecture of its node, the
// images its containers run, and the containers that failed with exec
// format error. arch maps node names to architectures.
func addPod(rt *workload.Runtime, p *corev1.Pod, arch map[string]string) {
	rt.Pods++
	if p.Spec.NodeName == "" {
		return // not scheduled: no node, no evidence
	}
	a := arch[p.Spec.NodeName]
	if rt.Nodes == nil {
		rt.Nodes = map[string]int{}
	}
	rt.Nodes[a]++
	statuses := append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
	allRunning := len(p.Status.ContainerStatuses) > 0
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Running == nil {
			allRunning = false
		}
	}
	for _, cs := range statuses {
		if cs.ImageID != "" && !hasImage(rt.Images, cs.Name, cs.ImageID) {
			rt.Images = append(rt.Images, workload.RunningImage{Container: cs.Name, Image: cs.Image, ImageID: cs.ImageID})
		}
		if msg := execFormatMessage(cs); msg != "" {
			allRunning = false
			rt.ExecFormatErrors = append(rt.ExecFormatErrors, workload.ExecFormatError{
				Pod: p.Name, Container: cs.Name, Node: p.Spec.NodeName, Architecture: a, Message: msg,
			})
		}
	}
	if allRunning && p.Status.Phase == corev1.PodRunning {
		if rt.Running == nil {
			rt.Running = map[string]int{}
		}
		rt.Running[a]++
	}
}

// hasImage reports whether imgs already holds container's imageID.
func hasImage(imgs []workload.RunningImage, container, imageID string) bool {
	for _, i := range imgs {
		if i.Container == container && i.ImageID == imageID {
			return true
		}
	}
	return false
}

// execFormatMessage returns the reason and message of a container state
// that says exec format error (waiting, terminated, or the last
// termination of a container in CrashLoopBackOff); "" when none does.
func execFormatMessage(cs corev1.ContainerStatus) string {
	var texts []string
	for _, st := range []corev1.ContainerState{cs.State, cs.LastTerminationState} {
		if w := st.Waiting; w != nil {
			texts = append(texts, join(w.Reason, w.Message))
		}
		if t := st.Terminated; t != nil {
			texts = append(texts, join(t.Reason, t.Message))
		}
	}
	for _, t := range texts {
		if strings.Contains(strings.ToLower(t), execFormat) {
			return t
		}
	}
	return ""
}

func join(reason, msg string) string {
	if reason == "" || msg == "" {
		return reason + msg
	}
	return reason + ": " + msg
}

// podCPU is the CPU a pod requests, in millicores: its containers' and
// sidecars' requests, or its largest init container's when that is more
// (as kube-scheduler counts).
func podCPU(spec *corev1.PodSpec) int64 {
	var sum, initMax int64
	for _, c := range spec.Containers {
		sum += c.Resources.Requests.Cpu().MilliValue()
	}
	for _, c := range spec.InitContainers {
		m := c.Resources.Requests.Cpu().MilliValue()
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sum += m
		} else if m > initMax {
			initMax = m
		}
	}
	return max(sum, initMax)
}
