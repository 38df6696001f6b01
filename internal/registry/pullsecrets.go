package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	kauth "github.com/google/go-containerregistry/pkg/authn/kubernetes"
	"github.com/google/go-containerregistry/pkg/name"
	"k8s.io/client-go/kubernetes"

	"github.com/archwaydev/archway/internal/lookup"
)

// PullSecrets name where the kubelet takes a pod's pull credentials from:
// the pod's imagePullSecrets and its service account's.
type PullSecrets struct {
	Namespace      string
	ServiceAccount string
	Names          []string // the pod's imagePullSecrets
}

// normalized fills the kubelet's defaults and sorts the names.
func (s PullSecrets) normalized() PullSecrets {
	if s.Namespace == "" {
		s.Namespace = "default"
	}
	if s.ServiceAccount == "" {
		s.ServiceAccount = "default"
	}
	var names []string
	for _, n := range s.Names {
		if n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	s.Names = names
	return s
}

func (s PullSecrets) key() string {
	return s.Namespace + "/" + s.ServiceAccount + "/" + strings.Join(s.Names, ",")
}

// NewLookupFunc makes a registry lookup that authenticates with kc, e.g.
// the Lookup of a Client built with WithKeychain(kc).
type NewLookupFunc func(kc authn.Keychain) (lookup.Func, error)

// Credentials are one keychain together with the lookup that uses it and
// a key naming what the keychain resolves to for each registry: "" when it
// is anonymous there, else a hash of the credentials (never the secret
// itself). The authenticator is resolved once per registry and the lookup
// uses exactly that one, so a result is only ever cached under the key of
// the credentials that made it. Safe for concurrent use.
type Credentials struct {
	kcs    []authn.Keychain // tried in order, like authn.NewMultiKeychain
	lookup lookup.Func      // the lookup made with these credentials
	logger *slog.Logger

	mu     sync.Mutex
	auths  map[string]resolvedAuth // by registry
	failed bool                    // a keychain failed: answered anonymously
}

type resolvedAuth struct {
	auth authn.Authenticator
	key  string
}

// NewCredentials returns Credentials whose lookups are made by newLookup
// and authenticate with the first of keychains that has credentials for
// the registry (none: anonymous). A keychain that fails is logged and
// skipped.
func NewCredentials(newLookup NewLookupFunc, logger *slog.Logger, keychains ...authn.Keychain) (*Credentials, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Credentials{kcs: keychains, logger: logger, auths: map[string]resolvedAuth{}}
	fn, err := newLookup(resolvedKeychain{c})
	if err != nil {
		return nil, fmt.Errorf("registry client: %w", err)
	}
	c.lookup = fn
	return c, nil
}

// Key returns the key of the credentials a lookup of ref uses: "" when
// anonymous (shared by everyone), else "sha256:<hex>" of the credentials.
// A reference that does not parse has key "".
func (c *Credentials) Key(ctx context.Context, ref string) string {
	r, err := name.ParseReference(ref)
	if err != nil {
		return ""
	}
	return c.resolve(ctx, r.Context().RegistryStr()).key
}

// Lookup looks ref up with these credentials.
func (c *Credentials) Lookup(ctx context.Context, ref string) lookup.Result {
	return c.lookup(ctx, ref)
}

// resolve returns the authenticator for registry, resolving it once.
func (c *Credentials) resolve(ctx context.Context, registry string) resolvedAuth {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a, ok := c.auths[registry]; ok {
		return a
	}
	a := resolvedAuth{auth: authn.Anonymous}
	reg, err := name.NewRegistry(registry)
	if err != nil {
		c.auths[registry] = a
		return a
	}
	for _, kc := range c.kcs {
		auth, err := authn.Resolve(ctx, kc, reg)
		if err != nil {
			c.logger.Warn("registry credentials unreadable; trying the next keychain", "registry", registry, "err", err)
			c.failed = true
			continue
		}
		if auth == authn.Anonymous {
			continue
		}
		cfg, err := authn.Authorization(ctx, auth)
		if err != nil {
			c.logger.Warn("registry credentials unreadable; trying the next keychain", "registry", registry, "err", err)
			c.failed = true
			continue
		}
		if *cfg == (authn.AuthConfig{}) {
			continue
		}
		b, err := json.Marshal(cfg)
		if err != nil {
			continue
		}
		sum := sha256.Sum256(append([]byte(registry+"\x00"), b...))
		a = resolvedAuth{auth: auth, key: "sha256:" + hex.EncodeToString(sum[:])}
		break
	}
	c.auths[registry] = a
	return a
}

// hadFailure reports whether resolving some registry's credentials failed.
func (c *Credentials) hadFailure() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failed
}

// resolvedKeychain answers with the authenticators Credentials resolved.
type resolvedKeychain struct{ c *Credentials }

var _ authn.ContextKeychain = resolvedKeychain{}

