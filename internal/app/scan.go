package app

import (
	"context"
	"fmt"
	"runtime"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/archwaydev/archway/internal/assess"
	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/nodes"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/source"
	"github.com/archwaydev/archway/internal/source/cluster"
	"github.com/archwaydev/archway/internal/verify"
	"github.com/archwaydev/archway/internal/workload"
)

// ScanOptions configure Scan.
type ScanOptions struct {
	// Paths are the files and directories to read.
	Paths []string
	// Source is how to read them (kind, Helm values).
	Source source.Options
	// Cluster, when set, also reads the workloads of a live cluster and
	// counts its nodes.
	Cluster *cluster.Config
	// Target is the platform workloads are judged against.
	Target platform.Platform
	// Jobs is how many lookups run at once; at least 1.
	Jobs int
	// Progress, when set, is called as lookups finish; its total is known
	// only once every input has been read.
	Progress func(lookup.Progress)
	// Deep, when set, looks inside every image the registry says supports
	// the target (scan --deep): one whose binaries are not of the target
	// is unsupported. Each distinct layer is read once (and cached).
	Deep Verifier
}

// Verifier checks the binaries inside images; *verify.Verifier is one.
type Verifier interface {
	Images(ctx context.Context, refs []string, jobs int) []verify.Result
}

// ScanResult is what a scan found.
type ScanResult struct {
	// Report holds the verdicts.
	Report assess.Report
	// Errs are the problems reading the inputs, one by one, each naming
	// its file (and line) or the cluster; the report covers the rest.
	Errs []error
	// Notes are things worth telling that are not problems (kustomize's
	// deprecation warnings, say).
	Notes []string
	// Inputs says what was read and what was skipped, and why.
	Inputs source.Result
	// Census is the cluster's nodes; nil without Cluster or when they
	// could not be read (then Errs says why).
	Census *nodes.Census
	// Context is the kubeconfig context read, with Cluster.
	Context string
}

// reader reads one input: its workloads, its problems one by one, and
// what it read.
type reader func(ctx context.Context) source.Result

// Scan reads every input in parallel, looks each distinct image up once —
// starting as soon as the input that uses it has been read, while the
// others are still being read — and judges every workload.
func Scan(ctx context.Context, l Lookuper, o ScanOptions) ScanResult {
	var res ScanResult
	var rs []reader
	for _, in := range source.Inputs(o.Paths, o.Source) {
		rs = append(rs, in.Read)
	}
	if o.Cluster != nil {
		rs = append(rs, func(ctx context.Context) source.Result {
			ws, census, contextName, errs := readCluster(ctx, *o.Cluster)
			res.Census, res.Context = census, contextName // read after readAndLookUp has returned
			return source.Result{Workloads: ws, Errs: errs, Read: 1}
		})
	}
	in, images := readAndLookUp(ctx, rs, l, o.Jobs, o.Progress)
	var bins assess.Binaries
	if o.Deep != nil {
		bins = deepCheck(ctx, o.Deep, images, o.Target)
	}
	res.Report = assess.AssessDeep(in.Workloads, images, o.Target, bins)
	res.Errs, res.Notes, res.Inputs = in.Errs, in.Notes, in
	return res
}

// readAndLookUp runs the readers in parallel and looks every distinct image
// up through one lookup.Batch as soon as a reader that found it has
// returned. The results are merged in reader order (source.Merge).
func readAndLookUp(ctx context.Context, rs []reader, l Lookuper, jobs int, progress func(lookup.Progress)) (source.Result, map[string]lookup.Result) {
	slots := make([]source.Result, len(rs))
	read := make(chan []workload.Workload, len(rs))
	go func() { // Go blocks at the limit, so the loop runs beside the lookups
		var parse errgroup.Group
		parse.SetLimit(runtime.GOMAXPROCS(0))
		for i, r := range rs {
			parse.Go(func() error {
				slots[i] = r(ctx)
				read <- slots[i].Workloads
				return nil
			})
		}
		_ = parse.Wait() // the readers return no error: problems are in the slots
		close(read)
	}()
	batch := lookup.NewBatch(ctx, l.Lookup, jobs, progress)
	for ws := range read {
		for _, w := range ws {
			batch.Add(w.Images()...)
		}
	}
	batch.Close()
	images := batch.Wait()
	return source.Merge(slots...), images
}

// deepCheck verifies the images the registry says support target and
// returns why, for each, its binaries are not of it. An image verify could
// not tell about keeps the registry's verdict (the lookup answered).
func deepCheck(ctx context.Context, v Verifier, images map[string]lookup.Result, target platform.Platform) assess.Binaries {
	var refs []string
	for ref, r := range images {
		if verdict, _ := assess.JudgeImage(r, target); verdict == assess.Supported {
			refs = append(refs, ref)
		}
	}
	slices.Sort(refs)
	bins := assess.Binaries{}
	for _, r := range v.Images(ctx, refs, 4) {
		for _, p := range r.Platforms {
			if p.Verdict != verify.Mismatch || !p.Platform.Satisfies(target) {
				continue
			}
			why := p.Verdict
			for _, f := range p.Findings {
				if f.Severity == "error" {
					why = f.Message
					break
				}
			}
			bins[r.Ref] = why
		}
	}
	return bins
}

// readCluster reads a cluster's workloads and node census. A census that
// fails is reported in errs; the workloads read are still returned.
func readCluster(ctx context.Context, c cluster.Config) ([]workload.Workload, *nodes.Census, string, []error) {
	conn, err := cluster.Connect(c)
	if err != nil {
		return nil, nil, "", []error{fmt.Errorf("--cluster: %w", err)}
	}
	var errs []error
	// The nodes are listed once: for the census and for the architectures
	// the workloads' pods run on.
	nodeList, nodeErr := nodes.ListNodes(ctx, conn.Client)
	ws, err := cluster.Read(ctx, conn.Client, cluster.Options{Namespace: conn.Namespace, Context: conn.Context, NodeArch: nodes.NodeArch, Nodes: nodeList})
	if err != nil {
		errs = append(errs, fmt.Errorf("cluster %q: %w", conn.Context, err))
	}
	if nodeErr != nil {
		errs = append(errs, fmt.Errorf("cluster %q: %w", conn.Context, nodeErr))
		return ws, nil, conn.Context, errs
	}
	n := nodes.CensusOf(nodeList)
	return ws, &n, conn.Context, errs
}
