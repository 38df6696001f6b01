package webhook

import (
	"slices"

	"github.com/google/go-containerregistry/pkg/authn"
	corev1 "k8s.io/api/core/v1"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/registry"
)

// PullSecretsOf returns where the kubelet would take the pull credentials
// of a pod in namespace from.
func PullSecretsOf(namespace string, spec *corev1.PodSpec) registry.PullSecrets {
	s := registry.PullSecrets{Namespace: namespace, ServiceAccount: spec.ServiceAccountName}
	for _, ref := range spec.ImagePullSecrets {
		if ref.Name != "" && !slices.Contains(s.Names, ref.Name) {
			s.Names = append(s.Names, ref.Name)
		}
	}
	return s
}

// Lookups gives the registry credentials, and the lookup that uses them,
// for a pod's pull secrets. *registry.PullSecretLookups is one.
type Lookups interface {
	For(s registry.PullSecrets) (*registry.Credentials, error)
}

var _ Lookups = (*registry.PullSecretLookups)(nil)

// staticLookups gives every pod the same credentials.
type staticLookups struct{ c *registry.Credentials }

// StaticLookups gives every pod anonymous credentials whose lookups fn
// makes, whatever its pull secrets.
func StaticLookups(fn lookup.Func) Lookups {
	c, _ := registry.NewCredentials(func(authn.Keychain) (lookup.Func, error) { return fn, nil }, nil)
	return staticLookups{c}
}

// For implements Lookups.
func (s staticLookups) For(registry.PullSecrets) (*registry.Credentials, error) { return s.c, nil }
