package manifest

import (
	"fmt"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/archwaydev/archway/internal/workload"
)

// Object is one Kubernetes object of a stream; the items of a List (or of
// a typed list such as DeploymentList) are objects of their own.
type Object struct {
	// Doc is the document the object is in.
	Doc *Document
	// Steps lead from the document node to the object.
	Steps []Step
	// Node is the object's mapping.
	Node *yaml.Node
	// APIVersion and Kind are the object's (a typed list's items inherit
	// them); Namespace and Name come from its metadata (generateName when
	// there is no name).
	APIVersion, Kind, Namespace, Name string
	// Line is where the object starts.
	Line int
	// SpecPath is the path from the object to its pod spec; nil when the
	// object is not a workload.
	SpecPath []string
	// Spec is the pod spec mapping; nil when the object is not a workload.
	Spec *yaml.Node
	// Images are the image-looking string fields (image, *Image) under the
	// spec of an object of a kind that is not a built-in workload and has
	// no pod template: a custom resource whose operator runs them. Nil
	// when Spec is set.
	Images []ImageField
	// Err is set when the object is malformed (no mapping, a pod spec that
	// is not a mapping, a duplicate key): it is neither judged nor placed.
	Err error

	specs *specCache // PodSpec's decoded specs, for the objects of one Map
}

// ID is a short human name: "Kind name" (or just the kind).
func (o Object) ID() string {
	if o.Name != "" {
		return o.Kind + " " + o.Name
	}
	return o.Kind
}

// SpecSteps are the steps from the document node to the pod spec.
func (o Object) SpecSteps() []Step {
	return append(append([]Step(nil), o.Steps...), Keys(o.SpecPath...)...)
}

// Objects lists the Kubernetes objects of every document that parsed, in
// stream order. Mappings without a kind (values files, CI configs) are not
// objects and are left out; a malformed object is listed with its Err.
func (s *Stream) Objects() []Object {
	var out []Object
	for _, d := range s.Docs {
		if d.Root == nil {
			continue
		}
		out = s.object(out, d, nil, "", "")
	}
	return out
}

func (s *Stream) object(out []Object, d *Document, at []Step, defaultAPIVersion, defaultKind string) []Object {
	n := Walk(d.Root, at, false)
	if n == nil {
		return out
	}
	fail := func(line int, format string, args ...any) []Object {
		return append(out, Object{Doc: d, Steps: at, Node: n, Kind: defaultKind, Line: n.Line,
			Err: &Error{File: s.Name, Line: line, Err: fmt.Errorf(format, args...)}})
	}
	if n.Kind != yaml.MappingNode {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return out // "---" followed by nothing but "~"
		}
		return fail(n.Line, "expected a Kubernetes object (a mapping), found %s", KindName(n))
	}
	o := Object{Doc: d, Steps: at, Node: n, APIVersion: Str(n, "apiVersion"), Kind: Str(n, "kind"), Line: n.Line}
	if o.APIVersion == "" {
		o.APIVersion = defaultAPIVersion
	}
	if o.Kind == "" {
		o.Kind = defaultKind
	}
	if o.Kind == "" {
		return out // not a Kubernetes object
	}
	meta := Get(n, "metadata")
	o.Namespace, o.Name = Str(meta, "namespace"), Str(meta, "name")
	if o.Name == "" {
		o.Name = Str(meta, "generateName")
	}
	items := Get(n, "items")
	isList := strings.HasSuffix(o.Kind, "List") && items != nil
	if err := duplicateKey(n, !isList); err != nil {
		o.Err = &Error{File: s.Name, Line: n.Line, Err: fmt.Errorf("%s: %w", o.ID(), err)}
		return append(out, o)
	}
	if isList {
		if items.Kind != yaml.SequenceNode {
			if items.Tag != "!!null" {
				o.Err = &Error{File: s.Name, Line: items.Line, Err: fmt.Errorf("%s: items: expected a list, found %s", o.Kind, KindName(items))}
				return append(out, o)
			}
			return out
		}
		itemKind := ""
		if o.Kind != "List" {
			itemKind = strings.TrimSuffix(o.Kind, "List")
		}
		for i := range items.Content {
			out = s.object(out, d, append(append([]Step(nil), at...), Step{Key: "items"}, Step{Index: i}), o.APIVersion, itemKind)
		}
		return out
	}
	spec, path := findPodSpec(n, o.Kind)
	if path == nil {
		o.Images = customImages(n)
		return append(out, o)
	}
	o.SpecPath = path
	switch {
	case spec == nil:
		o.Err = &Error{File: s.Name, Line: n.Line, Err: fmt.Errorf("%s: no pod spec at %s", o.ID(), strings.Join(path, "."))}
	case spec.Kind != yaml.MappingNode:
		o.Err = &Error{File: s.Name, Line: spec.Line, Err: fmt.Errorf("%s: %s: expected a mapping, found %s", o.ID(), strings.Join(path, "."), KindName(spec))}
	default:
		o.Spec = spec
	}
	return append(out, o)
}

// findPodSpec returns the pod spec node of object n of the given kind and
// the path it was (or, for a built-in kind, should have been) found at.
// The path is nil when n is not a workload.
func findPodSpec(n *yaml.Node, kind string) (*yaml.Node, []string) {
	paths, builtin := workload.PodSpecPaths(kind)
	if builtin {
		return Path(n, paths[0]...), paths[0]
	}
	for _, p := range paths {
		if spec := Path(n, p...); spec != nil && spec.Kind == yaml.MappingNode && Get(spec, "containers") != nil {
			return spec, p
		}
	}
	return nil, nil
}

// duplicateKey finds a key written twice in one mapping anywhere under n.
// Kubernetes' strict decoding rejects such an object, and its lenient one
// keeps the last value: judging or placing the first would describe a spec
// that never runs. deep checks the mappings below n too. Aliased content
// is checked where it is defined.
func duplicateKey(n *yaml.Node, deep bool) error {
	if n == nil || n.Kind == yaml.AliasNode {
		return nil
	}
	if n.Kind == yaml.MappingNode {
		var seen map[string]int // line of each key, for large mappings
		if len(n.Content) > 32 {
			seen = make(map[string]int, len(n.Content)/2)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.Value == "<<" {
				continue
			}
			first := 0
			if seen != nil {
				first = seen[k.Value]
				seen[k.Value] = k.Line
			} else {
				for j := 0; j < i; j += 2 {
					if p := n.Content[j]; p.Kind == yaml.ScalarNode && p.Value == k.Value {
						first = p.Line
					}
				}
			}
			if first > 0 {
				return fmt.Errorf("duplicate key %q at lines %d and %d (Kubernetes rejects it)", k.Value, first, k.Line)
			}
		}
	}
	if !deep {
		return nil
	}
	for _, c := range n.Content {
		if err := duplicateKey(c, true); err != nil {
			return err
		}
	}
	return nil
}
