package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/archwaydev/archway/internal/source/cluster"
	"github.com/archwaydev/archway/internal/workload"
)

// clusterFlags are scan's flags for reading a live cluster; they mean what
// kubectl's flags of the same names mean.
type clusterFlags struct {
	enabled       bool
	kubeconfig    string
	context       string
	namespace     string
	allNamespaces bool
}

func addClusterFlags(fs *pflag.FlagSet, c *clusterFlags) {
	fs.BoolVar(&c.enabled, "cluster", false, "also scan the workloads running in a cluster (kubeconfig found as kubectl finds it) and count its nodes")
	fs.StringVar(&c.kubeconfig, "kubeconfig", "", "kubeconfig `FILE` for --cluster (default: $KUBECONFIG, else ~/.kube/config)")
	fs.StringVar(&c.context, "context", "", "kubeconfig `CONTEXT` for --cluster (default: the current context)")
	fs.StringVarP(&c.namespace, "namespace", "n", "", "`NAMESPACE` to read with --cluster (default: the context's), and Helm's .Release.Namespace")
	fs.BoolVarP(&c.allNamespaces, "all-namespaces", "A", false, "read every namespace with --cluster")
}

func (c clusterFlags) validate() error {
	switch {
	case c.allNamespaces && c.namespace != "":
		return errors.New("-A/--all-namespaces and -n/--namespace exclude each other")
	case !c.enabled && (c.kubeconfig != "" || c.context != "" || c.allNamespaces):
		return errors.New("--kubeconfig, --context and -A only apply with --cluster")
	}
	return nil
}

// clusterCensus is the node census of the scanned cluster.
type clusterCensus struct {
	context string
	cluster.Census
}

// readCluster reads the cluster's workloads and node census. A census that
// fails is reported in the error; the workloads read are still returned.
func readCluster(ctx context.Context, c clusterFlags) ([]workload.Workload, *clusterCensus, error) {
	client, contextName, namespace, err := c.clientset()
	if err != nil {
		return nil, nil, fmt.Errorf("--cluster: %w", err)
	}
	ws, err := cluster.Read(ctx, client, cluster.Options{Namespace: namespace, Context: contextName})
	var errs []error
	if err != nil {
		errs = append(errs, fmt.Errorf("cluster %q: %w", contextName, err))
	}
	var census *clusterCensus
	if n, err := cluster.Nodes(ctx, client); err != nil {
		errs = append(errs, fmt.Errorf("cluster %q: %w", contextName, err))
	} else {
		census = &clusterCensus{context: contextName, Census: n}
	}
	return ws, census, errors.Join(errs...)
}

// clientset loads the kubeconfig with kubectl's rules and returns a client,
// the context's name and the namespace to read ("" for all).
func (c clusterFlags) clientset() (kubernetes.Interface, string, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = c.kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: c.context}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	raw, err := cc.RawConfig()
	if err != nil {
		return nil, "", "", fmt.Errorf("loading kubeconfig: %w", err)
	}
	contextName := c.context
	if contextName == "" {
		contextName = raw.CurrentContext
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", "", fmt.Errorf("kubeconfig: %w", err)
	}
	namespace := ""
	switch {
	case c.allNamespaces:
	case c.namespace != "":
		namespace = c.namespace
	default:
		if namespace, _, err = cc.Namespace(); err != nil {
			return nil, "", "", fmt.Errorf("kubeconfig: %w", err)
		}
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, "", "", fmt.Errorf("kubeconfig: %w", err)
	}
	return client, contextName, namespace, nil
}

// write prints the census, e.g.
//
//	Nodes in cluster "prod": 5
//	  by kubernetes.io/arch: amd64 3, arm64 2
//	  taints: arch=arm64:NoSchedule 2
func (c *clusterCensus) write(w io.Writer) {
	fmt.Fprintf(w, "\nNodes in cluster %q: %d\n", c.context, c.Nodes)
	fmt.Fprintf(w, "  by %s: %s\n", workload.ArchLabel, countList(c.ByArch))
	fmt.Fprintf(w, "  taints: %s\n", countList(c.Taints))
}

// countList writes counts as "key n, key n" sorted by key; "none" when empty.
func countList(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
