package source

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/archwaydev/archway/internal/source/kube"
	"github.com/archwaydev/archway/internal/walk"
)

// Input is one input that can be read on its own, so that a scan reads
// its inputs in parallel and looks images up while the rest is still being
// read.
type Input struct {
	// Path is the file or directory to read.
	Path string
	// Options are how to read it.
	Options Options
	// walked is true for an entry of a directory PATH, which, as in Read's
	// own walk, is skipped when it is of no known kind.
	walked bool
	// err is a problem found while splitting, such as a symbolic link not
	// followed: the input's only result.
	err error
	// skip, when set, is why the walk does not read Path.
	skip string
}

// Inputs splits paths into inputs that can be read independently. A path
// that is a directory walked file by file (a plain directory, or any
// directory read as kind Kubernetes) becomes one input per entry, chosen
// as Read's walk chooses them: dot-directories skipped, and for a plain
// directory, charts and kustomizations read whole with their own values
// and files of no known kind skipped; for Kubernetes, only manifest files.
// Any other path is one input, read with opts. Inputs are in the order
// Read would read them. Symbolic links, here and in the walks below, follow
// package walk's rule within the directories among paths.
func Inputs(paths []string, opts Options) []Input {
	within := walk.Dirs(paths)
	opts.Within = within
	entryOpts := Options{Kind: opts.Kind, Helm: walkHelm(opts.Helm), Within: within}
	if opts.Kind == Directory {
		entryOpts.Kind = "" // entries are detected one by one
	}
	var reads func(string) bool // what the walk of a directory reads
	if opts.Kind == Kubernetes {
		reads = kube.IsManifestFile
	}
	var out []Input
	for _, p := range paths {
		if !walkedByEntry(p, opts.Kind) {
			out = append(out, Input{Path: p, Options: opts})
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			out = append(out, Input{Path: p, Options: opts}) // Read reports it
			continue
		}
		for _, e := range entries {
			path := filepath.Join(p, e.Name())
			if e.Type()&fs.ModeSymlink != 0 {
				target, follow, err := walk.Link(path, walk.Options{Within: within, Reads: reads})
				if err != nil {
					out = append(out, Input{Path: path, Options: entryOpts, err: err})
					continue
				}
				if !follow {
					continue // read under its own name
				}
				e = target
			}
			switch {
			case e.IsDir() && strings.HasPrefix(e.Name(), "."):
				out = append(out, Input{Path: path, skip: whyHidden})
			case e.IsDir():
				out = append(out, Input{Path: path, Options: entryOpts, walked: true})
			case opts.Kind == Kubernetes:
				if e.Type().IsRegular() && kube.IsManifestFile(path) {
					out = append(out, Input{Path: path, Options: entryOpts})
				}
			case e.Type().IsRegular():
				out = append(out, Input{Path: path, Options: entryOpts, walked: true})
			default:
				out = append(out, Input{Path: path, skip: whyNotFile})
			}
		}
	}
	return out
}

// walkedByEntry reports whether path p, read as kind, is a directory whose
// entries can be read one by one: a plain directory, or any directory read
// as Kubernetes manifests. Only directories are detected here, which reads
// no file: any other path is detected by its own read.
func walkedByEntry(p string, kind Kind) bool {
	if info, err := os.Stat(p); err != nil || !info.IsDir() {
		return false
	}
	switch kind {
	case Kubernetes, Directory:
		return true
	case "":
		k, err := Detect(p)
		return err == nil && k == Directory
	}
	return false
}

// Read reads the input: its workloads, its problems one by one, each
// naming its file, its notes, and what it read and skipped. Combine the
// results of a scan's inputs with Merge.
func (in Input) Read(ctx context.Context) Result {
	var r Result
	if in.err != nil {
		r.Errs = append(r.Errs, in.err)
		return r
	}
	if in.skip != "" {
		r.Skipped = append(r.Skipped, Skip{Path: in.Path, Why: in.skip})
		return r
	}
	r.read(ctx, in.Path, in.Options, in.walked)
	return r
}
