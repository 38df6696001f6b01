// Package policyreport turns an assessment of a cluster's workloads into
// PolicyReports (wgpolicyk8s.io/v1alpha2) or OpenReports Reports
// (openreports.io/v1alpha1), the objects policy engines publish and Policy
// Reporter shows, and applies them to the cluster.
//
// Build makes one report per namespace (more when it is large: each stays
// under MaxResults results and MaxBytes of JSON, below the API server's
// request and etcd's value limits) with one result per workload, at its
// top owner, per rule:
//
//   - images-support-arm64: every container's image has the target
//     platform (pass), one lacks it (fail), or one could not be looked up
//     (error); running pods outrank the registry (see assess);
//   - placement-present: the workload already carries the
//     kubernetes.io/arch constraint its images need (pass), lacks it or
//     conflicts with it (fail), or that cannot be told (error);
//   - toleration-present, when the arm64 nodes are tainted: a workload
//     that can run on arm64 tolerates the taint (pass) or not (fail);
//     skip when it cannot run there.
//
// Results are never per pod or per image. Reports carry the label
// app.kubernetes.io/managed-by=archway; Apply server-side-applies them
// with the field manager "archway" and deletes the reports it owns that
// the new set no longer has, so stale results go with them.
package policyreport
