// Package cluster reads the workloads running in a live cluster through
// client-go, and takes a census of its nodes.
//
// Every workload is reported once, at its top owner: a Pod created by a
// ReplicaSet created by a Deployment is the Deployment, a Job created by a
// CronJob is the CronJob, and a bare Pod is a Pod. An object is folded
// into its owner when its controller owner reference names an object this
// package read (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job,
// CronJob, ReplicationController); when the owner is of another kind (an
// Argo Rollout owning ReplicaSets, a Node owning mirror Pods) the object
// itself is reported.
//
// Cluster workloads have no file: their Location.File is
// "cluster:" + Options.Context (the kubeconfig context, e.g.
// "cluster:prod-eu"; just "cluster:" when Context is empty) and Line is
// zero; the workload's kind, namespace and name say which object it is.
package cluster
