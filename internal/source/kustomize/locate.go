package kustomize

import (
	"os"
	"path/filepath"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/archwaydev/archway/internal/manifest"
	"github.com/archwaydev/archway/internal/source/kube"
	"github.com/archwaydev/archway/internal/walk"
	"github.com/archwaydev/archway/internal/workload"
)

// maxKustomizations bounds the kustomization files read for images:
// entries (a tree with loops or thousands of bases is cut there).
const maxKustomizations = 256

// imageEntry is one entry of a kustomization's images: list.
type imageEntry struct {
	name, newName, newTag, digest string
	at                            workload.Location
}

// imageEntries lists the images: entries of the kustomization in dir and
// of the local kustomizations it builds (resources that are directories,
// components), outermost first: the first that applies is the one whose
// value kustomize kept.
func imageEntries(dir string) []imageEntry {
	var out []imageEntry
	seen := map[string]bool{}
	queue := []string{filepath.Clean(dir)}
	for len(queue) > 0 && len(seen) < maxKustomizations {
		d := queue[0]
		queue = queue[1:]
		if seen[d] {
			continue
		}
		seen[d] = true
		file, data := kustomizationFile(d)
		if file == "" {
			continue
		}
		var doc yaml.Node
		if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		if images := manifest.Get(root, "images"); images != nil && images.Kind == yaml.SequenceNode {
			for _, e := range images.Content {
				if e.Kind != yaml.MappingNode {
					continue
				}
				out = append(out, imageEntry{
					name: manifest.Str(e, "name"), newName: manifest.Str(e, "newName"),
					newTag: manifest.Str(e, "newTag"), digest: manifest.Str(e, "digest"),
					at: workload.Location{File: file, Line: e.Line, Column: e.Column},
				})
			}
		}
		for _, field := range []string{"resources", "bases", "components"} {
			list := manifest.Get(root, field)
			if list == nil || list.Kind != yaml.SequenceNode {
				continue
			}
			for _, r := range list.Content {
				sub := filepath.Join(d, r.Value)
				if info, err := os.Stat(sub); r.Kind == yaml.ScalarNode && err == nil && info.IsDir() {
					queue = append(queue, sub)
				}
			}
		}
	}
	return out
}

// kustomizationFile is the kustomization file of dir and its content.
func kustomizationFile(dir string) (string, []byte) {
	for _, n := range FileNames {
		p := filepath.Join(dir, n)
		if data, err := walk.ReadFile(p); err == nil {
			return p, data
		}
	}
	return "", nil
}

// locate points w and its containers at the resource file kustomize read
// them from (or, without an origin, at the kustomization file, the line
// marked approximate); an image that an images: entry set is located at
// that entry.
func locate(w *workload.Workload, dir string, or origin, entries []imageEntry, files resourceFiles) {
	if or.Path == "" || or.Repo != "" {
		file, _ := kustomizationFile(dir)
		if or.ConfiguredIn != "" && or.Repo == "" {
			file = filepath.Join(dir, or.ConfiguredIn)
		}
		w.Location = workload.Location{File: file, Line: 1, Approximate: true}
		for i := range w.Containers {
			w.Containers[i].Location = w.Location
		}
		return
	}
	file := filepath.Join(dir, or.Path)
	src := sourceWorkload(files.read(file), *w)
	w.Location = workload.Location{File: file, Line: 1, Approximate: true}
	if src != nil {
		w.Location = src.Location
	}
	for i := range w.Containers {
		c := &w.Containers[i]
		orig := sourceContainer(src, *c)
		if orig == nil {
			c.Location = workload.Location{File: file, Line: w.Location.Line, Approximate: true}
			continue
		}
		c.Location = orig.Location
		if orig.Image == c.Image {
			continue
		}
		if e, ok := entryFor(entries, orig.Image, c.Image); ok {
			c.Location = e.at
		} else {
			c.Location.Approximate = true // changed by a patch or transformer
		}
	}
}

// resourceFiles are the workloads of the resource files read so far, so
// that a file holding many objects is parsed once.
type resourceFiles map[string][]workload.Workload

// read returns the workloads written in file (none when it cannot be read).
func (r resourceFiles) read(file string) []workload.Workload {
	ws, ok := r[file]
	if !ok {
		if data, err := walk.ReadFile(file); err == nil {
			ws, _ = kube.Parse(file, data)
		}
		r[file] = ws
	}
	return ws
}

// sourceWorkload finds w among ws, as written in its resource file: the
// object of the same kind whose name w's name contains (namePrefix and
// nameSuffix added), the longest such name.
func sourceWorkload(ws []workload.Workload, w workload.Workload) *workload.Workload {
	var best *workload.Workload
	for i := range ws {
		s := &ws[i]
		if s.Kind != w.Kind || !strings.Contains(w.Name, s.Name) {
			continue
		}
		if best == nil || len(s.Name) > len(best.Name) {
			best = s
		}
	}
	return best
}

// sourceContainer is the container of src with c's name and role.
func sourceContainer(src *workload.Workload, c workload.Container) *workload.Container {
	if src == nil {
		return nil
	}
	for i := range src.Containers {
		if s := &src.Containers[i]; s.Name == c.Name && s.Kind == c.Kind {
			return s
		}
	}
	return nil
}

// entryFor finds the images: entry that turns image orig into image got.
func entryFor(entries []imageEntry, orig, got string) (imageEntry, bool) {
	name, tag, digest := splitImage(orig)
	for _, e := range entries {
		if e.name != name {
			continue
		}
		want := name
		if e.newName != "" {
			want = e.newName
		}
		switch {
		case e.newTag != "" && e.digest != "":
			want += ":" + e.newTag + "@" + e.digest
		case e.digest != "":
			want += "@" + e.digest
		case e.newTag != "":
			want += ":" + e.newTag
		case digest != "":
			want += "@" + digest
		case tag != "":
			want += ":" + tag
		}
		if want == got {
			return e, true
		}
	}
	return imageEntry{}, false
}

// splitImage splits an image reference into its name, tag and digest.
func splitImage(ref string) (name, tag, digest string) {
	name, digest, _ = strings.Cut(ref, "@")
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name, tag = name[:i], name[i+1:]
	}
	return name, tag, digest
}
