package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/archwaydev/archway/internal/app"
	"github.com/archwaydev/archway/internal/nodes"
)

// nodesOptions are archway nodes' flags (nodes tags uses the input ones).
type nodesOptions struct {
	cluster   kubeFlags
	workloads []string
	caVersion string
	output    string
	reg       registryFlags
}

func newNodesCmd() *cobra.Command {
	o := nodesOptions{}
	cmd := &cobra.Command{
		Use:   "nodes [flags] [FILE...]",
		Short: "Check node groups, autoscaler tags and taints, and where each workload can land",
		Long: `nodes reads node-group definitions and checks them the way the Cluster
Autoscaler, Karpenter and kube-scheduler will read them.

Inputs (each FILE's kind is told from its content):
  eksctl ClusterConfig (nodeGroups, managedNodeGroups: instance types,
    instancesDistribution, instanceSelector, labels, taints, tags,
    propagateASGTags, kubeletExtraConfig, overrideBootstrapCommand for AL2
    bootstrap.sh and AL2023 NodeConfig)
  Karpenter v1 NodePool and EC2NodeClass (aws ec2 describe-images JSON
    gives the architectures of the AMIs it selects)
  aws autoscaling describe-tags / describe-auto-scaling-groups JSON (joined
    to the eksctl group they belong to)
  Node and NodeList YAML/JSON; --cluster reads the live Nodes

Checks: instance types of two architectures in one group; arm64 groups
without the node-template kubernetes.io/arch tag, or a tag contradicting the
instance type; taint tags that are not VALUE:Effect (eksctl propagateASGTags
writes them without the effect) or disagree with the nodes' taints; managed
node groups whose labels and taints never reach the ASG; autoscaler 1.24-1.30
misreading managed-group taints (--ca-version); Karpenter NodePools allowing
both architectures or whose AMIs cannot serve them; untainted arm64 groups
in mixed clusters. An instance family archway's data does not list is
unknown, never assumed x86.

With --workloads, the images of those workloads (any input scan reads) are
looked up and each workload's pods are matched against every group's nodes
(nodeSelector, required node affinity, tolerations vs taints, as
kube-scheduler does): the groups it lands on, the groups it can land on but
cannot run on, and workloads that fit no group.

Exit status: 0 no error or unknown finding; 1 an error finding; 2 an
unknown one (and no error); 3 usage error; 4 an input could not be read.`,
		Example: `  # eksctl config and the ASG tags as AWS has them
  aws autoscaling describe-tags --filters Name=key,Values=eks:cluster-name > tags.json
  archway nodes cluster.yaml tags.json

  # Karpenter, with where the workloads of k8s/ can land
  archway nodes karpenter/ --workloads k8s/

  # The live cluster's Nodes, an autoscaler whose version matters
  archway nodes --cluster --ca-version 1.29.3 -o json

  # The tags to add, as create-or-update-tags input and config snippets
  archway nodes tags cluster.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error { return runNodes(cmd, args, o) },
	}
	addNodesInputFlags(cmd, &o)
	f := cmd.Flags()
	f.StringArrayVar(&o.workloads, "workloads", nil, "also tell where the workloads in `PATH` can land (any input scan reads); repeatable")
	f.StringVar(&o.caVersion, "ca-version", "", "Cluster Autoscaler `VERSION` the checks assume, e.g. 1.29.3 (default: with --cluster, the image tag of its Deployment in kube-system; else not known)")
	f.StringVarP(&o.output, "output", "o", "table", "output format: table or json")
	addRegistryFlags(f, &o.reg, "the first image")
	cmd.AddCommand(newNodesTagsCmd())
	return cmd
}

// addNodesInputFlags registers the flags that read Nodes from a cluster.
func addNodesInputFlags(cmd *cobra.Command, o *nodesOptions) {
	f := cmd.Flags()
	f.BoolVar(&o.cluster.enabled, "cluster", false, "also read the Nodes of a cluster (kubeconfig found as kubectl finds it)")
	f.StringVar(&o.cluster.kubeconfig, "kubeconfig", "", "kubeconfig `FILE` for --cluster (default: $KUBECONFIG, else ~/.kube/config)")
	f.StringVar(&o.cluster.context, "context", "", "kubeconfig `CONTEXT` for --cluster (default: the current context)")
}

func runNodes(cmd *cobra.Command, args []string, o nodesOptions) error {
	ao, err := o.appOptions(args)
	if err != nil {
		return usageError(err)
	}
	if o.output != "table" && o.output != "json" {
		return usageError(fmt.Errorf("-o %q: want table or json", o.output))
	}
	if err := o.reg.validate(); err != nil {
		return usageError(err)
	}
	var l app.Lookuper
	if len(o.workloads) > 0 {
		client, err := o.reg.client("", cmd.InOrStdin())
		if err != nil {
			return err
		}
		l = client
	}
	ctx, cancel := o.reg.withTimeout(cmd.Context())
	defer cancel()
	res := app.Nodes(ctx, l, ao)
	if o.output == "json" {
		err = res.Report.WriteJSON(cmd.OutOrStdout())
	} else {
		err = res.Report.WriteTable(cmd.OutOrStdout())
	}
	switch {
	case err != nil || len(res.Errs) > 0:
		return withCode(ExitError, errors.Join(append(res.Errs, err)...))
	case nodes.Has(res.Report.Findings, nodes.SeverityError):
		return withCode(ExitUnsupported, nil)
	case nodes.Has(res.Report.Findings, nodes.SeverityUnknown):
		return withCode(ExitUnknown, nil)
	}
	return nil
}

// appOptions checks the input flags and turns them into app options.
func (o nodesOptions) appOptions(files []string) (app.NodesOptions, error) {
	ao := app.NodesOptions{Files: files, Cluster: o.cluster.config(), Workloads: o.workloads, Jobs: o.reg.jobs}
	if err := o.cluster.validate(); err != nil {
		return ao, err
	}
	if len(files) == 0 && !o.cluster.enabled {
		return ao, errors.New("give node-group FILEs, --cluster, or both")
	}
	if o.caVersion != "" {
		v, err := nodes.ParseCAVersion(o.caVersion)
		if err != nil {
			return ao, fmt.Errorf("--ca-version: %w", err)
		}
		ao.Check.CAVersion, ao.Check.CASource = &v, "--ca-version"
	}
	return ao, nil
}
