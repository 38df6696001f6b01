package manifest

import (
	"encoding/json"
	"fmt"
	"reflect"

	yaml "go.yaml.in/yaml/v3"
)

// Resolve follows an alias to the node it names.
func Resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// KeyIndex returns the index in m.Content of the key node named key (an
// explicit key, not one brought in by a merge key), or -1.
func KeyIndex(m *yaml.Node, key string) int {
	if m == nil || m.Kind != yaml.MappingNode {
		return -1
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := Resolve(m.Content[i]); k.Kind == yaml.ScalarNode && k.Value == key {
			return i
		}
	}
	return -1
}

// Get returns the value of key in mapping m (aliases resolved), or nil.
func Get(m *yaml.Node, key string) *yaml.Node {
	m = Resolve(m)
	if i := KeyIndex(m, key); i >= 0 {
		return Resolve(m.Content[i+1])
	}
	return nil
}

// Str returns the scalar value at key in m, or "".
func Str(m *yaml.Node, key string) string {
	if v := Get(m, key); v != nil && v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
		return v.Value
	}
	return ""
}

// Step is one step of a path from a document node: a mapping key or a
// sequence index.
type Step struct {
	Key   string // a mapping key; empty for a sequence index
	Index int
}

// Keys is the path through nested mappings by key.
func Keys(ks ...string) []Step {
	out := make([]Step, len(ks))
	for i, k := range ks {
		out[i] = Step{Key: k}
	}
	return out
}

// Walk follows steps from the document node. With own set, every alias on
// the way is replaced by a copy of what it names, so the returned node can
// be changed without changing anything else.
func Walk(doc *yaml.Node, steps []Step, own bool) *yaml.Node {
	slot := &doc.Content[0]
	for _, s := range steps {
		n := *slot
		if own {
			n = Materialize(slot)
		} else {
			n = Resolve(n)
		}
		switch {
		case s.Key != "":
			i := KeyIndex(n, s.Key)
			if i < 0 {
				return nil
			}
			slot = &n.Content[i+1]
		default:
			if n.Kind != yaml.SequenceNode || s.Index >= len(n.Content) {
				return nil
			}
			slot = &n.Content[s.Index]
		}
	}
	if own {
		return Materialize(slot)
	}
	return Resolve(*slot)
}

// Materialize replaces an alias in *slot by a copy of the node it names.
func Materialize(slot **yaml.Node) *yaml.Node {
	if (*slot).Kind == yaml.AliasNode {
		c := DeepCopy(Resolve(*slot))
		c.HeadComment, c.LineComment, c.FootComment = (*slot).HeadComment, (*slot).LineComment, (*slot).FootComment
		*slot = c
	}
	return *slot
}

// DeepCopy copies n and everything below it; copies carry no anchors
// (aliases inside keep pointing at their original anchors).
func DeepCopy(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	c := *n
	c.Anchor = ""
	if n.Kind == yaml.AliasNode {
		return &c
	}
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, k := range n.Content {
		c.Content[i] = DeepCopy(k)
	}
	return &c
}

// ExpandAliasesInto replaces, anywhere in doc, every alias that names a node
// of subtree by a copy, so changing subtree changes nothing else.
func ExpandAliasesInto(doc, subtree *yaml.Node) {
	inside := map[*yaml.Node]bool{}
	var mark func(*yaml.Node)
	mark = func(n *yaml.Node) {
		if n == nil || inside[n] || n.Kind == yaml.AliasNode {
			return
		}
		inside[n] = true
		for _, c := range n.Content {
			mark(c)
		}
	}
	mark(subtree)
	var visit func(*yaml.Node)
	visit = func(n *yaml.Node) {
		if n == nil {
			return
		}
		if n.Kind == yaml.AliasNode {
			if inside[n.Alias] {
				c := DeepCopy(n.Alias)
				c.HeadComment, c.LineComment, c.FootComment = n.HeadComment, n.LineComment, n.FootComment
				*n = *c
			}
			return
		}
		for _, c := range n.Content {
			visit(c)
		}
	}
	visit(doc)
}

// ToNode converts an API value to a block-style yaml.Node through JSON, so
// the field names are the API's.
func ToNode(v any) (*yaml.Node, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("converting to JSON: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("converting to yaml: %w", err)
	}
	n := doc.Content[0]
	var plain func(*yaml.Node)
	plain = func(n *yaml.Node) {
		n.Style, n.Line, n.Column = 0, 0, 0
		for _, c := range n.Content {
			plain(c)
		}
	}
	plain(n)
	return n, nil
}

// sameValue reports whether two nodes decode to the same value (aliases and
// merge keys followed).
func sameValue(a, b *yaml.Node) bool {
	var va, vb any
	if a.Decode(&va) != nil || b.Decode(&vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

// Merge makes *slot hold the value of nw while keeping what it can of the
// old node: comments, key order, styles. Mappings merge key by key (a key
// that came from a merge key is written explicitly), sequences item by
// item (placement only appends), scalars take the new value.
func Merge(slot **yaml.Node, nw *yaml.Node) {
	if sameValue(*slot, nw) {
		return
	}
	old := Materialize(slot)
	if len(old.Content) == 0 {
		old.Style &^= yaml.FlowStyle // "[]" or "{}" says nothing about the style wanted
	}
	switch {
	case old.Kind == yaml.MappingNode && nw.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(nw.Content); i += 2 {
			if j := KeyIndex(old, nw.Content[i].Value); j >= 0 {
				Merge(&old.Content[j+1], nw.Content[i+1])
			} else {
				old.Content = append(old.Content, nw.Content[i], nw.Content[i+1])
			}
		}
	case old.Kind == yaml.SequenceNode && nw.Kind == yaml.SequenceNode:
		for i, c := range nw.Content {
			if i < len(old.Content) {
				Merge(&old.Content[i], c)
			} else {
				old.Content = append(old.Content, c)
			}
		}
	case old.Kind == yaml.ScalarNode && nw.Kind == yaml.ScalarNode:
		old.Value, old.Tag = nw.Value, nw.Tag
		if old.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) == 0 {
			old.Style = 0
		}
	default:
		nw.HeadComment, nw.LineComment, nw.FootComment = old.HeadComment, old.LineComment, old.FootComment
		*slot = nw
	}
}

// SetKey merges value into mapping m at key, adding the key at the end when
// it is missing.
func SetKey(m *yaml.Node, key string, value *yaml.Node) {
	if i := KeyIndex(m, key); i >= 0 {
		Merge(&m.Content[i+1], value)
		return
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, value)
}

// Path follows keys from m through nested mappings; nil when one is missing.
func Path(m *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if m = Get(m, k); m == nil {
			return nil
		}
	}
	return m
}

// KindName describes a node for error messages: "a mapping", "a list",
// "null", or the scalar quoted.
func KindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return fmt.Sprintf("the scalar %q", n.Value)
	}
	return "an unknown node"
}
