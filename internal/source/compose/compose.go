package compose

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/source/dockerfile"
	"github.com/archwaydev/archway/internal/walk"
	"github.com/archwaydev/archway/internal/workload"
)

// Kind is the Workload.Kind of every workload this package returns.
const Kind = "Service"

// ErrNotCompose is wrapped by the error for input that is not a compose
// file: not a YAML mapping, or no top-level services.
var ErrNotCompose = errors.New("not a compose file")

// maxDepth bounds alias, merge-key and extends chains.
const maxDepth = 32

// Read reads the compose file at path; see [Parse].
func Read(path string) ([]workload.Workload, error) {
	data, err := walk.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	return Parse(path, data)
}

// Parse reads a compose file's bytes; name is the file name shown in
// locations and errors, and its directory is where relative build contexts
// are read from and where the project name comes from when the file has no
// `name:`. It returns one workload per service, in file order, and the
// workloads it could read alongside an error for the services it could not.
func Parse(name string, data []byte) (ws []workload.Workload, err error) {
	defer func() {
		if r := recover(); r != nil {
			ws, err = nil, errAt(name, 0, fmt.Errorf("cannot parse: %v", r))
		}
	}()
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errAt(name, 0, fmt.Errorf("%w: empty", ErrNotCompose))
		}
		return nil, yamlErr(name, err)
	}
	root := resolve(&doc, 0)
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = resolve(root.Content[0], 0)
	}
	if root == nil || root.Kind != yaml.MappingNode {
		return nil, errAt(name, root.Line, fmt.Errorf("%w: the top level is not a mapping", ErrNotCompose))
	}
	_, services := lookup(root, "services", 0)
	if services == nil {
		return nil, errAt(name, root.Line, fmt.Errorf("%w: no services", ErrNotCompose))
	}
	if services.Kind != yaml.MappingNode {
		if services.Tag == "!!null" {
			return nil, nil
		}
		return nil, errAt(name, services.Line, errors.New("services: want a mapping"))
	}
	f := &file{name: name, dir: filepath.Dir(name), services: services}
	project, err := f.project(root)
	if err != nil {
		return nil, err
	}
	var errs []error
	for i := 0; i+1 < len(services.Content); i += 2 {
		key := services.Content[i]
		if key.Tag == "!!merge" {
			continue
		}
		w, ok, err := f.service(key, project)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			ws = append(ws, w)
		}
	}
	return ws, errors.Join(errs...)
}

// file is one compose file being read.
type file struct {
	name     string
	dir      string
	services *yaml.Node
}

// project returns the project name: top-level name:, else the directory's.
func (f *file) project(root *yaml.Node) (string, error) {
	if _, n := lookup(root, "name", 0); n != nil && n.Kind == yaml.ScalarNode && n.Value != "" {
		v, _, err := interpolate(n.Value)
		if err != nil {
			return "", errAt(f.name, n.Line, fmt.Errorf("name: %w", err))
		}
		return normalizeProject(v), nil
	}
	dir, err := filepath.Abs(f.dir)
	if err != nil {
		dir = f.dir
	}
	return normalizeProject(filepath.Base(dir)), nil
}

var projectInvalid = regexp.MustCompile(`[^-_a-z0-9]+`)

// normalizeProject applies Compose's rule: lower case, only [-_a-z0-9],
// starting with a letter or digit.
func normalizeProject(s string) string {
	s = projectInvalid.ReplaceAllString(strings.ToLower(s), "")
	return strings.TrimLeft(s, "-_")
}

// fields are the parts of a service archway reads.
type fields struct {
	image, build, platform *yaml.Node
	buildKey               *yaml.Node // for the line of errors in a build mapping
}

// service reads one service. ok is false for a service that is no
// workload (neither image nor build).
func (f *file) service(key *yaml.Node, project string) (workload.Workload, bool, error) {
	name := key.Value
	fail := func(n *yaml.Node, err error) (workload.Workload, bool, error) {
		line := key.Line
		if n != nil {
			line = n.Line
		}
		return workload.Workload{}, false, errAt(f.name, line, fmt.Errorf("service %s: %w", name, err))
	}
	fs, err := f.fields(name, 0)
	if err != nil {
		return fail(nil, err)
	}
	w := workload.Workload{
		Source:     workload.SourceCompose,
		Location:   workload.Location{File: f.name, Line: key.Line, Column: key.Column},
		Kind:       Kind,
		Namespace:  project,
		Name:       name,
		Containers: []workload.Container{},
	}
	var pin platform.Platform
	var unread string
	if n := fs.platform; n != nil {
		s, err := scalar(n, "platform")
		if err != nil {
			return fail(n, err)
		}
		if v, resolved, err := interpolate(s); err != nil {
			return fail(n, fmt.Errorf("platform: %w", err))
		} else if resolved && v != "" {
			if pin, err = platform.Parse(v); err != nil {
				unread = v // kept: judged unknown, with the pin as written
			} else if pin.Architecture != "wasm" { // not a node architecture
				w.PinnedArchitectures = []string{pin.Architecture}
			}
		}
	}
	switch {
	case fs.build != nil:
		cs, dockerfile, err := f.build(name, fs.build)
		if err != nil {
			return fail(fs.buildKey, err)
		}
		if dockerfile != "" {
			w.Builds = []string{dockerfile}
		}
		for _, c := range cs {
			if c.Kind != workload.ContainerBuild && c.Platform.IsZero() {
				c.Platform, c.UnreadPlatform = pin, unread
			}
			w.Containers = append(w.Containers, c)
		}
	case fs.image != nil:
		s, err := scalar(fs.image, "image")
		if err != nil {
			return fail(fs.image, err)
		}
		image, _, err := interpolate(s)
		if err != nil {
			return fail(fs.image, fmt.Errorf("image: %w", err))
		}
		if image == "" {
			return fail(fs.image, errors.New("image: empty"))
		}
		w.Containers = append(w.Containers, workload.Container{
			Name:     name,
			Kind:     workload.ContainerRegular,
			Image:    image,
			Location: workload.Location{File: f.name, Line: fs.image.Line, Column: fs.image.Column},
			Platform: pin,

			UnreadPlatform: unread,
		})
	default:
		return workload.Workload{}, false, nil
	}
	return w, true, nil
}

