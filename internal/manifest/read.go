package manifest

import (
	"errors"
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
	docs := cutYAML(data)
	chunks := make([]mapped[T], (len(docs)+chunkDocs-1)/chunkDocs)
	parallel(len(chunks), workersFor(len(docs)), func(c int) {
		m := &chunks[c]
		var objs []Object
		for _, d := range docs[c*chunkDocs : min((c+1)*chunkDocs, len(docs))] {
			parseDocument(name, d)
			d.text = nil
			if d.Root != nil && d.aliased {
				m.ends = append(m.ends, -1) // waits for the file's budget
				continue
			}
			objs, m.out = mapDocument(s, d, f, objs, m.out)
			m.ends = append(m.ends, len(m.out))
		}
	})
	n := 0
	for _, m := range chunks {
		n += len(m.out)
	}
	out := make([]T, 0, n)
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
				objs, out = mapDocument(s, d, f, objs, out)
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
func mapDocument[T any](s *Stream, d *Document, f func(Object) T, objs []Object, out []T) ([]Object, []T) {
	if d.Root == nil {
		return objs, out
	}
	objs = s.object(objs[:0], d, nil, "", "")
	for i, o := range objs {
		out = append(out, f(o))
		objs[i] = Object{}
	}
	d.Root = nil
	return objs, out
}
