package cli

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/archwaydev/archway/internal/app"
	"github.com/archwaydev/archway/internal/nodes"
)

func newNodesTagsCmd() *cobra.Command {
	o := nodesOptions{}
	cmd := &cobra.Command{
		Use:   "tags [flags] FILE...",
		Short: "Print the ASG tags each node group lacks, and eksctl, NodeConfig and Karpenter snippets",
		Long: `tags reads the same inputs as 'archway nodes' and prints, for each Auto
Scaling group, the node-template tags the Cluster Autoscaler needs to build
its nodes right when the group is at zero:

  k8s.io/cluster-autoscaler/node-template/label/kubernetes.io/arch=<arch>
  k8s.io/cluster-autoscaler/node-template/label/<label>=<value>
  k8s.io/cluster-autoscaler/node-template/taint/<key>=<value>:<Effect>

leaving out the tags the group already has right. Output (-o):
  text  the JSON input of 'aws autoscaling create-or-update-tags', the tags to
        delete, then per group an eksctl snippet (its taints, labels and the
        tags with :Effect; propagateASGTags for managed groups), an AL2023
        NodeConfig registering the taints with the kubelet, and for Karpenter
        NodePools allowing both architectures a NodePool split
  aws   only the create-or-update-tags JSON
  json  every plan, snippets included, as JSON

When the ASG's name is not known (an eksctl config without describe-tags
output), ResourceId is ASG-OF-<group>: replace it.`,
		Example: `  archway nodes tags cluster.yaml tags.json
  archway nodes tags -o aws cluster.yaml > tags.json &&
    aws autoscaling create-or-update-tags --cli-input-json file://tags.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.output != "text" && o.output != "aws" && o.output != "json" {
				return usageError(fmt.Errorf("-o %q: want text, aws or json", o.output))
			}
			ao, err := o.appOptions(args)
			if err != nil {
				return usageError(err)
			}
			groups, _, errs := app.NodeGroups(cmd.Context(), ao)
			plans := nodes.PlanTags(groups)
			w := cmd.OutOrStdout()
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			switch o.output {
			case "aws":
				err = enc.Encode(nodes.CreateOrUpdateTags(plans))
			case "json":
				if plans == nil {
					plans = []nodes.TagPlan{}
				}
				err = enc.Encode(plans)
			default:
				err = nodes.WriteTagPlans(w, plans)
			}
			if err != nil || len(errs) > 0 {
				return withCode(ExitError, errors.Join(append(errs, err)...))
			}
			return nil
		},
	}
	addNodesInputFlags(cmd, &o)
	cmd.Flags().StringVarP(&o.output, "output", "o", "text", "output format: text, aws or json")
	return cmd
}
