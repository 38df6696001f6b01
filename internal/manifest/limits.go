package manifest

import (
	"fmt"

	yaml "go.yaml.in/yaml/v3"
)

// MaxExpandedNodes caps the nodes one document expands to when its aliases
// are followed. An alias bomb (a few KB of nested aliases standing for
// billions of nodes) would exhaust memory in any reader that decodes it;
// real manifests stay far below.
const MaxExpandedNodes = 1_000_000

// checkAliases refuses a document that expands past MaxExpandedNodes. It
// counts as it walks and stops at the cap, so its own work is bounded.
func checkAliases(name string, doc *yaml.Node) error {
	n := 0
	var count func(*yaml.Node) bool
	count = func(x *yaml.Node) bool {
		if x == nil {
			return true
		}
		if n++; n > MaxExpandedNodes {
			return false
		}
		if x.Kind == yaml.AliasNode {
			return count(x.Alias)
		}
		for _, c := range x.Content {
			if !count(c) {
				return false
			}
		}
		return true
	}
	if !count(doc) {
		return &Error{File: name, Line: doc.Line, Err: fmt.Errorf("document expands to more than %d nodes through its aliases (an alias bomb?): refused", MaxExpandedNodes)}
	}
	return nil
}
