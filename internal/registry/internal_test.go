package registry

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registrytest"
)

const someDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParse(t *testing.T) {
	c, err := New(WithoutCache(), WithInsecure("registry.internal:5000"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ref, name, scheme string
		digest            bool
	}{
		{"nginx", "index.docker.io/library/nginx:latest", "https", false},
		{"docker.io/library/nginx:1.25", "index.docker.io/library/nginx:1.25", "https", false},
		{"bitnami/redis:7", "index.docker.io/bitnami/redis:7", "https", false},
		{"nginx@" + someDigest, "index.docker.io/library/nginx@" + someDigest, "https", true},
		{"nginx:1.25@" + someDigest, "index.docker.io/library/nginx@" + someDigest, "https", true},
		{"ghcr.io/org/app:v1", "ghcr.io/org/app:v1", "https", false},
		{"localhost:5000/app", "localhost:5000/app:latest", "http", false},
		{"127.0.0.1:5000/app:v1", "127.0.0.1:5000/app:v1", "http", false},
		{"registry.internal:5000/app:v1", "registry.internal:5000/app:v1", "http", false},
		{"registry.other:5000/app:v1", "registry.other:5000/app:v1", "https", false},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			r, err := c.parse(tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			_, isDigest := r.(name.Digest)
			got := []any{r.Name(), r.Context().Scheme(), isDigest}
			if diff := cmp.Diff([]any{tt.name, tt.scheme, tt.digest}, got); diff != "" {
				t.Errorf("name, scheme, digest? (-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{"", "UPPER/case", "nginx:", "nginx@sha256:short", "a b"} {
		t.Run("bad "+bad, func(t *testing.T) {
			res := c.Lookup(context.Background(), bad)
			if lookup.CauseOf(res.Err) != lookup.CauseBadReference || res.Ref != bad {
				t.Errorf("Lookup(%q) = %+v, want bad reference", bad, res)
			}
		})
	}
}

func TestOptionsValidated(t *testing.T) {
	for name, opt := range map[string]Option{
		"jobs":     WithJobs(0),
		"ttl":      WithTagTTL(-1),
		"timeout":  WithRequestTimeout(0),
		"max":      WithMaxManifestBytes(0),
		"retry":    WithRetry(0, 0),
		"cachedir": WithCacheDir(""),
		"basic":    WithBasicAuth("bad registry name/x", "u", "p"),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := New(opt); err == nil {
				t.Error("New accepted an invalid option")
			}
		})
	}
}

func TestDefaultCacheDirHonoursXDG(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", dir)
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "archway"); c.cache.dir != want {
		t.Errorf("cache dir = %q, want %q", c.cache.dir, want)
	}
	if c.o.jobs != DefaultJobs || c.o.tagTTL != DefaultTagTTL || c.o.maxBytes != 4<<20 {
		t.Errorf("defaults = %d jobs, %s TTL, %d bytes", c.o.jobs, c.o.tagTTL, c.o.maxBytes)
	}
}

// TestCacheCorruptAndAtomic: corrupt cache files are ignored (and
// replaced), an unusable cache directory is not fatal, and no temporary
// files are left behind.
func TestCacheCorruptAndAtomic(t *testing.T) {
	r := registrytest.StartInProcess(t)
	d := registrytest.PushIndex(t, r.Ref("c/img:v1"), registrytest.Index(t, platform.LinuxAMD64, platform.LinuxARM64))
	dir := t.TempDir()
	lookup := func(t *testing.T, opts ...Option) (lookup.Result, *registrytest.Counter) {
		t.Helper()
		counter := registrytest.NewCounter(nil)
		c, err := New(append([]Option{WithTransport(counter)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		res := c.Lookup(context.Background(), r.Ref("c/img:v1"))
		if res.Err != nil || res.Digest != d || len(res.Entries) != 2 {
			t.Fatalf("lookup = %+v", res)
		}
		return res, counter
	}
	lookup(t, WithCacheDir(dir))
	var files []string
	_ = filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	if len(files) != 2 {
		t.Fatalf("cache files = %q, want a digest and a tag file", files)
	}
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), ".tmp-") {
			t.Errorf("temporary file left: %s", f)
		}
		if err := os.WriteFile(f, []byte(`{"v":1,"digest":`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, counter := lookup(t, WithCacheDir(dir))
	if counter.Count(registrytest.ManifestGET) != 1 {
		t.Errorf("with corrupt cache files: %q, want one manifest GET", counter.Requests())
	}
	for _, f := range files {
		var v map[string]any
		if b, err := os.ReadFile(f); err != nil || json.Unmarshal(b, &v) != nil {
			t.Errorf("%s not rewritten: %v", f, err)
		}
	}
	_, counter = lookup(t, WithCacheDir(dir))
	if n := counter.Total(); n != 0 {
		t.Errorf("after rewrite: %d requests, want 0", n)
	}

	// A cache "directory" that is a file: lookups still work.
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	lookup(t, WithCacheDir(blocker))
}

// signedSchema1 builds a signed Docker schema 1 manifest the way the
// Docker engine did: the payload with a JWS signature block spliced in
// before its final "\n}".
func signedSchema1(arch string) (signed, payload []byte) {
	payload = []byte(`{
   "schemaVersion": 1,
   "name": "s1/img",
   "tag": "v1",
   "architecture": "` + arch + `",
   "fsLayers": [],
   "history": [{"v1Compatibility": "{\"os\":\"linux\",\"architecture\":\"` + arch + `\"}"}]
}`)
	cut := len(payload) - 2
	protected, _ := json.Marshal(map[string]any{
		"formatLength": cut,
		"formatTail":   base64.RawURLEncoding.EncodeToString(payload[cut:]),
	})
	sig := `,
   "signatures": [{"header": {"alg": "ES256"}, "signature": "c2ln", "protected": "` +
		base64.RawURLEncoding.EncodeToString(protected) + `"}]
}`
	signed = append(append([]byte{}, payload[:cut]...), sig...)
	return signed, payload
}

func TestSchema1(t *testing.T) {
	r := registrytest.StartInProcess(t)
	signed, payload := signedSchema1("arm")
	stored := registrytest.PushRaw(t, r.Ref("s1/img:v1"), types.DockerManifestSchema1Signed, signed)
	plain := []byte(`{"schemaVersion":1,"name":"s1/plain","tag":"v1","architecture":"amd64","fsLayers":[],"history":[]}`)
	plainDigest := registrytest.PushRaw(t, r.Ref("s1/plain:v1"), types.DockerManifestSchema1, plain)
	c, err := New(WithoutCache())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ref    string
		digest string
		p      platform.Platform
	}{
		// By tag the canonical digest is that of the payload without signatures.
		{r.Ref("s1/img:v1"), sha256Digest(payload), platform.MustParse("linux/arm/v7")},
		{r.Ref("s1/img@" + stored), stored, platform.MustParse("linux/arm/v7")},
		{r.Ref("s1/plain:v1"), plainDigest, platform.LinuxAMD64},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			res := c.Lookup(context.Background(), tt.ref)
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			want := []lookup.Entry{{Platform: tt.p, Digest: tt.digest}}
			if diff := cmp.Diff(want, res.Entries); diff != "" || res.Kind != lookup.KindManifest {
				t.Errorf("kind %s, entries (-want +got):\n%s", res.Kind, diff)
			}
		})
	}
}

// TestSecretsNotLogged looks images up with credentials and a debug
// logger, and checks neither the password nor a token is in the log or in
// an error.
func TestSecretsNotLogged(t *testing.T) {
	const pass = "pa55-VERY-secret"
	r := registrytest.StartInProcess(t)
	b := registrytest.StartBearer(t, r.Handler, map[string]string{"alice": pass})
	registrytest.Push(t, r.Ref("s/img:v1"), registrytest.Image(t, platform.LinuxARM64))
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, p := range []string{pass, "wrong-" + pass} {
		c, err := New(WithoutCache(), WithLogger(log), WithBasicAuth(b.Host, "alice", p))
		if err != nil {
			t.Fatal(err)
		}
		res := c.Lookup(context.Background(), b.Ref("s/img:v1"))
		if p == pass && res.Err != nil {
			t.Fatal(res.Err)
		}
		if p != pass && lookup.CauseOf(res.Err) != lookup.CauseUnauthorized {
			t.Fatalf("wrong password: %v, want unauthorized", res.Err)
		}
		if res.Err != nil {
			buf.WriteString(res.Err.Error())
		}
	}
	if buf.Len() == 0 {
		t.Fatal("nothing logged at debug level")
	}
	for _, secret := range []string{pass, "tok-", base64.StdEncoding.EncodeToString([]byte("alice:" + pass))} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("log or error contains a secret %q:\n%s", secret, buf.String())
		}
	}
}
