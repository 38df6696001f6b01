// Package webhook is archway's mutating admission webhook: it decodes
// AdmissionReview v1 requests for Pod CREATE, looks up the platforms of every
// image the pod uses (cached, deduplicated with singleflight, bounded in time
// and concurrency, authenticated with the pod's pull secrets like the
// kubelet), computes the placement with the placement package and answers
// with a JSON patch. Whenever it cannot tell (timeout, registry failure,
// unknown image, panic) it fails open: the pod is admitted unchanged but for
// an archway.dev/placement annotation that says why.
//
// The package also serves the handler over TLS with certificates reloaded
// when their files change, /healthz, /readyz and Prometheus /metrics, and
// shuts down gracefully when its context is cancelled.
//
// Its shape follows controller-runtime's pkg/webhook/admission: a one-method
// Handler, a HandlerFunc adapter, request bodies read through a size limit,
// and patches computed from raw bytes.
package webhook
