package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/archwaydev/archway/internal/assess"
	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/registrytest"
)

// rawIndex is an OCI index of the given descriptors.
func rawIndex(t *testing.T, ds ...v1.Descriptor) []byte {
	t.Helper()
	b, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: ds})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// descOf is the descriptor of an image pushed to ref, with platform p
// (nil: none) and the given media type ("": the image's own).
func descOf(t *testing.T, ref string, img v1.Image, mt types.MediaType, p *v1.Platform) v1.Descriptor {
	t.Helper()
	d := registrytest.Push(t, ref, img)
	if mt == "" {
		var err error
		if mt, err = img.MediaType(); err != nil {
			t.Fatal(err)
		}
	}
	h, err := v1.NewHash(d)
	if err != nil {
		t.Fatal(err)
	}
	return v1.Descriptor{MediaType: mt, Digest: h, Size: size(t, img), Platform: p}
}

// TestArtifactsAreNotPlatforms: only image manifests and nested indexes
// are platforms; an index of artifacts alone is answered, and runs
// nowhere.
func TestArtifactsAreNotPlatforms(t *testing.T) {
	r := registrytest.StartInProcess(t)
	ref := r.Ref
	amdImg := descOf(t, ref("art/r:amd"), registrytest.OCIImage(t, amd64), "", registrytest.V1Platform(amd64))
	// An SBOM that declares linux/arm64: the only arm64 entry.
	sbom := descOf(t, ref("art/r:sbom"), registrytest.OCIImage(t, arm64), "application/vnd.example.sbom.v1+json", registrytest.V1Platform(arm64))
	// An OCI image manifest that says it is an artifact (OCI 1.1 artifactType).
	sig := descOf(t, ref("art/r:sig"), registrytest.OCIImage(t, arm64), "", registrytest.V1Platform(arm64))
	sig.ArtifactType = "application/vnd.dev.cosign.artifact.sig.v1+json"
	// An entry of no media type (containerd skips it).
	untyped := descOf(t, ref("art/r:untyped"), registrytest.OCIImage(t, arm64), "", registrytest.V1Platform(arm64))
	untyped.MediaType = ""
	attest := descOf(t, ref("art/r:attest"), registrytest.OCIImage(t, platform.Platform{OS: "unknown", Architecture: "unknown"}), "",
		&v1.Platform{OS: "unknown", Architecture: "unknown"})
	attest.Annotations = map[string]string{registrytest.AttestationAnnotation: "attestation-manifest"}

	registrytest.PushRaw(t, ref("art/r:mixed"), types.OCIImageIndex, rawIndex(t, amdImg, sbom, sig, untyped, attest))
	registrytest.PushRaw(t, ref("art/r:only-attestations"), types.OCIImageIndex, rawIndex(t, attest))
	registrytest.PushRaw(t, ref("art/r:only-artifacts"), types.OCIImageIndex, rawIndex(t, sbom, sig, untyped))
	// A nested index of artifacts alone adds nothing to its parent.
	inner := registrytest.PushRaw(t, ref("art/r:inner"), types.OCIImageIndex, rawIndex(t, sbom))
	innerHash, _ := v1.NewHash(inner)
	registrytest.PushRaw(t, ref("art/r:nested"), types.OCIImageIndex, rawIndex(t, amdImg,
		v1.Descriptor{MediaType: types.OCIImageIndex, Digest: innerHash, Size: int64(len(rawIndex(t, sbom)))}))
	registrytest.PushRaw(t, ref("art/r:empty"), types.OCIImageIndex, rawIndex(t))

	amdOnly := []lookup.Entry{{Platform: amd64, Digest: amdImg.Digest.String()}}
	cases := []struct {
		repo       string
		entries    []lookup.Entry
		noRunnable bool
		verdict    assess.Verdict
		reason     string
		cause      lookup.Cause
	}{
		{repo: "art/r:mixed", entries: amdOnly, verdict: assess.Unsupported, reason: "lacks linux/arm64; supports linux/amd64"},
		{repo: "art/r:nested", entries: amdOnly, verdict: assess.Unsupported, reason: "lacks linux/arm64; supports linux/amd64"},
		{repo: "art/r:only-attestations", noRunnable: true, verdict: assess.Unsupported, reason: "no runnable platform in index"},
		{repo: "art/r:only-artifacts", noRunnable: true, verdict: assess.Unsupported, reason: "no runnable platform in index"},
		// An index of nothing at all is not an answer about platforms.
		{repo: "art/r:empty", verdict: assess.Unknown, cause: lookup.CauseBadManifest},
	}
	for _, cached := range []bool{false, true} {
		dir := t.TempDir()
		c, err := registry.New(registry.WithCacheDir(dir))
		if err != nil {
			t.Fatal(err)
		}
		if cached { // fill the cache, then read it with a new client
			for _, tc := range cases {
				c.Lookup(context.Background(), ref(tc.repo))
			}
			if c, err = registry.New(registry.WithCacheDir(dir), registry.WithTransport(registrytest.NewCounter(nil))); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s cached=%v", tc.repo, cached), func(t *testing.T) {
				res := c.Lookup(context.Background(), ref(tc.repo))
				if got := lookup.CauseOf(res.Err); tc.cause != "" && got != tc.cause {
					t.Fatalf("cause = %q (%v), want %q", got, res.Err, tc.cause)
				}
				if tc.cause == "" && res.Err != nil {
					t.Fatalf("lookup failed: %v", res.Err)
				}
				if diff := cmp.Diff(tc.entries, res.Entries); diff != "" {
					t.Errorf("entries (-want +got):\n%s", diff)
				}
				if res.NoRunnable != tc.noRunnable {
					t.Errorf("NoRunnable = %v, want %v", res.NoRunnable, tc.noRunnable)
				}
				v, reason := assess.JudgeImage(res, arm64)
				if v != tc.verdict || (tc.reason != "" && reason != tc.reason) {
					t.Errorf("JudgeImage = %s %q, want %s %q", v, reason, tc.verdict, tc.reason)
				}
				if tc.noRunnable {
					ic := assess.Check([]lookup.Result{res}, arm64).Images[0]
					if ic.Verdict != assess.Unsupported || ic.Cause != "no runnable platform in index" {
						t.Errorf("Check = %s cause %q, want unsupported, no runnable platform in index", ic.Verdict, ic.Cause)
					}
				}
			})
		}
	}
}

