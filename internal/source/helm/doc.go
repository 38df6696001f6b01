// Package helm renders a Helm chart client-side, the way `helm template`
// does, and reads the workloads of every rendered template with package
// kube.
//
// The chart is a directory or a packaged .tgz; its dependencies must be
// vendored under charts/ (as `helm dependency build` leaves them) and are
// rendered too, with their conditions and tags evaluated against the merged
// values. Values come from the chart's values.yaml, then the values files
// and --set style values in Options, with Helm's own precedence. Nothing
// talks to a cluster or a repository: capabilities are Helm's defaults (or
// Options.KubeVersion) and lookup returns nothing.
//
// Each workload's location names the template it was rendered from, e.g.
// "mychart/templates/deployment.yaml" or
// "mychart/charts/db/templates/statefulset.yaml", with lines counted in the
// rendered output.
package helm
