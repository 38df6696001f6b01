package ecs

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/walk"
	"github.com/archwaydev/archway/internal/workload"
)

// Kind is the Workload.Kind of every workload this package returns.
const Kind = "TaskDefinition"

// ErrNotTaskDefinition is wrapped by the error for JSON that holds no ECS
// task definition.
var ErrNotTaskDefinition = errors.New("not an ECS task definition")

// Read reads the task definition file at path; see [Parse].
func Read(path string) ([]workload.Workload, error) {
	data, err := walk.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ecs: %w", err)
	}
	return Parse(path, data)
}

// Parse reads task definitions from JSON bytes; name is the file name shown
// in locations and errors. It returns one workload per task definition, in
// file order, and the workloads it could read alongside an error for the
// task definitions it could not.
func Parse(name string, data []byte) ([]workload.Workload, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil // an empty file defines nothing, as for kubectl
	}
	p := &parser{file: name, lines: newLines(data)}
	root, err := parseJSON(data)
	if err != nil {
		var se *syntaxError
		if errors.As(err, &se) {
			return nil, p.errAt(se.offset, errors.New(se.msg))
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defs, errs, err := p.taskDefinitions(root)
	if err != nil {
		return nil, err
	}
	var ws []workload.Workload
	for _, d := range defs {
		w, err := p.taskDefinition(d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ws = append(ws, w)
	}
	return ws, errors.Join(errs...)
}

// def is one task definition found in the input: its object, or for a bare
// list of container definitions the list itself.
type def struct {
	v          *value
	containers *value // the containerDefinitions array
}

type parser struct {
	file  string
	lines lines
}

// taskDefinitions finds the task definitions in the input's shape. bad
// are the elements of an array that are not task definitions; err means
// the input holds none at all.
func (p *parser) taskDefinitions(root *value) (defs []def, bad []error, err error) {
	notTD := func(why string) error {
		return p.errAt(root.offset, fmt.Errorf("%w: %s", ErrNotTaskDefinition, why))
	}
	switch root.kind {
	case kindObject:
		d, ok := asTaskDefinition(root)
		if !ok {
			return nil, nil, notTD("no containerDefinitions or taskDefinition")
		}
		return []def{d}, nil, nil
	case kindArray:
		if len(root.items) == 0 {
			return nil, nil, notTD("an empty array")
		}
		if isContainerList(root) {
			return []def{{v: root, containers: root}}, nil, nil
		}
		for _, item := range root.items {
			d, ok := asTaskDefinition(item)
			if !ok {
				bad = append(bad, p.errAt(item.offset, errors.New("array element is not a task definition")))
				continue
			}
			defs = append(defs, d)
		}
		if len(defs) == 0 {
			return nil, nil, notTD("no element is a task definition")
		}
		return defs, bad, nil
	}
	return nil, nil, notTD("neither an object nor an array")
}

// asTaskDefinition accepts a task definition or describe-task-definition
// output.
func asTaskDefinition(v *value) (def, bool) {
	if td := v.get("taskDefinition"); td != nil && td.kind == kindObject {
		v = td
	}
	if cs := v.get("containerDefinitions"); cs != nil {
		return def{v: v, containers: cs}, true
	}
	return def{}, false
}

// isContainerList reports whether an array holds container definitions
// (objects with an image) rather than task definitions.
func isContainerList(arr *value) bool {
	for _, item := range arr.items {
		if _, ok := asTaskDefinition(item); ok || item.get("image") == nil {
			return false
		}
	}
	return true
}

// taskDefinition turns one task definition into a workload.
func (p *parser) taskDefinition(d def) (workload.Workload, error) {
	line, _ := p.lines.at(d.v.offset)
	w := workload.Workload{
		Source:     workload.SourceECS,
		Location:   workload.Location{File: p.file, Line: line},
		Kind:       Kind,
		Containers: []workload.Container{},
	}
	if d.containers == d.v { // a bare container list
		base := filepath.Base(p.file)
		w.Name = strings.TrimSuffix(base, filepath.Ext(base))
	} else {
		name, err := p.name(d.v)
		if err != nil {
			return workload.Workload{}, err
		}
		w.Name = name
		pinned, err := p.pinned(d.v)
		if err != nil {
			return workload.Workload{}, fmt.Errorf("%w (task definition %s)", err, w.Name)
		}
		w.PinnedArchitectures = pinned
	}
	if d.containers.kind != kindArray {
		return workload.Workload{}, p.errAt(d.containers.offset, fmt.Errorf("task definition %s: containerDefinitions: want an array", w.Name))
	}
	for i, c := range d.containers.items {
		ct, err := p.container(c, i)
		if err != nil {
			return workload.Workload{}, fmt.Errorf("%w (task definition %s)", err, w.Name)
		}
		w.Containers = append(w.Containers, ct)
	}
	return w, nil
}

// name is family[:revision].
func (p *parser) name(v *value) (string, error) {
	fam := v.get("family")
	if fam == nil || fam.kind != kindString || fam.str == "" {
		return "", p.errAt(v.offset, errors.New("task definition without a family"))
	}
	name := fam.str
	if rev := v.get("revision"); rev != nil && rev.kind == kindNumber {
		name += ":" + rev.str
	}
	return name, nil
}

// pinned reads runtimePlatform.cpuArchitecture.
func (p *parser) pinned(v *value) ([]string, error) {
	arch := v.get("runtimePlatform").get("cpuArchitecture")
	if arch == nil {
		return nil, nil
	}
	if arch.kind != kindString {
		return nil, p.errAt(arch.offset, errors.New("runtimePlatform.cpuArchitecture: want a string"))
	}
	switch strings.ToUpper(arch.str) {
	case "X86_64":
		return []string{platform.LinuxAMD64.Architecture}, nil
	case "ARM64":
		return []string{platform.LinuxARM64.Architecture}, nil
	}
	return nil, p.errAt(arch.offset, fmt.Errorf("runtimePlatform.cpuArchitecture: unknown value %q (want X86_64 or ARM64)", arch.str))
}

// container reads one container definition.
func (p *parser) container(c *value, index int) (workload.Container, error) {
	if c.kind != kindObject {
		return workload.Container{}, p.errAt(c.offset, fmt.Errorf("containerDefinitions[%d]: want an object", index))
	}
	name := fmt.Sprintf("containerDefinitions[%d]", index)
	if n := c.get("name"); n != nil && n.kind == kindString && n.str != "" {
		name = n.str
	}
	img := c.get("image")
	if img == nil {
		return workload.Container{}, p.errAt(c.offset, fmt.Errorf("container %s: no image", name))
	}
	if img.kind != kindString || strings.TrimSpace(img.str) == "" {
		return workload.Container{}, p.errAt(img.offset, fmt.Errorf("container %s: image: want a non-empty string", name))
	}
	line, col := p.lines.at(img.offset)
	return workload.Container{
		Name:     name,
		Kind:     workload.ContainerRegular,
		Image:    img.str,
		Location: workload.Location{File: p.file, Line: line, Column: col},
	}, nil
}

// errAt prefixes err with the file, line and column of offset.
func (p *parser) errAt(offset int, err error) error {
	line, col := p.lines.at(offset)
	return fmt.Errorf("%s: line %d, column %d: %w", p.file, line, col, err)
}
