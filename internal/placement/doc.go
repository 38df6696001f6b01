// Package placement computes where a pod may run: given a pod spec and what
// the registry said about each of its images, it ANDs a required
// kubernetes.io/arch node affinity into every existing node-selector term,
// adds the toleration for the taint on arm64 nodes, and optional preferred
// weights per architecture. It is pure (no I/O) and idempotent: placing a
// placed spec changes nothing. Existing architecture constraints are
// respected and checked, never overridden.
package placement
