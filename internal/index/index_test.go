package index_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/archwaydev/archway/internal/index"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/registrytest"
)

var (
	amd64 = platform.LinuxAMD64
	arm64 = platform.LinuxARM64
	armv7 = platform.MustParse("linux/arm/v7")
)

// server is a registry under test: its host and the options to push to it.
type server struct {
	host string
	opts []remote.Option
	rt   http.RoundTripper
}

func (s server) ref(repo string) string { return s.host + "/" + repo }

func inProcess(t *testing.T) server {
	return server{host: registrytest.StartInProcess(t).Host, rt: http.DefaultTransport}
}

func distribution(t *testing.T) server {
	d := registrytest.StartDistribution(t, registrytest.DistributionOptions{})
	return server{host: d.Host, opts: d.RemoteOptions(), rt: d.Transport}
}

// servers runs f against the in-process registry and Debian's docker-registry.
func servers(t *testing.T, f func(t *testing.T, s server)) {
	t.Run("inprocess", func(t *testing.T) { f(t, inProcess(t)) })
	t.Run("distribution", func(t *testing.T) { f(t, distribution(t)) })
}

func client(t *testing.T, rt http.RoundTripper) *registry.Client {
	t.Helper()
	opts := []registry.Option{registry.WithoutCache()}
	if rt != nil {
		opts = append(opts, registry.WithTransport(rt))
	}
	c, err := registry.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func create(t *testing.T, c *registry.Client, o index.Options) *index.Result {
	t.Helper()
	res, err := index.Create(context.Background(), c, o)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return res
}

// lookup reads ref back with archway's own lookup and returns platform →
// digest.
func lookup(t *testing.T, c *registry.Client, ref string) (string, map[string]string) {
	t.Helper()
	r := c.Lookup(context.Background(), ref)
	if r.Err != nil {
		t.Fatalf("Lookup(%s): %v", ref, r.Err)
	}
	m := map[string]string{}
	for _, e := range r.Entries {
		m[e.Platform.String()] = e.Digest
	}
	return r.Digest, m
}

// platformDigests is platform → digest of a Result's images.
func platformDigests(res *index.Result) map[string]string {
	m := map[string]string{}
	for _, e := range res.Entries {
		if e.Platform != nil {
			m[e.Platform.String()] = e.Digest
		}
	}
	return m
}

func checkProblem(t *testing.T, err error, want string) {
	t.Helper()
	var ce *index.CheckError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a CheckError saying %q", err, want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want it to say %q", err, want)
	}
}

func TestCreateFromTagsAndDigests(t *testing.T) {
	servers(t, func(t *testing.T, s server) {
		c := client(t, s.rt)
		da := registrytest.Push(t, s.ref("app:1-amd64"), registrytest.Image(t, amd64), s.opts...)
		dr := registrytest.Push(t, s.ref("app:1-arm64"), registrytest.OCIImage(t, arm64), s.opts...)
		want := map[string]string{"linux/amd64": da, "linux/arm64": dr}
		for _, tc := range []struct{ name, target, a, r string }{
			{"tags", "app:1", "app:1-amd64", "app:1-arm64"},
			{"digests", "app:2", "app@" + da, "app@" + dr},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := create(t, c, index.Options{Target: s.ref(tc.target), Sources: []index.Source{{Ref: s.ref(tc.a)}, {Ref: s.ref(tc.r)}}})
				if diff := cmp.Diff(want, platformDigests(res)); diff != "" {
					t.Errorf("entries (-want +got):\n%s", diff)
				}
				if res.MediaType != string(types.OCIImageIndex) {
					t.Errorf("media type = %s, want the OCI index", res.MediaType)
				}
				if len(res.Written) != 1 {
					t.Errorf("written = %v, want the target", res.Written)
				}
				d, got := lookup(t, c, s.ref(tc.target))
				if d != res.Digest {
					t.Errorf("lookup digest = %s, want %s", d, res.Digest)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("lookup (-want +got):\n%s", diff)
				}
			})
		}
	})
}

