package kube

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/archwaydev/archway/internal/manifest"
	"github.com/archwaydev/archway/internal/walk"
	"github.com/archwaydev/archway/internal/workload"
)

// IsManifestFile reports whether name has an extension this package reads
// when walking a directory: .yaml, .yml or .json, in any case.
func IsManifestFile(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// Read reads the workloads of the manifest file at path, or of every
// manifest file under the directory at path (recursively, in lexical
// order, skipping directories whose name starts with a dot). Workloads are
// returned in input order. Problems with single files or documents do not
// stop the others: they come back joined in the error (see the package
// doc); a path that cannot be opened at all is an error with no workloads.
// Symbolic links follow package walk's rule, within path.
func Read(path string) ([]workload.Workload, error) { return ReadWithin(path, nil) }

// ReadWithin is Read with links followed when they point inside one of the
// directories within (the ones the command was given; nil: path).
func ReadWithin(path string, within []string) ([]workload.Workload, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("kubernetes manifests: %w", err)
	}
	if !info.IsDir() {
		data, err := walk.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("kubernetes manifests: %w", err)
		}
		return Parse(path, data)
	}
	var out []workload.Workload
	var errs []error
	walkErr := walk.Dir(path, walk.Options{Within: within, Reads: IsManifestFile}, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, &Error{File: p, Err: err})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != path && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !IsManifestFile(p) {
			return nil
		}
		data, err := walk.ReadFile(p)
		if err != nil {
			errs = append(errs, &Error{File: p, Err: err})
			return nil
		}
		ws, err := Parse(p, data)
		out = append(out, ws...)
		if err != nil {
			errs = append(errs, err)
		}
		return nil
	})
	if walkErr != nil {
		errs = append(errs, walkErr)
	}
	return out, errors.Join(errs...)
}

// Parse reads the workloads of one YAML or JSON stream; name is the file
// name (or any display name, such as a Helm template's) used in locations
// and errors. It goes through manifest.Map: no document's tree outlives
// the reading of its workloads, and a large stream is read in parallel.
func Parse(name string, data []byte) ([]workload.Workload, error) {
	type read struct {
		w   workload.Workload
		ok  bool
		err error
	}
	rs, err := manifest.Map(name, data, func(o manifest.Object) read {
		w, ok, err := workloadOf(name, o)
		return read{w, ok, err}
	})
	errs := []error{err}
	n := 0
	for _, r := range rs {
		if r.ok {
			n++
		}
	}
	var out []workload.Workload
	if n > 0 {
		out = make([]workload.Workload, 0, n)
	}
	for _, r := range rs {
		if r.err != nil {
			errs = append(errs, r.err)
		}
		if r.ok {
			out = append(out, r.w)
		}
	}
	return out, errors.Join(errs...)
}

// ParseReader is Parse over everything read from rd.
func ParseReader(name string, rd io.Reader) ([]workload.Workload, error) {
	data, err := io.ReadAll(rd)
	if err != nil {
		return nil, &Error{File: name, Err: err}
	}
	return Parse(name, data)
}
