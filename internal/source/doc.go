// Package source is the front door to the input readers: it tells which
// kind of input a path is (Detect) and reads its workloads with the
// matching package (Read): kube for Kubernetes manifests, helm for charts,
// kustomize for kustomizations, ecs for task definitions, compose for
// compose files and dockerfile for Dockerfiles.
//
// A plain directory is walked: every chart directory (Chart.yaml) and
// kustomization directory under it is read as one input and not walked
// further, and every other file is detected on its own; files of no known
// kind are skipped, dot-directories are not entered. Symbolic links follow
// package walk's rule: inside the directories given they are read (each
// file once), pointing outside or nowhere they are input problems.
//
// Problems with one file or document do not stop the others: Read returns
// every workload it could read together with an errors.Join of the
// problems, each naming its file (and line, where the reader knows it).
// Use kube.Errors to split it.
package source
