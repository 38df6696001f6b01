package source

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/archwaydev/archway/internal/workload"
)

// Result is what reading inputs gave: the workloads, the problems, notes
// for the user, and what was read and what was not.
type Result struct {
	// Workloads are the workloads found, in input order.
	Workloads []workload.Workload
	// Errs are the problems, one by one, each naming its file (and line).
	Errs []error
	// Notes are things worth telling that are not problems, such as
	// kustomize's deprecation warnings (once per kustomization file).
	Notes []string
	// Read counts the inputs read: files, charts and kustomizations.
	Read int
	// Skipped are the paths met and not read, with why.
	Skipped []Skip

	// walkedDockerfiles are Dockerfiles read because a walk met them.
	walkedDockerfiles []string
}

// Skip is a path that was met and not read.
type Skip struct {
	// Path is the file or directory.
	Path string
	// Why says why it was not read.
	Why string
}

func (s Skip) String() string { return s.Path + ": " + s.Why }

// Reasons a path is skipped.
const (
	whyUnknown   = "not a known kind of input"
	whyHidden    = "a dot-directory, not entered"
	whyNotFile   = "not a regular file (a symbolic link or a device), not followed"
	whyComponent = "a kustomize Component, built by the kustomizations that use it"
	whyBuilt     = "a Dockerfile that compose service %s builds, reported under the service"
)

// add appends o to r.
func (r *Result) add(o Result) {
	r.Workloads = append(r.Workloads, o.Workloads...)
	r.Errs = append(r.Errs, o.Errs...)
	r.Notes = append(r.Notes, o.Notes...)
	r.Read += o.Read
	r.Skipped = append(r.Skipped, o.Skipped...)
	r.walkedDockerfiles = append(r.walkedDockerfiles, o.walkedDockerfiles...)
}

// Merge joins the results of inputs read one by one, in order. A
// Dockerfile that a walk met and that a compose service read in the same
// scan builds is reported under the service only: its own workload is
// dropped and listed in Skipped.
func Merge(rs ...Result) Result {
	var all Result
	n := 0
	for _, r := range rs {
		n += len(r.Workloads)
	}
	if n > 0 {
		all.Workloads = make([]workload.Workload, 0, n) // one copy, however large the fleet
	}
	for _, r := range rs {
		all.add(r)
	}
	builtBy := map[string]string{}
	for _, w := range all.Workloads {
		for _, b := range w.Builds {
			if _, ok := builtBy[filepath.Clean(b)]; !ok {
				builtBy[filepath.Clean(b)] = w.Name
			}
		}
	}
	walked := map[string]bool{}
	for _, p := range all.walkedDockerfiles {
		walked[filepath.Clean(p)] = true
	}
	if len(builtBy) > 0 && len(walked) > 0 {
		kept := all.Workloads[:0] // all.Workloads is this function's own copy
		for _, w := range all.Workloads {
			file := filepath.Clean(w.Location.File)
			if svc, ok := builtBy[file]; ok && w.Source == workload.SourceDockerfile && walked[file] {
				all.Skipped = append(all.Skipped, Skip{Path: w.Location.File, Why: fmt.Sprintf(whyBuilt, svc)})
				all.Read--
				continue
			}
			kept = append(kept, w)
		}
		clear(all.Workloads[len(kept):]) // no workload kept alive past the end
		all.Workloads = kept
	}
	all.walkedDockerfiles = nil
	all.Notes = uniqueFirst(all.Notes)
	return all
}

// Summary says in one line what was read: how many inputs, and what was
// skipped and why (the first few).
func (r Result) Summary() string {
	s := fmt.Sprintf("%d %s read", r.Read, plural(r.Read, "input", "inputs"))
	if len(r.Skipped) == 0 {
		return s + ", nothing skipped"
	}
	const show = 5
	var parts []string
	for i, sk := range r.Skipped {
		if i == show {
			parts = append(parts, fmt.Sprintf("and %d more", len(r.Skipped)-show))
			break
		}
		parts = append(parts, sk.String())
	}
	return fmt.Sprintf("%s, %d skipped (%s)", s, len(r.Skipped), strings.Join(parts, "; "))
}

// uniqueFirst keeps the first of equal strings, in order: a base that
// two overlays build warns once.
func uniqueFirst(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