func TestCreateTemplateAndSpec(t *testing.T) {
	servers(t, func(t *testing.T, s server) {
		c := client(t, s.rt)
		da := registrytest.Push(t, s.ref("app:1.4-amd64"), registrytest.Image(t, amd64), s.opts...)
		dr := registrytest.Push(t, s.ref("app:1.4-arm64"), registrytest.Image(t, arm64), s.opts...)
		want := map[string]string{"linux/amd64": da, "linux/arm64": dr}

		srcs, err := index.Expand(s.ref("app:1.4-{arch}"), []platform.Platform{amd64, arm64})
		if err != nil {
			t.Fatal(err)
		}
		res := create(t, c, index.Options{Target: s.ref("app:1.4"), Sources: srcs, Expect: []platform.Platform{arm64, amd64}})
		if diff := cmp.Diff(want, platformDigests(res)); diff != "" {
			t.Errorf("template entries (-want +got):\n%s", diff)
		}

		// manifest-tool's spec, with archway's additions.
		spec := `image: ` + s.ref("app:1.4.0") + `
tags: ["1.4", latest]
annotations: {org.opencontainers.image.source: https://example.com/app}
manifests:
  - image: ` + s.ref("app:1.4-arm64") + `
    platform: {architecture: arm64, os: linux, variant: v8}
    annotations: {org.example.build: "42"}
  - image: ` + s.ref("app:1.4-amd64") + `
    platform: linux/amd64
`
		o, err := index.ReadSpec(strings.NewReader(spec))
		if err != nil {
			t.Fatal(err)
		}
		res = create(t, c, o)
		if diff := cmp.Diff(want, platformDigests(res)); diff != "" {
			t.Errorf("spec entries (-want +got):\n%s", diff)
		}
		if len(res.Written) != 3 {
			t.Errorf("written = %v, want 3 tags", res.Written)
		}
		var idx v1.IndexManifest
		if err := json.Unmarshal(res.Manifest, &idx); err != nil {
			t.Fatal(err)
		}
		if idx.Annotations["org.opencontainers.image.source"] != "https://example.com/app" {
			t.Errorf("index annotations = %v", idx.Annotations)
		}
		if idx.Manifests[0].Digest.String() != dr || idx.Manifests[0].Annotations["org.example.build"] != "42" {
			t.Errorf("first entry = %+v, want %s with org.example.build=42", idx.Manifests[0], dr)
		}
		if idx.Manifests[1].Annotations != nil {
			t.Errorf("second entry annotations = %v, want none", idx.Manifests[1].Annotations)
		}
		for _, tag := range []string{"app:1.4.0", "app:1.4", "app:latest"} {
			if d, _ := lookup(t, c, s.ref(tag)); d != res.Digest {
				t.Errorf("%s = %s, want %s", tag, d, res.Digest)
			}
		}
	})
}

