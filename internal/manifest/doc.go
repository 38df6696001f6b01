// Package manifest is archway's one layer over Kubernetes manifest files,
// YAML streams and JSON alike: it splits a stream into documents (each
// parsed on its own, so one malformed document does not hide the others),
// walks the objects of every document (List items included) to their pod
// specs, keeps every node's line for locations, and writes a stream back
// with only the changed documents re-encoded, comments, order and style
// kept. Readers (source/kube and the readers built on it) and the rewriter
// use the same walk, so what scan reports is what place edits.
//
// Bounds: a document that expands past MaxExpandedNodes through its aliases
// is refused, and so is every document past the point where the file has
// added MaxAliasedNodesPerFile nodes through aliases; an object with a key written twice is malformed (Kubernetes'
// strict decoding rejects it), and so is a pod spec that is not a mapping:
// such an object carries its Err, and the rest of the stream is still read.
// A document with content after its end marker ("...", past which yaml.v3
// and kubectl read nothing) does not parse: its Err says so, and the other
// documents are still read.
// The search for image fields in custom resources (Object.Images) stops at
// a depth and a count.
//
// The documents of a large stream are parsed in parallel; the result is
// the same as in order. Readers go through Map, which keeps no document
// past the reading of its objects and parses runs of documents with one
// parser where that gives the same trees, so a file of 100,000 Pods is
// read without 100,000 trees alive at once. The rewriter uses Parse, which keeps every document (and every
// comment where it was) for Encode.
//
// It uses go.yaml.in/yaml/v3, whose Node keeps comments and positions.
package manifest
