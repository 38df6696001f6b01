package app

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/archwaydev/archway/internal/assess"
	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/nodes"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/policyreport"
	"github.com/archwaydev/archway/internal/source"
	"github.com/archwaydev/archway/internal/source/cluster"
	"github.com/archwaydev/archway/internal/workload"
)

// ReportOptions configure Report.
type ReportOptions struct {
	// Cluster is the cluster to read and, with Apply, write to.
	Cluster cluster.Config
	// Target is the platform workloads are judged against.
	Target platform.Platform
	// Jobs is how many lookups run at once; at least 1.
	Jobs int
	// Reports says how to build the reports (format, placement, limits);
	// its Now defaults to the current time.
	Reports policyreport.Options
	// Apply writes the reports to the cluster and removes stale ones.
	Apply bool
	// Progress, when set, is called as lookups finish.
	Progress func(lookup.Progress)
}

// ReportResult is what Report built and did.
type ReportResult struct {
	// Assessment holds the verdicts the reports were built from.
	Assessment assess.Report
	// Reports are the report objects, by namespace and part.
	Reports []*unstructured.Unstructured
	// Applied says what was written and removed, with Apply.
	Applied policyreport.Applied
	// Context is the kubeconfig context read.
	Context string
}

// Report reads a cluster's workloads (each at its top owner, with the
// evidence of their running pods), looks their images up, and builds one
// PolicyReport (or OpenReports Report) per namespace; with Apply it
// server-side-applies them and removes the stale ones. A cluster that
// cannot be read whole is an error, and then nothing is applied: stale
// removal would drop the results of the workloads that were not read.
func Report(ctx context.Context, l Lookuper, o ReportOptions) (ReportResult, error) {
	var res ReportResult
	conn, err := cluster.Connect(o.Cluster)
	if err != nil {
		return res, fmt.Errorf("--cluster: %w", err)
	}
	res.Context = conn.Context
	ws, err := cluster.Read(ctx, conn.Client, cluster.Options{Namespace: conn.Namespace, Context: conn.Context, NodeArch: nodes.NodeArch})
	if err != nil {
		return res, fmt.Errorf("cluster %q: %w", conn.Context, err)
	}
	if o.Reports.Now.IsZero() {
		o.Reports.Now = time.Now()
	}
	res.Assessment, res.Reports = Readiness(ctx, l, ws, o.Target, o.Jobs, o.Progress, o.Reports)
	if !o.Apply {
		return res, nil
	}
	if err := ctx.Err(); err != nil {
		return res, err // lookups cut short are unknown: do not publish them
	}
	dyn, err := dynamic.NewForConfig(conn.REST)
	if err != nil {
		return res, fmt.Errorf("cluster %q: %w", conn.Context, err)
	}
	res.Applied, err = policyreport.Apply(ctx, dyn, o.Reports.Format, conn.Namespace, res.Reports)
	if err != nil {
		return res, fmt.Errorf("cluster %q: %w", conn.Context, err)
	}
	return res, nil
}

// Readiness looks up the images of cluster workloads ws (each distinct
// image once), judges them against target and builds their reports: the
// one-shot report and the in-cluster reporter share it.
func Readiness(ctx context.Context, l Lookuper, ws []workload.Workload, target platform.Platform, jobs int, progress func(lookup.Progress), o policyreport.Options) (assess.Report, []*unstructured.Unstructured) {
	rs := []reader{func(context.Context) source.Result { return source.Result{Workloads: ws, Read: 1} }}
	in, images := readAndLookUp(ctx, rs, l, jobs, progress)
	rep := assess.Assess(in.Workloads, images, target)
	return rep, policyreport.Build(rep, o)
}
