// Package index assembles multi-arch image indexes from per-architecture
// images, checks them and pushes them, and inspects existing indexes.
//
// Create reads every source (a single-platform image, or an index such as
// the one buildx pushes for one platform with its provenance attestation),
// takes each entry's platform from its config blob, never from what a
// descriptor or the caller declares, and fails on a declared platform that
// disagrees, on two entries with the same platform and on a config that
// names none. Index sources are flattened; their attestation manifests are
// kept while the image they describe is in the new index. The children are
// copied by digest into the target repository (go-containerregistry mounts
// blobs across repositories of one registry and uploads them when a mount
// fails) before the index is put at the tag, so a registry never holds an
// index whose children it lacks. The same inputs give byte-identical index
// JSON and so the same digest; a tag that already points at it is left as
// it is.
//
// Inspect reads an index back: each entry's declared platform against its
// config, attestation links, and children the registry no longer has.
package index
