package rewrite

import (
	"fmt"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/manifest"
	"github.com/archwaydev/archway/internal/placement"
)

// PatchFile is the name of the patch file archway writes next to a
// kustomization.
const PatchFile = "archway-placement.yaml"

// KustomizePatch places every pod spec of f (the output of a kustomize
// build) and returns a strategic-merge patch stream with one document per
// changed object: its apiVersion, kind, metadata name (through rename,
// which maps a built name back to the name the kustomization's own patches
// see, e.g. without its namePrefix) and namespace, and the changed
// scheduling fields in full. existing is the current patch file (nil when
// none): its documents are kept, and one for the same object is replaced.
func (f *File) KustomizePatch(existing []byte, images map[string]lookup.Result, opts Options, rename func(Target) Target) ([]byte, []Change, error) {
	h, err := f.load()
	if err != nil {
		return nil, nil, err
	}
	k, ok := h.(*kubeFile)
	if !ok || k.stream.JSON {
		return nil, nil, fmt.Errorf("%s: not a Kubernetes YAML stream", f.Name)
	}
	patches := manifest.Parse(PatchFile, existing)
	if err := patches.Err(); err != nil {
		return nil, nil, err
	}
	var changes []Change
	changed := false
	for _, p := range k.pods {
		if p.Err != nil {
			changes = append(changes, Change{Target: p.Target})
			continue
		}
		o := placement.Place(p.spec, images, opts.Placement)
		changes = append(changes, changeFrom(p.Target, o))
		if !o.Changed {
			continue
		}
		t := p.Target
		if rename != nil {
			t = rename(t)
		}
		doc, err := patchDocument(p, t, &o.Spec)
		if err != nil {
			return nil, nil, err
		}
		replacePatch(patches, doc, p.apiVersion, t)
		changed = true
	}
	if !changed {
		return existing, changes, nil
	}
	out, err := patches.Encode()
	if err != nil {
		return nil, nil, err
	}
	return out, changes, nil
}

// patchDocument builds the patch for one pod target.
func patchDocument(p *podTarget, t Target, placed *corev1.PodSpec) (*manifest.Document, error) {
	obj := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	add := func(m *yaml.Node, key string, v *yaml.Node) {
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
	}
	scalar := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }
	add(obj, "apiVersion", scalar(p.apiVersion))
	add(obj, "kind", scalar(t.Kind))
	meta := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	add(meta, "name", scalar(t.Name))
	if t.Namespace != "" {
		add(meta, "namespace", scalar(t.Namespace))
	}
	add(obj, "metadata", meta)
	m := obj
	for _, k := range p.specPath {
		next := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		add(m, k, next)
		m = next
	}
	fields, err := changedFields(p.spec, placed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.ID(), err)
	}
	for _, f := range fields {
		add(m, f.key, f.value)
	}
	return manifest.NewDocument(obj), nil
}

// replacePatch puts doc into docs, replacing the document for the same
// object (apiVersion, kind, name, namespace), or adding it at the end.
func replacePatch(s *manifest.Stream, doc *manifest.Document, apiVersion string, t Target) {
	for _, d := range s.Docs {
		if d.Root == nil {
			continue
		}
		o := d.Root.Content[0]
		if manifest.Str(o, "apiVersion") == apiVersion && manifest.Str(o, "kind") == t.Kind && manifest.Str(manifest.Get(o, "metadata"), "name") == t.Name && manifest.Str(manifest.Get(o, "metadata"), "namespace") == t.Namespace {
			d.Root, d.Changed = doc.Root, true
			return
		}
	}
	s.Docs = append(s.Docs, doc)
}

// AddKustomizePatch adds "- path: file" to the patches of a kustomization
// file's content, keeping its comments; changed is false when it is
// already there.
func AddKustomizePatch(data []byte, file string) (out []byte, changed bool, err error) {
	s := manifest.Parse("kustomization.yaml", data)
	if err := s.Err(); err != nil {
		return nil, false, err
	}
	var d *manifest.Document
	for _, x := range s.Docs {
		if x.Root != nil {
			d = x
			break
		}
	}
	if d == nil || manifest.Resolve(d.Root.Content[0]).Kind != yaml.MappingNode {
		return nil, false, fmt.Errorf("kustomization.yaml: not a mapping")
	}
	root := manifest.Walk(d.Root, nil, true)
	patches := manifest.Get(root, "patches")
	if patches != nil && patches.Kind == yaml.SequenceNode {
		for _, p := range patches.Content {
			if strings.TrimPrefix(manifest.Str(manifest.Resolve(p), "path"), "./") == file {
				return data, false, nil
			}
		}
	}
	entry := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: "path"},
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: file},
	}}
	if i := manifest.KeyIndex(root, "patches"); i >= 0 {
		seq := manifest.Materialize(&root.Content[i+1])
		if seq.Kind != yaml.SequenceNode { // "patches:" with no value
			seq = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", HeadComment: seq.HeadComment, LineComment: seq.LineComment}
			root.Content[i+1] = seq
		}
		seq.Style &^= yaml.FlowStyle
		seq.Content = append(seq.Content, entry)
	} else {
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "patches"},
			&yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{entry}})
	}
	d.Changed = true
	out, err = s.Encode()
	return out, err == nil, err
}

// KustomizeRename returns the function that maps an object built from the
// given kustomization file back to the name and namespace the
// kustomization's own patches match: kustomize applies patches before its
// namePrefix, nameSuffix and namespace transformers.
func KustomizeRename(kustomization []byte) (func(Target) Target, error) {
	var k struct {
		NamePrefix string `yaml:"namePrefix"`
		NameSuffix string `yaml:"nameSuffix"`
		Namespace  string `yaml:"namespace"`
	}
	if err := yaml.Unmarshal(kustomization, &k); err != nil {
		return nil, err
	}
	return func(t Target) Target {
		t.Name = strings.TrimSuffix(strings.TrimPrefix(t.Name, k.NamePrefix), k.NameSuffix)
		if k.Namespace != "" {
			t.Namespace = ""
		}
		return t
	}, nil
}
