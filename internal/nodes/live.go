package nodes

import (
	"context"
	"fmt"
	"regexp"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// groupLabels are the node labels that name a node's group, in the order
// tried: EKS managed, eksctl, Karpenter, GKE, AKS.
var groupLabels = []string{
	"eks.amazonaws.com/nodegroup",
	eksctlNodegroupTag,
	"karpenter.sh/nodepool",
	"cloud.google.com/gke-nodepool",
	"kubernetes.azure.com/agentpool",
}

// ReadCluster lists a cluster's Nodes, page by page, and groups them (see
// FromNodes).
func ReadCluster(ctx context.Context, client kubernetes.Interface, src string) ([]Group, error) {
	var nodes []corev1.Node
	opts := metav1.ListOptions{Limit: 500}
	for {
		l, err := client.CoreV1().Nodes().List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("nodes: list nodes: %w", err)
		}
		nodes = append(nodes, l.Items...)
		if l.Continue == "" {
			return FromNodes(src, nodes), nil
		}
		opts.Continue = l.Continue
	}
}

// FromNodes groups live nodes by their node-group label (a node without
// one is a group of its own): architectures from the nodes' labels and
// instance types, taints from their specs.
func FromNodes(src string, nodes []corev1.Node) []Group {
	var out []Group
	index := map[string]int{}
	for _, n := range nodes {
		name := "node/" + n.Name
		for _, key := range groupLabels {
			if v := n.Labels[key]; v != "" {
				name = key + "=" + v
				break
			}
		}
		i, ok := index[name]
		if !ok {
			i = len(out)
			index[name] = i
			out = append(out, Group{Name: name, Kind: KindNodes, Source: src, TaintsKnown: true})
		}
		g := &out[i]
		g.Nodes = append(g.Nodes, n)
		a := NodeArch(&n)
		if !slices.Contains(g.Archs, a) {
			g.Archs = append(g.Archs, a)
			slices.Sort(g.Archs)
			g.ArchEvidence = append(g.ArchEvidence, fmt.Sprintf("node %s: %s", n.Name, a))
		}
		if t := n.Labels[corev1.LabelInstanceTypeStable]; t != "" && !slices.Contains(g.InstanceTypes, t) {
			g.InstanceTypes = append(g.InstanceTypes, t)
		}
		for _, t := range n.Spec.Taints {
			g.addTaint(t, "node "+n.Name)
		}
	}
	return out
}

// caImage matches a Cluster Autoscaler image and captures its version tag.
var caImage = regexp.MustCompile(`cluster-autoscaler(?:-[a-z0-9]+)?:v?(\d+\.\d+(?:\.\d+)?)`)

// DetectCAVersion finds the Cluster Autoscaler's version in the image tag
// of a Deployment in kube-system running it; nil when there is none.
// evidence names the Deployment and image.
func DetectCAVersion(ctx context.Context, client kubernetes.Interface) (v *CAVersion, evidence string, err error) {
	l, err := client.AppsV1().Deployments("kube-system").List(ctx, metav1.ListOptions{Limit: 500})
	if err != nil {
		return nil, "", fmt.Errorf("nodes: list kube-system deployments: %w", err)
	}
	for _, d := range l.Items {
		for _, c := range d.Spec.Template.Spec.Containers {
			m := caImage.FindStringSubmatch(c.Image)
			if m == nil {
				continue
			}
			parsed, err := ParseCAVersion(m[1])
			if err != nil {
				continue
			}
			return &parsed, fmt.Sprintf("deployment kube-system/%s runs %s", d.Name, c.Image), nil
		}
	}
	return nil, "", nil
}
