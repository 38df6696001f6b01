package rewrite

import (
	"encoding/json"
	"fmt"
	"reflect"

	yaml "go.yaml.in/yaml/v3"
)

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// keyIndex returns the index in m.Content of the key node named key (an
// explicit key, not one brought in by a merge key), or -1.
func keyIndex(m *yaml.Node, key string) int {
	if m == nil || m.Kind != yaml.MappingNode {
		return -1
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := resolve(m.Content[i]); k.Kind == yaml.ScalarNode && k.Value == key {
			return i
		}
	}
	return -1
}

// get returns the value of key in mapping m (aliases resolved), or nil.
func get(m *yaml.Node, key string) *yaml.Node {
	m = resolve(m)
	if i := keyIndex(m, key); i >= 0 {
		return resolve(m.Content[i+1])
	}
	return nil
}

// str returns the scalar value at key in m, or "".
func str(m *yaml.Node, key string) string {
	if v := get(m, key); v != nil && v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
		return v.Value
	}
	return ""
}

// step is one step of a path from a document node: a mapping key or a
// sequence index.
type step struct {
	key   string
	index int
}

func keys(ks ...string) []step {
	out := make([]step, len(ks))
	for i, k := range ks {
		out[i] = step{key: k}
	}
	return out
}

// walk follows steps from the document node. With own set, every alias on
// the way is replaced by a copy of what it names, so the returned node can
// be changed without changing anything else.
func walk(doc *yaml.Node, steps []step, own bool) *yaml.Node {
	slot := &doc.Content[0]
	for _, s := range steps {
		n := *slot
		if own {
			n = materialize(slot)
		} else {
			n = resolve(n)
		}
		switch {
		case s.key != "":
			i := keyIndex(n, s.key)
			if i < 0 {
				return nil
			}
			slot = &n.Content[i+1]
		default:
			if n.Kind != yaml.SequenceNode || s.index >= len(n.Content) {
				return nil
			}
			slot = &n.Content[s.index]
		}
	}
	if own {
		return materialize(slot)
	}
	return resolve(*slot)
}

// materialize replaces an alias in *slot by a copy of the node it names.
func materialize(slot **yaml.Node) *yaml.Node {
	if (*slot).Kind == yaml.AliasNode {
		c := deepCopy(resolve(*slot))
		c.HeadComment, c.LineComment, c.FootComment = (*slot).HeadComment, (*slot).LineComment, (*slot).FootComment
		*slot = c
	}
	return *slot
}

// deepCopy copies n and everything below it; copies carry no anchors
// (aliases inside keep pointing at their original anchors).
func deepCopy(n *yaml.Node) *yaml.Node {
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
		c.Content[i] = deepCopy(k)
	}
	return &c
}

// expandAliasesInto replaces, anywhere in doc, every alias that names a node
// of subtree by a copy, so changing subtree changes nothing else.
func expandAliasesInto(doc, subtree *yaml.Node) {
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
				c := deepCopy(n.Alias)
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

// toNode converts an API value to a block-style yaml.Node through JSON, so
// the field names are the API's.
func toNode(v any) (*yaml.Node, error) {
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

// merge makes *slot hold the value of nw while keeping what it can of the
// old node: comments, key order, styles. Mappings merge key by key (a key
// that came from a merge key is written explicitly), sequences item by
// item (placement only appends), scalars take the new value.
func merge(slot **yaml.Node, nw *yaml.Node) {
	if sameValue(*slot, nw) {
		return
	}
	old := materialize(slot)
	if len(old.Content) == 0 {
		old.Style &^= yaml.FlowStyle // "[]" or "{}" says nothing about the style wanted
	}
	switch {
	case old.Kind == yaml.MappingNode && nw.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(nw.Content); i += 2 {
			if j := keyIndex(old, nw.Content[i].Value); j >= 0 {
				merge(&old.Content[j+1], nw.Content[i+1])
			} else {
				old.Content = append(old.Content, nw.Content[i], nw.Content[i+1])
			}
		}
	case old.Kind == yaml.SequenceNode && nw.Kind == yaml.SequenceNode:
		for i, c := range nw.Content {
			if i < len(old.Content) {
				merge(&old.Content[i], c)
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

// setKey merges value into mapping m at key, adding the key at the end when
// it is missing.
func setKey(m *yaml.Node, key string, value *yaml.Node) {
	if i := keyIndex(m, key); i >= 0 {
		merge(&m.Content[i+1], value)
		return
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, value)
}
