package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pmezard/go-difflib/difflib"
	yaml "go.yaml.in/yaml/v3"
)

var bom = []byte("\xef\xbb\xbf")

// Document is one document of a YAML stream, or the single value of a JSON
// file.
type Document struct {
	// Root is the DocumentNode, lines absolute in the stream; nil for an
	// empty document or one that did not parse.
	Root *yaml.Node
	// Line is the 1-based line where the document starts.
	Line int
	// Err is why the document did not parse (an *Error with its line).
	Err error
	// Changed marks a document to re-encode; Encode writes the others back
	// byte for byte.
	Changed bool

	raw     []byte // the original bytes: separator line (if any) and text
	sep     string // the separator written before a re-encoded document
	text    []byte // the document's own text, parsed into Root
	padded  bool   // text starts with a newline standing for the separator line
	aliased bool   // Root has an alias or more than MaxExpandedNodes nodes: checkAliases decides
	at      int    // where raw starts in the stream
	content bool   // some line of text is neither blank nor a comment
}

// NewDocument returns a document holding root (a mapping or list), to be
// encoded as a new document of a stream.
func NewDocument(root *yaml.Node) *Document {
	return &Document{Root: &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}, Changed: true}
}

// Stream is a parsed manifest file: its documents and how to write it back.
type Stream struct {
	// Name is the file name used in errors and locations.
	Name string
	// JSON reports whether the file is JSON (one value, written back as JSON).
	JSON bool
	// Docs are the documents in file order.
	Docs []*Document

	jsonStyle jsonStyle
}

// Error is a problem with one document or object of a manifest file: the
// file (or display name) and the 1-based line (and column) where it was
// found, zero when unknown.
type Error struct {
	File   string
	Line   int
	Column int
	Err    error
}

// Error formats e as "file: line N: message".
func (e *Error) Error() string {
	switch {
	case e.Line > 0 && e.Column > 0:
		return fmt.Sprintf("%s: line %d, column %d: %v", e.File, e.Line, e.Column, e.Err)
	case e.Line > 0:
		return fmt.Sprintf("%s: line %d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Parse reads a YAML stream or a JSON file (told apart by its first
// character). A YAML stream is cut at "---" lines and each document parsed
// on its own, so one malformed document does not hide the others: its Err
// is set. An empty or whitespace-only file has no documents, as kubectl
// reads it. Lines of the nodes are absolute (1-based) in data.
func Parse(name string, data []byte) *Stream {
	s := &Stream{Name: name}
	if isJSON(data) {
		s.JSON, s.jsonStyle = true, detectJSONStyle(data)
		d := &Document{raw: data, Line: 1}
		d.Root, d.Err = parseJSON(name, data)
		if d.Err == nil {
			d.Err = checkAliases(name, d.Root, newAliasBudget())
		}
		s.Docs = []*Document{d}
		return s
	}
	s.Docs = splitYAML(name, data)
	return s
}

// isJSON reports whether data is a JSON file: its first character, past a
// byte order mark and white space, opens an object or an array.
func isJSON(data []byte) bool {
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, bom), " \t\r\n")
	return len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')
}

// Err joins the parse errors of the documents; nil when all parsed.
func (s *Stream) Err() error {
	var errs []error
	for _, d := range s.Docs {
		if d.Err != nil {
			errs = append(errs, d.Err)
		}
	}
	return errors.Join(errs...)
}

// Encode writes the stream back: unchanged documents byte for byte, changed
// ones re-encoded in the style detected from their text (JSON as JSON). A
// JSON file that did not parse is written back as it was.
func (s *Stream) Encode() ([]byte, error) {
	if s.JSON {
		d := s.Docs[0]
		if d.Root == nil || len(d.Root.Content) == 0 {
			return d.raw, nil
		}
		return encodeJSON(d.Root.Content[0], s.jsonStyle)
	}
	return encodeYAML(s.Docs)
}

// splitYAML cuts a stream at "---" lines and parses each document: in
// parallel (a rendered chart may hold 100,000 documents), then checks
// their aliases in file order against the file's budget.
func splitYAML(name string, data []byte) []*Document {
	docs := cutYAML(data)
	parallel(len(docs), workersFor(len(docs)), func(i int) { parseDocument(name, docs[i]) })
	budget := newAliasBudget()
	for _, d := range docs {
		if d.Root != nil && d.aliased {
			if err := checkAliases(name, d.Root, budget); err != nil {
				d.Root, d.Err = nil, err
			}
		}
	}
	return docs
}

// parseDocument parses d's text into d.Root, lines made absolute, or sets
// d.Err. It notes whether the document needs checkAliases: it has an alias
// or more nodes than one may expand to.
func parseDocument(name string, d *Document) {
	if len(bytes.TrimSpace(bytes.TrimPrefix(d.text, bom))) == 0 {
		return
	}
	var n yaml.Node
	if err := yaml.Unmarshal(d.text, &n); err != nil {
		d.Err = yamlError(name, d.Line, err)
		return
	}
	if at, ok := endMarker(d.text); ok && !onlyComments(d.text[at:]) {
		// yaml.Unmarshal reads up to "..." and kubectl too: what follows
		// would be neither read nor, when the document is written back, kept.
		line := d.Line + bytes.Count(d.text[:at], []byte("\n"))
		d.Err = &Error{File: name, Line: line, Err: errors.New(`content after the document end marker "...": kubectl ignores it; start it with a "---" line`)}
		return
	}
	if n.Kind != 0 && len(n.Content) > 0 {
		nodes, alias := shiftLines(&n, d.Line-1)
		d.Root, d.aliased = &n, alias || nodes > MaxExpandedNodes
	}
}

// endMarker returns the offset in text of its first document end marker
// line ("..." alone or followed by white space or a comment).
func endMarker(text []byte) (int, bool) {
	if !bytes.Contains(text, []byte("...")) {
		return 0, false // the common case, found fast
	}
	for at := 0; at < len(text); {
		line := text[at:]
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line = line[:i+1]
		}
		if rest, ok := bytes.CutPrefix(line, []byte("...")); ok && (len(rest) == 0 || strings.ContainsRune(" \t\r\n", rune(rest[0]))) {
			return at, true
		}
		at += len(line)
	}
	return 0, false
}

