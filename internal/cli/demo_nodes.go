package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/archwaydev/archway/internal/app"
	"github.com/archwaydev/archway/internal/registry"
)

// demoCluster is the demo's eksctl cluster: an x86 group, a tainted
// Graviton group whose taint tags eksctl writes without their effect, and
// a spot group mixing architectures — details that fail silently.
const demoCluster = `# An eksctl cluster with x86 and Graviton node groups (written by archway demo).
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata:
  name: shop
  region: eu-west-1
nodeGroups:
  - name: x86
    instanceType: m6i.large
    minSize: 0
    maxSize: 10
  - name: graviton
    instanceType: m7g.large
    minSize: 0
    maxSize: 10
    propagateASGTags: true
    taints:
      - key: arm
        value: "true"
        effect: NoSchedule
  - name: spot-mixed
    minSize: 0
    maxSize: 20
    instancesDistribution:
      instanceTypes: [m7g.large, m6i.large]
`

// nodesDemo checks the demo cluster's node groups and where the fleet's
// workloads can land on them.
func nodesDemo(ctx context.Context, env *demoEnv) error {
	path := filepath.Join(env.dir, "cluster.yaml")
	if err := os.WriteFile(path, []byte(demoCluster), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(env.out, `nodes checks node groups the way the Cluster Autoscaler, Karpenter and
kube-scheduler read them, and says where each workload can land.

$ archway nodes %s --workloads %s

`, path, env.fleet)
	res := app.Nodes(ctx, env.lookup, app.NodesOptions{Files: []string{path}, Workloads: []string{env.fleet}, Jobs: registry.DefaultJobs})
	if err := errors.Join(res.Errs...); err != nil {
		return err
	}
	if err := res.Report.WriteTable(env.out); err != nil {
		return err
	}
	_, err := fmt.Fprintln(env.out)
	return err
}
