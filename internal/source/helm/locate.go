package helm

import (
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/archwaydev/archway/internal/workload"
)

// Template is the source of one rendered template.
type Template struct {
	// File is the template's file on disk, or the chart archive it was
	// loaded from (then lines are not given).
	File string `json:"file"`
	// Data is the template's text; nil when File is an archive.
	Data []byte `json:"data,omitempty"`
}

// templates maps the render name of every template of chrt and its
// subcharts ("shop/charts/db/templates/x.yaml") to its source. root is the
// path the chart was loaded from: a directory or an archive.
func templates(chrt *chart.Chart, root string) map[string]Template {
	out := map[string]Template{}
	var walk func(c *chart.Chart, prefix, dir string, archive bool)
	walk = func(c *chart.Chart, prefix, dir string, archive bool) {
		for _, t := range c.Templates {
			src := Template{File: dir}
			if !archive {
				src = Template{File: filepath.Join(dir, filepath.FromSlash(t.Name)), Data: t.Data}
			}
			out[path.Join(prefix, t.Name)] = src
		}
		subdirs := map[string]string{}
		if !archive {
			subdirs = subchartDirs(dir)
		}
		for _, d := range c.Dependencies() {
			sub, ok := subdirs[d.Name()]
			if !ok {
				sub = subchartArchive(dir, d, archive)
			}
			walk(d, path.Join(prefix, "charts", d.Name()), sub, archive || !ok)
		}
	}
	info, err := os.Stat(root)
	walk(chrt, chrt.Name(), root, err != nil || !info.IsDir())
	return out
}

// subchartDirs maps the name of each unpacked subchart under dir/charts to
// its directory (the directory name need not be the chart's name).
func subchartDirs(dir string) map[string]string {
	out := map[string]string{}
	entries, err := os.ReadDir(filepath.Join(dir, "charts"))
	if err != nil {
		return out
	}
	for _, e := range entries {
		sub := filepath.Join(dir, "charts", e.Name())
		if !e.IsDir() {
			continue
		}
		if md, err := chartutil.LoadChartfile(filepath.Join(sub, "Chart.yaml")); err == nil {
			out[md.Name] = sub
		}
	}
	return out
}

// subchartArchive is the file a packaged subchart d of the chart at dir was
// loaded from: charts/<name>-<version>.tgz when it exists, else dir itself
// (the parent, an archive or the charts directory).
func subchartArchive(dir string, d *chart.Chart, parentIsArchive bool) string {
	if parentIsArchive {
		return dir
	}
	p := filepath.Join(dir, "charts", d.Name()+"-"+d.Metadata.Version+".tgz")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return filepath.Join(dir, "charts")
}

var (
	// imageLine matches a line that writes an image: key.
	imageLine = regexp.MustCompile(`^\s*(?:-\s+)?["']?image["']?\s*:`)
	// kindLine matches a top-level kind: line; group 1 is the kind.
	kindLine = regexp.MustCompile(`^kind:\s*["']?([^"'\s#]*)`)
	// rangeAction matches a template range action.
	rangeAction = regexp.MustCompile(`\{\{-?\s*range\b`)
)

// locate moves the locations of the workloads rendered from one template
// onto the template's source: the file on disk, and the line that writes
// each object's kind and each container's image when that is unambiguous,
// else an approximate line.
func locate(ws []workload.Workload, src Template) {
	if src.Data == nil {
		for i := range ws {
			ws[i].Location = workload.Location{File: src.File}
			for j := range ws[i].Containers {
				ws[i].Containers[j].Location = workload.Location{File: src.File}
			}
		}
		return
	}
	lines := strings.Split(string(src.Data), "\n")
	hasRange := rangeAction.Match(src.Data)
	var images, kinds []int
	kindOf := map[int]string{}
	for i, l := range lines {
		if imageLine.MatchString(l) {
			images = append(images, i+1)
		}
		if m := kindLine.FindStringSubmatch(l); m != nil {
			kinds = append(kinds, i+1)
			kindOf[i+1] = m[1]
		}
	}
	// Objects: the template's kind lines, matched by order when every one
	// rendered, else by the kind written literally when only one line has it.
	for i := range ws {
		w := &ws[i]
		var same []int
		for _, k := range kinds {
			if kindOf[k] == w.Kind {
				same = append(same, k)
			}
		}
		switch {
		case len(kinds) == len(ws):
			w.Location = workload.Location{File: src.File, Line: kinds[i]}
		case len(same) == 1:
			w.Location = workload.Location{File: src.File, Line: same[0]}
		default:
			w.Location = approximate(src.File, kinds)
		}
	}
	// Images: a line that writes the rendered value literally; else the
	// only image line (for one image, or every image of a range); else the
	// image lines in order when every one rendered and none repeats.
	var all []*workload.Container
	for i := range ws {
		for j := range ws[i].Containers {
			if ws[i].Containers[j].Image != "" {
				all = append(all, &ws[i].Containers[j])
			}
		}
	}
	// Rendered order is source order: containers are listed by role.
	slices.SortStableFunc(all, func(a, b *workload.Container) int { return a.Location.Line - b.Location.Line })
	for i, c := range all {
		var literal []int
		for _, n := range images {
			if strings.Contains(lines[n-1], c.Image) {
				literal = append(literal, n)
			}
		}
		switch {
		case len(literal) == 1:
			c.Location = exactImage(src.File, literal[0], lines)
		case len(images) == 1 && (len(all) == 1 || hasRange):
			c.Location = exactImage(src.File, images[0], lines)
		case len(images) == len(all) && !hasRange:
			c.Location = exactImage(src.File, images[i], lines)
		default:
			c.Location = approximate(src.File, images)
		}
	}
}

// exactImage is image line n of file, at the column where its value
// starts, as the YAML reader gives it.
func exactImage(file string, n int, lines []string) workload.Location {
	l := lines[n-1]
	key := imageLine.FindStringIndex(l)
	value := len(l) - len(strings.TrimLeft(l[key[1]:], " \t"))
	return workload.Location{File: file, Line: n, Column: value + 1}
}

// approximate is the first candidate line of file, or its first line, with
// the line marked approximate.
func approximate(file string, candidates []int) workload.Location {
	line := 1
	if len(candidates) > 0 {
		line = candidates[0]
	}
	return workload.Location{File: file, Line: line, Approximate: true}
}

// onDisk rewrites the template names in a render error ("(web/templates/
// x.yaml:3:15)") to the template files on disk.
func onDisk(err error, srcs map[string]Template) error {
	msg := err.Error()
	names := slices.Collect(maps.Keys(srcs))
	slices.SortFunc(names, func(a, b string) int { return len(b) - len(a) }) // longest first
	for _, name := range names {
		if src := srcs[name]; src.Data != nil {
			msg = strings.ReplaceAll(msg, "("+name+":", "("+src.File+":")
		}
	}
	if msg == err.Error() {
		return err
	}
	return &renamedError{msg: msg, err: err}
}

// renamedError is err with its template names made file paths.
type renamedError struct {
	msg string
	err error
}

func (e *renamedError) Error() string { return e.msg }
func (e *renamedError) Unwrap() error { return e.err }
