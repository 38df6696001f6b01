package kube

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"
)

// document is one YAML document of a stream: its root node, with lines
// already made absolute within the stream, or the error parsing it.
type document struct {
	root *yaml.Node // nil for an empty document
	line int        // first line of the document's text
	err  error
}

var bom = []byte("\xef\xbb\xbf")

// splitDocuments cuts a YAML stream into documents at "---" lines and
// parses each on its own, so one malformed document does not hide the
// others. Lines of the returned nodes are absolute (1-based) in data.
func splitDocuments(data []byte) []document {
	data = bytes.TrimPrefix(data, bom)
	var docs []document
	var cur []byte
	start := 1
	flush := func() {
		if len(bytes.TrimSpace(cur)) > 0 {
			docs = append(docs, parseDocument(cur, start))
		}
	}
	lineNo := 0
	for len(data) > 0 {
		lineNo++
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i+1], data[i+1:]
		} else {
			line, data = data, nil
		}
		if isSeparator(line) {
			flush()
			// Keep the rest of the line (a comment, or inline content) with
			// its columns: blank out the marker itself.
			cur = append([]byte("   "), line[3:]...)
			start = lineNo
			continue
		}
		cur = append(cur, line...)
	}
	flush()
	return docs
}

// isSeparator reports whether line is a document start marker: "---" alone
// or followed by white space.
func isSeparator(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("---")) {
		return false
	}
	rest := line[3:]
	return len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n' || rest[0] == '\r'
}

var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseDocument parses one document whose first line is line start of the
// stream.
func parseDocument(text []byte, start int) document {
	var n yaml.Node
	if err := yaml.Unmarshal(text, &n); err != nil {
		line := start
		msg := err.Error()
		if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
			if rel, convErr := strconv.Atoi(m[1]); convErr == nil {
				line = start + rel - 1
				msg = "yaml: " + m[2]
			}
		}
		return document{line: line, err: errors.New(msg)}
	}
	if n.Kind == 0 || len(n.Content) == 0 {
		return document{line: start} // only comments
	}
	shiftLines(&n, start-1, map[*yaml.Node]bool{})
	return document{root: n.Content[0], line: start}
}

// shiftLines adds delta to the line of n and every node below it.
func shiftLines(n *yaml.Node, delta int, seen map[*yaml.Node]bool) {
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	n.Line += delta
	for _, c := range n.Content {
		shiftLines(c, delta, seen)
	}
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// get returns the value of key in mapping m, or nil.
func get(m *yaml.Node, key string) *yaml.Node {
	m = resolve(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := resolve(m.Content[i]); k.Kind == yaml.ScalarNode && k.Value == key {
			return resolve(m.Content[i+1])
		}
	}
	return nil
}

// path follows keys from m through nested mappings.
func path(m *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		m = get(m, k)
		if m == nil {
			return nil
		}
	}
	return m
}

// str returns the value of the scalar at key in m, or "".
func str(m *yaml.Node, key string) string {
	if v := get(m, key); v != nil && v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
		return v.Value
	}
	return ""
}

// kindName describes a node kind for error messages.
func kindName(n *yaml.Node) string {
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
