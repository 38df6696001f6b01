package registry_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/registry"
)

// staticKeychain answers one registry with basic credentials.
type staticKeychain struct {
	registry, user, pass string
}

func (k staticKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if r.RegistryStr() != k.registry {
		return authn.Anonymous, nil
	}
	return &authn.Basic{Username: k.user, Password: k.pass}, nil
}

// brokenKeychain fails, as a pull secret that cannot be read does.
type brokenKeychain struct{}

func (brokenKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return nil, errors.New("secrets is forbidden")
}

// credentials returns Credentials over keychains and the keychain their
// lookups were built with.
func credentials(t *testing.T, keychains ...authn.Keychain) (*registry.Credentials, *authn.Keychain) {
	t.Helper()
	var used authn.Keychain
	c, err := registry.NewCredentials(func(kc authn.Keychain) (lookup.Func, error) {
		used = kc
		return func(_ context.Context, ref string) lookup.Result { return lookup.Result{Ref: ref} }, nil
	}, nil, keychains...)
	if err != nil {
		t.Fatal(err)
	}
	return c, &used
}

func TestCredentialsKey(t *testing.T) {
	ctx := context.Background()
	const ref = "registry.example.test/team/app:1"
	alice := staticKeychain{registry: "registry.example.test", user: "alice", pass: "s3cret"}

	anon, _ := credentials(t)
	if k := anon.Key(ctx, ref); k != "" {
		t.Errorf("anonymous key %q, want \"\"", k)
	}
	a1, used := credentials(t, alice)
	a2, _ := credentials(t, brokenKeychain{}, alice) // a failing keychain is skipped
	bob, _ := credentials(t, staticKeychain{registry: "registry.example.test", user: "alice", pass: "other"})
	k1, k2, kb := a1.Key(ctx, ref), a2.Key(ctx, ref), bob.Key(ctx, ref)
	if !strings.HasPrefix(k1, "sha256:") || len(k1) != len("sha256:")+64 {
		t.Fatalf("key %q, want sha256:<hex>", k1)
	}
	if strings.Contains(k1, "s3cret") || strings.Contains(k1, "alice") {
		t.Errorf("key %q carries the credentials", k1)
	}
	if k1 != k2 {
		t.Errorf("same credentials, keys %q and %q", k1, k2)
	}
	if k1 == kb {
		t.Error("other password, same key")
	}
	if k := a1.Key(ctx, "other.example.test/app:1"); k != "" {
		t.Errorf("registry without credentials: key %q, want \"\"", k)
	}
	// The lookup authenticates with what the key names.
	auth, err := authn.Resolve(ctx, *used, mustRegistry(t, "registry.example.test"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := authn.Authorization(ctx, auth)
	if err != nil || cfg.Username != "alice" || cfg.Password != "s3cret" {
		t.Errorf("lookup authenticates as %+v (%v), want alice", cfg, err)
	}
}

func mustRegistry(t *testing.T, host string) authn.Resource {
	t.Helper()
	reg, err := name.NewRegistry(host)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func TestPullSecretLookupsShareCredentials(t *testing.T) {
	built := 0
	p, err := registry.NewPullSecretLookups(registry.PullSecretLookupsOptions{
		NewLookup: func(authn.Keychain) (lookup.Func, error) {
			built++
			return func(_ context.Context, ref string) lookup.Result { return lookup.Result{Ref: ref} }, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := p.For(registry.PullSecrets{Namespace: "ns", Names: []string{"b", "a", "a"}})
	b, _ := p.For(registry.PullSecrets{Namespace: "ns", ServiceAccount: "default", Names: []string{"a", "b"}})
	c, _ := p.For(registry.PullSecrets{Namespace: "other"})
	if a != b || a == c || built != 2 {
		t.Errorf("same secrets shared: %v, other namespace apart: %v, clients built %d (want 2)", a == b, a != c, built)
	}
}
