package dockerfile

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/walk"
	"github.com/archwaydev/archway/internal/workload"
)

// Kind is the Workload.Kind of every workload this package returns.
const Kind = "Dockerfile"

// scratch is the base name of an empty image; it is no image to look up.
const scratch = "scratch"

// builderArgs are BuildKit's automatic arguments that describe the machine
// running the build; a stage whose --platform uses one runs on the builder.
var builderArgs = []string{"BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT"}

// Options change how a Dockerfile is read, as the flags of `docker build`
// (or a compose service's build section) would.
type Options struct {
	// Target is the stage to build, like `docker build --target`; empty
	// means the last stage.
	Target string
	// BuildArgs override the defaults of global ARGs, like
	// `docker build --build-arg`; nil means none.
	BuildArgs map[string]string
}

// Read reads the Dockerfile at path; see [Parse].
func Read(path string) ([]workload.Workload, error) {
	data, err := walk.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dockerfile: %w", err)
	}
	return Parse(path, data)
}

// Parse reads a Dockerfile's bytes with default [Options]; name is the file
// name shown in locations and errors. It returns exactly one workload.
func Parse(name string, data []byte) ([]workload.Workload, error) {
	return ParseOptions(name, data, Options{})
}

// ParseOptions is [Parse] with a target stage and build arguments.
func ParseOptions(name string, data []byte, opts Options) (ws []workload.Workload, err error) {
	defer func() {
		// BuildKit's parser is not ours; a panic in it is bad input to us.
		if r := recover(); r != nil {
			ws, err = nil, errAt(name, 0, fmt.Errorf("cannot parse: %v", r))
		}
	}()
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, errAt(name, errLine(err), err)
	}
	// A non-nil linter that skips every rule: BuildKit dereferences it when
	// a "# check=" directive is present.
	stages, metaArgs, err := instructions.Parse(res.AST, linter.New(&linter.Config{SkipAll: true}))
	if err != nil {
		line := errLine(err)
		// BuildKit says "dockerfile parse error on line N: ..."; the line
		// is already in our prefix, so keep only what went wrong.
		if inner := errors.Unwrap(err); inner != nil && strings.HasPrefix(err.Error(), "dockerfile parse error") {
			err = inner
		}
		return nil, errAt(name, line, err)
	}
	if len(stages) == 0 {
		return nil, errAt(name, 0, errors.New("no FROM instruction"))
	}
	r := &resolver{file: name, lex: shell.NewLex(res.EscapeToken)}
	if err := r.globals(metaArgs, opts.BuildArgs); err != nil {
		return nil, err
	}
	infos, err := r.stages(stages)
	if err != nil {
		return nil, err
	}
	target := len(infos) - 1
	if opts.Target != "" {
		target = findStage(infos, strings.ToLower(opts.Target), len(infos))
		if target < 0 {
			return nil, errAt(name, 0, fmt.Errorf("target stage %q not found", opts.Target))
		}
	}
	w := workload.Workload{
		Source:     workload.SourceDockerfile,
		Location:   workload.Location{File: name, Line: infos[0].line},
		Kind:       Kind,
		Name:       name,
		Containers: containers(name, infos, target),
	}
	return []workload.Workload{w}, nil
}

// stage is what the package learns about one build stage.
type stage struct {
	label     string // the stage's name, or "stage-N" like BuildKit's progress output
	name      string // the stage's lower-case name; empty when unnamed
	line      int    // line of the FROM
	base      int    // index of the stage it is built FROM; -1 for an image or scratch
	image     string // the base image reference; empty for scratch or a stage
	onBuilder bool   // runs on the build platform, not the target
	platform  platform.Platform
	needs     []int // stages this one needs: base, COPY --from, RUN --mount=from
	images    []ref // images named by COPY --from and RUN --mount=from
}

// ref is an image reference found in a stage's instructions.
type ref struct {
	image string
	line  int
}

// resolver expands words the way BuildKit does for FROM.
type resolver struct {
	file string
	lex  *shell.Lex
	env  []string // global build arguments as KEY=VALUE
}

// globals evaluates the ARGs before the first FROM, in order; each default
// may use the arguments declared before it.
func (r *resolver) globals(args []instructions.ArgCommand, overrides map[string]string) error {
	for _, cmd := range args {
		for _, kv := range cmd.Args {
			if v, ok := overrides[kv.Key]; ok {
				r.env = append(r.env, kv.Key+"="+v)
				continue
			}
			if kv.Value == nil {
				continue
			}
			v, err := r.lex.ProcessWordWithMatches(*kv.Value, shell.EnvsFromSlice(r.env))
			if err != nil {
				return errAt(r.file, rangeLine(cmd.Location()), fmt.Errorf("ARG %s: %w", kv.Key, err))
			}
			r.env = append(r.env, kv.Key+"="+v.Result)
		}
	}
	return nil
}

// expand substitutes global build arguments into word. resolved is false
// when a variable is not set; the caller then keeps word as written.
func (r *resolver) expand(word string, line int) (result string, vars map[string]struct{}, resolved bool, err error) {
	res, err := r.lex.ProcessWordWithMatches(word, shell.EnvsFromSlice(r.env))
	if err != nil {
		return "", nil, false, errAt(r.file, line, fmt.Errorf("%q: %w", word, err))
	}
	vars = map[string]struct{}{}
	for k := range res.Matched {
		vars[k] = struct{}{}
	}
	for k := range res.Unmatched {
		vars[k] = struct{}{}
	}
	return res.Result, vars, len(res.Unmatched) == 0, nil
}

