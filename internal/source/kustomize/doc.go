// Package kustomize builds a kustomization with kustomize's krusty library
// (the `kustomize build` of kubectl) and reads the workloads of the output
// with package kube. Build runs in the calling process: package render
// runs it in a bounded child, and Workloads reads its output.
//
// Locations are in the files on disk, not in the build output: kustomize
// is asked for origin annotations (buildMetadata: [originAnnotations],
// added to the kustomization as krusty reads it, never written), so each
// workload is located in the resource file it came from and each image at
// its line there; an image that an images: entry of the kustomization (or
// of a base or component it builds) set is located at that entry. What
// has no origin (generated objects) is located at the kustomization file,
// the line marked approximate.
//
// kustomize prints its deprecation warnings ("'commonLabels' is
// deprecated…") straight to the process's stderr. Instead, archway hands it
// each kustomization file already fixed by kustomize's own fix functions
// (what `kustomize edit fix` writes), and returns the warnings, so that
// the caller can show them as notes; a kustomization with sortOptions is
// built without the order option kustomize would log about. Only `vars`,
// which has no mechanical fix, is left for kustomize to warn about itself
// (on stderr, which package render returns as notes).
//
// A remote resource, base or component (an http(s) URL or a git
// repository) fails the build with ErrRemote, nothing fetched, unless
// BuildOptions.AllowRemote is set.
// A Component (kind: Component) is built only by the kustomizations that
// use it (IsComponent).
package kustomize