// fields finds a service's image, build and platform, following extends
// within this file; the service's own settings win.
func (f *file) fields(name string, depth int) (fields, error) {
	if depth > maxDepth {
		return fields{}, errors.New("extends: chain too long or circular")
	}
	_, svc := lookup(f.services, name, 0)
	if svc == nil {
		return fields{}, fmt.Errorf("extends: no service %q in this file", name)
	}
	if svc.Kind != yaml.MappingNode {
		if svc.Tag == "!!null" {
			return fields{}, nil
		}
		return fields{}, errors.New("want a mapping")
	}
	var fs fields
	_, fs.image = lookup(svc, "image", 0)
	fs.buildKey, fs.build = lookup(svc, "build", 0)
	_, fs.platform = lookup(svc, "platform", 0)
	_, ext := lookup(svc, "extends", 0)
	if ext == nil {
		return fs, nil
	}
	base, other, err := extendsTarget(ext)
	if err != nil {
		return fields{}, err
	}
	if other {
		if fs.image == nil && fs.build == nil {
			return fields{}, errors.New("extends: a service in another file is not supported")
		}
		return fs, nil
	}
	parent, err := f.fields(base, depth+1)
	if err != nil {
		return fields{}, err
	}
	// Like Compose, image and build replace each other: a service that
	// sets one does not inherit the other.
	if fs.image == nil && fs.build == nil {
		fs.image, fs.build, fs.buildKey = parent.image, parent.build, parent.buildKey
	}
	if fs.platform == nil {
		fs.platform = parent.platform
	}
	return fs, nil
}

// extendsTarget reads `extends: name` or `extends: {service: name, file: f}`.
func extendsTarget(n *yaml.Node) (service string, otherFile bool, err error) {
	if n.Kind == yaml.ScalarNode {
		return n.Value, false, nil
	}
	_, s := lookup(n, "service", 0)
	if s == nil || s.Kind != yaml.ScalarNode {
		return "", false, errors.New("extends: want service")
	}
	_, fl := lookup(n, "file", 0)
	return s.Value, fl != nil, nil
}

// build returns the base images of a service's build and the Dockerfile
// it reads ("" for dockerfile_inline).
func (f *file) build(service string, n *yaml.Node) ([]workload.Container, string, error) {
	b := buildSpec{context: ".", dockerfile: "Dockerfile"}
	if err := b.read(n); err != nil {
		return nil, "", err
	}
	if isRemote(b.context) {
		return nil, "", fmt.Errorf("build: remote context %q cannot be read", b.context)
	}
	opts := dockerfile.Options{Target: b.target, BuildArgs: b.args}
	if b.inline != nil {
		ws, err := dockerfile.ParseOptions(f.name, []byte(b.inline.Value), opts)
		if err != nil {
			return nil, "", fmt.Errorf("build: dockerfile_inline: %w", err)
		}
		cs := ws[0].Containers
		for i := range cs {
			cs[i].Location.Line = inlineLine(b.inline, cs[i].Location.Line)
		}
		return cs, "", nil
	}
	context := b.context
	if !filepath.IsAbs(context) {
		context = filepath.Join(f.dir, context)
	}
	path := b.dockerfile
	if !filepath.IsAbs(path) {
		path = filepath.Join(context, path)
	}
	data, err := readDockerfile(path)
	if err != nil {
		return nil, "", fmt.Errorf("build: %w", err)
	}
	ws, err := dockerfile.ParseOptions(path, data, opts)
	if err != nil {
		return nil, "", fmt.Errorf("build: %w", err)
	}
	return ws[0].Containers, path, nil
}

// maxDockerfile bounds the Dockerfile a compose file makes archway read.
const maxDockerfile = 4 << 20