func TestReadSpecErrors(t *testing.T) {
	for _, tc := range []struct{ name, spec, want string }{
		{"empty", "", "spec is empty"},
		{"no image", "manifests: [{image: a}]", "no image"},
		{"no manifests", "image: a:1", "no manifests"},
		{"unknown field", "image: a:1\nmanifest: []", "field manifest not found"},
		{"bad platform", "image: a:1\nmanifests: [{image: b, platform: linux/sparc9}]", "unknown architecture"},
		{"platform without arch", "image: a:1\nmanifests: [{image: b, platform: {os: linux}}]", "no architecture"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := index.ReadSpec(strings.NewReader(tc.spec))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := index.ReadSpec(strings.NewReader("image: " + strings.Repeat("a", 2<<20))); err == nil || !strings.Contains(err.Error(), "cap") {
		t.Errorf("huge spec: err = %v, want the cap", err)
	}
}

func TestExpandErrors(t *testing.T) {
	ps := []platform.Platform{amd64, armv7}
	got, err := index.Expand("r/app:1-{os}-{arch}{variant}", ps)
	if err != nil {
		t.Fatal(err)
	}
	want := []index.Source{{Ref: "r/app:1-linux-amd64", Platform: amd64}, {Ref: "r/app:1-linux-armv7", Platform: armv7}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Expand (-want +got):\n%s", diff)
	}
	for _, tmpl := range []string{"r/app:1", "r/app:1-{ARCH}", "r/app:{tag}-{arch}"} {
		if _, err := index.Expand(tmpl, ps); err == nil {
			t.Errorf("Expand(%q) succeeded, want an error", tmpl)
		}
	}
}

// TestCreateAcrossRepositoriesAndRegistries takes sources from another
// repository of the target's registry (mounted) and from another registry
// (streamed), and checks every child is in the target repository.
func TestCreateAcrossRepositoriesAndRegistries(t *testing.T) {
	dst := distribution(t)
	other := inProcess(t)
	da := registrytest.Push(t, dst.ref("build/amd64:7"), registrytest.Image(t, amd64), dst.opts...)
	dr := registrytest.Push(t, other.ref("build/arm64:7"), registrytest.Image(t, arm64), other.opts...)
	counter := registrytest.NewCounter(dst.rt)
	c := client(t, counter)
	res := create(t, c, index.Options{Target: dst.ref("app/web:7"), Sources: []index.Source{
		{Ref: dst.ref("build/amd64:7")}, {Ref: other.ref("build/arm64:7")},
	}})
	for _, d := range []string{da, dr} {
		ref, _ := name.ParseReference(dst.ref("app/web@" + d))
		if _, err := remote.Head(ref, dst.opts...); err != nil {
			t.Errorf("child %s not in the target repository: %v", d, err)
		}
	}
	if diff := cmp.Diff(map[string]string{"linux/amd64": da, "linux/arm64": dr}, platformDigests(res)); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	// The amd64 image's blobs were mounted from build/amd64: no upload
	// (PATCH or PUT of a blob) names them; the arm64 image's were uploaded.
	var uploads int
	for _, r := range counter.Requests() {
		if strings.Contains(r, "/blobs/uploads/") && (strings.HasPrefix(r, "PATCH") || strings.HasPrefix(r, "PUT")) {
			uploads++
		}
	}
	// The arm64 image has two blobs (config, layer), uploaded with one
	// PATCH and one PUT each, or one PUT each; the amd64 ones none.
	t.Logf("both registries: %d requests %v, %d blob upload requests", counter.Total(), counter.Counts(), uploads)
	if uploads < 2 || uploads > 4 {
		t.Errorf("blob upload requests = %d, want 2-4 (only the other registry's two blobs): %q", uploads, counter.Requests())
	}
	_, got := lookup(t, c, dst.ref("app/web:7"))
	if got["linux/arm64"] != dr || got["linux/amd64"] != da {
		t.Errorf("lookup = %v", got)
	}
}

// TestCreateFromBuildxIndexes flattens per-arch indexes that carry
// attestations, as buildx pushes one platform: the attestations stay and
// point at images in the new index.
func TestCreateFromBuildxIndexes(t *testing.T) {
	servers(t, func(t *testing.T, s server) {
		c := client(t, s.rt)
		registrytest.PushIndex(t, s.ref("app:3-amd64"), registrytest.WithAttestations(t, registrytest.Index(t, amd64)), s.opts...)
		registrytest.PushIndex(t, s.ref("app:3-arm64"), registrytest.WithAttestations(t, registrytest.Index(t, arm64)), s.opts...)
		res := create(t, c, index.Options{Target: s.ref("app:3"), Sources: []index.Source{{Ref: s.ref("app:3-amd64")}, {Ref: s.ref("app:3-arm64")}},
			Expect: []platform.Platform{amd64, arm64}})
		var idx v1.IndexManifest
		if err := json.Unmarshal(res.Manifest, &idx); err != nil {
			t.Fatal(err)
		}
		if len(idx.Manifests) != 4 {
			t.Fatalf("index has %d entries, want 2 images and 2 attestations: %s", len(idx.Manifests), res.Manifest)
		}
		images := map[string]bool{idx.Manifests[0].Digest.String(): true, idx.Manifests[1].Digest.String(): true}
		var subjects []string
		for _, d := range idx.Manifests[2:] {
			subj := d.Annotations[index.AnnotationRefDigest]
			if !images[subj] || d.Platform == nil || d.Platform.OS != "unknown" {
				t.Errorf("attestation %s: subject %s, platform %+v; want an image of the index and unknown/unknown", d.Digest, subj, d.Platform)
			}
			subjects = append(subjects, subj)
		}
		if subjects[0] == subjects[1] {
			t.Errorf("both attestations describe %s", subjects[0])
		}
		in, err := index.Inspect(context.Background(), c, s.ref("app:3"))
		if err != nil {
			t.Fatal(err)
		}
		if len(in.Problems)+len(in.Unknown) > 0 {
			t.Errorf("inspect problems %v, unknown %v", in.Problems, in.Unknown)
		}
		for _, e := range in.Entries[:2] {
			if e.Config != index.ConfigAgrees || len(e.AttestedBy) != 1 {
				t.Errorf("entry %s: config %s, attested by %v; want agrees, one attestation", e.Digest, e.Config, e.AttestedBy)
			}
		}

		// A declared platform picks one image of a multi-arch source; the
		// other image's attestation is left out with a note.
		registrytest.PushIndex(t, s.ref("multi:1"), registrytest.WithAttestations(t, registrytest.Index(t, amd64, arm64)), s.opts...)
		res = create(t, c, index.Options{Target: s.ref("picked:1"), DryRun: true, Sources: []index.Source{
			{Ref: s.ref("multi:1"), Platform: arm64}, {Ref: s.ref("app:3-amd64")},
		}})
		if got := len(res.Entries); got != 4 {
			t.Errorf("picked: %d entries, want 2 images, 2 attestations", got)
		}
		if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "not in the new index") {
			t.Errorf("notes = %q, want one for the dropped attestation", res.Notes)
		}
	})
}

func TestCreateChecks(t *testing.T) {
	s := inProcess(t)
	c := client(t, nil)
	registrytest.Push(t, s.ref("app:amd64"), registrytest.Image(t, amd64))
	registrytest.Push(t, s.ref("app:amd64-again"), registrytest.Image(t, amd64))
	registrytest.Push(t, s.ref("app:armv7"), registrytest.Image(t, armv7))
	registrytest.Push(t, s.ref("app:arm64"), registrytest.Image(t, arm64))
	registrytest.Push(t, s.ref("app:none"), registrytest.Image(t, platform.Platform{}))
	// An index whose descriptor declares arm64 for an amd64 image.
	liar := registrytest.Image(t, amd64)
	registrytest.Push(t, s.ref("app:liar-child"), liar)
	ld, _ := liar.Digest()
	lsz, _ := liar.Size()
	lmt, _ := liar.MediaType()
	body, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{
		{MediaType: lmt, Size: lsz, Digest: ld, Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}},
	}})
	registrytest.PushRaw(t, s.ref("app:liar"), types.OCIImageIndex, body)
	src := func(tag string, p ...platform.Platform) index.Source {
		out := index.Source{Ref: s.ref("app:" + tag)}
		if len(p) > 0 {
			out.Platform = p[0]
		}
		return out
	}
	for i, tc := range []struct {
		name string
		o    index.Options
		want string
	}{
		{"declared arm64, config amd64", index.Options{Sources: []index.Source{src("amd64", arm64)}}, "declared linux/arm64 but its config says linux/amd64"},
		{"arm/v7 declared as arm64", index.Options{Sources: []index.Source{src("armv7", arm64)}}, "declared linux/arm64 but its config says linux/arm/v7"},
		{"duplicate platforms", index.Options{Sources: []index.Source{src("amd64"), src("amd64-again")}}, "two images for linux/amd64"},
		{"config names no platform", index.Options{Sources: []index.Source{src("none")}}, "config names no platform"},
		{"index descriptor lies", index.Options{Sources: []index.Source{src("liar")}}, "declares linux/arm64 but its config says linux/amd64"},
		{"expect missing", index.Options{Sources: []index.Source{src("amd64")}, Expect: []platform.Platform{amd64, arm64}}, "lacks linux/arm64"},
		{"expect extra", index.Options{Sources: []index.Source{src("amd64"), src("armv7")}, Expect: []platform.Platform{amd64}}, "also has linux/arm/v7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Target = s.ref(fmt.Sprintf("out:%d", i))
			_, err := index.Create(context.Background(), c, tc.o)
			checkProblem(t, err, tc.want)
			if _, err := remote.Head(mustRef(t, tc.o.Target)); err == nil {
				t.Errorf("%s was written after a failed check", tc.o.Target)
			}
		})
	}
	t.Run("all problems at once", func(t *testing.T) {
		_, err := index.Create(context.Background(), c, index.Options{Target: s.ref("out:all"), Sources: []index.Source{src("amd64", arm64), src("armv7", arm64)}})
		var ce *index.CheckError
		if !errors.As(err, &ce) || len(ce.Problems) != 2 {
			t.Errorf("err = %v, want both problems", err)
		}
	})
	t.Run("missing source", func(t *testing.T) {
		_, err := index.Create(context.Background(), c, index.Options{Target: s.ref("out:missing"), Sources: []index.Source{src("nope")}})
		var re *index.ReadError
		if !errors.As(err, &re) {
			t.Errorf("err = %v, want a ReadError", err)
		}
	})
	t.Run("digest target", func(t *testing.T) {
		_, err := index.Create(context.Background(), c, index.Options{Target: s.ref("out@sha256:" + strings.Repeat("a", 64)), Sources: []index.Source{src("amd64")}})
		if err == nil || !strings.Contains(err.Error(), "give a tag") {
			t.Errorf("err = %v, want a tag", err)
		}
	})
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCreateMediaTypes(t *testing.T) {
	servers(t, func(t *testing.T, s server) {
		c := client(t, s.rt)
		registrytest.PushIndex(t, s.ref("app:amd64"), registrytest.WithAttestations(t, registrytest.ManifestList(t, amd64)), s.opts...)
		registrytest.Push(t, s.ref("app:arm64"), registrytest.OCIImage(t, arm64), s.opts...)
		srcs := []index.Source{{Ref: s.ref("app:amd64")}, {Ref: s.ref("app:arm64")}}
		res := create(t, c, index.Options{Target: s.ref("app:docker"), MediaType: index.Docker, Sources: srcs})
		if res.MediaType != string(types.DockerManifestList) {
			t.Errorf("media type = %s, want the Docker manifest list", res.MediaType)
		}
		if len(res.Entries) != 2 || len(res.Notes) != 2 || !strings.Contains(res.Notes[0], "cannot carry") || !strings.Contains(res.Notes[1], "OCI manifest in a Docker manifest list") {
			t.Errorf("entries %d, notes %q; want 2 images, a note on the attestation left out and one on the OCI child", len(res.Entries), res.Notes)
		}
		if strings.Contains(string(res.Manifest), "annotations") {
			t.Errorf("Docker list has annotations: %s", res.Manifest)
		}
		r := c.Lookup(context.Background(), s.ref("app:docker"))
		if r.Err != nil || r.MediaType != string(types.DockerManifestList) {
			t.Errorf("lookup: media type %s, err %v", r.MediaType, r.Err)
		}
		res = create(t, c, index.Options{Target: s.ref("app:oci"), Sources: srcs})
		if res.MediaType != string(types.OCIImageIndex) || len(res.Entries) != 3 {
			t.Errorf("OCI: media type %s, %d entries; want the OCI index with the attestation", res.MediaType, len(res.Entries))
		}
		for _, o := range []index.Options{
			{Target: s.ref("app:bad"), MediaType: index.Docker, Sources: srcs, Annotations: map[string]string{"a": "b"}},
			{Target: s.ref("app:bad"), MediaType: index.Docker, Sources: []index.Source{{Ref: s.ref("app:arm64"), Annotations: map[string]string{"a": "b"}}}},
		} {
			if _, err := index.Create(context.Background(), c, o); err == nil || !strings.Contains(err.Error(), "cannot carry") {
				t.Errorf("annotations on a Docker list: err = %v", err)
			}
		}
	})
}

