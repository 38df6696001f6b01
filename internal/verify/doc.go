// Package verify proves that the binaries inside a container image match
// the platform the image claims.
//
// For each platform entry it compares three claims: the index descriptor's
// platform, the image config's os/architecture/variant, and the binaries
// themselves. Layers are streamed from the registry (bounded concurrency,
// digest checked while streaming, gzip and zstd told by their magic bytes,
// nothing written to disk); of each regular file only the first bytes are
// read: the ELF header and program headers (class, byte order, machine,
// type, PT_INTERP), a script's shebang, a PE file's Machine. The layers'
// records are merged top-down with the OCI layer rules (whiteouts hide
// lower layers only, opaque directories, hardlinks across layers) into the
// final filesystem, which is judged:
//
//   - error: the entrypoint closure (Entrypoint or Cmd[0] through PATH and
//     symlinks, a script's interpreter, /usr/bin/env X, an ELF's PT_INTERP
//     loader) is of the wrong machine or cannot be resolved, or an ELF of
//     the wrong machine sits in a PATH directory;
//   - warning: any other ELF of the wrong machine, shared objects included;
//   - info: a wrong-machine file that an --allow glob names.
//
// Each finding names the layer that brought the file, its history
// created_by line and the package that owns it (dpkg, apk), or says it is
// unowned. Hostile layers are bounded: compressed and uncompressed bytes,
// the decompression ratio, entries, path length and symlink hops each have
// a cap whose error makes the answer unknown, never a pass. Layer records
// are cached on disk by layer digest.
//
// LintDockerfile finds, in a Dockerfile, what tends to put wrong-arch
// binaries into an image: literal amd64 downloads, FROM --platform=constant
// on the final stage, node_modules or .so files copied from the context.
package verify
