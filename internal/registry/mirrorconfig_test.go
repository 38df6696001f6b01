package registry_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/registrytest"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// closedPort is a loopback host:port nobody listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestContainerdHostsFile(t *testing.T) {
	hub := registrytest.StartHub(t, 0, time.Hour) // every origin GET would be refused
	mirror := registrytest.StartCounted(t, hub.Registry.Handler)
	resolveOnly := registrytest.StartCounted(t, hub.Registry.Handler)
	refs, digests := pushHub(t, hub, 3)
	down := closedPort(t)
	dir := t.TempDir()
	// In file order: a mirror that is down (noted once, then skipped per
	// lookup), one without the pull capability (never asked), the mirror.
	writeFile(t, filepath.Join(dir, hub.Host, "hosts.toml"), `
server = "http://`+hub.Host+`"

[host."http://`+down+`"]
  capabilities = ["pull", "resolve"]

[host."http://`+resolveOnly.Host+`"]
  capabilities = ["resolve"]

[host."http://`+mirror.Host+`"]
  capabilities = ["pull"]
`)
	writeFile(t, filepath.Join(dir, "other.example:5000", "hosts.toml"), `server = "https://other.example:5000"`)
	c, err := registry.New(registry.WithoutCache(), registry.WithContainerdHostsDir(dir), registry.WithRetry(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range c.LookupAll(context.Background(), refs, nil) {
		if res.Err != nil || res.Digest != digests[res.Ref] {
			t.Errorf("%s: %v %s, want %s", res.Ref, res.Err, res.Digest, digests[res.Ref])
		}
	}
	if g, m, r := hub.Count(registrytest.ManifestGET), mirror.Count(registrytest.ManifestGET), resolveOnly.Count(registrytest.ManifestGET); g != 0 || m != 3 || r != 0 {
		t.Errorf("GETs at origin, pull mirror, resolve-only host = %d, %d, %d; want 0, 3, 0", g, m, r)
	}
	notes := c.Notes()
	if len(notes) != 1 || !strings.Contains(notes[0], down) || !strings.Contains(notes[0], "hosts.toml") {
		t.Errorf("notes = %q, want one about the mirror that is down, naming its file", notes)
	}

	t.Run("bad file", func(t *testing.T) {
		bad := t.TempDir()
		writeFile(t, filepath.Join(bad, "docker.io", "hosts.toml"), "[host.\"https://x\"\ncapabilities = 3")
		_, err := registry.New(registry.WithoutCache(), registry.WithContainerdHostsDir(bad))
		if err == nil || !strings.Contains(err.Error(), filepath.Join(bad, "docker.io", "hosts.toml")) {
			t.Errorf("err = %v, want one naming the file", err)
		}
	})
	t.Run("missing dir", func(t *testing.T) {
		if _, err := registry.New(registry.WithoutCache(), registry.WithContainerdHostsDir(filepath.Join(dir, "nope"))); err != nil {
			t.Errorf("missing hosts dir: %v, want it skipped", err)
		}
	})
}

// dockerHubVia is a transport that sends connections for index.docker.io
// to addr: the loopback registry plays Docker Hub for the test.
func dockerHubVia(addr string) http.RoundTripper {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, to string) (net.Conn, error) {
		if host, _, _ := net.SplitHostPort(to); host == "index.docker.io" {
			to = addr
		}
		var d net.Dialer
		return d.DialContext(ctx, network, to)
	}
	return tr
}

// anonymous is a keychain with no credentials, so the test does not read
// the user's docker config.
type anonymous struct{}

func (anonymous) Resolve(authn.Resource) (authn.Authenticator, error) { return authn.Anonymous, nil }

func TestDockerHubDefaults(t *testing.T) {
	hub := registrytest.StartHub(t, 100, 6*time.Hour)
	mirror := registrytest.StartCounted(t, hub.Registry.Handler)
	d := registrytest.Push(t, hub.Registry.Ref("library/app:1"), registrytest.Image(t, arm64))
	const ref = "app:1" // Docker Hub's library/app:1

	t.Run("anonymous note", func(t *testing.T) {
		c, err := registry.New(registry.WithoutCache(), registry.WithInsecure("index.docker.io"),
			registry.WithTransport(dockerHubVia(hub.Host)), registry.WithKeychain(anonymous{}))
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if res := c.Lookup(context.Background(), ref); res.Err != nil || res.Digest != d {
				t.Fatalf("lookup: %v %s", res.Err, res.Digest)
			}
		}
		notes := c.Notes()
		if len(notes) != 1 || !strings.Contains(notes[0], "Docker Hub") || !strings.Contains(notes[0], "docker login") {
			t.Errorf("notes = %q, want one about Docker Hub's anonymous quota", notes)
		}
		st := c.RegistryState("docker.io")
		if st.Pulls != 1 || st.Quota.Limit != 100 || st.Quota.Remaining != 99 {
			t.Errorf("Docker Hub state = %+v, want 1 pull, 99 of 100 left", st)
		}
	})
	t.Run("daemon.json mirror", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "daemon.json")
		writeFile(t, path, `{"registry-mirrors": ["http://`+mirror.Host+`"], "log-driver": "json-file"}`)
		hub.Reset()
		c, err := registry.New(registry.WithoutCache(), registry.WithInsecure("index.docker.io"),
			registry.WithTransport(dockerHubVia(hub.Host)), registry.WithKeychain(anonymous{}),
			registry.WithDockerDaemonConfig(path))
		if err != nil {
			t.Fatal(err)
		}
		if res := c.Lookup(context.Background(), ref); res.Err != nil || res.Digest != d {
			t.Fatalf("lookup: %v %s", res.Err, res.Digest)
		}
		if g, h, m := hub.Count(registrytest.ManifestGET), hub.Count(registrytest.ManifestHEAD), mirror.Count(registrytest.ManifestGET); g != 0 || h != 1 || m != 1 {
			t.Errorf("origin GETs, origin HEADs, mirror GETs = %d, %d, %d; want 0, 1, 1", g, h, m)
		}
		if st := c.RegistryState("docker.io"); st.Pulls != 0 || st.Heads != 1 {
			t.Errorf("Docker Hub state = %+v, want 0 pulls, 1 HEAD", st)
		}
		if st := c.RegistryState(mirror.Host); st.Pulls != 1 {
			t.Errorf("mirror state = %+v, want 1 pull", st)
		}
		if len(c.Notes()) != 0 {
			t.Errorf("notes = %q, want none with a mirror", c.Notes())
		}
	})
	t.Run("bad daemon.json", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "daemon.json")
		writeFile(t, path, `{"registry-mirrors": "nope"`)
		if _, err := registry.New(registry.WithoutCache(), registry.WithDockerDaemonConfig(path)); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("err = %v, want one naming the file", err)
		}
	})
	t.Run("mirror flag", func(t *testing.T) {
		for _, bad := range []string{"ftp://m", "https://m.example/some/path", "http://"} {
			if _, err := registry.New(registry.WithoutCache(), registry.WithMirror("docker.io", bad)); err == nil {
				t.Errorf("WithMirror(docker.io, %q) accepted", bad)
			}
		}
		if _, err := registry.New(registry.WithoutCache(), registry.WithMirror("docker.io", "https://mirror.gcr.io/")); err != nil {
			t.Errorf("WithMirror(docker.io, https://mirror.gcr.io/): %v", err)
		}
	})
}
