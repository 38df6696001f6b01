package rewrite

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	yaml "go.yaml.in/yaml/v3"
)

var bom = []byte("\xef\xbb\xbf")

// document is one document of a YAML stream (or the single value of a JSON
// file).
type document struct {
	raw     []byte     // the original bytes: separator line (if any) and text
	sep     string     // the separator written before a re-encoded document
	text    []byte     // the document's own text, parsed into root
	root    *yaml.Node // the DocumentNode; nil for an empty document
	changed bool
	padded  bool // text starts with a newline standing for the separator line
}

// splitYAML cuts a stream at "---" lines and parses each document, so the
// documents that do not change can be written back byte for byte. Any
// document that does not parse makes the whole file an error.
func splitYAML(name string, data []byte) ([]*document, error) {
	var docs []*document
	cur := &document{}
	lineNo, start := 0, 1
	flush := func() error {
		if len(cur.raw) == 0 {
			return nil
		}
		var n yaml.Node
		if err := yaml.Unmarshal(cur.text, &n); err != nil {
			return yamlError(name, start, err)
		}
		if n.Kind != 0 && len(n.Content) > 0 {
			shiftLines(&n, start-1)
			cur.root = &n
		}
		docs = append(docs, cur)
		return nil
	}
	rest := data
	for len(rest) > 0 {
		lineNo++
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i+1], rest[i+1:]
		} else {
			rest = nil
		}
		if isSeparator(line) {
			if err := flush(); err != nil {
				return nil, err
			}
			cur = &document{raw: bytes.Clone(line)}
			start = lineNo
			after := strings.TrimSpace(string(line[3:]))
			if after == "" || strings.HasPrefix(after, "#") {
				cur.sep = strings.TrimRight(string(line), "\r\n") + "\n"
				cur.text = []byte("\n") // keeps line numbers aligned
				cur.padded = true
			} else {
				// Content on the marker line ("--- {a: 1}") belongs to the document.
				cur.sep = "---\n"
				cur.text = append([]byte("   "), line[3:]...)
			}
			continue
		}
		cur.raw = append(cur.raw, line...)
		cur.text = append(cur.text, line...)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return docs, nil
}

// isSeparator reports whether line is a document start marker.
func isSeparator(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("---")) {
		return false
	}
	rest := line[3:]
	return len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n' || rest[0] == '\r'
}

var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError names the file and the absolute line of a parse error in a
// document that starts at line start.
func yamlError(name string, start int, err error) error {
	msg := err.Error()
	line := start
	if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
		if rel, convErr := strconv.Atoi(m[1]); convErr == nil {
			line = start + rel - 1
			msg = m[2]
		}
	}
	return fmt.Errorf("%s:%d: %w", name, line, errors.New(msg))
}

func shiftLines(n *yaml.Node, delta int) {
	seen := map[*yaml.Node]bool{}
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil || seen[n] {
			return
		}
		seen[n] = true
		n.Line += delta
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
}

// encodeYAML writes the documents back: unchanged ones byte for byte,
// changed ones re-encoded in the style detected from their text.
func encodeYAML(docs []*document) ([]byte, error) {
	var out bytes.Buffer
	for i, d := range docs {
		if !d.changed {
			out.Write(d.raw)
			continue
		}
		text := d.text
		if d.padded {
			text = text[1:]
		}
		if i == 0 {
			text = bytes.TrimPrefix(text, bom)
			if bytes.HasPrefix(d.raw, bom) {
				out.Write(bom)
			}
		}
		style := detectYAMLStyle(text)
		untagMergeKeys(d.root)
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(style.indent)
		if style.compactSeq {
			enc.CompactSeqIndent()
		}
		if err := enc.Encode(d.root); err != nil {
			return nil, fmt.Errorf("encoding yaml: %w", err)
		}
		if err := enc.Close(); err != nil {
			return nil, fmt.Errorf("encoding yaml: %w", err)
		}
		body := restoreLines(text, buf.Bytes())
		if !sameYAML(body, buf.Bytes()) {
			// Restoring the original spacing changed the meaning (it should
			// not; this is the safety net): keep yaml.v3's text.
			body = buf.Bytes()
		}
		if style.crlf {
			body = bytes.ReplaceAll(body, []byte("\n"), []byte("\r\n"))
		}
		out.WriteString(d.sep)
		out.Write(body)
	}
	return out.Bytes(), nil
}

type yamlStyle struct {
	indent     int
	compactSeq bool
	crlf       bool
}

