package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/archwaydev/archway/internal/nodes"
	"github.com/archwaydev/archway/internal/placement"
	"github.com/archwaydev/archway/internal/source"
	"github.com/archwaydev/archway/internal/workload"
)

// nodesOptions are archway nodes' flags (nodes tags uses the input ones).
type nodesOptions struct {
	cluster   clusterFlags
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
	var opts nodes.Options
	if o.caVersion != "" {
		v, err := nodes.ParseCAVersion(o.caVersion)
		if err != nil {
			return usageError(fmt.Errorf("--ca-version: %w", err))
		}
		opts.CAVersion, opts.CASource = &v, "--ca-version"
	}
	if o.output != "table" && o.output != "json" {
		return usageError(fmt.Errorf("-o %q: want table or json", o.output))
	}
	if err := errors.Join(o.reg.validate(), o.cluster.validate()); err != nil {
		return usageError(err)
	}
	groups, readErr, err := readNodeGroups(cmd.Context(), args, o.cluster, &opts)
	if err != nil {
		return err
	}
	var fits []nodes.WorkloadFit
	if len(o.workloads) > 0 {
		var wErr error
		if fits, wErr, err = fitWorkloads(cmd, o, groups); err != nil {
			return err
		}
		readErr = errors.Join(readErr, wErr)
	}
	r := nodes.NewReport(groups, opts, fits)
	if o.output == "json" {
		err = r.WriteJSON(cmd.OutOrStdout())
	} else {
		err = r.WriteTable(cmd.OutOrStdout())
	}
	switch {
	case err != nil || readErr != nil:
		return withCode(ExitError, errors.Join(readErr, err))
	case nodes.Worst(r.Findings) == nodes.SeverityError:
		return withCode(ExitUnsupported, nil)
	case nodes.Worst(r.Findings) == nodes.SeverityUnknown:
		return withCode(ExitUnknown, nil)
	}
	return nil
}

// readNodeGroups reads the FILE inputs and, with --cluster, the live Nodes
// (and, when opts has no autoscaler version, the one the cluster runs). An
// input that cannot be read is in readErr and the others are still read;
// err is a usage error.
func readNodeGroups(ctx context.Context, files []string, c clusterFlags, opts *nodes.Options) (groups []nodes.Group, readErr, err error) {
	if len(files) == 0 && !c.enabled {
		return nil, nil, usageError(errors.New("give node-group FILEs, --cluster, or both"))
	}
	var in nodes.Inputs
	var errs []error
	for _, f := range files {
		errs = append(errs, in.ReadPath(f))
	}
	if c.enabled {
		errs = append(errs, readClusterNodes(ctx, c, &in, opts))
	}
	return in.Groups(), errors.Join(errs...), nil
}

// readClusterNodes adds the live Nodes of the --cluster context to in,
// and fills an unknown autoscaler version in opts from the cluster.
func readClusterNodes(ctx context.Context, c clusterFlags, in *nodes.Inputs, opts *nodes.Options) error {
	client, contextName, _, err := c.clientset()
	if err != nil {
		return fmt.Errorf("--cluster: %w", err)
	}
	gs, err := nodes.ReadCluster(ctx, client, "cluster "+contextName)
	if err != nil {
		return fmt.Errorf("cluster %q: %w", contextName, err)
	}
	in.AddGroups(gs...)
	if opts != nil && opts.CAVersion == nil {
		// Not being allowed to list kube-system leaves the version unknown.
		if v, evidence, err := nodes.DetectCAVersion(ctx, client); err == nil && v != nil {
			opts.CAVersion, opts.CASource = v, evidence
		}
	}
	return nil
}

// fitWorkloads reads the --workloads inputs, looks their images up and
// fits them to the groups. Inputs that cannot be read are in readErr; err
// is a registry client error.
func fitWorkloads(cmd *cobra.Command, o nodesOptions, groups []nodes.Group) (fits []nodes.WorkloadFit, readErr, err error) {
	var ws []workload.Workload
	var errs []error
	for _, p := range o.workloads {
		got, err := source.Read(cmd.Context(), p, source.Options{})
		if err != nil {
			errs = append(errs, fmt.Errorf("--workloads: %w", err))
		}
		ws = append(ws, got...)
	}
	var refs []string
	seen := map[string]bool{}
	for _, w := range ws {
		for _, ref := range w.Images() {
			if !seen[ref] {
				seen[ref] = true
				refs = append(refs, ref)
			}
		}
	}
	images := nodes.Images{}
	if len(refs) > 0 {
		client, err := o.reg.client(refs[0], cmd.InOrStdin())
		if err != nil {
			return nil, nil, err
		}
		ctx, cancel := o.reg.withTimeout(cmd.Context())
		defer cancel()
		for _, r := range client.LookupAll(ctx, refs, nil) {
			images[r.Ref] = placement.ImageSupport{Architectures: r.Platforms().Architectures(), Err: r.Err}
		}
	}
	return nodes.Fit(ws, groups, images), errors.Join(errs...), nil
}