// TestCreateIdempotent runs Create twice: the same digest, and the second
// run writes nothing.
func TestCreateIdempotent(t *testing.T) {
	servers(t, func(t *testing.T, s server) {
		registrytest.Push(t, s.ref("src/a:1"), registrytest.Image(t, amd64), s.opts...)
		registrytest.PushIndex(t, s.ref("src/b:1"), registrytest.WithAttestations(t, registrytest.Index(t, arm64)), s.opts...)
		o := index.Options{Target: s.ref("app:1"), Tags: []string{"latest"}, Sources: []index.Source{{Ref: s.ref("src/a:1")}, {Ref: s.ref("src/b:1")}},
			Annotations: map[string]string{"z": "1", "a": "2"}}
		first := create(t, client(t, s.rt), o)
		counter := registrytest.NewCounter(s.rt)
		second := create(t, client(t, counter), o)
		if first.Digest != second.Digest || string(first.Manifest) != string(second.Manifest) {
			t.Errorf("digests %s, %s; want the same bytes", first.Digest, second.Digest)
		}
		if len(first.Written) != 2 || len(second.Written) != 0 {
			t.Errorf("written %v then %v, want both tags then none", first.Written, second.Written)
		}
		for _, r := range counter.Requests() {
			if !strings.HasPrefix(r, "GET") && !strings.HasPrefix(r, "HEAD") {
				t.Errorf("the second run wrote: %s", r)
			}
		}
		t.Logf("second run: %d requests %v", counter.Total(), counter.Counts())
	})
}

