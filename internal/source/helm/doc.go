// Package helm renders a Helm chart client-side, the way `helm template`
// does, and reads the workloads of every rendered template with package
// kube. RenderChart renders in the calling process (package render runs it
// in a bounded child); Workloads reads and locates what it rendered.
//
// The chart is a directory or a packaged .tgz; its dependencies must be
// vendored under charts/ (as `helm dependency build` leaves them) and are
// rendered too, with their conditions and tags evaluated against the merged
// values. Values come from the chart's values.yaml, then the values files
// and --set style values in Options, with Helm's own precedence. Nothing
// talks to a cluster or a repository: capabilities are Helm's defaults with
// the Kubernetes version of Options.KubeVersion, else DefaultKubeVersion
// (the minor of the client-go archway links, so that charts declaring a
// current kubeVersion render), plus Options.APIVersions; lookup returns
// nothing.
//
// Each workload's location is the template file on disk, under the chart
// path as given (e.g. "charts/web/templates/deployment.yaml" or
// "charts/web/charts/redis/templates/statefulset.yaml"), at the line of the
// template that writes the object's kind and each container's image when it
// can be told unambiguously: the only image line, the one line that writes
// the rendered value literally, or the image lines in order when every one
// of them rendered. Otherwise the line is the template's first image line,
// marked Approximate. A chart or subchart read from an archive is located
// at the archive, without lines.
package helm
