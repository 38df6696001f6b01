package walk

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Options say what a walk reads, so that it can tell a link whose target
// it reaches anyway.
type Options struct {
	// Within are the directories given to the command; a link is followed
	// when its target is inside one. Empty: the root walked.
	Within []string
	// Reads reports whether the walk reads the regular file at path (by
	// its name, such as an extension filter); nil: every file.
	Reads func(path string) bool
}

// Dirs are the directories among paths: the roots of a command given
// paths, for Options.Within.
func Dirs(paths []string) []string {
	var out []string
	for _, p := range paths {
		if info, err := os.Stat(p); err == nil && info.IsDir() {
			out = append(out, p)
		}
	}
	return out
}

// LinkError is a symbolic link the walk does not follow.
type LinkError struct {
	// Path is the link as found.
	Path string
	// Target is where it points ("" when it cannot be resolved).
	Target string
	// Reason says why it is not followed.
	Reason string
}

func (e *LinkError) Error() string {
	if e.Target == "" {
		return fmt.Sprintf("%s: symbolic link %s: not read", e.Path, e.Reason)
	}
	return fmt.Sprintf("%s: symbolic link to %s %s: not read", e.Path, e.Target, e.Reason)
}

// Dir walks the directory root in lexical order, calling fn as
// filepath.WalkDir does (fs.SkipDir and fs.SkipAll included), with links
// followed by the package's rule: fn sees a followed link under its own
// path, with an entry of its target's type, and a link not followed as an
// error for that path (a *LinkError).
func Dir(root string, o Options, fn fs.WalkDirFunc) error {
	w, err := newWalker(root, o, fn)
	if err != nil {
		return fn(root, nil, err)
	}
	info, err := os.Stat(root)
	if err != nil {
		return fn(root, nil, err)
	}
	err = w.walk(root, w.rootReal, fs.FileInfoToDirEntry(info))
	if errors.Is(err, fs.SkipDir) || errors.Is(err, fs.SkipAll) {
		return nil
	}
	return err
}

// Link resolves the symbolic link at path, an entry of a directory under
// o's roots: follow is false (and err nil) when the walk reaches its
// target under its own name; else entry is the target's, named as the
// link. err is a *LinkError for a link not followed.
func Link(path string, o Options) (entry fs.DirEntry, follow bool, err error) {
	w, err := newWalker(filepath.Dir(path), o, nil)
	if err != nil {
		return nil, false, err
	}
	return w.link(path)
}

type walker struct {
	roots    []string // real paths of the roots
	rootReal string   // real path of the root walked
	reads    func(string) bool
	fn       fs.WalkDirFunc
	dirs     map[string]bool // real directories walked
	files    map[string]bool // real files read
}

func newWalker(root string, o Options, fn fs.WalkDirFunc) (*walker, error) {
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, err
	}
	real, err = filepath.Abs(real)
	if err != nil {
		return nil, err
	}
	w := &walker{rootReal: real, reads: o.Reads, fn: fn, dirs: map[string]bool{}, files: map[string]bool{}}
	if w.reads == nil {
		w.reads = func(string) bool { return true }
	}
	within := o.Within
	if len(within) == 0 {
		within = []string{root}
	}
	for _, r := range within {
		if rr, err := filepath.EvalSymlinks(r); err == nil {
			if rr, err = filepath.Abs(rr); err == nil {
				w.roots = append(w.roots, rr)
			}
		}
	}
	return w, nil
}

