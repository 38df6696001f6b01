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

// MaxAliasedNodesPerFile caps the nodes a whole file adds through aliases
// (the nodes reached through an alias, not those written out): many
// documents each just under MaxExpandedNodes would together exhaust memory
// as surely as one bomb. Once a file has used it up, every later document
// that expands an alias is refused too, so the check's own work stays
// bounded by the file's size plus this cap.
const MaxAliasedNodesPerFile = 2_000_000

// aliasBudget is what a file may still expand through aliases.
type aliasBudget struct{ left int }

func newAliasBudget() *aliasBudget { return &aliasBudget{left: MaxAliasedNodesPerFile} }

// checkAliases refuses a document that expands past MaxExpandedNodes, or
// past what is left of the file's budget. It counts as it walks and stops
// at either cap, so its own work is bounded.
func checkAliases(name string, doc *yaml.Node, budget *aliasBudget) error {
	n, aliased := 0, 0
	var count func(x *yaml.Node, viaAlias bool) bool
	count = func(x *yaml.Node, viaAlias bool) bool {
		if x == nil {
			return true
		}
		if n++; n > MaxExpandedNodes {
			return false
		}
		if viaAlias {
			if aliased++; aliased > budget.left {
				return false
			}
		}
		if x.Kind == yaml.AliasNode {
			return count(x.Alias, true)
		}
		for _, c := range x.Content {
			if !count(c, viaAlias) {
				return false
			}
		}
		return true
	}
	switch {
	case count(doc, false):
		budget.left -= aliased
		return nil
	case n > MaxExpandedNodes:
		return &Error{File: name, Line: doc.Line, Err: fmt.Errorf("document expands to more than %d nodes through its aliases (an alias bomb?): refused", MaxExpandedNodes)}
	}
	budget.left = 0
	return &Error{File: name, Line: doc.Line, Err: fmt.Errorf("the file expands to more than %d nodes through its aliases (an alias bomb across documents?): document refused", MaxAliasedNodesPerFile)}
}
