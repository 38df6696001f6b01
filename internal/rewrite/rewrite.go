package rewrite

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/manifest"
	"github.com/archwaydev/archway/internal/placement"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/workload"
)

// Format is the kind of file.
type Format string

// The formats rewrite understands.
const (
	FormatKubernetes Format = "kubernetes" // Kubernetes manifests, YAML or JSON
	FormatECS        Format = "ecs"        // ECS task definitions (JSON)
	FormatCompose    Format = "compose"    // Compose files
)

// Options configure Apply.
type Options struct {
	// Placement configures the placement of Kubernetes pod specs.
	Placement placement.Options
	// Platform is the target of ECS task definitions; the zero value means
	// linux/arm64.
	Platform platform.Platform
}

// Target is one thing in a file that can be placed: a Kubernetes object
// with a pod spec, an ECS task definition, a Compose service.
type Target struct {
	// Kind is the object's kind ("Deployment", "TaskDefinition", "Service").
	Kind string
	// Namespace and Name identify it; either may be empty.
	Namespace, Name string
	// Line is the 1-based line where it starts.
	Line int
	// Images are the distinct image references it runs, init and
	// ephemeral containers included.
	Images []string
	// Err is set when the object is malformed (a pod spec that does not
	// decode, a duplicate key): it is left untouched and reported, and the
	// rest of the file is still placed.
	Err error
}

// ID is a short human name: kind/namespace/name.
func (t Target) ID() string {
	s := t.Kind
	if t.Namespace != "" {
		s += "/" + t.Namespace
	}
	if t.Name != "" {
		s += "/" + t.Name
	}
	return s
}

// Change reports what Apply did (or would do) to one target.
type Change struct {
	Target
	// Changed reports whether the target was modified.
	Changed bool
	// Summary holds human lines of what was done.
	Summary []string
	// Findings are problems left for a person.
	Findings []string
	// Skipped is non-empty when the target was left untouched because an
	// image is unknown; it names the image and the cause.
	Skipped string
	// Blocked is true when no placement is right for the target (see
	// placement.Outcome.Blocked); Findings say why.
	Blocked bool
}

// Result is the outcome of Apply on one file.
type Result struct {
	// Data is the new content of the file (the original bytes when nothing
	// changed).
	Data []byte
	// Changed reports whether Data differs from the input.
	Changed bool
	// Changes has one entry per target, in file order.
	Changes []Change
	// Notes are file-level problems that did not stop the rewrite.
	Notes []string
}

// File is a parsed input file.
type File struct {
	// Name is the file name used in messages.
	Name string
	// Format is the kind of file.
	Format Format
	// JSON reports whether the file is JSON (and is written back as JSON).
	JSON bool

	data    []byte
	compose ComposeReader
	targets []Target
	notes   []string
}

// ComposeReader reads the services of a compose file as workloads, one
// container each, with locations; source/compose.Parse is one. It may
// return workloads together with an error about some services.
type ComposeReader func(name string, data []byte) ([]workload.Workload, error)

// Parser parses files to place.
type Parser struct {
	// Compose reads compose files' services; nil: compose files are read
	// as Kubernetes manifests, which they are not, so nothing is placed.
	Compose ComposeReader
}

// Parse reads a file: its format is detected from the content. A file that
// does not parse is an error naming the file (and line when known).
func (p Parser) Parse(name string, data []byte) (*File, error) {
	f := &File{Name: name, data: data, compose: p.Compose}
	h, err := f.load()
	if err != nil {
		return nil, err
	}
	f.targets = h.targets()
	return f, nil
}

// Notes are what Parse noticed that is not a target, such as custom
// resources that name images but are placed by their operator.
func (f *File) Notes() []string { return slices.Clone(f.notes) }

// Targets returns the placeable things in f, in file order.
func (f *File) Targets() []Target { return slices.Clone(f.targets) }

// Images returns the distinct image references of every target, in order.
func (f *File) Images() []string {
	var out []string
	for _, t := range f.targets {
		for _, img := range t.Images {
			if !slices.Contains(out, img) {
				out = append(out, img)
			}
		}
	}
	return out
}

// Apply places every target of f with the given image support and returns
// the new content. images should hold every reference of f.Images(); a
// missing one counts as unknown. f itself is not modified.
func (f *File) Apply(images map[string]lookup.Result, opts Options) (Result, error) {
	h, err := f.load()
	if err != nil {
		return Result{}, err
	}
	changes, err := h.apply(images, opts)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", f.Name, err)
	}
	res := Result{Data: f.data, Changes: changes, Notes: slices.Clone(f.notes)}
	if slices.ContainsFunc(changes, func(c Change) bool { return c.Changed }) {
		data, err := h.encode()
		if err != nil {
			return Result{}, fmt.Errorf("%s: %w", f.Name, err)
		}
		res.Data = data
		res.Changed = !bytes.Equal(data, f.data)
	}
	return res, nil
}

// handler is one file format's parsed state; load parses afresh, so Apply
// never changes what Parse saw.
type handler interface {
	targets() []Target
	apply(images map[string]lookup.Result, opts Options) ([]Change, error)
	encode() ([]byte, error)
}

func (f *File) load() (handler, error) {
	s := manifest.Parse(f.Name, f.data)
	if err := s.Err(); err != nil {
		return nil, err // every document must parse to write the file back
	}
	f.JSON = s.JSON
	switch {
	case s.JSON && isECS(s.Docs[0].Root):
		f.Format = FormatECS
		return &ecsFile{stream: s, root: s.Docs[0].Root}, nil
	case !s.JSON:
		c, ok, err := loadCompose(f.Name, f.data, s, f.compose)
		if err != nil {
			return nil, err
		}
		if ok {
			f.Format = FormatCompose
			f.notes = c.notes
			return c, nil
		}
	}
	f.Format = FormatKubernetes
	k := &kubeFile{stream: s}
	k.find()
	f.notes = k.notes
	return k, nil
}

// changeFrom turns a placement outcome into a Change.
func changeFrom(t Target, o placement.Outcome) Change {
	return Change{Target: t, Changed: o.Changed, Summary: o.Summary, Findings: o.Findings, Skipped: o.Skipped, Blocked: o.Blocked}
}

// unknownImage returns the Skipped text for the first image of refs whose
// support is unknown, or "".
func unknownImage(refs []string, images map[string]lookup.Result) string {
	for _, ref := range refs {
		img, ok := images[ref]
		switch {
		case !ok:
			return fmt.Sprintf("image %s: unknown: no lookup result", ref)
		case img.Err != nil:
			return fmt.Sprintf("image %s: unknown: %v", ref, img.Err)
		}
	}
	return ""
}