// TestCreateRefusesToDropPlatforms replaces an index by one with fewer
// platforms only with Force.
func TestCreateRefusesToDropPlatforms(t *testing.T) {
	s := inProcess(t)
	c := client(t, nil)
	registrytest.Push(t, s.ref("app:amd64"), registrytest.Image(t, amd64))
	registrytest.Push(t, s.ref("app:arm64"), registrytest.Image(t, arm64))
	registrytest.Push(t, s.ref("app:amd64-new"), registrytest.Image(t, amd64))
	both := create(t, c, index.Options{Target: s.ref("app:1"), Sources: []index.Source{{Ref: s.ref("app:amd64")}, {Ref: s.ref("app:arm64")}}})
	only := index.Options{Target: s.ref("app:1"), Sources: []index.Source{{Ref: s.ref("app:amd64-new")}}}
	for _, dry := range []bool{true, false} {
		only.DryRun = dry
		_, err := index.Create(context.Background(), c, only)
		checkProblem(t, err, "now has linux/arm64, which the new index lacks")
	}
	if d, _ := lookup(t, c, s.ref("app:1")); d != both.Digest {
		t.Errorf("app:1 = %s after a refusal, want %s", d, both.Digest)
	}
	// Adding a platform is fine without --force.
	grow := index.Options{Target: s.ref("app:1"), Sources: []index.Source{{Ref: s.ref("app:amd64-new")}, {Ref: s.ref("app:arm64")}}}
	create(t, c, grow)
	only.DryRun, only.Force = false, true
	res := create(t, c, only)
	if d, got := lookup(t, client(t, nil), s.ref("app:1")); d != res.Digest || len(got) != 1 {
		t.Errorf("app:1 = %s %v after --force, want %s with one platform", d, got, res.Digest)
	}
}

