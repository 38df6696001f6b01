package manifest

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"

	"github.com/archwaydev/archway/internal/workload"
)

// PodSpec decodes the object's pod spec into the API type, through JSON as
// workload.DecodePodSpec does (so the field names are the API's), or nil
// when the object has no spec. A spec of plain mappings, lists and scalars
// (no aliases, merge keys or unusual tags: what manifests hold) is written
// as JSON straight from its nodes, the keys sorted as encoding/json sorts
// a map's; any other is decoded by workload.DecodePodSpec. The result is
// the same either way.
//
// The objects of one Map share what they decoded: a spec written as the
// same JSON as one decoded before is a deep copy of it (a chart rendered
// at scale repeats one pod spec many times over).
func (o Object) PodSpec() (*corev1.PodSpec, error) {
	if o.Spec == nil {
		return nil, nil
	}
	data, ok := appendJSON(nil, o.Spec)
	if !ok {
		return workload.DecodePodSpec(o.Spec.Decode)
	}
	if spec := o.specs.get(data); spec != nil {
		return spec, nil
	}
	var spec corev1.PodSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, err
	}
	o.specs.put(data, &spec)
	return &spec, nil
}

// maxCachedSpecs bounds the distinct specs one Map remembers.
const maxCachedSpecs = 1024

// specCache is the pod specs decoded by the objects of one Map, by their
// JSON; safe for concurrent use, and a nil cache remembers nothing.
type specCache struct {
	mu sync.Mutex
	m  map[string]*corev1.PodSpec
}

// get returns a copy of the spec decoded from data, or nil.
func (c *specCache) get(data []byte) *corev1.PodSpec {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	spec := c.m[string(data)]
	c.mu.Unlock()
	return spec.DeepCopy() // nil for nil
}

// put remembers a copy of spec (the caller keeps spec) while there is room.
func (c *specCache) put(data []byte, spec *corev1.PodSpec) {
	if c == nil {
		return
	}
	own := spec.DeepCopy()
	c.mu.Lock()
	if len(c.m) < maxCachedSpecs {
		c.m[string(data)] = own
	}
	c.mu.Unlock()
}

// appendJSON appends n as JSON to b, as yaml.v3 decoding n into an any and
// encoding/json encoding that would write it; ok is false for a node it
// leaves to them (an alias, a merge key, a key that is not a string or is
// written twice, a string that is not UTF-8, a scalar that does not
// decode).
func appendJSON(b []byte, n *yaml.Node) ([]byte, bool) {
	switch n.Kind {
	case yaml.MappingNode:
		if len(n.Content) == 0 {
			return append(b, "{}"...), true
		}
		keys := make([]int, 0, len(n.Content)/2) // indexes of the keys, sorted by key
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Kind != yaml.ScalarNode || k.Tag != "!!str" {
				return b, false
			}
			keys = append(keys, i)
		}
		slices.SortFunc(keys, func(i, j int) int { return strings.Compare(n.Content[i].Value, n.Content[j].Value) })
		b = append(b, '{')
		for x, i := range keys {
			k := n.Content[i].Value
			if x > 0 {
				if k == n.Content[keys[x-1]].Value {
					return b, false
				}
				b = append(b, ',')
			}
			var ok bool
			if b, ok = appendString(b, k); !ok {
				return b, false
			}
			b = append(b, ':')
			if b, ok = appendJSON(b, n.Content[i+1]); !ok {
				return b, false
			}
		}
		return append(b, '}'), true
	case yaml.SequenceNode:
		b = append(b, '[')
		for i, c := range n.Content {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = appendJSON(b, c); !ok {
				return b, false
			}
		}
		return append(b, ']'), true
	case yaml.ScalarNode:
		switch {
		case n.Tag == "!!str":
			return appendString(b, n.Value)
		case n.Tag == "!!null":
			return append(b, "null"...), true
		case n.Tag == "!!bool" && (n.Value == "true" || n.Value == "false"),
			n.Tag == "!!int" && isPlainInt(n.Value):
			return append(b, n.Value...), true
		}
		var v any // any other scalar: as yaml.v3 and encoding/json write it
		if n.Decode(&v) != nil {
			return b, false
		}
		data, err := json.Marshal(v)
		if err != nil {
			return b, false
		}
		return append(b, data...), true
	}
	return b, false
}

// isPlainInt reports whether s is a decimal integer that yaml.v3 decodes
// to an int written back the same: 0, or up to 18 digits not starting
// with 0, with an optional minus sign.
func isPlainInt(s string) bool {
	if s == "0" {
		return true
	}
	s = strings.TrimPrefix(s, "-")
	if s == "" || len(s) > 18 || s[0] == '0' {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// appendString appends s as a JSON string; ok is false when s is not
// valid UTF-8 (encoding/json would replace the bad bytes).
func appendString(b []byte, s string) ([]byte, bool) {
	if !utf8.ValidString(s) {
		return b, false
	}
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := range len(s) {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"'), true
}
