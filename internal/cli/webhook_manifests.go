package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/archwaydev/archway/internal/webhook"
	"github.com/archwaydev/archway/internal/webhook/install"
)

// webhookManifestsOptions are archway webhook manifests' flags.
type webhookManifestsOptions struct {
	generateCerts bool
	namespace     string
	image         string
	mode          string
	placement     placementFlags
}

func newWebhookManifestsCmd() *cobra.Command {
	o := webhookManifestsOptions{}
	cmd := &cobra.Command{
		Use:   "manifests",
		Short: "Print a complete install of the webhook for kubectl apply -f -",
		Long: `manifests prints every object the webhook needs: Namespace, ServiceAccount,
RBAC to read pull secrets, the TLS Secret, Deployment (2 replicas),
PodDisruptionBudget, Service and the MutatingWebhookConfiguration. They are
rendered from the Helm chart deploy/charts/archway built into archway.

With --generate-certs a new CA and a serving certificate for the Service are
generated; the CA becomes the webhook configuration's caBundle. Without it the
certificate is left to cert-manager, which must be installed.`,
		Example: `  archway webhook manifests --generate-certs | kubectl apply -f -
  archway webhook manifests --generate-certs --arm-taint arm=true:NoSchedule --mode audit`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := webhook.ParseMode(o.mode); err != nil {
				return usageError(fmt.Errorf("--mode: %w", err))
			}
			popts, err := o.placement.options()
			if err != nil {
				return usageError(err)
			}
			archs := make([]any, 0, len(popts.ClusterArchs))
			for _, a := range popts.ClusterArchs {
				archs = append(archs, a)
			}
			values := map[string]any{"mode": o.mode, "armTaint": o.placement.armTaint, "prefer": o.placement.prefer,
				"style": popts.Style.String(), "clusterArchs": archs}
			out, err := install.Manifests(install.Options{
				Namespace:   o.namespace,
				Image:       o.image,
				Values:      values,
				CertManager: !o.generateCerts,
			})
			if err != nil {
				return withCode(ExitError, err)
			}
			_, err = fmt.Fprint(cmd.OutOrStdout(), out)
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.generateCerts, "generate-certs", false, "generate a CA and serving certificate (default: leave it to cert-manager)")
	f.StringVar(&o.namespace, "namespace", "archway", "namespace to install into (created)")
	f.StringVar(&o.image, "image", "", "archway image `REPO:TAG` (default: the chart's)")
	f.StringVar(&o.mode, "mode", string(webhook.ModeEnforce), "enforce or audit")
	addPlacementFlags(f, &o.placement)
	return cmd
}