// TestCreateNestedIndexes follows a nested index at the tag to find the
// platforms it has, and flattens one given as a source.
func TestCreateNestedIndexes(t *testing.T) {
	s := inProcess(t)
	c := client(t, nil)
	s390x := platform.MustParse("linux/s390x")
	inner := registrytest.Index(t, amd64, s390x)
	outer := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), mutate.IndexAddendum{Add: inner})
	registrytest.PushIndex(t, s.ref("app:1"), outer)
	registrytest.Push(t, s.ref("app:amd64"), registrytest.Image(t, amd64))
	_, err := index.Create(context.Background(), c, index.Options{Target: s.ref("app:1"), Sources: []index.Source{{Ref: s.ref("app:amd64")}}})
	checkProblem(t, err, "now has linux/s390x, which the new index lacks")
	// As a source, the nested index is flattened.
	res := create(t, c, index.Options{Target: s.ref("flat:1"), Sources: []index.Source{{Ref: s.ref("app:1")}}})
	if !slices.Equal(res.Platforms, []string{"linux/amd64", "linux/s390x"}) || len(res.Entries) != 2 || res.Entries[0].MediaType != string(types.OCIManifestSchema1) {
		t.Errorf("flattened: platforms %v, entries %+v", res.Platforms, res.Entries)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	s := inProcess(t)
	registrytest.Push(t, s.ref("src/a:1"), registrytest.Image(t, amd64))
	counter := registrytest.NewCounter(nil)
	res := create(t, client(t, counter), index.Options{Target: s.ref("app:1"), DryRun: true, Sources: []index.Source{{Ref: s.ref("src/a:1")}}})
	if !res.DryRun || len(res.Written) != 0 || !json.Valid(res.Manifest) {
		t.Errorf("dry run: %+v", res)
	}
	for _, r := range counter.Requests() {
		if !strings.HasPrefix(r, "GET") && !strings.HasPrefix(r, "HEAD") {
			t.Errorf("the dry run wrote: %s", r)
		}
	}
	if _, err := remote.Head(mustRef(t, s.ref("app:1"))); err == nil {
		t.Error("the dry run put the tag")
	}
}

