package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// parseJSON parses a JSON file into a yaml.Node document (JSON is YAML),
// after checking with encoding/json that it is JSON indeed, so errors name
// the line and column in JSON terms.
func parseJSON(name string, data []byte) (*yaml.Node, error) {
	data = bytes.TrimPrefix(data, bom)
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		if se, ok := err.(*json.SyntaxError); ok {
			line, col := lineCol(data, int(se.Offset))
			return nil, &Error{File: name, Line: line, Column: col, Err: err}
		}
		return nil, &Error{File: name, Err: fmt.Errorf("invalid JSON: %w", err)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Error{File: name, Err: err}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, &Error{File: name, Err: errors.New("empty JSON")}
	}
	return &doc, nil
}

func lineCol(data []byte, offset int) (line, col int) {
	offset = min(offset, len(data))
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = offset - bytes.LastIndexByte(before, '\n')
	return line, col
}

// jsonStyle is how a JSON file is laid out.
type jsonStyle struct {
	indent   string // one level of indentation; "" for compact output
	newline  bool   // the file ends with a newline
	crlf     bool
	bomFirst bool
}

func detectJSONStyle(data []byte) jsonStyle {
	s := jsonStyle{
		bomFirst: bytes.HasPrefix(data, bom),
		crlf:     bytes.Contains(data, []byte("\r\n")),
	}
	trimmed := bytes.TrimRight(data, " \t\r\n")
	s.newline = len(trimmed) < len(data)
	body := bytes.TrimSpace(bytes.TrimPrefix(data, bom))
	lines := strings.Split(strings.ReplaceAll(string(body), "\r\n", "\n"), "\n")
	if len(lines) < 2 {
		return s // compact
	}
	s.indent = "  "
	for _, l := range lines[1:] {
		t := strings.TrimLeft(l, " \t")
		if t != "" && len(t) < len(l) {
			s.indent = l[:len(l)-len(t)]
			break
		}
	}
	return s
}

// encodeJSON writes n as JSON in the given style, keeping key order.
func encodeJSON(n *yaml.Node, style jsonStyle) ([]byte, error) {
	var b bytes.Buffer
	if style.bomFirst {
		b.Write(bom)
	}
	if err := writeJSON(&b, n, style.indent, 0); err != nil {
		return nil, err
	}
	if style.newline {
		b.WriteString("\n")
	}
	out := b.Bytes()
	if style.crlf {
		out = bytes.ReplaceAll(out, []byte("\n"), []byte("\r\n"))
	}
	return out, nil
}

func writeJSON(b *bytes.Buffer, n *yaml.Node, indent string, depth int) error {
	n = Resolve(n)
	inline := indent != "" && (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) && oneLine(n, n.Line)
	if inline {
		// Keep an object or array that was written on one line on one line.
		var one bytes.Buffer
		if err := writeJSON(&one, n, "", 0); err != nil {
			return err
		}
		b.Write(spaceOut(one.Bytes()))
		return nil
	}
	newline := func(d int) {
		if indent != "" {
			b.WriteString("\n")
			b.WriteString(strings.Repeat(indent, d))
		}
	}
	sep := ":"
	if indent != "" {
		sep = ": "
	}
	switch n.Kind {
	case yaml.MappingNode:
		if len(n.Content) == 0 {
			b.WriteString("{}")
			return nil
		}
		b.WriteString("{")
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteString(",")
			}
			newline(depth + 1)
			writeString(b, Resolve(n.Content[i]).Value)
			b.WriteString(sep)
			if err := writeJSON(b, n.Content[i+1], indent, depth+1); err != nil {
				return err
			}
		}
		newline(depth)
		b.WriteString("}")
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteString("[")
		for i, c := range n.Content {
			if i > 0 {
				b.WriteString(",")
			}
			newline(depth + 1)
			if err := writeJSON(b, c, indent, depth+1); err != nil {
				return err
			}
		}
		newline(depth)
		b.WriteString("]")
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			writeString(b, n.Value)
		case "!!null":
			b.WriteString("null")
		case "!!int", "!!float", "!!bool":
			b.WriteString(n.Value)
		default:
			return fmt.Errorf("cannot write %s %q as JSON", n.ShortTag(), n.Value)
		}
	default:
		return fmt.Errorf("cannot write node kind %d as JSON", n.Kind)
	}
	return nil
}

func writeString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	b.Truncate(b.Len() - 1)
}

// oneLine reports whether n and everything below it start on line (a node
// added by archway has line 0 and is never on one line).
func oneLine(n *yaml.Node, line int) bool {
	if n.Line == 0 || n.Line != line {
		return false
	}
	for _, c := range n.Content {
		if !oneLine(c, line) {
			return false
		}
	}
	return true
}

// spaceOut turns compact JSON into the usual one-line style: ", " between
// items and ": " after keys.
func spaceOut(compact []byte) []byte {
	var out bytes.Buffer
	inString, escaped := false, false
	for _, c := range compact {
		out.WriteByte(c)
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (c == ',' || c == ':'):
			out.WriteByte(' ')
		}
	}
	return out.Bytes()
}
