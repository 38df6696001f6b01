package rewrite

import (
	"fmt"
	"reflect"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"

	"github.com/archwaydev/archway/internal/placement"
	"github.com/archwaydev/archway/internal/workload"
)

// kubeFile is a Kubernetes manifest stream.
type kubeFile struct {
	name      string
	docs      []*document
	json      bool
	jsonStyle jsonStyle
	pods      []*podTarget
}

type podTarget struct {
	Target
	doc        *document
	steps      []step   // from the document node to the pod spec
	specPath   []string // from the object to the pod spec
	apiVersion string
	spec       *corev1.PodSpec
}

func (k *kubeFile) targets() []Target {
	out := make([]Target, len(k.pods))
	for i, p := range k.pods {
		out[i] = p.Target
	}
	return out
}

// find locates every pod spec of the stream.
func (k *kubeFile) find() error {
	for _, d := range k.docs {
		if d.root == nil {
			continue
		}
		if err := k.object(d, nil, "", ""); err != nil {
			return err
		}
	}
	return nil
}

func (k *kubeFile) object(d *document, at []step, defaultAPIVersion, defaultKind string) error {
	n := walk(d.root, at, false)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	kind := str(n, "kind")
	if kind == "" {
		kind = defaultKind
	}
	if kind == "" {
		return nil
	}
	if items := get(n, "items"); strings.HasSuffix(kind, "List") && items != nil && items.Kind == yaml.SequenceNode {
		itemKind := ""
		if kind != "List" {
			itemKind = strings.TrimSuffix(kind, "List")
		}
		for i := range items.Content {
			if err := k.object(d, append(append(clone(at), step{key: "items"}), step{index: i}), "", itemKind); err != nil {
				return err
			}
		}
		return nil
	}
	var path []string
	if paths, builtin := workload.PodSpecPaths(kind); builtin {
		path = paths[0]
	} else {
		for _, p := range paths {
			if s := walk(d.root, append(clone(at), keys(p...)...), false); s != nil && get(s, "containers") != nil {
				path = p
				break
			}
		}
	}
	if path == nil {
		return nil
	}
	steps := append(clone(at), keys(path...)...)
	specNode := walk(d.root, steps, false)
	if specNode == nil || specNode.Kind != yaml.MappingNode {
		return nil
	}
	meta := get(n, "metadata")
	name := str(meta, "name")
	if name == "" {
		name = str(meta, "generateName")
	}
	t := Target{Kind: kind, Namespace: str(meta, "namespace"), Name: name, Line: n.Line}
	spec, err := workload.DecodePodSpec(specNode.Decode)
	if err != nil {
		return fmt.Errorf("%s:%d: %s: %s: %w", k.name, specNode.Line, t.ID(), strings.Join(path, "."), err)
	}
	t.Images = placement.Images(spec)
	k.pods = append(k.pods, &podTarget{
		Target: t,
		doc:    d, steps: steps, specPath: path, apiVersion: str(n, "apiVersion"), spec: spec,
	})
	return nil
}

func clone(s []step) []step { return append([]step(nil), s...) }

func (k *kubeFile) apply(images map[string]Image, opts Options) ([]Change, error) {
	sup := supports(images)
	var out []Change
	for _, p := range k.pods {
		o := placement.Place(p.spec, sup, opts.Placement)
		if o.Changed {
			if err := p.write(o.Spec); err != nil {
				return nil, err
			}
		}
		out = append(out, changeFrom(p.Target, o))
	}
	return out, nil
}

// write merges the placed scheduling fields into the pod spec node.
func (p *podTarget) write(placed corev1.PodSpec) error {
	fields, err := changedFields(p.spec, &placed)
	if err != nil {
		return fmt.Errorf("%s: %w", p.ID(), err)
	}
	if len(fields) == 0 {
		return nil
	}
	spec := walk(p.doc.root, p.steps, true)
	for _, f := range fields {
		if i := keyIndex(spec, f.key); i >= 0 {
			expandAliasesInto(p.doc.root, resolve(spec.Content[i+1]))
		}
		setKey(spec, f.key, f.value)
	}
	p.doc.changed = true
	return nil
}

// field is one pod spec field and its new value.
type field struct {
	key   string
	value *yaml.Node
}

// changedFields returns the scheduling fields (nodeSelector, affinity,
// tolerations) of placed that differ from old, as yaml nodes. Placement
// only adds, so a field placed has is never removed.
func changedFields(old, placed *corev1.PodSpec) ([]field, error) {
	candidates := []struct {
		key      string
		old, new any
		present  bool
	}{
		{"nodeSelector", old.NodeSelector, placed.NodeSelector, placed.NodeSelector != nil},
		{"affinity", old.Affinity, placed.Affinity, placed.Affinity != nil},
		{"tolerations", old.Tolerations, placed.Tolerations, placed.Tolerations != nil},
	}
	var out []field
	for _, c := range candidates {
		if !c.present || reflect.DeepEqual(c.old, c.new) {
			continue
		}
		value, err := toNode(c.new)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.key, err)
		}
		out = append(out, field{c.key, value})
	}
	return out, nil
}

func (k *kubeFile) encode() ([]byte, error) {
	if k.json {
		return encodeJSON(k.docs[0].root.Content[0], k.jsonStyle)
	}
	return encodeYAML(k.docs)
}