// onlyComments reports whether the lines of tail past its first are blank
// or comments, and its first line ends after "..." with at most a comment.
func onlyComments(tail []byte) bool {
	for i, l := range strings.Split(string(tail), "\n") {
		if i == 0 {
			l = l[len("..."):]
		}
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			return false
		}
	}
	return true
}

// workersFor is how many goroutines parse a stream of n documents: up to
// GOMAXPROCS, none for a small stream (not worth a goroutine).
func workersFor(n int) int { return min(runtime.GOMAXPROCS(0), n/16) }

// parallel runs f(0) … f(n-1) on the given number of goroutines (in order
// on this one when it is 1 or less).
func parallel(n, workers int, f func(i int)) {
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				f(i)
			}
		})
	}
	wg.Wait()
}

// cutYAML cuts a stream at "---" lines into unparsed documents. Their raw
// bytes and text are slices of data (capacity capped, so that nothing
// appends into data); only a document with content on its marker line has
// its text copied.
func cutYAML(data []byte) []*Document {
	var docs []*Document
	cur := &Document{Line: 1}
	textAt := 0 // where cur's text begins in data (after "   " for content on the marker line)
	flush := func(end int) {
		if end == cur.at {
			return // nothing before the first marker
		}
		cur.raw = data[cur.at:end:end]
		switch {
		case !cur.padded && cur.sep != "": // content on the marker line
			cur.text = append([]byte("   "), data[textAt:end]...)
		case textAt < end:
			cur.text = data[textAt:end:end]
		default:
			cur.text = []byte("\n") // a marker ending the file
		}
		docs = append(docs, cur)
	}
	lineNo := 0
	for at := 0; at < len(data); {
		lineNo++
		end := len(data)
		if i := bytes.IndexByte(data[at:], '\n'); i >= 0 {
			end = at + i + 1
		}
		line := data[at:end]
		if !isSeparator(line) {
			cur.content = cur.content || !blankOrComment(line)
			at = end
			continue
		}
		flush(at)
		cur = &Document{Line: lineNo, at: at}
		switch after := bytes.TrimSpace(line[3:]); {
		case len(after) > 0 && after[0] != '#':
			// Content on the marker line ("--- {a: 1}") belongs to the document.
			cur.sep, cur.content = "---\n", true
			textAt = at + 3
		case line[len(line)-1] != '\n': // a marker ending the file
			cur.sep, cur.padded = string(line)+"\n", true
			textAt = end
		default:
			cur.sep, cur.padded = "---\n", true
			if len(line) != len("---\n") {
				cur.sep = strings.TrimRight(string(line), "\r\n") + "\n"
			}
			textAt = end - 1 // the marker's newline keeps line numbers aligned
		}
		at = end
	}
	flush(len(data))
	return docs
}

