package advisor_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/archwaydev/archway/internal/advisor"
	"github.com/archwaydev/archway/internal/assess"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/registrytest"
)

var (
	amd64 = platform.LinuxAMD64
	arm64 = platform.LinuxARM64
	armv7 = platform.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}
)

// push writes each tag of repo as spec says: "amd64" or "arm64" (a
// single-platform image), "multi" (an index of both, with attestations),
// "armv7" (an index of amd64 and arm/v7 only), "=TAG" (the same manifest
// as TAG: an alias).
func push(t *testing.T, host, repo string, tags ...string) {
	t.Helper()
	pushed := map[string]string{}
	for _, ts := range tags {
		tag, spec, _ := strings.Cut(ts, ":")
		ref := host + "/" + repo + ":" + tag
		switch {
		case strings.HasPrefix(spec, "="):
			src := host + "/" + repo + "@" + pushed[spec[1:]]
			desc, err := remote.Get(mustRef(t, src))
			if err != nil {
				t.Fatal(err)
			}
			if err := remote.Tag(mustTag(t, ref), desc); err != nil {
				t.Fatal(err)
			}
			pushed[tag] = pushed[spec[1:]]
		case spec == "amd64":
			pushed[tag] = registrytest.Push(t, ref, registrytest.Image(t, amd64))
		case spec == "arm64":
			pushed[tag] = registrytest.Push(t, ref, registrytest.Image(t, arm64))
		case spec == "multi":
			pushed[tag] = registrytest.PushIndex(t, ref, registrytest.WithAttestations(t, registrytest.Index(t, amd64, arm64)))
		case spec == "armv7":
			pushed[tag] = registrytest.PushIndex(t, ref, registrytest.Index(t, amd64, armv7))
		default:
			t.Fatalf("bad spec %q", ts)
		}
	}
}

