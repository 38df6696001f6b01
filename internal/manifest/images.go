package manifest

import (
	"regexp"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Limits on the search for images in custom resources, so that a huge or
// deeply nested object costs little.
const (
	maxImageDepth  = 8  // mappings and lists below spec
	maxImageFields = 64 // images reported per object
)

// ImageField is an image named by a field of an object that has no pod
// template (a custom resource whose operator runs the image, such as the
// Prometheus Operator's Prometheus.spec.image).
type ImageField struct {
	// Path is the field's path from the object, e.g. "spec.image" or
	// "spec.thanos.image".
	Path string
	// Node is the field's scalar value.
	Node *yaml.Node
}

// imageRef matches what an image reference looks like: an optional
// registry, a lower-case path, an optional tag and digest. It is a
// plausibility check, not a parser.
var imageRef = regexp.MustCompile(`^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`)

// isImageKey reports whether a field named key holds an image: "image",
// or a camelCase name ending in "Image" ("baseImage", "sidecarImage").
func isImageKey(key string) bool {
	return key == "image" || (strings.HasSuffix(key, "Image") && len(key) > len("Image"))
}

// customImages lists the image-looking string fields under the spec of
// object n, in document order, bounded by maxImageDepth and maxImageFields.
func customImages(n *yaml.Node) []ImageField {
	var out []ImageField
	var walk func(n *yaml.Node, path string, depth int)
	walk = func(n *yaml.Node, path string, depth int) {
		n = Resolve(n)
		if n == nil || depth > maxImageDepth || len(out) >= maxImageFields {
			return
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content) && len(out) < maxImageFields; i += 2 {
				k, v := n.Content[i], Resolve(n.Content[i+1])
				p := path + "." + k.Value
				if v != nil && v.Kind == yaml.ScalarNode && v.Tag == "!!str" && isImageKey(k.Value) && imageRef.MatchString(v.Value) {
					out = append(out, ImageField{Path: p, Node: v})
					continue
				}
				walk(v, p, depth+1)
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, path+"[]", depth+1)
			}
		}
	}
	walk(Get(n, "spec"), "spec", 0)
	return out
}
