package verify

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// node is a path of the final filesystem and the layer it came from.
type node struct {
	Entry
	layer int
}

// fsys is an image's final filesystem as the verifier sees it.
type fsys struct {
	files   map[string]*node
	owners  owners
	maxHops int
}

// merge applies layers (lowest first) with the OCI layer rules, top-down:
// a path of an upper layer wins; whiteouts and opaque directories hide
// paths of lower layers only, never of their own layer; a non-directory
// hides whatever lower layers have under its path. Hardlinks to files of
// lower layers take the target's record.
func merge(layers []*Layer, maxHops int) *fsys {
	f := &fsys{files: map[string]*node{}, owners: owners{by: map[string]string{}}, maxHops: maxHops}
	whiteouts, opaques := map[string]bool{}, map[string]bool{}
	hidden := func(p string, layer int) bool {
		for q := p; ; q = path.Dir(q) {
			if whiteouts[q] {
				return true
			}
			if q != p {
				if opaques[q] {
					return true
				}
				if n, ok := f.files[q]; ok && n.Type != TypeDir && n.layer > layer {
					return true
				}
			}
			if q == "/" {
				return false
			}
		}
	}
	for i := len(layers) - 1; i >= 0; i-- {
		for _, e := range layers[i].Entries {
			if _, ok := f.files[e.Path]; ok || hidden(e.Path, i) {
				continue
			}
			f.files[e.Path] = &node{Entry: e, layer: i}
		}
		for _, w := range layers[i].Whiteouts {
			whiteouts[w] = true
		}
		for _, o := range layers[i].Opaques {
			opaques[o] = true
		}
	}
	for _, n := range f.files {
		if n.Type == TypeHardlink {
			linkTarget(layers, n)
		}
	}
	for i, l := range layers {
		for _, db := range l.DBs {
			if n, ok := f.files[db.Path]; !ok || n.layer != i {
				continue // replaced or deleted by a later layer
			}
			if db.Format == DBRpm {
				f.owners.rpm = true
			}
			for _, p := range db.Packages {
				for _, file := range p.Files {
					f.owners.by[file] = db.Format + ":" + p.Name
				}
			}
		}
	}
	// Databases name paths as the package wrote them (/bin/sh); with
	// /bin a symlink to usr/bin the file is found at /usr/bin/sh.
	aliases := map[string]string{}
	for p, owner := range f.owners.by {
		if _, real, err := f.resolve(p); err == nil && real != p {
			aliases[real] = owner
		}
	}
	for real, owner := range aliases {
		if _, ok := f.owners.by[real]; !ok {
			f.owners.by[real] = owner
		}
	}
	return f
}

// linkTarget gives hardlink n the record of its target: the file at the
// target path in the nearest layer below n's.
func linkTarget(layers []*Layer, n *node) {
	for i := n.layer - 1; i >= 0; i-- {
		for _, e := range layers[i].Entries {
			if e.Path == n.Link && e.Type == TypeFile {
				n.Type, n.Bin = TypeFile, e.Bin
				return
			}
		}
	}
}

// errNotDir is resolve's error for a path through a non-directory.
var errNotDir = errors.New("not a directory")

// resolve follows p through the final filesystem's symlinks and returns
// the node it names and its real path. A missing path is fs.ErrNotExist.
func (f *fsys) resolve(p string) (*node, string, error) {
	hops := 0
	todo := strings.Split(strings.TrimPrefix(cleanPath(p), "/"), "/")
	cur := "/"
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, c)
		n, ok := f.files[next]
		if !ok {
			if len(todo) > 0 {
				cur = next // a directory the tar left implicit
				continue
			}
			return nil, next, fs.ErrNotExist
		}
		if n.Type == TypeSymlink {
			hops++
			if hops > f.maxHops {
				return nil, next, fmt.Errorf("%w resolving %s (cap %d)", ErrSymlinkHops, p, f.maxHops)
			}
			if path.IsAbs(n.Link) {
				cur = "/"
			}
			todo = append(strings.Split(n.Link, "/"), todo...)
			continue
		}
		if len(todo) > 0 && n.Type != TypeDir {
			return nil, next, errNotDir
		}
		cur = next
	}
	n, ok := f.files[cur]
	if !ok {
		if cur == "/" || f.hasChildren(cur) {
			return &node{Entry: Entry{Path: cur, Type: TypeDir}, layer: -1}, cur, nil
		}
		return nil, cur, fs.ErrNotExist
	}
	return n, cur, nil
}

// hasChildren reports whether some path lies under dir.
func (f *fsys) hasChildren(dir string) bool {
	prefix := strings.TrimSuffix(dir, "/") + "/"
	for p := range f.files {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}
