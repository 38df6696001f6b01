// Package install renders the archway webhook's Kubernetes objects from the
// Helm chart in deploy/charts/archway with the Helm SDK (client-only), and
// assembles the self-contained install that `archway webhook manifests`
// prints: Namespace, RBAC, TLS Secret with a generated CA-signed
// certificate, Deployment, Service, PodDisruptionBudget and the
// MutatingWebhookConfiguration carrying the CA bundle.
package install
