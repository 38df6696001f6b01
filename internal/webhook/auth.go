package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	kauth "github.com/google/go-containerregistry/pkg/authn/kubernetes"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
)

// KeychainSource builds the keychain the kubelet would use to pull a pod's
// images: the pod's imagePullSecrets and its service account's.
type KeychainSource interface {
	Keychain(ctx context.Context, namespace, serviceAccount string, pullSecrets []string) (authn.Keychain, error)
}

// KubernetesKeychains reads pull secrets from the API server with
// go-containerregistry's Kubernetes keychain. The webhook's service account
// needs get on secrets and serviceaccounts.
type KubernetesKeychains struct {
	Client kubernetes.Interface
}

var _ KeychainSource = KubernetesKeychains{}

// Keychain implements KeychainSource. Secrets that do not exist are ignored,
// as the kubelet does.
func (k KubernetesKeychains) Keychain(ctx context.Context, namespace, serviceAccount string, pullSecrets []string) (authn.Keychain, error) {
	kc, err := kauth.New(ctx, k.Client, kauth.Options{
		Namespace:          namespace,
		ServiceAccountName: serviceAccount,
		ImagePullSecrets:   pullSecrets,
	})
	if err != nil {
		return nil, fmt.Errorf("pull secrets of %s/%s: %w", namespace, serviceAccount, err)
	}
	return kc, nil
}

// podCredentials names where a pod's pull credentials come from.
type podCredentials struct {
	namespace, serviceAccount string
	pullSecrets               []string
}

func credentialsOf(namespace string, spec *corev1.PodSpec) podCredentials {
	c := podCredentials{namespace: namespace, serviceAccount: spec.ServiceAccountName}
	if c.namespace == "" {
		c.namespace = "default"
	}
	if c.serviceAccount == "" {
		c.serviceAccount = "default"
	}
	for _, s := range spec.ImagePullSecrets {
		if s.Name != "" && !slices.Contains(c.pullSecrets, s.Name) {
			c.pullSecrets = append(c.pullSecrets, s.Name)
		}
	}
	slices.Sort(c.pullSecrets)
	return c
}

// key identifies the credentials for sharing lookups in flight.
func (c podCredentials) key() string {
	return c.namespace + "/" + c.serviceAccount + "/" + strings.Join(c.pullSecrets, ",")
}

type keychainKey struct{}

// lazyKeychain builds a pod's keychain on first use: a lookup answered from
// the cache never reads a secret.
type lazyKeychain struct {
	once   sync.Once
	build  func(ctx context.Context) (authn.Keychain, error)
	kc     authn.Keychain
	err    error
	logger *slog.Logger
}

func (l *lazyKeychain) get(ctx context.Context) authn.Keychain {
	l.once.Do(func() {
		l.kc, l.err = l.build(ctx)
		if l.err != nil && l.logger != nil {
			l.logger.Warn("reading pull secrets failed; using the default keychain", "err", l.err)
		}
	})
	return l.kc
}

// withPodKeychain returns ctx carrying the pod's keychain, built lazily
// from src. A nil src leaves ctx as is.
func withPodKeychain(ctx context.Context, src KeychainSource, creds podCredentials, logger *slog.Logger) context.Context {
	if src == nil {
		return ctx
	}
	return context.WithValue(ctx, keychainKey{}, &lazyKeychain{
		build: func(ctx context.Context) (authn.Keychain, error) {
			return src.Keychain(ctx, creds.namespace, creds.serviceAccount, creds.pullSecrets)
		},
		logger: logger,
	})
}

// ContextKeychain returns a keychain for the registry client that resolves
// with the pod's pull secrets carried by the lookup's context (set by the
// admission handler), then with fallback (e.g. authn.DefaultKeychain).
// Pass it to registry.WithKeychain: go-containerregistry hands the request
// context to keychains that implement authn.ContextKeychain.
func ContextKeychain(fallback authn.Keychain) authn.Keychain {
	if fallback == nil {
		fallback = authn.NewMultiKeychain()
	}
	return contextKeychain{fallback: fallback}
}

type contextKeychain struct{ fallback authn.Keychain }

var _ authn.ContextKeychain = contextKeychain{}

func (k contextKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	return k.ResolveContext(context.Background(), r)
}

func (k contextKeychain) ResolveContext(ctx context.Context, r authn.Resource) (authn.Authenticator, error) {
	if l, ok := ctx.Value(keychainKey{}).(*lazyKeychain); ok {
		if kc := l.get(ctx); kc != nil {
			a, err := authn.Resolve(ctx, kc, r)
			if err == nil && a != authn.Anonymous {
				return a, nil
			}
		}
	}
	return authn.Resolve(ctx, k.fallback, r)
}