// TestRepeatedDigestsFetchedOnce: an index listing one platform-less image
// 2,000 times costs one GET for it (and one for its config), not 2,000.
func TestRepeatedDigestsFetchedOnce(t *testing.T) {
	r := registrytest.StartInProcess(t)
	bare := descOf(t, r.Ref("rep/r:child"), registrytest.OCIImage(t, arm64), "", nil)
	nestedDigest := registrytest.PushRaw(t, r.Ref("rep/r:inner"), types.OCIImageIndex, rawIndex(t, bare))
	nh, _ := v1.NewHash(nestedDigest)
	nested := v1.Descriptor{MediaType: types.OCIImageIndex, Digest: nh, Size: int64(len(rawIndex(t, bare)))}
	var ds []v1.Descriptor
	for i := range 2000 {
		if i%2 == 0 {
			ds = append(ds, bare)
		} else {
			ds = append(ds, nested)
		}
	}
	registrytest.PushRaw(t, r.Ref("rep/r:v1"), types.OCIImageIndex, rawIndex(t, ds...))
	registrytest.PushRaw(t, r.Ref("rep/r:v2"), types.OCIImageIndex, rawIndex(t, bare, bare))

	counter := registrytest.NewCounter(nil)
	c, err := registry.New(registry.WithoutCache(), registry.WithTransport(counter))
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"v1", "v2"} {
		res := c.Lookup(context.Background(), r.Ref("rep/r:"+tag))
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		if diff := cmp.Diff([]lookup.Entry{{Platform: arm64, Digest: bare.Digest.String()}}, res.Entries); diff != "" {
			t.Errorf("%s entries (-want +got):\n%s", tag, diff)
		}
	}
	// v1: its index, the nested index, the child; v2: its index only, the
	// child being known to this run.
	if m, b := counter.Count(registrytest.ManifestGET), counter.Count(registrytest.BlobGET); m != 4 || b != 1 {
		t.Errorf("manifest GETs, blob GETs = %d, %d; want 4, 1: %s", m, b, strings.Join(counter.Requests(), "\n"))
	}
}

// TestChildFetchesBounded: an index of many distinct platform-less images
// is refused past the cap on child reads, with a clear cause.
func TestChildFetchesBounded(t *testing.T) {
	r := registrytest.StartInProcess(t)
	base := registrytest.OCIImage(t, arm64)
	registrytest.Push(t, r.Ref("many/base:v1"), base)
	raw, err := base.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	var ds []v1.Descriptor
	for i := range 300 {
		m["annotations"] = map[string]string{"n": fmt.Sprint(i)}
		b, _ := json.Marshal(m)
		d := registrytest.PushRaw(t, r.Ref(fmt.Sprintf("many/base:c%d", i)), types.OCIManifestSchema1, b)
		h, _ := v1.NewHash(d)
		ds = append(ds, v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: h, Size: int64(len(b))})
	}
	registrytest.PushRaw(t, r.Ref("many/base:idx"), types.OCIImageIndex, rawIndex(t, ds...))
	counter := registrytest.NewCounter(nil)
	c, err := registry.New(registry.WithoutCache(), registry.WithTransport(counter))
	if err != nil {
		t.Fatal(err)
	}
	res := c.Lookup(context.Background(), r.Ref("many/base:idx"))
	if lookup.CauseOf(res.Err) != lookup.CauseBadManifest || !strings.Contains(res.Err.Error(), "more than 256 child manifests") {
		t.Fatalf("err = %v, want bad manifest: more than 256 child manifests", res.Err)
	}
	if n := counter.Count(registrytest.ManifestGET); n != 257 {
		t.Errorf("manifest GETs = %d, want 257 (the index and 256 children)", n)
	}
}