// stages resolves every stage's base and platform and what it needs.
func (r *resolver) stages(in []instructions.Stage) ([]stage, error) {
	out := make([]stage, 0, len(in))
	for i, st := range in {
		s := stage{label: st.Name, name: st.Name, line: rangeLine(st.Location), base: -1}
		if s.label == "" {
			s.label = "stage-" + strconv.Itoa(i)
		}
		base, _, resolved, err := r.expand(st.BaseName, s.line)
		if err != nil {
			return nil, err
		}
		switch {
		case !resolved:
			s.image = st.BaseName // an argument the build supplies; look it up as written
		case base == "":
			return nil, errAt(r.file, s.line, fmt.Errorf("base name %q is empty after substitution", st.BaseName))
		case base == scratch:
		default:
			// BuildKit matches FROM against earlier stage names exactly;
			// stage names are stored in lower case.
			if j := findStage(out, base, i); j >= 0 {
				s.base = j
				s.onBuilder, s.platform = out[j].onBuilder, out[j].platform
				s.needs = append(s.needs, j)
			} else {
				s.image = base
			}
		}
		if st.Platform != "" && s.base < 0 {
			if err := r.platform(&s, st.Platform); err != nil {
				return nil, err
			}
		}
		if err := r.commands(&s, st.Commands, out, i); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// platform reads a FROM --platform value into s.
func (r *resolver) platform(s *stage, word string) error {
	v, vars, resolved, err := r.expand(word, s.line)
	if err != nil {
		return err
	}
	for _, a := range builderArgs {
		if _, ok := vars[a]; ok {
			s.onBuilder = true
			return nil
		}
	}
	if !resolved || v == "" {
		return nil // $TARGETPLATFORM and friends: the target, not a pin
	}
	p, err := platform.Parse(v)
	if err != nil {
		return errAt(r.file, s.line, fmt.Errorf("FROM --platform=%s: %w", word, err))
	}
	s.platform = p
	return nil
}

// commands records the stages and images a stage's COPY --from and
// RUN --mount=from name.
func (r *resolver) commands(s *stage, cmds []instructions.Command, earlier []stage, self int) error {
	for _, c := range cmds {
		var froms []string
		switch c := c.(type) {
		case *instructions.CopyCommand:
			froms = append(froms, c.From)
		case *instructions.RunCommand:
			for _, m := range instructions.GetMounts(c) {
				froms = append(froms, m.From)
			}
		}
		line := commandLine(c)
		for _, from := range froms {
			if from == "" {
				continue
			}
			v, _, resolved, err := r.expand(from, line)
			if err != nil {
				return err
			}
			if !resolved {
				s.images = append(s.images, ref{image: from, line: line})
				continue
			}
			if n, err := strconv.Atoi(v); err == nil {
				if n < 0 || n >= self {
					return errAt(r.file, line, fmt.Errorf("--from=%s: no earlier stage with index %d", from, n))
				}
				s.needs = append(s.needs, n)
				continue
			}
			if j := findStage(earlier, strings.ToLower(v), self); j >= 0 {
				s.needs = append(s.needs, j)
				continue
			}
			s.images = append(s.images, ref{image: v, line: line})
		}
	}
	return nil
}

// containers lists the base images of the stages target needs, in stage
// order. The image the target stage is finally built FROM is always a
// regular container: it must run on the target platform.
func containers(file string, stages []stage, target int) []workload.Container {
	needed := make([]bool, len(stages))
	var visit func(int)
	visit = func(i int) {
		if needed[i] {
			return
		}
		needed[i] = true
		for _, j := range stages[i].needs {
			visit(j)
		}
	}
	visit(target)
	final := target
	for stages[final].base >= 0 {
		final = stages[final].base
	}
	out := []workload.Container{}
	for i, s := range stages {
		if !needed[i] {
			continue
		}
		kind := workload.ContainerRegular
		if s.onBuilder {
			kind = workload.ContainerBuild
		}
		if s.image != "" {
			c := workload.Container{
				Name:     s.label,
				Kind:     kind,
				Image:    s.image,
				Location: workload.Location{File: file, Line: s.line},
				Platform: s.platform,
			}
			if i == final {
				c.Kind = workload.ContainerRegular
			}
			out = append(out, c)
		}
		for _, im := range s.images {
			out = append(out, workload.Container{
				Name:     s.label,
				Kind:     kind,
				Image:    im.image,
				Location: workload.Location{File: file, Line: im.line},
				Platform: s.platform,
			})
		}
	}
	return out
}

// findStage returns the index of the stage named name among the first n
// stages, or -1.
func findStage(stages []stage, name string, n int) int {
	for j := range min(n, len(stages)) {
		if stages[j].name != "" && stages[j].name == name {
			return j
		}
	}
	return -1
}

// commandLine returns the first line of an instruction, zero if unknown.
func commandLine(c instructions.Command) int {
	if l, ok := c.(interface{ Location() []parser.Range }); ok {
		return rangeLine(l.Location())
	}
	return 0
}

func rangeLine(rs []parser.Range) int {
	if len(rs) == 0 {
		return 0
	}
	return rs[0].Start.Line
}

// errLine returns the line BuildKit attached to err, zero if none.
func errLine(err error) int {
	var le *parser.LocationError
	if errors.As(err, &le) && len(le.Locations) > 0 {
		return rangeLine(le.Locations[0])
	}
	return 0
}

// errAt prefixes err with the file and, when known, the line.
func errAt(file string, line int, err error) error {
	if line > 0 {
		return fmt.Errorf("%s: line %d: %w", file, line, err)
	}
	return fmt.Errorf("%s: %w", file, err)
}
