package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Config says how to reach a cluster; the fields mean what kubectl's flags
// of the same names mean.
type Config struct {
	// Kubeconfig is the kubeconfig file; empty: $KUBECONFIG, else
	// ~/.kube/config, else the in-cluster service account.
	Kubeconfig string
	// Context is the kubeconfig context; empty: the current one.
	Context string
	// Namespace to read; empty: the context's.
	Namespace string
	// AllNamespaces reads every namespace.
	AllNamespaces bool
}

// Conn is a connection to a cluster.
type Conn struct {
	Client kubernetes.Interface
	// REST is the client configuration, for other clients of the same
	// cluster.
	REST *rest.Config
	// Context is the kubeconfig context's name ("" in cluster).
	Context string
	// Namespace is the namespace to read; "" for all.
	Namespace string
}

// Connect loads the kubeconfig with kubectl's rules (falling back to the
// in-cluster service account) and returns a client. It is archway's one
// kubeconfig loader: scan, nodes, report and the webhook use it.
func Connect(c Config) (*Conn, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = c.Kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: c.Context}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := cc.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, noKubeconfig(rules)
		}
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	conn := &Conn{REST: cfg, Context: c.Context}
	if raw, err := cc.RawConfig(); err == nil && conn.Context == "" {
		conn.Context = raw.CurrentContext
	}
	switch {
	case c.AllNamespaces:
	case c.Namespace != "":
		conn.Namespace = c.Namespace
	default:
		if conn.Namespace, _, err = cc.Namespace(); err != nil {
			return nil, fmt.Errorf("kubeconfig: %w", err)
		}
	}
	if conn.Client, err = kubernetes.NewForConfig(cfg); err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	return conn, nil
}

// noKubeconfig says which files were tried and how to point at one,
// instead of client-go's text about KUBERNETES_MASTER.
func noKubeconfig(rules *clientcmd.ClientConfigLoadingRules) error {
	tried := rules.GetLoadingPrecedence()
	if rules.ExplicitPath != "" {
		tried = []string{rules.ExplicitPath}
	}
	for i, p := range tried {
		if home, err := os.UserHomeDir(); err == nil && strings.HasPrefix(p, home+string(filepath.Separator)) {
			tried[i] = "~" + p[len(home):]
		}
	}
	return errors.New("no kubeconfig found (tried " + strings.Join(tried, ", ") +
		", and not running in a cluster): point at one with --kubeconfig FILE or KUBECONFIG, or pick one with --context")
}
