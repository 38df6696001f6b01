package rewrite

import (
	"bytes"
	"fmt"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"

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
func (f *File) KustomizePatch(existing []byte, images map[string]Image, opts Options, rename func(Target) Target) ([]byte, []Change, error) {
	h, err := f.load()
	if err != nil {
		return nil, nil, err
	}
	k, ok := h.(*kubeFile)
	if !ok || k.json {
		return nil, nil, fmt.Errorf("%s: not a Kubernetes YAML stream", f.Name)
	}
	var docs []*document
	if len(bytes.TrimSpace(existing)) > 0 {
		if docs, err = splitYAML(PatchFile, existing); err != nil {
			return nil, nil, err
		}
	}
	sup := supports(images)
	var changes []Change
	changed := false
	for _, p := range k.pods {
		o := placement.Place(p.spec, sup, opts.Placement)
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
		docs = replacePatch(docs, doc, p.apiVersion, t)
		changed = true
	}
	if !changed {
		return existing, changes, nil
	}
	for i, d := range docs {
		if i > 0 && d.sep == "" {
			d.sep = "---\n"
		}
	}
	out, err := encodeYAML(docs)
	if err != nil {
		return nil, nil, err
	}
	return out, changes, nil
}

// patchDocument builds the patch for one pod target.
func patchDocument(p *podTarget, t Target, placed *corev1.PodSpec) (*document, error) {
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
	root := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{obj}}
	return &document{root: root, changed: true}, nil
}

// replacePatch puts doc into docs, replacing the document for the same
// object (apiVersion, kind, name, namespace).
func replacePatch(docs []*document, doc *document, apiVersion string, t Target) []*document {
	for i, d := range docs {
		if d.root == nil {
			continue
		}
		o := d.root.Content[0]
		if str(o, "apiVersion") == apiVersion && str(o, "kind") == t.Kind && str(get(o, "metadata"), "name") == t.Name && str(get(o, "metadata"), "namespace") == t.Namespace {
			doc.sep = d.sep
			docs[i] = doc
			return docs
		}
	}
	return append(docs, doc)
}

// AddKustomizePatch adds "- path: file" to the patches of a kustomization
// file's content, keeping its comments; changed is false when it is
// already there.
func AddKustomizePatch(data []byte, file string) (out []byte, changed bool, err error) {
	docs, err := splitYAML("kustomization.yaml", data)
	if err != nil {
		return nil, false, err
	}
	var d *document
	for _, x := range docs {
		if x.root != nil {
			d = x
			break
		}
	}
	if d == nil || resolve(d.root.Content[0]).Kind != yaml.MappingNode {
		return nil, false, fmt.Errorf("kustomization.yaml: not a mapping")
	}
	root := walk(d.root, nil, true)
	patches := get(root, "patches")
	if patches != nil && patches.Kind == yaml.SequenceNode {
		for _, p := range patches.Content {
			if strings.TrimPrefix(str(resolve(p), "path"), "./") == file {
				return data, false, nil
			}
		}
	}
	entry := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: "path"},
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: file},
	}}
	if i := keyIndex(root, "patches"); i >= 0 {
		seq := materialize(&root.Content[i+1])
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
	d.changed = true
	out, err = encodeYAML(docs)
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
