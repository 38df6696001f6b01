package app

import (
	"context"
	"fmt"

	"github.com/archwaydev/archway/internal/nodes"
	"github.com/archwaydev/archway/internal/source"
	"github.com/archwaydev/archway/internal/source/cluster"
)

// NodesOptions configure Nodes and NodeGroups.
type NodesOptions struct {
	// Files are the node-group inputs, files or directories (see
	// nodes.Inputs for the kinds).
	Files []string
	// Cluster, when set, also reads the cluster's Nodes and, when
	// Check.CAVersion is nil, the Cluster Autoscaler version its
	// Deployment runs.
	Cluster *cluster.Config
	// Workloads are inputs of any kind scan reads whose workloads are
	// fitted to the groups; Source says how to read them.
	Workloads []string
	Source    source.Options
	// Check configures the checks.
	Check nodes.Options
	// Jobs is how many lookups run at once; at least 1.
	Jobs int
}

// NodesResult is what Nodes found.
type NodesResult struct {
	// Report holds the groups, the findings and where each workload can
	// land.
	Report nodes.Report
	// Errs are the problems reading the inputs, one by one; the report
	// covers the rest.
	Errs []error
}

// Nodes reads the node groups, checks them and, with o.Workloads, reads
// those workloads (in parallel, each distinct image looked up once) and
// predicts where each can land. l may be nil when o.Workloads is empty.
func Nodes(ctx context.Context, l Lookuper, o NodesOptions) NodesResult {
	groups, check, errs := NodeGroups(ctx, o)
	var fits []nodes.WorkloadFit
	if len(o.Workloads) > 0 {
		var rs []reader
		for _, in := range source.Inputs(o.Workloads, o.Source) {
			rs = append(rs, in.Read)
		}
		in, images := readAndLookUp(ctx, rs, l, o.Jobs, nil)
		errs = append(errs, in.Errs...)
		fits = nodes.Fit(in.Workloads, groups, images)
	}
	return NodesResult{Report: nodes.NewReport(groups, check, fits), Errs: errs}
}

// NodeGroups reads the groups of o.Files and o.Cluster, each input that
// cannot be read in errs while the others are still read. check is
// o.Check with the autoscaler version the cluster runs when o.Check had
// none.
func NodeGroups(ctx context.Context, o NodesOptions) (groups []nodes.Group, check nodes.Options, errs []error) {
	check = o.Check
	var in nodes.Inputs
	for _, f := range o.Files {
		if err := in.ReadPath(f); err != nil {
			errs = append(errs, err)
		}
	}
	if o.Cluster != nil {
		if err := readClusterNodes(ctx, *o.Cluster, &in, &check); err != nil {
			errs = append(errs, err)
		}
	}
	return in.Groups(), check, errs
}

// readClusterNodes adds a cluster's Nodes to in and, when check has no
// autoscaler version, the one the cluster runs (a cluster that does not
// let kube-system be listed leaves it unknown).
func readClusterNodes(ctx context.Context, c cluster.Config, in *nodes.Inputs, check *nodes.Options) error {
	conn, err := cluster.Connect(c)
	if err != nil {
		return fmt.Errorf("--cluster: %w", err)
	}
	gs, err := nodes.ReadCluster(ctx, conn.Client, "cluster "+conn.Context)
	if err != nil {
		return fmt.Errorf("cluster %q: %w", conn.Context, err)
	}
	in.AddGroups(gs...)
	if check.CAVersion == nil {
		if v, evidence, err := nodes.DetectCAVersion(ctx, conn.Client); err == nil && v != nil {
			check.CAVersion, check.CASource = v, evidence
		}
	}
	return nil
}
