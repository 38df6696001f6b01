// Package kube reads Kubernetes manifests, YAML or JSON, and returns the
// workloads they define: every object with a pod spec (Pod, Deployment,
// ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, ReplicationController,
// PodTemplate, and custom resources that embed a pod template such as Argo
// Rollouts or Knative Services).
//
// Input is a file, a directory (walked recursively for *.yaml, *.yml and
// *.json, skipping dot-directories), or bytes with a display name (Parse),
// which is how the Helm and kustomize readers hand over rendered output.
// Streams may hold many documents separated by "---", and List objects
// (kind: List or any kind ending in "List" with items) are expanded.
// Documents that are not workloads (Service, ConfigMap, documents without
// a kind) are skipped, except custom resources with no pod template whose
// spec names images (the Prometheus Operator's Prometheus.spec.image, any
// *Image string field): each is a workload with CustomResource set and one
// container of kind workload.ContainerCustom per image, so that the images
// its operator runs are judged too.
//
// Documents are parsed as yaml.Node so every workload keeps the line of its
// object and every container the line and column of its image value.
//
// # Errors
//
// A malformed document does not stop the others: Read and Parse return the
// workloads they could read together with an error made with errors.Join
// whose parts are each an *Error naming the file and line. Callers that
// report problems one by one unwrap it with
//
//	if j, ok := err.(interface{ Unwrap() []error }); ok { parts := j.Unwrap() }
//
// or use [Errors].
package kube