// Resolve implements authn.Keychain.
func (k resolvedKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	return k.ResolveContext(context.Background(), r)
}

// ResolveContext implements authn.ContextKeychain.
func (k resolvedKeychain) ResolveContext(ctx context.Context, r authn.Resource) (authn.Authenticator, error) {
	return k.c.resolve(ctx, r.RegistryStr()).auth, nil
}

// PullSecretLookups gives each pod the Credentials the kubelet would pull
// its images with: its pull secrets (read from the API server with
// go-containerregistry's Kubernetes keychain) ahead of a fallback
// keychain. The secrets are read on a pod's first lookup and again after
// the TTL, so rotated secrets are picked up; credentials whose reading
// failed are tried again after ten seconds. Pods with the same namespace,
// service account and pull secrets share one Credentials. Safe for
// concurrent use.
type PullSecretLookups struct {
	client    kubernetes.Interface
	fallback  authn.Keychain
	newLookup NewLookupFunc
	ttl       time.Duration
	logger    *slog.Logger
	entries   *lru[*credentialsEntry]
}

type credentialsEntry struct {
	creds *Credentials
	built time.Time
}

// retryFailedAfter is how soon credentials whose reading failed are rebuilt.
const retryFailedAfter = 10 * time.Second

// PullSecretLookupsOptions configure PullSecretLookups.
type PullSecretLookupsOptions struct {
	// Client reads the secrets; nil reads none (every pod gets the
	// fallback keychain). The webhook's service account needs get on
	// secrets and serviceaccounts.
	Client kubernetes.Interface
	// Fallback is tried after the pod's secrets; nil means anonymous.
	Fallback authn.Keychain
	// NewLookup makes the lookup of one keychain. Required.
	NewLookup NewLookupFunc
	// TTL is how long secrets once read are used; default 5m.
	TTL time.Duration
	// Size is the number of distinct pod credentials kept; default 256.
	Size int
	// Logger hears about secrets that cannot be read; nil discards.
	Logger *slog.Logger
}

// NewPullSecretLookups returns PullSecretLookups.
func NewPullSecretLookups(opts PullSecretLookupsOptions) (*PullSecretLookups, error) {
	if opts.NewLookup == nil {
		return nil, fmt.Errorf("pull secret lookups: no NewLookup")
	}
	if opts.Fallback == nil {
		opts.Fallback = authn.NewMultiKeychain()
	}
	if opts.TTL <= 0 {
		opts.TTL = 5 * time.Minute
	}
	if opts.Size <= 0 {
		opts.Size = 256
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &PullSecretLookups{
		client: opts.Client, fallback: opts.Fallback, newLookup: opts.NewLookup,
		ttl: opts.TTL, logger: opts.Logger, entries: newLRU[*credentialsEntry](opts.Size),
	}, nil
}

// For returns the Credentials of a pod with secrets s.
func (p *PullSecretLookups) For(s PullSecrets) (*Credentials, error) {
	s = s.normalized()
	key := s.key()
	now := time.Now()
	if e, ok := p.entries.get(key, now); ok && (!e.creds.hadFailure() || now.Sub(e.built) < retryFailedAfter) {
		return e.creds, nil
	}
	keychains := []authn.Keychain{p.fallback}
	if p.client != nil {
		keychains = []authn.Keychain{&secretKeychain{client: p.client, secrets: s}, p.fallback}
	}
	creds, err := NewCredentials(p.newLookup, p.logger, keychains...)
	if err != nil {
		return nil, err
	}
	p.entries.add(key, &credentialsEntry{creds: creds, built: now}, now.Add(p.ttl))
	return creds, nil
}

// secretKeychain reads a pod's pull secrets on first use and keeps them.
type secretKeychain struct {
	client  kubernetes.Interface
	secrets PullSecrets

	mu sync.Mutex
	kc authn.Keychain
}

var _ authn.ContextKeychain = (*secretKeychain)(nil)

// Resolve implements authn.Keychain.
func (k *secretKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	return k.ResolveContext(context.Background(), r)
}

// ResolveContext implements authn.ContextKeychain: the secrets are read
// with the lookup's context, so reading them obeys its deadline. Secrets
// that do not exist are ignored, as the kubelet does.
func (k *secretKeychain) ResolveContext(ctx context.Context, r authn.Resource) (authn.Authenticator, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.kc == nil {
		kc, err := kauth.New(ctx, k.client, kauth.Options{
			Namespace:          k.secrets.Namespace,
			ServiceAccountName: k.secrets.ServiceAccount,
			ImagePullSecrets:   k.secrets.Names,
		})
		if err != nil {
			return nil, fmt.Errorf("pull secrets of %s/%s: %w", k.secrets.Namespace, k.secrets.ServiceAccount, err)
		}
		k.kc = kc
	}
	return authn.Resolve(ctx, k.kc, r)
}
