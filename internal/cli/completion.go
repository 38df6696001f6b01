package cli

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/archwaydev/archway/internal/report"
	"github.com/archwaydev/archway/internal/source"
	"github.com/archwaydev/archway/internal/source/cluster"
)

// pluginName is the executable name kubectl runs archway as
// ("kubectl archway").
const pluginName = "kubectl-archway"

// displayName is how usage lines name archway: "kubectl archway" when it
// runs as a kubectl plugin, else "archway".
func displayName(argv0 string) string {
	if strings.TrimSuffix(filepath.Base(argv0), ".exe") == pluginName {
		return "kubectl archway"
	}
	return "archway"
}

// commonPlatforms are offered when completing --platform.
var commonPlatforms = []string{"linux/arm64", "linux/amd64", "linux/arm/v7", "linux/arm64,linux/amd64", "windows/amd64"}

// completeValues completes a flag from a fixed list.
func completeValues(values ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// registerCompletions adds value completion to the flags cmd has among
// the shared ones.
func registerCompletions(cmd *cobra.Command, formats ...report.Format) {
	f := cmd.Flags()
	add := func(name string, fn cobra.CompletionFunc) {
		if f.Lookup(name) != nil {
			_ = cmd.RegisterFlagCompletionFunc(name, fn)
		}
	}
	add("platform", completeValues(commonPlatforms...))
	add("cluster-archs", completeValues("amd64,arm64", "amd64", "arm64"))
	add("fail-on", completeValues(string(report.FailOnUnknown), string(report.FailOnNotReady), string(report.FailOnNever)))
	var kinds []string
	for _, k := range source.Kinds() {
		kinds = append(kinds, string(k))
	}
	add("kind", completeValues(kinds...))
	if len(formats) > 0 {
		var names []string
		for _, fm := range formats {
			names = append(names, string(fm))
		}
		add("output", completeValues(names...))
	}
	add("context", completeContexts)
	add("namespace", completeNamespaces)
}

// completeContexts offers the kubeconfig's contexts.
func completeContexts(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if f := cmd.Flags().Lookup("kubeconfig"); f != nil {
		rules.ExplicitPath = f.Value.String()
	}
	raw, err := rules.Load()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for name := range raw.Contexts {
		out = append(out, name)
	}
	slices.Sort(out)
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeNamespaces lists the cluster's namespaces, giving up after two
// seconds so a shell never hangs on an unreachable cluster.
func completeNamespaces(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	c := cluster.Config{}
	if f := cmd.Flags().Lookup("kubeconfig"); f != nil {
		c.Kubeconfig = f.Value.String()
	}
	if f := cmd.Flags().Lookup("context"); f != nil {
		c.Context = f.Value.String()
	}
	conn, err := cluster.Connect(c)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	l, err := conn.Client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, n := range l.Items {
		out = append(out, n.Name)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// argv0 is the name the process was started as.
func argv0() string {
	if len(os.Args) == 0 {
		return "archway"
	}
	return os.Args[0]
}
