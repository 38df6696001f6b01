package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	kauth "github.com/google/go-containerregistry/pkg/authn/kubernetes"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/archwaydev/archway/internal/lookup"
)

// Credentials name where the kubelet would take a pod's pull credentials
// from: the pod's imagePullSecrets and its service account's.
type Credentials struct {
	Namespace      string
	ServiceAccount string
	PullSecrets    []string // sorted, distinct
}

// CredentialsOf returns the credentials of a pod in namespace.
func CredentialsOf(namespace string, spec *corev1.PodSpec) Credentials {
	c := Credentials{Namespace: namespace, ServiceAccount: spec.ServiceAccountName}
	if c.Namespace == "" {
		c.Namespace = "default"
	}
	if c.ServiceAccount == "" {
		c.ServiceAccount = "default"
	}
	for _, s := range spec.ImagePullSecrets {
		if s.Name != "" && !slices.Contains(c.PullSecrets, s.Name) {
			c.PullSecrets = append(c.PullSecrets, s.Name)
		}
	}
	slices.Sort(c.PullSecrets)
	return c
}

// Key identifies the credentials.
func (c Credentials) Key() string {
	return c.Namespace + "/" + c.ServiceAccount + "/" + strings.Join(c.PullSecrets, ",")
}

// Lookups gives the lookup to use with a pod's credentials.
type Lookups interface {
	For(c Credentials) LookupFunc
}

// StaticLookups uses one lookup whatever the pod's credentials.
type StaticLookups LookupFunc

var _ Lookups = StaticLookups(nil)

// For implements Lookups.
func (s StaticLookups) For(Credentials) LookupFunc { return LookupFunc(s) }

// KeychainSource builds the keychain the kubelet would use to pull a pod's
// images.
type KeychainSource interface {
	Keychain(ctx context.Context, c Credentials) (authn.Keychain, error)
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
func (k KubernetesKeychains) Keychain(ctx context.Context, c Credentials) (authn.Keychain, error) {
	kc, err := kauth.New(ctx, k.Client, kauth.Options{
		Namespace:          c.Namespace,
		ServiceAccountName: c.ServiceAccount,
		ImagePullSecrets:   c.PullSecrets,
	})
	if err != nil {
		return nil, fmt.Errorf("pull secrets of %s/%s: %w", c.Namespace, c.ServiceAccount, err)
	}
	return kc, nil
}

// NewLookupFunc makes a registry lookup that authenticates with kc, e.g.
// a registry.Client built with registry.WithKeychain(kc).
type NewLookupFunc func(kc authn.Keychain) (LookupFunc, error)

// PullSecretLookups keeps one registry lookup per pod credentials whose
// keychain is the pod's pull secrets ahead of a fallback keychain, like the
// kubelet. The secrets are read on the first lookup that misses the cache
// (never for cached images) and again after TTL, so rotated secrets are
// picked up. Safe for concurrent use.
type PullSecretLookups struct {
	source   KeychainSource
	fallback authn.Keychain
	newFn    NewLookupFunc
	ttl      time.Duration
	logger   *slog.Logger
	clients  *lru[LookupFunc]
}

var _ Lookups = (*PullSecretLookups)(nil)

// NewPullSecretLookups returns PullSecretLookups. fallback nil means
// anonymous; ttl ≤ 0 means 5 minutes; size ≤ 0 means 256 credentials.
func NewPullSecretLookups(source KeychainSource, fallback authn.Keychain, newFn NewLookupFunc, ttl time.Duration, size int, logger *slog.Logger) *PullSecretLookups {
	if fallback == nil {
		fallback = authn.NewMultiKeychain()
	}
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	if size <= 0 {
		size = 256
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &PullSecretLookups{source: source, fallback: fallback, newFn: newFn, ttl: ttl, logger: logger, clients: newLRU[LookupFunc](size)}
}

// For implements Lookups.
func (p *PullSecretLookups) For(c Credentials) LookupFunc {
	key := c.Key()
	if f, ok := p.clients.get(key, time.Now()); ok {
		return f
	}
	pod := &lazyKeychain{build: func(ctx context.Context) (authn.Keychain, error) { return p.source.Keychain(ctx, c) }, logger: p.logger}
	f, err := p.newFn(authn.NewMultiKeychain(pod, p.fallback))
	if err != nil {
		return func(_ context.Context, ref string) lookup.Result {
			return lookup.Result{Ref: ref, Err: &lookup.Error{Ref: ref, Cause: lookup.CauseUnknown, Err: fmt.Errorf("registry client: %w", err)}}
		}
	}
	p.clients.add(key, f, time.Now().Add(p.ttl))
	return f
}

// lazyKeychain builds a keychain on first use and keeps it once built; a
// failure is logged, answered anonymously and tried again next time.
type lazyKeychain struct {
	mu     sync.Mutex
	build  func(ctx context.Context) (authn.Keychain, error)
	kc     authn.Keychain
	logger *slog.Logger
}

var _ authn.ContextKeychain = (*lazyKeychain)(nil)

// Resolve implements authn.Keychain.
func (l *lazyKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	return l.ResolveContext(context.Background(), r)
}

// ResolveContext implements authn.ContextKeychain: the keychain is built
// with the lookup's context, so reading the secrets obeys its deadline.
func (l *lazyKeychain) ResolveContext(ctx context.Context, r authn.Resource) (authn.Authenticator, error) {
	l.mu.Lock()
	if l.kc == nil {
		kc, err := l.build(ctx)
		if err != nil {
			l.mu.Unlock()
			l.logger.Warn("reading pull secrets failed; trying the default keychain", "err", err)
			return authn.Anonymous, nil
		}
		l.kc = kc
	}
	kc := l.kc
	l.mu.Unlock()
	return authn.Resolve(ctx, kc, r)
}