// TestInspectDangling deletes a child of an index: Inspect reports it.
func TestInspectDangling(t *testing.T) {
	s := distribution(t)
	c := client(t, s.rt)
	registrytest.PushIndex(t, s.ref("app:1"), registrytest.WithAttestations(t, registrytest.Index(t, amd64, arm64)), s.opts...)
	in, err := index.Inspect(context.Background(), c, s.ref("app:1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Problems) != 0 || !slices.Equal(in.Platforms, []string{"linux/amd64", "linux/arm64"}) {
		t.Fatalf("before: problems %v, platforms %v", in.Problems, in.Platforms)
	}
	gone := in.Entries[1].Digest
	if err := remote.Delete(mustRef(t, s.ref("app@"+gone)), s.opts...); err != nil {
		t.Fatal(err)
	}
	in, err = index.Inspect(context.Background(), c, s.ref("app:1"))
	if err != nil {
		t.Fatal(err)
	}
	if in.Entries[1].Config != index.ConfigMissing || len(in.Problems) != 1 || !strings.Contains(in.Problems[0], gone) {
		t.Errorf("after deleting %s: entry %+v, problems %v", gone, in.Entries[1], in.Problems)
	}
	if in.Entries[3].Attests != gone || in.Entries[3].Config != index.ConfigAttestation {
		t.Errorf("attestation entry = %+v, want it to attest %s", in.Entries[3], gone)
	}
}

func TestInspectDisagreeing(t *testing.T) {
	s := inProcess(t)
	c := client(t, nil)
	img := registrytest.Image(t, armv7)
	registrytest.Push(t, s.ref("app:child"), img)
	d, _ := img.Digest()
	sz, _ := img.Size()
	body, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{
		{MediaType: types.DockerManifestSchema2, Size: sz, Digest: d, Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}},
	}})
	registrytest.PushRaw(t, s.ref("app:1"), types.OCIImageIndex, body)
	in, err := index.Inspect(context.Background(), c, s.ref("app:1"))
	if err != nil {
		t.Fatal(err)
	}
	e := in.Entries[0]
	if e.Config != index.ConfigDisagrees || e.Platform.String() != "linux/arm/v7" || e.Declared.String() != "linux/arm64" || len(in.Problems) != 1 {
		t.Errorf("entry %+v, problems %v; want arm64 declared, arm/v7 in the config", e, in.Problems)
	}
	// A single image is inspected as one entry.
	in, err = index.Inspect(context.Background(), c, s.ref("app:child"))
	if err != nil || len(in.Entries) != 1 || in.Entries[0].Config != index.ConfigUndeclared {
		t.Errorf("single image: %+v, %v", in, err)
	}
}