// detectYAMLStyle guesses the mapping indent and the sequence style of a
// document from the first nested mapping and the first block sequence under
// a key.
func detectYAMLStyle(text []byte) yamlStyle {
	s := yamlStyle{indent: 2, compactSeq: true, crlf: bytes.Contains(text, []byte("\r\n"))}
	lines := strings.Split(strings.ReplaceAll(string(text), "\r\n", "\n"), "\n")
	foundIndent, foundSeq := false, false
	seqOffset := -1
	prevIndent, prevOpens := 0, false
	for _, l := range lines {
		t := strings.TrimLeft(l, " ")
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		ind := len(l) - len(t)
		isItem := strings.HasPrefix(t, "- ") || t == "-"
		if prevOpens {
			switch {
			case isItem && !foundSeq:
				seqOffset, foundSeq = ind-prevIndent, true
			case !isItem && !foundIndent && ind > prevIndent:
				if d := ind - prevIndent; d == 2 || d == 4 {
					s.indent = d
				}
				foundIndent = true
			}
		}
		// A line "key:" (no value) opens a block below it; for a sequence
		// item "- key:" the block's column is after the dash.
		body := t
		col := ind
		for strings.HasPrefix(body, "- ") {
			body = strings.TrimLeft(body[2:], " ")
			col = len(l) - len(body)
		}
		code := body
		if i := strings.Index(code, " #"); i >= 0 {
			code = code[:i]
		}
		prevOpens = strings.HasSuffix(strings.TrimRight(code, " "), ":") && !isItem
		prevIndent = col
		if foundIndent && foundSeq {
			break
		}
	}
	if foundSeq {
		// yaml.v3 writes items at the key's column plus indent ("indented")
		// or plus indent-2 ("compact", which is the key's column for indent 2).
		s.compactSeq = seqOffset < s.indent
	}
	return s
}

// restoreLines puts back what yaml.v3 dropped or respaced wherever the
// surrounding lines did not change: blank lines, and the exact spacing of
// lines that differ from the original only in runs of spaces (a comment's
// column, "key:    value").
func restoreLines(orig, out []byte) []byte {
	type line struct{ text, norm string }
	var kept []line
	blanksBefore := map[int]int{}
	pending := 0
	for _, l := range splitLines(strings.ReplaceAll(string(orig), "\r\n", "\n")) {
		if strings.TrimSpace(l) == "" {
			pending++
			continue
		}
		blanksBefore[len(kept)] = pending
		pending = 0
		l = strings.TrimRight(l, "\n") + "\n"
		kept = append(kept, line{l, normalizeSpaces(l)})
	}
	outLines := splitLines(string(out))
	if n := len(outLines); n > 0 && !strings.HasSuffix(outLines[n-1], "\n") {
		outLines[n-1] += "\n"
	}
	a := make([]string, len(kept))
	for i, l := range kept {
		a[i] = l.norm
	}
	b := make([]string, len(outLines))
	for i, l := range outLines {
		b[i] = normalizeSpaces(l)
	}
	m := difflib.NewMatcherWithJunk(a, b, false, nil)
	insert := map[int]int{}
	for _, blk := range m.GetMatchingBlocks() {
		for k := 0; k < blk.Size; k++ {
			if n := blanksBefore[blk.A+k]; n > 0 {
				insert[blk.B+k] = n
			}
			outLines[blk.B+k] = kept[blk.A+k].text
		}
	}
	var buf bytes.Buffer
	for i, l := range outLines {
		for range insert[i] {
			buf.WriteString("\n")
		}
		buf.WriteString(l)
	}
	for range pending {
		buf.WriteString("\n")
	}
	return buf.Bytes()
}

// normalizeSpaces keeps a line's indentation, sequence dashes included
// ("  -   a: 1" places the mapping at column 6), and turns every other run
// of spaces and tabs into one space.
func normalizeSpaces(l string) string {
	body := strings.TrimLeft(l, " ")
	for strings.HasPrefix(body, "-") && len(body) > 1 && (body[1] == ' ' || body[1] == '\t') {
		body = strings.TrimLeft(body[1:], " \t")
	}
	return l[:len(l)-len(body)] + strings.Join(strings.Fields(body), " ")
}

// splitLines splits s after each newline; the last line may lack one.
func splitLines(s string) []string {
	lines := strings.SplitAfter(s, "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	return lines
}

// untagMergeKeys clears the explicit !!merge tag yaml.v3 gives "<<" keys,
// which its encoder would otherwise write out ("!!merge <<: *base").
func untagMergeKeys(n *yaml.Node) {
	seen := map[*yaml.Node]bool{}
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil || seen[n] || n.Kind == yaml.AliasNode {
			return
		}
		seen[n] = true
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Tag == "!!merge" && k.Value == "<<" {
					k.Tag = ""
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
}

// sameYAML reports whether two texts decode to the same value.
func sameYAML(a, b []byte) bool {
	var va, vb any
	if yaml.Unmarshal(a, &va) != nil || yaml.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}
