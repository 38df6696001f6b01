package registry_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/registrytest"
)

// target is a registry the suite runs against.
type target struct {
	host   string            // host:port
	push   []remote.Option   // how to push to it
	rt     http.RoundTripper // the Client's base transport; nil: http.DefaultTransport
	client []registry.Option // how the Client authenticates
}

var (
	amd64   = platform.MustParse("linux/amd64")
	arm64   = platform.MustParse("linux/arm64")
	armv7   = platform.MustParse("linux/arm/v7")
	armv6   = platform.MustParse("linux/arm/v6")
	windows = platform.Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763.5576"}
)

// want is the expected outcome of one
type want struct {
	ref       string
	kind      lookup.Kind
	mediaType types.MediaType
	digest    string
	entries   []lookup.Entry
	cause     lookup.Cause // set when the lookup must fail
}

// entriesOf are the expected entries of an index: its first n descriptors
// (the platform images, before any attestation), with their platforms.
func entriesOf(t *testing.T, idx v1.ImageIndex, ps ...platform.Platform) []lookup.Entry {
	t.Helper()
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var out []lookup.Entry
	for i, p := range ps {
		out = append(out, lookup.Entry{Platform: p, Digest: m.Manifests[i].Digest.String()})
	}
	return out
}

func digestOf(t *testing.T, d interface{ Digest() (v1.Hash, error) }) string {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// pushSuite pushes the suite's images to tg and returns what lookups of
// them must return.
func pushSuite(t *testing.T, tg target) []want {
	t.Helper()
	ref := func(s string) string { return tg.host + "/" + s }
	var ws []want

	// An OCI index with buildx attestations: the attestations are not platforms.
	idx := registrytest.WithAttestations(t, registrytest.Index(t, amd64, arm64, armv7))
	d := registrytest.PushIndex(t, ref("suite/multi:v1"), idx, tg.push...)
	multi := entriesOf(t, idx, amd64, arm64, armv7)
	ws = append(ws,
		want{ref: ref("suite/multi:v1"), kind: lookup.KindIndex, mediaType: types.OCIImageIndex, digest: d, entries: multi},
		want{ref: ref("suite/multi@" + d), kind: lookup.KindIndex, mediaType: types.OCIImageIndex, digest: d, entries: multi},
		// name:tag@digest: the digest wins over a tag that does not exist.
		want{ref: ref("suite/multi:nosuchtag@" + d), kind: lookup.KindIndex, mediaType: types.OCIImageIndex, digest: d, entries: multi},
	)

	// A Docker manifest list with a Windows entry, kept with its os.version.
	list := registrytest.ManifestList(t, amd64, windows, arm64)
	d = registrytest.PushIndex(t, ref("suite/list:v1"), list, tg.push...)
	ws = append(ws, want{ref: ref("suite/list:v1"), kind: lookup.KindIndex, mediaType: types.DockerManifestList,
		digest: d, entries: entriesOf(t, list, amd64, windows, arm64)})

	// Single-platform images: the platform comes from the config blob.
	img := registrytest.Image(t, arm64)
	d = registrytest.Push(t, ref("suite/docker:v1"), img, tg.push...)
	ws = append(ws, want{ref: ref("suite/docker:v1"), kind: lookup.KindManifest, mediaType: types.DockerManifestSchema2,
		digest: d, entries: []lookup.Entry{{Platform: arm64, Digest: d}}})
	oci := registrytest.OCIImage(t, armv6)
	d = registrytest.Push(t, ref("suite/oci:v1"), oci, tg.push...)
	ws = append(ws, want{ref: ref("suite/oci"), cause: lookup.CauseNotFound}, // :latest was never pushed
		want{ref: ref("suite/oci:v1"), kind: lookup.KindManifest, mediaType: types.OCIManifestSchema1,
			digest: d, entries: []lookup.Entry{{Platform: armv6, Digest: d}}})

	// A nested index is followed.
	inner := registrytest.Index(t, arm64, amd64)
	outer := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: registrytest.OCIImage(t, armv7), Descriptor: v1.Descriptor{Platform: registrytest.V1Platform(armv7)}},
		mutate.IndexAddendum{Add: inner, Descriptor: v1.Descriptor{MediaType: types.OCIImageIndex}},
	)
	d = registrytest.PushIndex(t, ref("suite/nested:v1"), outer, tg.push...)
	ws = append(ws, want{ref: ref("suite/nested:v1"), kind: lookup.KindIndex, mediaType: types.OCIImageIndex, digest: d,
		entries: append(entriesOf(t, outer, armv7), entriesOf(t, inner, arm64, amd64)...)})

	// An index whose entries declare no platform: each image's config says.
	bare := registrytest.OCIImage(t, arm64)
	registrytest.Push(t, ref("suite/bare:child"), bare, tg.push...)
	bareIdx := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"manifests":[{"mediaType":%q,"digest":%q,"size":%d}]}`,
		types.OCIImageIndex, types.OCIManifestSchema1, digestOf(t, bare), size(t, bare))
	d = registrytest.PushRaw(t, ref("suite/bare:v1"), types.OCIImageIndex, []byte(bareIdx), tg.push...)
	ws = append(ws, want{ref: ref("suite/bare:v1"), kind: lookup.KindIndex, mediaType: types.OCIImageIndex, digest: d,
		entries: []lookup.Entry{{Platform: arm64, Digest: digestOf(t, bare)}}})

	ws = append(ws,
		want{ref: ref("suite/missing:v1"), cause: lookup.CauseNotFound},
		want{ref: ref("suite/multi:nosuchtag"), cause: lookup.CauseNotFound},
		want{ref: "Not A Reference!", cause: lookup.CauseBadReference},
	)
	return ws
}

func size(t *testing.T, img v1.Image) int64 {
	t.Helper()
	n, err := img.Size()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// runSuite looks every suite image up in one LookupAll and checks each
// result.
func runSuite(t *testing.T, tg target) {
	ws := pushSuite(t, tg)
	counter := registrytest.NewCounter(tg.rt)
	c, err := registry.New(append([]registry.Option{registry.WithCacheDir(t.TempDir()),
		registry.WithTransport(counter)}, tg.client...)...)
	if err != nil {
		t.Fatal(err)
	}
	refs := make([]string, len(ws))
	for i, w := range ws {
		refs[i] = w.ref
	}
	results := c.LookupAll(context.Background(), refs, nil)
	t.Logf("%d refs: requests %v", len(refs), counter.Counts())
	if n := counter.Count(registrytest.ManifestHEAD) + counter.Count(registrytest.BlobHEAD); n != 0 {
		t.Errorf("%d HEAD requests, want none", n)
	}
	for i, w := range ws {
		t.Run(strings.TrimPrefix(w.ref, tg.host+"/"), func(t *testing.T) {
			checkResult(t, results[i], w)
		})
	}
}

func checkResult(t *testing.T, got lookup.Result, w want) {
	t.Helper()
	if got.Ref != w.ref {
		t.Errorf("Ref = %q, want %q", got.Ref, w.ref)
	}
	if w.cause != "" {
		if got.Known() {
			t.Fatalf("lookup succeeded with %v, want failure %q", got.Entries, w.cause)
		}
		if c := lookup.CauseOf(got.Err); c != w.cause {
			t.Errorf("cause = %q (%v), want %q", c, got.Err, w.cause)
		}
		if len(got.Entries) != 0 {
			t.Errorf("failed lookup has entries %v", got.Entries)
		}
		return
	}
	if got.Err != nil {
		t.Fatalf("lookup failed: %v", got.Err)
	}
	if got.Kind != w.kind || got.Digest != w.digest || got.MediaType != string(w.mediaType) {
		t.Errorf("kind, digest, media type = %s %s %s, want %s %s %s",
			got.Kind, got.Digest, got.MediaType, w.kind, w.digest, w.mediaType)
	}
	if diff := cmp.Diff(w.entries, got.Entries); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}

func TestSuiteInProcess(t *testing.T) {
	r := registrytest.StartInProcess(t)
	runSuite(t, target{host: r.Host})
}

func TestSuiteDistribution(t *testing.T) {
	t.Run("plain", func(t *testing.T) {
		d := registrytest.StartDistribution(t, registrytest.DistributionOptions{})
		runSuite(t, target{host: d.Host, push: d.RemoteOptions()})
	})

	d := registrytest.StartDistribution(t, registrytest.DistributionOptions{
		TLS: true, Users: map[string]string{"alice": "correct horse"},
	})
	t.Run("tls basic auth", func(t *testing.T) {
		runSuite(t, target{host: d.Host, push: d.RemoteOptions(), rt: d.Transport, client: []registry.Option{
			registry.WithBasicAuth(d.Host, "alice", "correct horse"),
		}})
	})
	t.Run("tls docker config keychain", func(t *testing.T) {
		dir := t.TempDir()
		cfg := map[string]any{"auths": map[string]any{
			d.Host: map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte("alice:correct horse"))},
		}}
		b, _ := json.Marshal(cfg)
		if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("DOCKER_CONFIG", dir)
		runSuite(t, target{host: d.Host, push: d.RemoteOptions(), rt: d.Transport})
	})
	t.Run("tls without credentials", func(t *testing.T) {
		t.Setenv("DOCKER_CONFIG", t.TempDir())
		registrytest.Push(t, d.Ref("private/img:v1"), registrytest.Image(t, arm64), d.RemoteOptions()...)
		c, err := registry.New(registry.WithoutCache(), registry.WithTransport(d.Transport))
		if err != nil {
			t.Fatal(err)
		}
		got := c.Lookup(context.Background(), d.Ref("private/img:v1"))
		checkResult(t, got, want{ref: d.Ref("private/img:v1"), cause: lookup.CauseUnauthorized})
	})
	t.Run("tls wrong password", func(t *testing.T) {
		c, err := registry.New(registry.WithoutCache(), registry.WithTransport(d.Transport),
			registry.WithBasicAuth(d.Host, "alice", "wrong"))
		if err != nil {
			t.Fatal(err)
		}
		got := c.Lookup(context.Background(), d.Ref("private/img:v1"))
		checkResult(t, got, want{ref: d.Ref("private/img:v1"), cause: lookup.CauseUnauthorized})
	})
	t.Run("tls untrusted certificate", func(t *testing.T) {
		c, err := registry.New(registry.WithoutCache(), registry.WithBasicAuth(d.Host, "alice", "correct horse"),
			registry.WithRetry(1, 0))
		if err != nil {
			t.Fatal(err)
		}
		got := c.Lookup(context.Background(), d.Ref("private/img:v1"))
		checkResult(t, got, want{ref: d.Ref("private/img:v1"), cause: lookup.CauseNetwork})
	})
}
