// Package placement computes where a pod may run: given a pod spec and what
// the registry said about each of its images, it ANDs a required
// kubernetes.io/arch node affinity into every existing node-selector term,
// adds the toleration for the taint on arm64 nodes, and optional preferred
// weights per architecture. It is pure (no I/O) and idempotent: placing a
// placed spec changes nothing. Existing architecture constraints are
// respected and checked, never overridden.
//
// # Rules
//
// Let S be the architectures every container (init and ephemeral
// included) supports and C the cluster's (Options.ClusterArchs).
//
//   - An image with no lookup result or a failed lookup: the spec is left
//     untouched and Outcome.Skipped names the image and the cause.
//   - S = ∅: the finding "no architecture runs every container"; untouched.
//   - An existing constraint (nodeSelector kubernetes.io/arch or the beta
//     label, required In/NotIn/DoesNotExist expressions, read with
//     workload.PodArchitectures) that allows an architecture outside S, in
//     total or in any one node-selector term: a finding, untouched (adding
//     the arm toleration could only make a wrong placement likelier). One
//     within S: the architecture is not touched.
//   - Required node affinity with no terms matches no node: a finding,
//     untouched.
//   - S ⊇ C: nothing required. Otherwise kubernetes.io/arch In S is added
//     to every non-empty node-selector term that does not already constrain
//     the architecture (an empty term matches nothing; adding to it would
//     loosen it), or as the only term when there is none; StyleNodeSelector
//     writes nodeSelector instead when |S| = 1. When S and C do not meet,
//     the pin is still written (Pending beats crashing) and reported.
//   - Where the pod may then run (the pin ∩ C, or S ∩ C) is called F. When
//     |F| > 1, Prefer adds one preferred term per architecture in F,
//     unless a preferred term for that single architecture exists.
//   - When arm64 ∈ F and ArmTaint is set, the toleration is added unless an
//     existing one tolerates the taint (Tolerates: same key and effect or
//     empty effect, Equal with the value or Exists, or empty-key Exists).
package placement
