// Package reporter is archway's in-cluster loop: it keeps informers on the
// workload kinds, Pods and Nodes, and, while it holds a Lease (client-go
// leader election, so of several replicas one writes at a time),
// recomputes the fleet's arm64 readiness on every change (debounced) and
// every interval, server-side-applies the PolicyReports and exports
// per-namespace readiness metrics on its own Prometheus registry.
//
// It reads through the same stages as archway report (app.Readiness,
// cluster.FromObjects on the informers' caches), so what it publishes is
// what the one-shot command would.
package reporter