// TestCreateMountRefused copies children from another repository of a
// registry that refuses every cross-repository mount (as ECR does for blobs
// no manifest of the source repository references): the blobs are
// uploaded instead and the index is complete.
func TestCreateMountRefused(t *testing.T) {
	d := registrytest.StartDistribution(t, registrytest.DistributionOptions{})
	u, err := url.Parse(d.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	var refused atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Query().Get("mount") != "" {
			refused.Add(1)
			http.Error(w, `{"errors":[{"code":"DENIED","message":"mount refused"}]}`, http.StatusForbidden)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	da := registrytest.Push(t, host+"/build/amd64:1", registrytest.Image(t, amd64))
	res := create(t, client(t, nil), index.Options{Target: host + "/app:1", Sources: []index.Source{{Ref: host + "/build/amd64:1"}}})
	if refused.Load() == 0 {
		t.Error("no mount was tried")
	}
	img, err := remote.Image(mustRef(t, host+"/app@"+da))
	if err != nil {
		t.Fatalf("child not in the target repository: %v", err)
	}
	if err := validate.Image(img); err != nil {
		t.Errorf("child in the target repository is incomplete: %v", err)
	}
	if res.Entries[0].Digest != da {
		t.Errorf("entries = %+v", res.Entries)
	}
}

// TestCreateTokenAuth pushes through Docker token auth with the client's
// credentials: go-containerregistry asks for the push scope itself.
func TestCreateTokenAuth(t *testing.T) {
	reg := registrytest.StartInProcess(t)
	b := registrytest.StartBearer(t, reg.Handler, map[string]string{"ci": "s3cret"})
	auth := remote.WithAuth(&authn.Basic{Username: "ci", Password: "s3cret"})
	registrytest.Push(t, b.Ref("build/amd64:1"), registrytest.Image(t, amd64), auth)
	registrytest.Push(t, b.Ref("build/arm64:1"), registrytest.Image(t, arm64), auth)
	c, err := registry.New(registry.WithoutCache(), registry.WithBasicAuth(b.Host, "ci", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	res := create(t, c, index.Options{Target: b.Ref("app:1"), Sources: []index.Source{{Ref: b.Ref("build/amd64:1")}, {Ref: b.Ref("build/arm64:1")}}})
	if d, _ := lookup(t, c, b.Ref("app:1")); d != res.Digest {
		t.Errorf("app:1 = %s, want %s", d, res.Digest)
	}
	if b.Tokens()["repository:app:push,pull"] == 0 {
		t.Errorf("no push token for app was asked for: %v", b.Tokens())
	}
}

// TestCreateBounds refuses hostile sources with a clear error: a config
// blob over the cap, an index with too many entries.
func TestCreateBounds(t *testing.T) {
	s := inProcess(t)
	c := client(t, nil)
	fake := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("a", 64)}
	big, _ := json.Marshal(v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1,
		Config: v1.Descriptor{MediaType: types.OCIConfigJSON, Size: 5 << 20, Digest: fake}})
	registrytest.PushRaw(t, s.ref("app:bigconfig"), types.OCIManifestSchema1, big)
	img := registrytest.OCIImage(t, amd64)
	registrytest.Push(t, s.ref("app:child"), img)
	d, _ := img.Digest()
	size, _ := img.Size()
	var many v1.IndexManifest
	many.SchemaVersion, many.MediaType = 2, types.OCIImageIndex
	for range index.MaxEntries + 1 {
		many.Manifests = append(many.Manifests, v1.Descriptor{MediaType: types.OCIManifestSchema1, Size: size, Digest: d})
	}
	body, _ := json.Marshal(many)
	registrytest.PushRaw(t, s.ref("app:many"), types.OCIImageIndex, body)
	for tag, want := range map[string]string{"bigconfig": "over the 4194304-byte cap", "many": "over the cap of 512"} {
		_, err := index.Create(context.Background(), c, index.Options{Target: s.ref("out:1"), Sources: []index.Source{{Ref: s.ref("app:" + tag)}}})
		var re *index.ReadError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want a ReadError saying %q", tag, err, want)
		}
	}
}
