package nodes

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/archwaydev/archway/internal/workload"
)

// UnknownArch is the ByArch key of nodes that report no architecture.
const UnknownArch = "unknown"

// Census counts a cluster's nodes.
type Census struct {
	// Nodes is the number of nodes.
	Nodes int
	// ByArch counts nodes by CPU architecture: the kubernetes.io/arch
	// label, else the deprecated beta label, else the architecture the
	// kubelet reports, else UnknownArch.
	ByArch map[string]int
	// Taints counts nodes by taint, written as corev1.Taint.ToString does:
	// "key=value:Effect", or "key:Effect" when the value is empty.
	Taints map[string]int
}

// ReadCensus lists a cluster's nodes, page by page, and counts them.
func ReadCensus(ctx context.Context, client kubernetes.Interface) (Census, error) {
	ns, err := ListNodes(ctx, client)
	if err != nil {
		return Census{}, err
	}
	return CensusOf(ns), nil
}

// ListNodes lists a cluster's nodes, page by page.
func ListNodes(ctx context.Context, client kubernetes.Interface) ([]*corev1.Node, error) {
	var out []*corev1.Node
	opts := metav1.ListOptions{Limit: 500}
	for {
		l, err := client.CoreV1().Nodes().List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("list nodes: %w", err)
		}
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
		if l.Continue == "" {
			return out, nil
		}
		opts.Continue = l.Continue
	}
}

// CensusOf counts nodes already listed.
func CensusOf(ns []*corev1.Node) Census {
	c := Census{ByArch: map[string]int{}, Taints: map[string]int{}}
	for _, n := range ns {
		c.add(n)
	}
	return c
}

func (c *Census) add(n *corev1.Node) {
	c.Nodes++
	c.ByArch[NodeArch(n)]++
	for _, t := range n.Spec.Taints {
		c.Taints[t.ToString()]++
	}
}

// NodeArch returns the CPU architecture of n (see Census.ByArch).
func NodeArch(n *corev1.Node) string {
	for _, key := range []string{workload.ArchLabel, "beta.kubernetes.io/arch"} {
		if a := n.Labels[key]; a != "" {
			return a
		}
	}
	if a := n.Status.NodeInfo.Architecture; a != "" {
		return a
	}
	return UnknownArch
}