// blankOrComment reports whether line holds nothing but white space
// (Unicode's, as parseDocument trims it) or a comment.
func blankOrComment(line []byte) bool {
	t := bytes.TrimLeft(line, " \t")
	return len(t) == 0 || t[0] == '#' || len(bytes.TrimSpace(t)) == 0
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

// yamlError names the file and the absolute line of a parse error in a
// document that starts at line start.
func yamlError(name string, start int, err error) error {
	msg := err.Error()
	line := start
	if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
		if rel, convErr := strconv.Atoi(m[1]); convErr == nil {
			line = start + rel - 1
			msg = "yaml: " + m[2]
		}
	}
	return &Error{File: name, Line: line, Err: errors.New(msg)}
}

// shiftLines adds delta to the line of n and every node below it, and
// counts them, noting whether one is an alias. A parsed tree shares no
// nodes (an alias points at its anchor but has no content), so each is
// met once.
func shiftLines(n *yaml.Node, delta int) (nodes int, alias bool) {
	n.Line += delta
	nodes, alias = 1, n.Kind == yaml.AliasNode
	for _, c := range n.Content {
		k, a := shiftLines(c, delta)
		nodes, alias = nodes+k, alias || a
	}
	return nodes, alias
}

// encodeYAML writes the documents back: unchanged ones byte for byte,
// changed ones re-encoded in the style detected from their text.
func encodeYAML(docs []*Document) ([]byte, error) {
	var out bytes.Buffer
	for i, d := range docs {
		if !d.Changed {
			out.Write(d.raw)
			continue
		}
		if i > 0 && d.sep == "" {
			d.sep = "---\n" // a document added to the stream
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
		var tail []byte // the end marker and the comments after it, which yaml.v3 does not keep
		if at, ok := endMarker(text); ok {
			text, tail = text[:at], text[at:]
		}
		style := detectYAMLStyle(text)
		beforeEncode(d.Root)
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(style.indent)
		if style.compactSeq {
			enc.CompactSeqIndent()
		}
		if err := enc.Encode(d.Root); err != nil {
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
		out.Write(tail)
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

// beforeEncode works around habits of yaml.v3's encoder that lose or
// break things: it clears the explicit !!merge tag yaml.v3 gives "<<" keys,
// which the encoder would write out ("!!merge <<: *base"), and it moves
// line comments to where the encoder writes them right:
//   - a key's ("key: # c" with the value on the next line) goes to a value
//     written on the key's line (a scalar, an alias, a flow or empty
//     collection), where the encoder drops a key's comment;
//   - a block mapping's or list's own (a "key: {} # c" placement filled in,
//     "key: &anchor [] # c") goes to its key, written "key: # c", or above
//     its first entry when an anchor or a tag must follow "key:" on that
//     line; the encoder wrote it on a later line, lost it, or put it
//     before such an anchor, which no longer parsed.
func beforeEncode(n *yaml.Node) {
	seen := map[*yaml.Node]bool{}
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil || seen[n] || n.Kind == yaml.AliasNode {
			return
		}
		seen[n] = true
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" && k.Value == "<<" {
					k.Tag = ""
				}
				moveLineComment(k, v)
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
}

// moveLineComment moves the line comments of a mapping pair as beforeEncode
// says.
func moveLineComment(k, v *yaml.Node) {
	block := (v.Kind == yaml.MappingNode || v.Kind == yaml.SequenceNode) && v.Style&yaml.FlowStyle == 0 && len(v.Content) > 0
	switch {
	case !block && k.LineComment != "":
		v.LineComment = strings.TrimSuffix(k.LineComment+" "+v.LineComment, " ")
		k.LineComment = ""
	case block && v.LineComment != "":
		if v.Anchor != "" || v.Style&yaml.TaggedStyle != 0 || v.Tag != "" && v.Tag != "!!map" && v.Tag != "!!seq" {
			first := v.Content[0]
			first.HeadComment = strings.TrimSuffix(v.LineComment+"\n"+first.HeadComment, "\n")
		} else {
			k.LineComment = strings.TrimPrefix(k.LineComment+" "+v.LineComment, " ")
		}
		v.LineComment = ""
	}
}

// sameYAML reports whether two texts decode to the same value.
func sameYAML(a, b []byte) bool {
	var va, vb any
	if yaml.Unmarshal(a, &va) != nil || yaml.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}
