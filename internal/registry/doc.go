// Package registry answers "which platforms does image X support?" by
// reading indexes, single-platform manifests and their config blobs from
// OCI and Docker registries with go-containerregistry: with real auth,
// bounded concurrency, deduplication, retries, size caps, digest
// verification and an on-disk cache keyed by digest.
//
// A lookup never turns a failure into "unsupported": a failed lookup is a
// Result with Err set, whose Cause says why.
package registry
