// Package certs generates the X.509 key material archway needs: a CA and
// the serving certificate it signs for the admission webhook
// (`archway webhook manifests --generate-certs`), and the certificates of
// the test control plane and test registries. ECDSA P-256 keys, random
// 120-bit serial numbers, PEM output.
package certs
