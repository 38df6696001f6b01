// Package rewrite applies placement to files: Kubernetes manifests (YAML or
// JSON, multi-document streams and List objects), Amazon ECS task
// definitions (JSON) and Compose files.
//
// Files are read and written through package manifest, the same layer the
// readers use (go.yaml.in/yaml/v3 nodes), so what scan reports is what
// place edits, and a malformed object fails alone in both. Only the nodes
// that change are set:
// a pod spec's affinity, tolerations and nodeSelector, an ECS task
// definition's runtimePlatform, a Compose service's platform. The placed
// values are converted to yaml.Node and merged into the existing mapping,
// so the comments, key order, quoting style and anchors of everything else
// survive.
//
// # What survives, and what does not
//
//   - Documents of a stream that do not change are kept byte for byte,
//     separators and comments between them included.
//   - A changed document is re-encoded by yaml.v3 with the indentation
//     detected from its text: the mapping indent (2 or 4; other widths
//     fall back to 2) and the sequence style (items at their key's column,
//     "compact", or indented under it). Blank lines that yaml.v3 drops are
//     put back where the surrounding lines did not change.
//   - yaml.v3 limitations in a changed document: a sequence indent other
//     than the two yaml.v3 can write is normalised; with 4-space indentation
//     the keys nested in a mapping that is a sequence item are indented from
//     the dash, not from the item's first key (yaml.v3's rule), so such
//     lines move by two columns; comments at unusual
//     places (between a key and its value, after the last item of a block)
//     may move to the neighbouring line; a long plain scalar is kept on one
//     line. A document end marker ("...") and the comments after it are
//     kept.
//   - An alias (*name) whose content must change is expanded into a copy
//     first, and aliases elsewhere in the document that point into a
//     changed subtree are expanded too, so a change never leaks to another
//     object through an anchor. Merge keys (<<: *base) are respected: a
//     field that came from the merged mapping is written explicitly.
//   - JSON stays JSON, with its key order and the indentation detected from
//     the input (compact input stays compact).
//
// A file that does not parse is reported and left untouched. [WriteFile]
// writes atomically: a temporary file in the same directory, fsync, rename,
// the original mode kept.
package rewrite