// counted is a registry client whose requests are counted.
func counted(t *testing.T, opts ...registry.Option) (*registry.Client, *registrytest.Counter) {
	t.Helper()
	cnt := registrytest.NewCounter(nil)
	c, err := registry.New(append([]registry.Option{registry.WithoutCache(), registry.WithTransport(cnt), registry.WithRetry(1, 0)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, cnt
}

func advise(t *testing.T, c *registry.Client, ref string, eco *advisor.Ecosystem) advisor.Advice {
	t.Helper()
	a := advisor.Advise(context.Background(), c, ref, advisor.Options{Target: arm64, Ecosystem: eco})
	t.Logf("%s: verdict %s nearest %v newest %v alts %v probes %d/%d requests %d notes %q err %v",
		ref, a.Verdict, a.Nearest, a.Newest, a.Alternatives, a.Probes, a.Budget, a.Requests, a.Notes, a.Err)
	return a
}

func wantNearest(t *testing.T, a advisor.Advice, tag string, confirmed bool) {
	t.Helper()
	if a.Nearest == nil {
		t.Fatalf("%s: no nearest, want %s", a.Ref, tag)
	}
	if a.Nearest.Tag != tag || a.Nearest.Confirmed != confirmed {
		t.Errorf("%s: nearest %s (confirmed %v), want %s (confirmed %v)", a.Ref, a.Nearest.Tag, a.Nearest.Confirmed, tag, confirmed)
	}
	if !strings.HasPrefix(a.Nearest.Digest, "sha256:") {
		t.Errorf("%s: nearest digest %q", a.Ref, a.Nearest.Digest)
	}
}

// withinBudget asserts the manifest GETs the advice spent: the current
// tag's lookup, the search (at most Budget), and extra lookups.
func withinBudget(t *testing.T, a advisor.Advice, cnt *registrytest.Counter, extra int) {
	t.Helper()
	gets := cnt.Count(registrytest.ManifestGET)
	if a.Probes > a.Budget {
		t.Errorf("%s: %d probes over the budget %d", a.Ref, a.Probes, a.Budget)
	}
	if gets > 1+a.Budget+extra {
		t.Errorf("%s: %d manifest GETs, over 1 + budget %d + %d", a.Ref, gets, a.Budget, extra)
	}
	if gets != 1+a.Probes+extra {
		t.Errorf("%s: %d manifest GETs, but the advice says %d probes (+1 current +%d)", a.Ref, gets, a.Probes, extra)
	}
}

// TestSeriesGainsArm64: 40 releases, arm64 from 1.27; from 1.2 the
// search finds 1.27, confirmed, within ⌈log₂ n⌉+3 manifest GETs.
func TestSeriesGainsArm64(t *testing.T) {
	reg := registrytest.StartInProcess(t)
	var tags []string
	for i := 0; i < 40; i++ {
		spec := "amd64"
		if i >= 27 {
			spec = "multi"
		}
		tags = append(tags, fmt.Sprintf("1.%d:%s", i, spec))
	}
	push(t, reg.Host, "team/app", tags...)
	for _, tc := range []struct{ from, want string }{{"1.2", "1.27"}, {"1.26", "1.27"}, {"1.0", "1.27"}} {
		c, cnt := counted(t)
		a := advise(t, c, reg.Ref("team/app:"+tc.from), nil)
		if a.Verdict != assess.Unsupported {
			t.Errorf("verdict %s", a.Verdict)
		}
		wantNearest(t, a, tc.want, true)
		if a.Newest == nil || a.Newest.Tag != "1.39" || a.Nearest.How != advisor.HowRegistry {
			t.Errorf("newest %v how %v", a.Newest, a.Nearest.How)
		}
		withinBudget(t, a, cnt, 0)
		if tl := cnt.Count(registrytest.Other); tl != 1 {
			t.Errorf("%d tag-list requests, want 1", tl)
		}
	}
	// Supported already: no search at all.
	c, cnt := counted(t)
	a := advise(t, c, reg.Ref("team/app:1.30"), nil)
	if a.Verdict != assess.Supported || a.Nearest != nil || cnt.Count(registrytest.ManifestGET) != 1 {
		t.Errorf("supported image: %+v, %d GETs", a, cnt.Count(registrytest.ManifestGET))
	}
}

// TestMixedSchemes: plain, -alpine, -debian-12 and -distroless tags in one
// repository each move within their own scheme.
func TestMixedSchemes(t *testing.T) {
	reg := registrytest.StartInProcess(t)
	push(t, reg.Host, "mix/app",
		"1.0:amd64", "1.1:amd64", "1.2:multi",
		"1.0-alpine:amd64", "1.1-alpine:multi", "1.2-alpine:multi",
		"1.0-debian-12:amd64", "1.1-debian-12:amd64", "1.2-debian-12:amd64", "2.0-debian-12:multi",
		"1.0-distroless:amd64", "1.2-distroless:amd64",
		"1.0.1:multi", "v1.1:multi")
	c, _ := counted(t)
	wantNearest(t, advise(t, c, reg.Ref("mix/app:1.0"), nil), "1.2", true)
	wantNearest(t, advise(t, c, reg.Ref("mix/app:1.0-alpine"), nil), "1.1-alpine", true)
	wantNearest(t, advise(t, c, reg.Ref("mix/app:1.0-debian-12"), nil), "2.0-debian-12", true)
	a := advise(t, c, reg.Ref("mix/app:1.0-distroless"), nil)
	if a.Nearest != nil || a.Verdict != assess.Unsupported || a.Resolved() {
		t.Errorf("distroless has no arm64 tag, got %v", a.Nearest)
	}
	if !slices.ContainsFunc(a.Notes, func(n string) bool { return strings.Contains(n, "newest 1.2-distroless lacks arm64 — regression?") }) {
		t.Errorf("notes %q", a.Notes)
	}
}

// TestPreReleases: a release never moves to a pre-release; a
// pre-release may move to one or to a release.
func TestPreReleases(t *testing.T) {
	reg := registrytest.StartInProcess(t)
	push(t, reg.Host, "pre/app", "1.0:amd64", "1.1-rc1:multi", "1.1-beta.2:amd64", "1.1:amd64", "1.2b1:multi", "1.2:multi", "1.3:multi")
	c, _ := counted(t)
	wantNearest(t, advise(t, c, reg.Ref("pre/app:1.0"), nil), "1.2", true)
	wantNearest(t, advise(t, c, reg.Ref("pre/app:1.1-beta.2"), nil), "1.1-rc1", true)
}

// TestNotVersions: latest, dates, hashes and sha256- tags are never
// suggested, and a floating current tag is told to pin a version.
func TestNotVersions(t *testing.T) {
	reg := registrytest.StartInProcess(t)
	push(t, reg.Host, "float/app", "1.0:amd64", "1.1:amd64", "latest:multi", "20240101:multi", "2024-05-01:multi",
		"3f2a9c1:multi", "sha256-"+strings.Repeat("ab", 32)+".sig:multi", "stable:multi", "nightly:amd64")
	c, _ := counted(t)
	a := advise(t, c, reg.Ref("float/app:1.0"), nil)
	if a.Nearest != nil || a.Candidates != 1 {
		t.Errorf("nearest %v from %d candidates; want none from 1 (1.1)", a.Nearest, a.Candidates)
	}
	a = advise(t, c, reg.Ref("float/app:nightly"), nil)
	if a.Nearest != nil || !slices.ContainsFunc(a.Notes, func(n string) bool { return strings.Contains(n, "not a version") }) {
		t.Errorf("nightly: %v %q", a.Nearest, a.Notes)
	}
}

// TestLosesArm64: a series that loses arm64 for some releases and gets
// it back, and one whose newest lost it.
func TestLosesArm64(t *testing.T) {
	reg := registrytest.StartInProcess(t)
	push(t, reg.Host, "flaky/app", "1.0:amd64", "1.1:amd64", "1.2:multi", "1.3:multi", "1.4:amd64", "1.5:amd64", "1.6:multi", "1.7:multi")
	push(t, reg.Host, "lost/app", "1.0:amd64", "1.1:amd64", "1.2:multi", "1.3:multi", "1.4:amd64", "1.5:amd64")
	c, cnt := counted(t)
	a := advise(t, c, reg.Ref("flaky/app:1.4"), nil)
	wantNearest(t, a, "1.6", true)
	withinBudget(t, a, cnt, 0)

	c, cnt = counted(t)
	a = advise(t, c, reg.Ref("lost/app:1.0"), nil)
	wantNearest(t, a, "1.2", true)
	if a.Newest == nil || a.Newest.Tag != "1.3" {
		t.Errorf("newest %v, want 1.3", a.Newest)
	}
	if !slices.ContainsFunc(a.Notes, func(n string) bool { return strings.Contains(n, "newest 1.5 lacks arm64 — regression?") }) {
		t.Errorf("notes %q", a.Notes)
	}
	withinBudget(t, a, cnt, 0)
}

// TestArchSiblings: an -amd64 tag gets its arch-free (multi-arch) tag and
// its -arm64 sibling as labelled alternatives, and the arch-free releases
// above it as candidates; an arm/v7-only index is not arm64.
func TestArchSiblings(t *testing.T) {
	reg := registrytest.StartInProcess(t)
	push(t, reg.Host, "arch/app", "1.0-amd64:amd64", "1.0-arm64:arm64", "1.0:multi", "1.1-amd64:amd64",
		"2.0:armv7", "2.1:multi")
	c, _ := counted(t)
	a := advise(t, c, reg.Ref("arch/app:1.0-amd64"), nil)
	kinds := map[string]string{}
	for _, alt := range a.Alternatives {
		kinds[alt.Kind] = alt.Ref
	}
	if kinds[advisor.AltArchFree] != reg.Ref("arch/app:1.0") || kinds[advisor.AltArchSibling] != reg.Ref("arch/app:1.0-arm64") {
		t.Errorf("alternatives %+v", a.Alternatives)
	}
	// The candidates of 1.0-amd64 are the arch-free releases above it:
	// 2.0 (arm/v7 only) and 2.1.
	wantNearest(t, a, "2.1", true)
	if a.Candidates != 2 {
		t.Errorf("%d candidates, want 2", a.Candidates)
	}
	a = advise(t, c, reg.Ref("arch/app:2.0"), nil)
	if a.Verdict != assess.Unsupported {
		t.Errorf("arm/v7-only 2.0 judged %s for arm64", a.Verdict)
	}
	wantNearest(t, a, "2.1", true)
}

// TestDistroMove: alpine3.18 has no arm64, the same release on
// alpine3.20 does; it is offered as a labelled distro move.
func TestDistroMove(t *testing.T) {
	reg := registrytest.StartInProcess(t)
	push(t, reg.Host, "distro/app", "8.0-alpine3.18:amd64", "8.0-alpine3.19:amd64", "8.0-alpine3.20:multi")
	c, _ := counted(t)
	a := advise(t, c, reg.Ref("distro/app:8.0-alpine3.18"), nil)
	if len(a.Alternatives) != 1 || a.Alternatives[0].Kind != advisor.AltDistro ||
		a.Alternatives[0].Ref != reg.Ref("distro/app:8.0-alpine3.20") || !strings.Contains(a.Alternatives[0].Label, "alpine3.18 → alpine3.20") {
		t.Errorf("alternatives %+v", a.Alternatives)
	}
}

// TestAliasesFree: tags that alias a digest already judged cost a HEAD,
// not a manifest GET.
func TestAliasesFree(t *testing.T) {
	reg := registrytest.StartInProcess(t)
	var tags []string
	tags = append(tags, "1.0:amd64")
	for i := 1; i < 16; i++ {
		tags = append(tags, fmt.Sprintf("1.%d:=1.0", i))
	}
	tags = append(tags, "1.16:multi")
	push(t, reg.Host, "alias/app", tags...)
	c, cnt := counted(t)
	a := advise(t, c, reg.Ref("alias/app:1.0"), nil)
	wantNearest(t, a, "1.16", true)
	if gets := cnt.Count(registrytest.ManifestGET); gets != 2 || a.Probes != 1 {
		t.Errorf("%d manifest GETs, %d probes; want 2 (1.0 and 1.16) and 1: every other tag aliases 1.0", gets, a.Probes)
	}
}

// TestEcosystemData: the data's first arm64 version is checked and
// confirmed (how=data); data that is wrong is corrected by the search.
func TestEcosystemData(t *testing.T) {
	reg := registrytest.StartInProcess(t)
	var tags []string
	for i := 0; i < 30; i++ {
		spec := "amd64"
		if i >= 21 {
			spec = "multi"
		}
		tags = append(tags, fmt.Sprintf("v1.%d.0:%s", i, spec))
	}
	push(t, reg.Host, "known/app", tags...)
	push(t, reg.Host, "wrong/app", tags...)
	dir := t.TempDir()
	file := filepath.Join(dir, "eco.yaml")
	data := fmt.Sprintf(`projects:
  - project: Known
    repos: [%[1]s/known/app]
    since: "1.21"
    link: https://example.invalid/known
  - project: Wrong
    repos: [%[1]s/wrong/app]
    since: "v1.15.0"
`, reg.Host)
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	eco, err := advisor.LoadEcosystem(file)
	if err != nil {
		t.Fatal(err)
	}
	c, cnt := counted(t)
	a := advise(t, c, reg.Ref("known/app:v1.3.0"), eco)
	wantNearest(t, a, "v1.21.0", true)
	if a.Nearest.How != advisor.HowData || a.Project == nil || a.Project.Project != "Known" {
		t.Errorf("how %s project %v", a.Nearest.How, a.Project)
	}
	if a.Probes != 3 {
		t.Errorf("%d probes, want 3 (newest, the data's tag, its predecessor)", a.Probes)
	}
	withinBudget(t, a, cnt, 0)
	c, cnt = counted(t)
	a = advise(t, c, reg.Ref("wrong/app:v1.3.0"), eco)
	wantNearest(t, a, "v1.21.0", true)
	if a.Nearest.How != advisor.HowRegistry {
		t.Errorf("wrong data: how %s", a.Nearest.How)
	}
	withinBudget(t, a, cnt, 0)
}

// TestReplacements: a repository named in the data's replacements, or
// ending in -arm64/-amd64, gets the multi-arch repository as a checked
// alternative.
func TestReplacements(t *testing.T) {
	reg := registrytest.StartInProcess(t)
	push(t, reg.Host, "acme/agent-amd64", "7.1:amd64")
	push(t, reg.Host, "acme/agent", "7.1:multi")
	push(t, reg.Host, "old/ingress", "1.1.5:amd64")
	push(t, reg.Host, "new/lb-controller", "v2.6.0:multi", "v2.7.1:multi", "v2.8.0-rc1:amd64", "latest:amd64")
	file := filepath.Join(t.TempDir(), "eco.yaml")
	data := fmt.Sprintf("replacements:\n  - from: %[1]s/old/ingress\n    to: %[1]s/new/lb-controller\n    newest: true\n    label: the ingress controller became the LB controller\n", reg.Host)
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	eco, err := advisor.LoadEcosystem(file)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := counted(t)
	for ref, want := range map[string]string{
		reg.Ref("acme/agent-amd64:7.1"): reg.Ref("acme/agent:7.1"),
		reg.Ref("old/ingress:1.1.5"):    reg.Ref("new/lb-controller:v2.7.1"),
	} {
		a := advise(t, c, ref, eco)
		if len(a.Alternatives) != 1 || a.Alternatives[0].Kind != advisor.AltReplacement || a.Alternatives[0].Ref != want {
			t.Errorf("%s: alternatives %+v, want the replacement %s", ref, a.Alternatives, want)
		}
	}
}

// TestUnknown: a failed lookup is unknown with its cause, never "no
// suggestion".
func TestUnknown(t *testing.T) {
	reg := registrytest.StartInProcess(t)
	c, _ := counted(t)
	a := advise(t, c, reg.Ref("none/app:1.0"), nil)
	if a.Verdict != assess.Unknown || a.Cause == "" || a.Err == nil {
		t.Errorf("missing image: verdict %s cause %q", a.Verdict, a.Cause)
	}
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustTag(t *testing.T, s string) name.Tag {
	t.Helper()
	r, err := name.NewTag(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestHubAPI: with Docker Hub's Hub API (served on loopback, per-tag
// architectures), the search spends no manifest request; only the current
// tag and the suggestions are looked up at the registry, to check the
// Hub's word. When the Hub is wrong, the registry is searched instead.
func TestHubAPI(t *testing.T) {
	reg := registrytest.StartInProcess(t)
	var hubTags, liar []registrytest.HubTag
	for i := 0; i < 120; i++ {
		tag := fmt.Sprintf("2.%d", i)
		ref := reg.Ref("hubns/app:" + tag)
		var d string
		ps := []platform.Platform{amd64}
		if i >= 77 {
			ps = append(ps, arm64)
			d = registrytest.PushIndex(t, ref, registrytest.Index(t, ps...))
		} else {
			d = registrytest.Push(t, ref, registrytest.Image(t, amd64))
		}
		hubTags = append(hubTags, registrytest.HubTag{Name: tag, Digest: d, Platforms: ps})
		lie := registrytest.HubTag{Name: tag, Digest: d, Platforms: []platform.Platform{amd64, arm64}}
		if i < 5 {
			lie.Platforms = []platform.Platform{amd64}
		}
		liar = append(liar, lie)
	}
	hub := registrytest.StartHubAPI(t, map[string][]registrytest.HubTag{"hubns/app": hubTags}, 0)
	c, cnt := counted(t, registry.WithHubAPI(hub.Server.URL, reg.Host))
	a := advise(t, c, reg.Ref("hubns/app:2.3"), nil)
	wantNearest(t, a, "2.77", true)
	if a.Nearest.How != advisor.HowHubAPI || a.Newest == nil || a.Newest.Tag != "2.119" {
		t.Errorf("how %s newest %v", a.Nearest.How, a.Newest)
	}
	if gets, heads := cnt.Count(registrytest.ManifestGET), cnt.Count(registrytest.ManifestHEAD); gets != 3 || heads != 0 || a.Probes != 0 {
		t.Errorf("%d manifest GETs, %d HEADs, %d probes: want 3 (current, nearest, newest), 0, 0", gets, heads, a.Probes)
	}
	if hub.Requests() != 2 {
		t.Errorf("%d Hub API pages, want 2", hub.Requests())
	}

	lying := registrytest.StartHubAPI(t, map[string][]registrytest.HubTag{"hubns/app": liar}, 0)
	c, _ = counted(t, registry.WithHubAPI(lying.Server.URL, reg.Host))
	a = advise(t, c, reg.Ref("hubns/app:2.3"), nil)
	wantNearest(t, a, "2.77", true)
	if a.Nearest.How != advisor.HowRegistry || !slices.ContainsFunc(a.Notes, func(n string) bool { return strings.Contains(n, "the Hub API said 2.5") }) {
		t.Errorf("a lying Hub API was believed: nearest %v notes %q", a.Nearest, a.Notes)
	}
}