// readDockerfile reads a regular file of at most maxDockerfile bytes: the
// path comes from the compose file, which may name anything.
func readDockerfile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxDockerfile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxDockerfile {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxDockerfile)
	}
	return data, nil
}

// inlineLine maps a line of a dockerfile_inline value to the compose file.
func inlineLine(n *yaml.Node, line int) int {
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return n.Line + line // a block scalar starts on the line after its indicator
	}
	return n.Line
}

// buildSpec is a service's build section.
type buildSpec struct {
	context, dockerfile, target string
	inline                      *yaml.Node
	args                        map[string]string
}

func (b *buildSpec) read(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return b.set(&b.context, n, "build")
	}
	if n.Kind != yaml.MappingNode {
		return errors.New("build: want a path or a mapping")
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"context", &b.context}, {"dockerfile", &b.dockerfile}, {"target", &b.target}} {
		if _, v := lookup(n, f.key, 0); v != nil {
			if err := b.set(f.dst, v, "build."+f.key); err != nil {
				return err
			}
		}
	}
	if _, v := lookup(n, "dockerfile_inline", 0); v != nil {
		if v.Kind != yaml.ScalarNode {
			return errors.New("build.dockerfile_inline: want a string")
		}
		b.inline = v
	}
	if _, v := lookup(n, "args", 0); v != nil {
		args, err := buildArgs(v)
		if err != nil {
			return err
		}
		b.args = args
	}
	return nil
}

// set interpolates a scalar into dst; an unresolved variable is an error
// because a path cannot be guessed.
func (b *buildSpec) set(dst *string, n *yaml.Node, what string) error {
	s, err := scalar(n, what)
	if err != nil {
		return err
	}
	v, resolved, err := interpolate(s)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if !resolved {
		return fmt.Errorf("%s: %q uses a variable without a default", what, s)
	}
	if v != "" {
		*dst = v
	}
	return nil
}

// buildArgs reads build.args as a mapping or a list of KEY=VALUE. Arguments
// without a value (taken from the environment) and values with variables
// that have no default are left out, so the Dockerfile's defaults apply.
func buildArgs(n *yaml.Node) (map[string]string, error) {
	args := map[string]string{}
	add := func(k, v string) error {
		s, resolved, err := interpolate(v)
		if err != nil {
			return fmt.Errorf("build.args.%s: %w", k, err)
		}
		if resolved {
			args[k] = s
		}
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], resolve(n.Content[i+1], 0)
			if v == nil || v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
				continue
			}
			if err := add(k.Value, v.Value); err != nil {
				return nil, err
			}
		}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			k, v, ok := strings.Cut(item.Value, "=")
			if !ok {
				continue
			}
			if err := add(k, v); err != nil {
				return nil, err
			}
		}
	default:
		return nil, errors.New("build.args: want a mapping or a list")
	}
	return args, nil
}

// isRemote reports whether a build context is a URL or git remote.
func isRemote(ctx string) bool {
	return strings.Contains(ctx, "://") || strings.HasPrefix(ctx, "git@") || strings.HasPrefix(ctx, "github.com/")
}

// scalar returns the string value of a scalar node.
func scalar(n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", fmt.Errorf("%s: want a string", what)
	}
	return n.Value, nil
}

// resolve follows aliases.
func resolve(n *yaml.Node, depth int) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && depth < maxDepth {
		n, depth = n.Alias, depth+1
	}
	return n
}

// lookup finds key in mapping m, then in what m merges with "<<"; the
// mapping's own keys win, as in YAML merge semantics. Each mapping is
// visited once, so aliases merged many times cannot blow up the work.
func lookup(m *yaml.Node, key string, depth int) (k, v *yaml.Node) {
	return lookupSeen(m, key, depth, map[*yaml.Node]bool{})
}

func lookupSeen(m *yaml.Node, key string, depth int, seen map[*yaml.Node]bool) (k, v *yaml.Node) {
	m = resolve(m, depth)
	if m == nil || m.Kind != yaml.MappingNode || depth > maxDepth || seen[m] {
		return nil, nil
	}
	seen[m] = true
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Tag != "!!merge" && m.Content[i].Value == key {
			return m.Content[i], resolve(m.Content[i+1], depth)
		}
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Tag != "!!merge" {
			continue
		}
		merged := resolve(m.Content[i+1], depth)
		sources := []*yaml.Node{merged}
		if merged != nil && merged.Kind == yaml.SequenceNode {
			sources = merged.Content
		}
		for _, src := range sources {
			if k, v := lookupSeen(src, key, depth+1, seen); v != nil {
				return k, v
			}
		}
	}
	return nil, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlErr turns a yaml.v3 error into one that names the file and line.
func yamlErr(file string, err error) error {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return errAt(file, line, errors.New(m[2]))
	}
	return errAt(file, 0, err)
}

// errAt prefixes err with the file and, when known, the line.
func errAt(file string, line int, err error) error {
	if line > 0 {
		return fmt.Errorf("%s: line %d: %w", file, line, err)
	}
	return fmt.Errorf("%s: %w", file, err)
}
