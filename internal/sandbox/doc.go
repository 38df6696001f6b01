// Package sandbox seeds a container registry with a small catalogue of
// tiny but honest example images (indexes, Docker manifest lists,
// single-platform OCI and Docker manifests, buildx attestations, a nested
// index, a windows image and a tag series), and can serve that catalogue
// from an in-process registry on a loopback port.
//
// archway's demo and the tests of every registry-backed command use it, so
// they run without any network. The content is deterministic: the same
// catalogue always has the same digests.
package sandbox
