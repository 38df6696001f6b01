package rewrite

import (
	"fmt"
	"reflect"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/manifest"
	"github.com/archwaydev/archway/internal/placement"
)

// kubeFile is a Kubernetes manifest stream.
type kubeFile struct {
	stream *manifest.Stream
	pods   []*podTarget
	notes  []string // custom resources left alone
}

type podTarget struct {
	Target
	doc        *manifest.Document
	steps      []manifest.Step // from the document node to the pod spec
	specPath   []string        // from the object to the pod spec
	apiVersion string
	spec       *corev1.PodSpec // nil when Target.Err is set
}

func (k *kubeFile) targets() []Target {
	out := make([]Target, len(k.pods))
	for i, p := range k.pods {
		out[i] = p.Target
	}
	return out
}

// find locates every pod spec of the stream, through the manifest layer
// the readers use. A malformed object is a target with its Err: it is left
// untouched and reported, and the others are still placed.
func (k *kubeFile) find() {
	for _, o := range k.stream.Objects() {
		if o.Err == nil && o.Spec == nil {
			if len(o.Images) > 0 {
				paths := make([]string, len(o.Images))
				for i, f := range o.Images {
					paths[i] = f.Path
				}
				k.notes = append(k.notes, fmt.Sprintf("line %d: %s: a custom resource naming images (%s) with no pod template, left alone: its operator schedules the pods",
					o.Line, o.ID(), strings.Join(paths, ", ")))
			}
			continue // not a workload
		}
		t := Target{Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, Line: o.Line, Err: o.Err}
		p := &podTarget{doc: o.Doc, steps: o.SpecSteps(), specPath: o.SpecPath, apiVersion: o.APIVersion}
		if t.Err == nil {
			spec, err := o.PodSpec()
			if err != nil {
				t.Err = &manifest.Error{File: k.stream.Name, Line: o.Spec.Line, Err: fmt.Errorf("%s: %s: %w", o.ID(), strings.Join(o.SpecPath, "."), err)}
			} else {
				p.spec = spec
				t.Images = placement.Images(spec)
			}
		}
		p.Target = t
		k.pods = append(k.pods, p)
	}
}

func (k *kubeFile) apply(images map[string]lookup.Result, opts Options) ([]Change, error) {
	var out []Change
	for _, p := range k.pods {
		if p.Err != nil {
			out = append(out, Change{Target: p.Target})
			continue
		}
		o := placement.Place(p.spec, images, opts.Placement)
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
	spec := manifest.Walk(p.doc.Root, p.steps, true)
	for _, f := range fields {
		if i := manifest.KeyIndex(spec, f.key); i >= 0 {
			manifest.ExpandAliasesInto(p.doc.Root, manifest.Resolve(spec.Content[i+1]))
		}
		manifest.SetKey(spec, f.key, f.value)
	}
	p.doc.Changed = true
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
		value, err := manifest.ToNode(c.new)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.key, err)
		}
		out = append(out, field{c.key, value})
	}
	return out, nil
}

func (k *kubeFile) encode() ([]byte, error) { return k.stream.Encode() }
