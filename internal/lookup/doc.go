// Package lookup holds the one value that says what a registry answered
// about an image reference: Result (its digest, kind and platform entries,
// or the error), and the classified Error and Cause of a failed lookup;
// and RegistryStats, what lookups spent at a registry (requests, pulls,
// HEADs, the pull Quota as last seen, the circuit breaker's state).
// Package registry produces it; assess, placement, rewrite, report and the
// webhook consume it, each through the small Func or map it declares, so
// nothing converts between look-alike types.
package lookup
