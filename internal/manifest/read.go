package manifest

import (
	"bytes"
	"errors"
	"io"

	yaml "go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
)

// chunkDocs is how many documents one goroutine of Map takes at a time.
const chunkDocs = 64

// Map reads a stream for what f makes of its objects: f of every object
// Parse and then Objects would list, in stream order, and the documents'
// errors joined as Stream.Err joins them. Unlike Parse it keeps no
// document: a document's tree is dropped as soon as f has seen its
// objects, so a stream of 100,000 documents costs about what f returns,
// not 100,000 trees. f must not keep an Object's nodes.
//
// The bounds are Parse's. Documents are parsed and mapped on up to
// GOMAXPROCS goroutines, so f must be safe for concurrent use; those with
// aliases (or more than MaxExpandedNodes nodes) wait, and are checked
// against the file's alias budget and mapped in file order, so the result
// is the same as in order.
func Map[T any](name string, data []byte, f func(Object) T) ([]T, error) {
	if isJSON(data) {
		s := Parse(name, data)
		var out []T
		for _, o := range s.Objects() {
			out = append(out, f(o))
		}
		return out, s.Err()
	}
	s := &Stream{Name: name}
	specs := &specCache{m: map[string]*corev1.PodSpec{}}
	docs := cutYAML(data)
	chunks := make([]mapped[T], (len(docs)+chunkDocs-1)/chunkDocs)
	parallel(len(chunks), workersFor(len(docs)), func(c int) {
		m := &chunks[c]
		var objs []Object
		chunk := docs[c*chunkDocs : min((c+1)*chunkDocs, len(docs))]
		parseChunk(name, data, chunk)
		for _, d := range chunk {
			d.text = nil
			if d.Root != nil && d.aliased {
				m.ends = append(m.ends, -1) // waits for the file's budget
				continue
			}
			objs, m.out = mapDocument(s, d, specs, f, objs, m.out)
			m.ends = append(m.ends, len(m.out))
		}
	})
	n := 0
	for _, m := range chunks {
		n += len(m.out)
	}
	var out []T
	if n > 0 {
		out = make([]T, 0, n)
	}
	var errs []error
	budget := newAliasBudget()
	var objs []Object
	for c := range chunks {
		m, from := &chunks[c], 0
		for i, end := range m.ends {
			d := docs[c*chunkDocs+i]
			if end < 0 {
				if err := checkAliases(name, d.Root, budget); err != nil {
					d.Root, d.Err = nil, err
				}
				objs, out = mapDocument(s, d, specs, f, objs, out)
			} else {
				out = append(out, m.out[from:end]...)
				from = end
			}
			if d.Err != nil {
				errs = append(errs, d.Err)
			}
		}
		m.out = nil
	}
	return out, errors.Join(errs...)
}

// mapped is what one goroutine of Map made of a chunk of documents: f's
// results in order, and for each document the length of out after it (-1
// for a document left to map in file order).
type mapped[T any] struct {
	out  []T
	ends []int
}

// mapDocument appends f of the objects of d to out, then drops d's tree;
// objs is scratch space, returned for reuse.
func mapDocument[T any](s *Stream, d *Document, specs *specCache, f func(Object) T, objs []Object, out []T) ([]Object, []T) {
	if d.Root == nil {
		return objs, out
	}
	objs = s.object(objs[:0], d, nil, "", "")
	for i, o := range objs {
		o.specs = specs
		out = append(out, f(o))
		objs[i] = Object{}
	}
	d.Root = nil
	return objs, out
}

// parseChunk parses consecutive documents of a stream as parseDocument
// does each, but with one parser for them all (a parser costs more to set
// up than a small document to parse), when that is sure to give the same
// trees: the parser's documents fall one to each document that has content
// (an empty one, which it reads as a null, is left out; a directive or an
// end marker is content), no document has an end marker, no alias names an anchor of another document,
// no document has content on its marker line, and nothing fails.
// Otherwise each is parsed on its own.
// Comments at the edges of a document may hang on other nodes than
// parseDocument puts them on: Map does not keep them.
func parseChunk(name string, data []byte, docs []*Document) {
	if !parseTogether(data, docs) {
		for _, d := range docs {
			d.Root, d.aliased = nil, false
			parseDocument(name, d)
		}
	}
}

// parseTogether is parseChunk's one parser; false when the documents must
// be parsed one by one.
func parseTogether(data []byte, docs []*Document) bool {
	for _, d := range docs {
		if !d.padded && d.sep != "" {
			return false // content on the marker line, which parseDocument reads after spaces instead
		}
		if _, ok := endMarker(d.text); ok {
			return false // parseDocument refuses content after it
		}
	}
	last := docs[len(docs)-1]
	dec := yaml.NewDecoder(bytes.NewReader(data[docs[0].at : last.at+len(last.raw)]))
	delta := docs[0].Line - 1
	i := 0 // the document the parser is in
	for {
		n := new(yaml.Node)
		if err := dec.Decode(n); err == io.EOF {
			break
		} else if err != nil || n.Kind != yaml.DocumentNode || len(n.Content) != 1 {
			return false
		}
		c := n.Content[0]
		if c.Kind == yaml.ScalarNode && c.Tag == "!!null" && c.Value == "" && c.Style == 0 && c.Anchor == "" {
			continue // an empty document: no objects, as parseDocument finds none
		}
		line := c.Line + delta
		for i+1 < len(docs) && docs[i+1].Line <= line {
			i++
		}
		d := docs[i]
		if d.Root != nil || !d.content {
			return false
		}
		nodes, alias := shiftLines(n, delta)
		n.Line, n.Column = c.Line, c.Column // as parseDocument's implicit document
		if alias && !ownAnchors(n, d.Line, endLine(docs, i)) {
			return false
		}
		d.Root, d.aliased = n, alias || nodes > MaxExpandedNodes
	}
	for _, d := range docs {
		if d.content && d.Root == nil {
			return false
		}
	}
	return true
}

// endLine is the line where the document after docs[i] starts; a line past
// any for the last.
func endLine(docs []*Document, i int) int {
	if i+1 < len(docs) {
		return docs[i+1].Line
	}
	return int(^uint(0) >> 1)
}

// ownAnchors reports whether every alias under n names a node on the lines
// [from, to): of n's own document.
func ownAnchors(n *yaml.Node, from, to int) bool {
	if n.Kind == yaml.AliasNode && (n.Alias == nil || n.Alias.Line < from || n.Alias.Line >= to) {
		return false
	}
	for _, c := range n.Content {
		if !ownAnchors(c, from, to) {
			return false
		}
	}
	return true
}
