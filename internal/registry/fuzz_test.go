package registry

import (
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

// FuzzParseReference: the reference parser of lookups (and of check's
// input validation) never panics, accepts what go-containerregistry
// accepts, marks WithInsecure registries as plain HTTP, and gives an
// accepted reference a canonical name that parses to itself; a refused
// one is a bad-reference error quoting it.
func FuzzParseReference(f *testing.F) {
	for _, s := range []string{
		"nginx", "nginx:1.27", "library/nginx@sha256:" + strings.Repeat("ab", 32), "ghcr.io/org/app:v1",
		"localhost:5000/a/b:c", "127.0.0.1:5000/x@sha256:" + strings.Repeat("0", 64), "Upper/Case:1", "a:b:c",
		"registry.example/app:tag@sha256:" + strings.Repeat("1", 64), "", " ", "a/" + strings.Repeat("b", 300),
		"plain.example:8080/app:1",
	} {
		f.Add(s)
	}
	c, err := New(WithoutCache(), WithInsecure("plain.example:8080"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		r, err := c.ParseReference(ref)
		want, werr := name.ParseReference(ref)
		if (err == nil) != (werr == nil) {
			t.Fatalf("ParseReference(%q) = %v; go-containerregistry says %v", ref, err, werr)
		}
		if err != nil {
			if !strings.Contains(err.Error(), ref) || !strings.Contains(err.Error(), "bad reference") {
				t.Errorf("ParseReference(%q) error %q does not quote it as a bad reference", ref, err)
			}
			return
		}
		if r.Name() != want.Name() {
			t.Errorf("ParseReference(%q) = %q, want %q", ref, r.Name(), want.Name())
		}
		if r.Context().RegistryStr() == "plain.example:8080" && r.Context().Scheme() != "http" {
			t.Errorf("ParseReference(%q): a WithInsecure registry reached over %s", ref, r.Context().Scheme())
		}
		again, err := c.ParseReference(r.Name())
		if err != nil || again.Name() != r.Name() {
			t.Errorf("%q: canonical name %q parses to %v, %v", ref, r.Name(), again, err)
		}
	})
}
