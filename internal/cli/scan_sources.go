package cli

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/archwaydev/archway/internal/assess"
	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/source"
	"github.com/archwaydev/archway/internal/source/helm"
	"github.com/archwaydev/archway/internal/source/kube"
	"github.com/archwaydev/archway/internal/workload"
)

// refLookup is what scan needs from the registry: *registry.Client.
type refLookup interface {
	Lookup(ctx context.Context, ref string) registry.Result
}

var _ refLookup = (*registry.Client)(nil)

// scanUnit is one input read by one source.Read call.
type scanUnit struct {
	path string
	opts source.Options
	// walked is true for an entry of a directory PATH, which, like in
	// source's own walk, is skipped when it is of no known kind.
	walked bool
}

// scanInputs is what reading the inputs found.
type scanInputs struct {
	workloads []workload.Workload
	errs      []error
	images    map[string]assess.ImageResult
}

// scanUnits splits the PATHs into units that can be read independently,
// so that reading runs in parallel and lookups start while the rest is
// still being read. A PATH that is a directory walked file by file (a plain
// directory, or any directory with --kind kubernetes) becomes one unit per
// entry, chosen as that walk chooses them: dot-directories skipped, and
// for a plain directory, charts read with their own values and files of no
// known kind skipped; for kubernetes, only manifest files. Any other PATH
// is one unit. Units are in the order the walk would read them.
func scanUnits(paths []string, kind source.Kind, o scanOptions) []scanUnit {
	opts := source.Options{
		Kind: kind,
		Helm: helm.Options{ValueFiles: o.values, Values: o.set, Namespace: o.cluster.namespace},
	}
	entryOpts := source.Options{Kind: kind, Helm: helm.Options{Namespace: o.cluster.namespace}}
	if kind == source.Directory {
		entryOpts.Kind = "" // entries are detected one by one
	}
	var units []scanUnit
	for _, p := range paths {
		if !walkedByEntry(p, kind) {
			units = append(units, scanUnit{path: p, opts: opts})
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			units = append(units, scanUnit{path: p, opts: opts}) // source.Read reports it
			continue
		}
		for _, e := range entries {
			path := filepath.Join(p, e.Name())
			switch {
			case e.IsDir() && strings.HasPrefix(e.Name(), "."):
			case e.IsDir():
				units = append(units, scanUnit{path: path, opts: entryOpts})
			case kind == source.Kubernetes:
				if (e.Type().IsRegular() || e.Type()&fs.ModeSymlink != 0) && kube.IsManifestFile(path) {
					units = append(units, scanUnit{path: path, opts: entryOpts})
				}
			case e.Type().IsRegular():
				units = append(units, scanUnit{path: path, opts: entryOpts, walked: true})
			}
		}
	}
	return units
}

// walkedByEntry reports whether PATH p, read as kind, is a directory whose
// entries can be read one by one: a plain directory, or any directory read
// as Kubernetes manifests. Only directories are detected here, which reads
// no file: any other PATH is detected by its own read, in parallel with
// the rest.
func walkedByEntry(p string, kind source.Kind) bool {
	if info, err := os.Stat(p); err != nil || !info.IsDir() {
		return false
	}
	switch kind {
	case source.Kubernetes, source.Directory:
		return true
	case "":
		k, err := source.Detect(p)
		return err == nil && k == source.Directory
	}
	return false
}

// workloadReader reads one input: its workloads, and its problems one by
// one, each naming its file.
type workloadReader func(ctx context.Context) ([]workload.Workload, []error)

// readers returns the units' read methods.
func readers(units []scanUnit) []workloadReader {
	out := make([]workloadReader, len(units))
	for i, u := range units {
		out[i] = u.read
	}
	return out
}

// read reads one unit (see workloadReader).
func (u scanUnit) read(ctx context.Context) ([]workload.Workload, []error) {
	ws, err := source.Read(ctx, u.path, u.opts)
	if u.walked && len(ws) == 0 && errors.Is(err, source.ErrUnknownKind) {
		return nil, nil
	}
	return ws, kube.Errors(err)
}

// readAndLookUp runs the readers in parallel and looks every distinct image
// up as soon as a reader that found it has returned, at most jobs at a
// time, each once. Workloads and errors are in reader order.
func readAndLookUp(ctx context.Context, rs []workloadReader, l refLookup, jobs int, progress func(done, total int)) scanInputs {
	type slot struct {
		ws   []workload.Workload
		errs []error
	}
	slots := make([]slot, len(rs))
	read := make(chan []workload.Workload, len(rs))
	go func() { // Go blocks at the limit, so the loop runs beside the lookups
		var parse errgroup.Group
		parse.SetLimit(runtime.GOMAXPROCS(0))
		for i, r := range rs {
			parse.Go(func() error {
				ws, errs := r(ctx)
				slots[i] = slot{ws, errs}
				read <- ws
				return nil
			})
		}
		_ = parse.Wait() // the readers return no error: problems are in the slots
		close(read)
	}()

	var (
		mu          sync.Mutex
		results     = map[string]assess.ImageResult{}
		done, total int
	)
	work := make(chan string)
	var lookups sync.WaitGroup
	for range jobs {
		lookups.Go(func() {
			for ref := range work {
				r := imageResult(l.Lookup(ctx, ref))
				mu.Lock()
				results[ref] = r
				done++
				if progress != nil {
					progress(done, total)
				}
				mu.Unlock()
			}
		})
	}
	seen := map[string]bool{}
	for ws := range read {
		for _, w := range ws {
			for _, ref := range w.Images() {
				if seen[ref] {
					continue
				}
				seen[ref] = true
				mu.Lock()
				total++
				mu.Unlock()
				work <- ref
			}
		}
	}
	close(work)
	lookups.Wait()

	in := scanInputs{images: results}
	for _, s := range slots {
		in.workloads = append(in.workloads, s.ws...)
		in.errs = append(in.errs, s.errs...)
	}
	return in
}
