package cli

import (
	"context"

	"github.com/archwaydev/archway/internal/source"
	"github.com/archwaydev/archway/internal/source/helm"
	"github.com/archwaydev/archway/internal/source/kube"
	"github.com/archwaydev/archway/internal/workload"
)

// readScanInputs reads the workloads of every path, in argument order.
// A path that fails, wholly or in part, does not stop the others: its
// problems come back one by one, each naming its file, next to every
// workload that could be read.
func readScanInputs(ctx context.Context, paths []string, kind source.Kind, o scanOptions) ([]workload.Workload, []error) {
	opts := source.Options{
		Kind: kind,
		Helm: helm.Options{ValueFiles: o.values, Values: o.set, Namespace: o.cluster.namespace},
	}
	var ws []workload.Workload
	var errs []error
	for _, p := range paths {
		got, err := source.Read(ctx, p, opts)
		ws = append(ws, got...)
		errs = append(errs, kube.Errors(err)...)
	}
	return ws, errs
}
