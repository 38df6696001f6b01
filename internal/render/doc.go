// Package render renders Helm charts and builds kustomizations in a child
// process of archway, under a deadline and a memory bound, so that a
// template that never ends ({{ range until 2000000000 }}), a YAML bomb
// that kustomize expands, or a remote resource that streams forever fails
// that one input with a clear error while the run goes on.
//
// The child is the running executable itself (os.Executable), started with
// the environment variable ARCHWAY_RENDER_CHILD set to its memory bound in
// bytes. This package's init function sees the variable, serves one
// request (JSON on stdin: the job and its options; JSON on stdout: the
// result or the error) and exits, before main or any test runs: every
// binary that links this package, test binaries included, can be the
// child, and no binary can forget to be. The parent writes the request,
// reads at most Limits.Memory bytes of answer and 64 KiB of stderr, and
// kills the child's whole process group (git, which kustomize runs for
// remote bases, included) at the deadline.
//
// The memory bound is the child's data segment limit (RLIMIT_DATA, which
// Linux applies to anonymous mappings, the Go heap included) above what
// the child had when it started, and the Go runtime's soft memory limit;
// a child past it dies with the runtime's out-of-memory error, reported as
// the input using more than the bound. On systems other than Linux only
// the soft limit applies. In the child, remote resources that kustomize
// fetches over HTTP are refused past MaxRemoteBody bytes each.
//
// What the child writes on stderr when it succeeds (kustomize's own
// warnings, such as the one about vars) is returned as notes.
package render
