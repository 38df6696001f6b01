// Package webhook is archway's mutating admission webhook: it decodes
// AdmissionReview v1 requests for Pod CREATE, looks up the platforms of every
// image the pod uses (through registry.MemCache: in memory, one request per
// image and credentials however many pods ask, bounded in time and
// concurrency, authenticated with the pod's pull secrets like the kubelet),
// computes the placement with the placement package and answers with a JSON
// patch made on the raw object, touching only the placement fields and
// archway's annotations. On a reinvocation (after another webhook injected
// containers) it takes back what it added and places the pod as it is now.
// Whenever it cannot tell (timeout, registry failure, unknown image, panic)
// it fails open: the pod is admitted as though archway were not there but
// for an archway.dev/placement annotation that says why.
//
// NewServer builds and starts everything production runs, for
// `archway webhook` and the benchmark alike: the handler served over TLS
// with certificates reloaded when their files change, /healthz, /readyz
// (ready after the warm start) and Prometheus /metrics, shut down
// gracefully when its context is cancelled.
//
// Its shape follows controller-runtime's pkg/webhook/admission: a one-method
// Handler behind a Webhook that reads request bodies through a size limit.
package webhook
