// Package kustomize builds a kustomization directory in process, as
// `kustomize build` does (including images: overrides, patches, namespace
// and name transformers, and bases), and reads the workloads of the
// result with package kube.
//
// The build output is one YAML stream; workload and image locations name
// it "kustomize build DIR" and count lines in that stream, which is the
// same as the output of `kustomize build DIR` (resources keep their input
// order). Plugins and helmCharts generators are not run.
package kustomize
