package registrytest_test

import (
	"net/http"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registrytest"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		method, path string
		want         registrytest.Kind
	}{
		{"GET", "/v2/", registrytest.Ping},
		{"GET", "/token", registrytest.Token},
		{"POST", "/oauth/token", registrytest.Token},
		{"GET", "/v2/library/nginx/manifests/latest", registrytest.ManifestGET},
		{"HEAD", "/v2/a/b/c/manifests/sha256:abc", registrytest.ManifestHEAD},
		{"GET", "/v2/x/blobs/sha256:abc", registrytest.BlobGET},
		{"HEAD", "/v2/x/blobs/sha256:abc", registrytest.BlobHEAD},
		{"POST", "/v2/x/blobs/uploads/", registrytest.Other},
		{"GET", "/v2/x/tags/list", registrytest.Other},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			if got := registrytest.Classify(tt.method, tt.path); got != tt.want {
				t.Errorf("Classify(%q, %q) = %q, want %q", tt.method, tt.path, got, tt.want)
			}
		})
	}
}

// pushAndRead pushes an image and reads its config back through a
// counting transport.
func pushAndRead(t *testing.T, ref string, rt http.RoundTripper, opts ...remote.Option) {
	t.Helper()
	want := platform.Platform{OS: "linux", Architecture: "arm64"}
	d := registrytest.Push(t, ref, registrytest.Image(t, want), opts...)
	c := registrytest.NewCounter(rt)
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(r, append(opts, remote.WithTransport(c))...)
	if err != nil {
		t.Fatalf("remote.Image(%s): %v", ref, err)
	}
	got, err := img.Digest()
	if err != nil || got.String() != d {
		t.Fatalf("digest = %v, %v; want %s", got, err, d)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Architecture != "arm64" || cf.OS != "linux" {
		t.Errorf("config platform = %s/%s, want linux/arm64", cf.OS, cf.Architecture)
	}
	if n := c.Count(registrytest.BlobGET); n != 1 {
		t.Errorf("blob GETs = %d, want 1 (requests %q)", n, c.Requests())
	}
}

func TestInProcess(t *testing.T) {
	r := registrytest.StartInProcess(t)
	pushAndRead(t, r.Ref("test/img:v1"), http.DefaultTransport)
}

func TestBearer(t *testing.T) {
	r := registrytest.StartInProcess(t)
	b := registrytest.StartBearer(t, r.Handler, map[string]string{"alice": "s3cret"})
	registrytest.Push(t, r.Ref("test/img:v1"), registrytest.Image(t, platform.LinuxAMD64))
	ref, _ := name.ParseReference(b.Ref("test/img:v1"))
	if _, err := remote.Get(ref); err == nil {
		t.Fatal("anonymous pull through the bearer server succeeded, want unauthorized")
	}
	if _, err := remote.Get(ref, remote.WithAuth(&authn.Basic{Username: "alice", Password: "s3cret"})); err != nil {
		t.Fatalf("authenticated pull: %v", err)
	}
	if got := b.Tokens()["repository:test/img:pull"]; got != 1 {
		t.Errorf("tokens for repository:test/img:pull = %d, want 1 (all: %v)", got, b.Tokens())
	}
}

func TestDistribution(t *testing.T) {
	t.Run("plain", func(t *testing.T) {
		d := registrytest.StartDistribution(t, registrytest.DistributionOptions{})
		pushAndRead(t, d.Ref("test/img:v1"), d.Transport, d.RemoteOptions()...)
	})
	t.Run("tls+htpasswd", func(t *testing.T) {
		d := registrytest.StartDistribution(t, registrytest.DistributionOptions{
			TLS: true, Users: map[string]string{"alice": "s3cret", "bob": "hunter2"},
		})
		if d.CertPool == nil || len(d.CAPEM) == 0 || d.CAFile == "" {
			t.Fatal("TLS registry without CA")
		}
		ref, _ := name.ParseReference(d.Ref("test/img:v1"))
		registrytest.Push(t, ref.String(), registrytest.Image(t, platform.LinuxARM64), d.RemoteOptions()...)
		if _, err := remote.Get(ref, remote.WithTransport(d.Transport)); err == nil {
			t.Error("anonymous pull succeeded, want unauthorized")
		}
		pushAndRead(t, d.Ref("test/other:v1"), d.Transport, d.RemoteOptions()...)
	})
}