// walk calls fn for the directory at path (real: its real path) and walks
// its entries.
func (w *walker) walk(path, real string, d fs.DirEntry) error {
	if err := w.fn(path, d, nil); err != nil {
		return err
	}
	w.dirs[real] = true
	entries, err := os.ReadDir(path)
	if err != nil {
		if err := w.fn(path, d, err); err != nil && !errors.Is(err, fs.SkipDir) {
			return err
		}
		return nil
	}
	for _, e := range entries {
		p := filepath.Join(path, e.Name())
		var err error
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			err = w.followLink(p)
		case e.IsDir():
			err = w.walk(p, filepath.Join(real, e.Name()), e)
		default:
			// A file read through a link already is not read again.
			if r := filepath.Join(real, e.Name()); !w.reads(p) || !w.files[r] {
				w.files[r] = w.files[r] || w.reads(p)
				err = w.fn(p, e, nil)
			}
		}
		if errors.Is(err, fs.SkipDir) {
			if !e.IsDir() {
				return nil // as WalkDir: the rest of this directory is skipped
			}
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) followLink(p string) error {
	entry, follow, err := w.link(p)
	switch {
	case err != nil:
		return w.fn(p, nil, err)
	case !follow:
		return nil
	case entry.IsDir():
		real, _ := filepath.EvalSymlinks(p)
		real, _ = filepath.Abs(real)
		if w.dirs[real] {
			return nil // walked already: a loop, or two links to one directory
		}
		return w.walk(p, real, entry)
	}
	return w.fn(p, entry, nil)
}

// link decides the link at p (see Link).
func (w *walker) link(p string) (fs.DirEntry, bool, error) {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		target, _ := os.Readlink(p)
		reason := "which does not exist"
		if !errors.Is(err, fs.ErrNotExist) {
			reason = "that cannot be resolved (a loop?)"
		}
		return nil, false, &LinkError{Path: p, Target: target, Reason: reason}
	}
	real, err = filepath.Abs(real)
	if err != nil {
		return nil, false, err
	}
	info, err := os.Stat(p)
	if err != nil {
		return nil, false, &LinkError{Path: p, Target: real, Reason: "that cannot be read: " + err.Error()}
	}
	root, inside := w.rootOf(real)
	if !inside {
		return nil, false, &LinkError{Path: p, Target: real, Reason: "outside " + strings.Join(w.roots, ", ")}
	}
	name := filepath.Base(p)
	entry := namedEntry{fs.FileInfoToDirEntry(info), name}
	if info.IsDir() {
		// A loop (a link to a directory being walked) or a directory the
		// walk reaches anyway: read there.
		if isAncestor(real, w.dirOf(p)) || w.reachable(root, real, true) {
			return nil, false, nil
		}
		return entry, true, nil
	}
	if !info.Mode().IsRegular() {
		return nil, false, &LinkError{Path: p, Target: real, Reason: "to something other than a file or directory"}
	}
	if !w.reads(p) {
		return nil, false, nil // not a file this walk reads, by the link's name
	}
	if w.reachable(root, real, false) && w.reads(real) || w.files[real] {
		return nil, false, nil
	}
	w.files[real] = true
	return entry, true, nil
}

// dirOf is the real path of the directory holding p.
func (w *walker) dirOf(p string) string {
	d, err := filepath.EvalSymlinks(filepath.Dir(p))
	if err != nil {
		return ""
	}
	d, _ = filepath.Abs(d)
	return d
}

// rootOf is the root real lies inside.
func (w *walker) rootOf(real string) (string, bool) {
	for _, r := range w.roots {
		if isAncestor(r, real) {
			return r, true
		}
	}
	return "", false
}

// reachable reports whether a walk of root reaches real (a directory when
// dir is set) under its own name: no directory on the way starts with a
// dot.
func (w *walker) reachable(root, real string, dir bool) bool {
	rel, err := filepath.Rel(root, real)
	if err != nil {
		return false
	}
	if rel == "." {
		return true
	}
	dirs := strings.Split(rel, string(filepath.Separator))
	if !dir {
		dirs = dirs[:len(dirs)-1]
	}
	return !slices.ContainsFunc(dirs, func(s string) bool { return strings.HasPrefix(s, ".") })
}

// isAncestor reports whether dir is path or a directory above it.
func isAncestor(dir, path string) bool {
	return path == dir || strings.HasPrefix(path, strings.TrimSuffix(dir, string(filepath.Separator))+string(filepath.Separator))
}

// namedEntry is a link's target entry under the link's name.
type namedEntry struct {
	fs.DirEntry
	name string
}

func (e namedEntry) Name() string { return e.name }
