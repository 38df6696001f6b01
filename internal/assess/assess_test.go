package assess

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/workload"
)

var (
	amd64  = platform.LinuxAMD64
	arm64  = platform.LinuxARM64
	armv7  = platform.MustParse("linux/arm/v7")
	images = map[string]lookup.Result{
		"multi:1":  result("multi:1", "sha256:aa", amd64, arm64),
		"amd:1":    result("amd:1", "sha256:bb", amd64),
		"arm:1":    result("arm:1", "sha256:cc", arm64),
		"armv7:1":  result("armv7:1", "", armv7, amd64),
		"denied:1": {Ref: "denied:1", Err: &lookup.Error{Ref: "denied:1", Cause: lookup.CauseUnauthorized, Err: errors.New("authentication required")}},
		"empty:1":  result("empty:1", "sha256:dd"),
	}
)

// result is a successful lookup of ref with the given platforms.
func result(ref, digest string, ps ...platform.Platform) lookup.Result {
	r := lookup.Result{Ref: ref, Digest: digest}
	for _, p := range ps {
		r.Entries = append(r.Entries, lookup.Entry{Platform: p})
	}
	return r
}

func ctr(kind workload.ContainerKind, name, image string) workload.Container {
	return workload.Container{Name: name, Kind: kind, Image: image}
}

func deploy(cs ...workload.Container) workload.Workload {
	return workload.Workload{Source: workload.SourceKubernetes, Kind: "Deployment", Namespace: "shop", Name: "api", Containers: cs}
}

// got is the part of a WorkloadResult the rules decide.
type got struct {
	Verdict             Verdict
	Containers          []Verdict
	Pinned              bool
	PinnedArchitectures []string
	CouldMove           bool
	Architectures       []string
	Reasons             []string
}

func project(wr WorkloadResult) got {
	g := got{Verdict: wr.Verdict, Pinned: wr.Pinned, PinnedArchitectures: wr.PinnedArchitectures,
		CouldMove: wr.CouldMove, Architectures: wr.Architectures, Reasons: wr.Reasons}
	for _, cr := range wr.Containers {
		g.Containers = append(g.Containers, cr.Verdict)
	}
	return g
}

func TestAssessWorkload(t *testing.T) {
	reg, init, side, eph, build := workload.ContainerRegular, workload.ContainerInit, workload.ContainerSidecar,
		workload.ContainerEphemeral, workload.ContainerBuild
	pinned := func(w workload.Workload, archs ...string) workload.Workload {
		w.PinnedArchitectures = archs
		if archs == nil {
			w.PinnedArchitectures = []string{}
		}
		return w
	}
	withPlatform := func(c workload.Container, p platform.Platform) workload.Container {
		c.Platform = p
		return c
	}
	tests := []struct {
		name   string
		w      workload.Workload
		target platform.Platform
		want   got
	}{
		{
			name: "every image supports the target",
			w:    deploy(ctr(reg, "api", "multi:1"), ctr(reg, "proxy", "arm:1")),
			want: got{Verdict: Ready, Containers: []Verdict{Supported, Supported}, Architectures: []string{"arm64"}},
		},
		{
			name: "an image lacks the target: what it supports is said",
			w:    deploy(ctr(reg, "api", "multi:1"), ctr(reg, "legacy", "amd:1")),
			want: got{Verdict: NotReady, Containers: []Verdict{Supported, Unsupported}, Architectures: []string{"amd64"},
				Reasons: []string{"container legacy (amd:1): lacks linux/arm64; supports linux/amd64"}},
		},
		{
			name: "a failed lookup is unknown with its cause, never not ready",
			w:    deploy(ctr(reg, "api", "multi:1"), ctr(reg, "private", "denied:1")),
			want: got{Verdict: Unknown, Containers: []Verdict{Supported, Unknown},
				Reasons: []string{"container private (denied:1): lookup failed: unauthorized: authentication required"}},
		},
		{
			name: "an image that was not looked up is unknown",
			w:    deploy(ctr(reg, "api", "missing:1")),
			want: got{Verdict: Unknown, Containers: []Verdict{Unknown},
				Reasons: []string{"container api (missing:1): image was not looked up"}},
		},
		{
			name: "a lookup with no platforms is unknown",
			w:    deploy(ctr(reg, "api", "empty:1")),
			want: got{Verdict: Unknown, Containers: []Verdict{Unknown},
				Reasons: []string{"container api (empty:1): the registry reported no platforms"}},
		},
		{
			name: "a container without an image is unknown",
			w:    deploy(ctr(reg, "api", "")),
			want: got{Verdict: Unknown, Containers: []Verdict{Unknown},
				Reasons: []string{"container api (): no image reference"}},
		},
		{
			name: "not ready wins over unknown",
			w:    deploy(ctr(reg, "private", "denied:1"), ctr(reg, "legacy", "amd:1")),
			want: got{Verdict: NotReady, Containers: []Verdict{Unknown, Unsupported},
				Reasons: []string{
					"container legacy (amd:1): lacks linux/arm64; supports linux/amd64",
					"container private (denied:1): lookup failed: unauthorized: authentication required",
				}},
		},
		{
			name: "an init container counts",
			w:    deploy(ctr(init, "migrate", "amd:1"), ctr(reg, "api", "multi:1")),
			want: got{Verdict: NotReady, Containers: []Verdict{Unsupported, Supported}, Architectures: []string{"amd64"},
				Reasons: []string{"init migrate (amd:1): lacks linux/arm64; supports linux/amd64"}},
		},
		{
			name: "a sidecar counts",
			w:    deploy(ctr(reg, "api", "multi:1"), ctr(side, "mesh", "amd:1")),
			want: got{Verdict: NotReady, Containers: []Verdict{Supported, Unsupported}, Architectures: []string{"amd64"},
				Reasons: []string{"sidecar mesh (amd:1): lacks linux/arm64; supports linux/amd64"}},
		},
		{
			name: "an ephemeral container counts",
			w:    deploy(ctr(reg, "api", "multi:1"), ctr(eph, "debug", "denied:1")),
			want: got{Verdict: Unknown, Containers: []Verdict{Supported, Unknown},
				Reasons: []string{"ephemeral debug (denied:1): lookup failed: unauthorized: authentication required"}},
		},
		{
			name: "a build stage is judged but does not count",
			w: workload.Workload{Source: workload.SourceDockerfile, Kind: "Dockerfile", Name: "Dockerfile",
				Containers: []workload.Container{ctr(build, "builder", "amd:1"), ctr(reg, "final", "multi:1")}},
			want: got{Verdict: Ready, Containers: []Verdict{Unsupported, Supported}, Architectures: []string{"amd64", "arm64"}},
		},
		{
			name: "only build stages is ready",
			w: workload.Workload{Source: workload.SourceDockerfile, Kind: "Dockerfile", Name: "Dockerfile",
				Containers: []workload.Container{ctr(build, "builder", "denied:1")}},
			want: got{Verdict: Ready, Containers: []Verdict{Unknown},
				Reasons: []string{"only build stages, which run on the build host"}},
		},
		{
			name: "no containers is unknown",
			w:    deploy(),
			want: got{Verdict: Unknown, Reasons: []string{"no containers found"}},
		},
		{
			name: "a container pinned by its source is judged on its pin",
			w: workload.Workload{Source: workload.SourceCompose, Kind: "Service", Name: "db",
				Containers: []workload.Container{withPlatform(ctr(reg, "db", "amd:1"), amd64)}},
			want: got{Verdict: Ready, Containers: []Verdict{Supported}, Pinned: true, PinnedArchitectures: []string{"amd64"},
				Architectures: []string{"amd64"}},
		},
		{
			name: "a container pinned elsewhere whose image is multi-arch could move",
			w: workload.Workload{Source: workload.SourceCompose, Kind: "Service", Name: "web",
				Containers: []workload.Container{withPlatform(ctr(reg, "web", "multi:1"), amd64)}},
			want: got{Verdict: Ready, Containers: []Verdict{Supported}, Pinned: true, PinnedArchitectures: []string{"amd64"},
				CouldMove: true, Architectures: []string{"amd64", "arm64"},
				Reasons: []string{"pinned to amd64, but every image also supports linux/arm64: could move to arm64"}},
		},
		{
			name: "pinned to amd64 with multi-arch images could move",
			w:    pinned(deploy(ctr(reg, "api", "multi:1"), ctr(init, "wait", "multi:1")), "amd64"),
			want: got{Verdict: Ready, Containers: []Verdict{Supported, Supported}, Pinned: true, PinnedArchitectures: []string{"amd64"},
				CouldMove: true, Architectures: []string{"amd64", "arm64"},
				Reasons: []string{
					"pinned to kubernetes.io/arch in [amd64]",
					"pinned to amd64, but every image also supports linux/arm64: could move to arm64",
				}},
		},
		{
			name: "pinned to amd64 with an amd64-only image stays not ready",
			w:    pinned(deploy(ctr(reg, "api", "amd:1")), "amd64"),
			want: got{Verdict: NotReady, Containers: []Verdict{Unsupported}, Pinned: true, PinnedArchitectures: []string{"amd64"},
				Architectures: []string{"amd64"},
				Reasons: []string{
					"container api (amd:1): lacks linux/arm64; supports linux/amd64",
					"pinned to kubernetes.io/arch in [amd64]",
				}},
		},
		{
			name: "pinned to the target already does not move",
			w:    pinned(deploy(ctr(reg, "api", "multi:1")), "amd64", "arm64"),
			want: got{Verdict: Ready, Containers: []Verdict{Supported}, Pinned: true, PinnedArchitectures: []string{"amd64", "arm64"},
				Architectures: []string{"amd64", "arm64"},
				Reasons:       []string{"pinned to kubernetes.io/arch in [amd64, arm64]"}},
		},
		{
			name: "a pin the images cannot honour is reported",
			w:    pinned(deploy(ctr(reg, "api", "amd:1")), "arm64"),
			want: got{Verdict: NotReady, Containers: []Verdict{Unsupported}, Pinned: true, PinnedArchitectures: []string{"arm64"},
				Architectures: []string{"amd64"},
				Reasons: []string{
					"container api (amd:1): lacks linux/arm64; supports linux/amd64",
					"pinned to kubernetes.io/arch in [arm64]",
					"pinned to arm64, but container api (amd:1) lacks linux/arm64",
				}},
		},
		{
			name: "a pin to no architecture is reported",
			w:    pinned(deploy(ctr(reg, "api", "multi:1"))),
			want: got{Verdict: Ready, Containers: []Verdict{Supported}, Pinned: true, PinnedArchitectures: nil,
				CouldMove: true, Architectures: []string{"amd64", "arm64"},
				Reasons: []string{
					"pinned to no architecture: no node can run it",
					"pinned to no architecture, but every image also supports linux/arm64: could move to arm64",
				}},
		},
		{
			name:   "any target: amd64",
			w:      deploy(ctr(reg, "api", "arm:1")),
			target: amd64,
			want: got{Verdict: NotReady, Containers: []Verdict{Unsupported}, Architectures: []string{"arm64"},
				Reasons: []string{"container api (arm:1): lacks linux/amd64; supports linux/arm64"}},
		},
		{
			name:   "any target: arm/v7",
			w:      deploy(ctr(reg, "api", "armv7:1"), ctr(reg, "x", "multi:1")),
			target: armv7,
			want: got{Verdict: NotReady, Containers: []Verdict{Supported, Unsupported}, Architectures: []string{"amd64"},
				Reasons: []string{"container x (multi:1): lacks linux/arm/v7; supports linux/amd64,linux/arm64"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := tt.target
			if target.IsZero() {
				target = arm64
			}
			r := Assess([]workload.Workload{tt.w}, images, target)
			if len(r.Workloads) != 1 {
				t.Fatalf("got %d workload results, want 1", len(r.Workloads))
			}
			if diff := cmp.Diff(tt.want, project(r.Workloads[0])); diff != "" {
				t.Errorf("Assess mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestContainerResultDetails(t *testing.T) {
	w := deploy(ctr(workload.ContainerRegular, "private", "denied:1"), ctr(workload.ContainerRegular, "api", "amd:1"))
	r := Assess([]workload.Workload{w}, images, arm64)
	private, api := r.Workloads[0].Containers[0], r.Workloads[0].Containers[1]
	if private.Err == nil || private.Cause != "unauthorized" || private.Platforms.Len() != 0 {
		t.Errorf("failed lookup: Err = %v, Cause = %q, Platforms = %v; want the error, its cause and no platforms",
			private.Err, private.Cause, private.Platforms)
	}
	if api.Digest != "sha256:bb" || api.Platforms.String() != "linux/amd64" || api.Platform != arm64 || api.Pinned {
		t.Errorf("known image: got digest %q platforms %q judged on %v pinned %v", api.Digest, api.Platforms, api.Platform, api.Pinned)
	}
}

func TestSummary(t *testing.T) {
	ws := []workload.Workload{
		{Source: workload.SourceKubernetes, Kind: "Deployment", Namespace: "shop", Name: "api",
			Containers: []workload.Container{ctr(workload.ContainerRegular, "api", "multi:1")}},
		{Source: workload.SourceKubernetes, Kind: "Deployment", Namespace: "shop", Name: "legacy",
			Containers: []workload.Container{ctr(workload.ContainerRegular, "legacy", "amd:1")}, PinnedArchitectures: []string{"amd64"}},
		{Source: workload.SourceHelm, Kind: "StatefulSet", Namespace: "data", Name: "db",
			Containers: []workload.Container{ctr(workload.ContainerInit, "init", "multi:1"), ctr(workload.ContainerRegular, "db", "denied:1")}},
		{Source: workload.SourceDockerfile, Kind: "Dockerfile", Name: "Dockerfile",
			Containers: []workload.Container{ctr(workload.ContainerBuild, "build", "arm:1"), ctr(workload.ContainerRegular, "final", "multi:1")}},
	}
	r := Assess(ws, images, arm64)
	want := Summary{
		Workloads:  Counts{Total: 4, Ready: 2, NotReady: 1, Unknown: 1, Pinned: 1},
		Containers: Counts{Total: 5, Ready: 3, NotReady: 1, Unknown: 1},
		Images:     Counts{Total: 3, Ready: 1, NotReady: 1, Unknown: 1},
		ByNamespace: []Group{
			{Key: "", Counts: Counts{Total: 1, Ready: 1}},
			{Key: "data", Counts: Counts{Total: 1, Unknown: 1}},
			{Key: "shop", Counts: Counts{Total: 2, Ready: 1, NotReady: 1, Pinned: 1}},
		},
		BySource: []Group{
			{Key: "dockerfile", Counts: Counts{Total: 1, Ready: 1}},
			{Key: "helm", Counts: Counts{Total: 1, Unknown: 1}},
			{Key: "kubernetes", Counts: Counts{Total: 2, Ready: 1, NotReady: 1, Pinned: 1}},
		},
	}
	if diff := cmp.Diff(want, r.Summary); diff != "" {
		t.Errorf("Summary mismatch (-want +got):\n%s", diff)
	}
	if got := r.Summary.Workloads.Percent(Ready); got != 50 {
		t.Errorf("Percent(Ready) = %v, want 50", got)
	}
	if got := r.Summary.Workloads.Percent(NotReady); got != 25 {
		t.Errorf("Percent(NotReady) = %v, want 25", got)
	}
	if got := (Counts{}).Percent(Ready); got != 0 || math.IsNaN(got) {
		t.Errorf("Percent of nothing = %v, want 0", got)
	}

	type img struct {
		Ref       string
		Verdict   Verdict
		Workloads []string
		BuildOnly bool
	}
	var gotImages []img
	for _, iv := range r.Images {
		gotImages = append(gotImages, img{iv.Ref, iv.Verdict, iv.Workloads, iv.BuildOnly})
	}
	wantImages := []img{
		{"amd:1", Unsupported, []string{"Deployment/shop/legacy"}, false},
		{"arm:1", Supported, []string{"Dockerfile/Dockerfile"}, true},
		{"denied:1", Unknown, []string{"StatefulSet/data/db"}, false},
		{"multi:1", Supported, []string{"Deployment/shop/api", "StatefulSet/data/db", "Dockerfile/Dockerfile"}, false},
	}
	if diff := cmp.Diff(wantImages, gotImages); diff != "" {
		t.Errorf("Images mismatch (-want +got):\n%s", diff)
	}
}

func TestImageVerdictIgnoresContainerPin(t *testing.T) {
	c := ctr(workload.ContainerRegular, "db", "amd:1")
	c.Platform = amd64
	r := Assess([]workload.Workload{{Source: workload.SourceCompose, Kind: "Service", Name: "db", Containers: []workload.Container{c}}}, images, arm64)
	if r.Workloads[0].Verdict != Ready {
		t.Errorf("workload verdict = %s, want ready (judged on its pin)", r.Workloads[0].Verdict)
	}
	if len(r.Images) != 1 || r.Images[0].Verdict != Unsupported {
		t.Errorf("image verdicts = %+v, want amd:1 not ready against the target", r.Images)
	}
}

// TestAssessDeep: an image whose binaries archway verify found wrong is
// unsupported for the target it claims, and its workloads not ready; a
// container pinned to another platform is not judged by it.
func TestAssessDeep(t *testing.T) {
	w := deploy(ctr(workload.ContainerRegular, "api", "multi:1"))
	bins := Binaries{"multi:1": "/app is an x86-64 ELF"}
	r := AssessDeep([]workload.Workload{w}, images, arm64, bins)
	if got := r.Workloads[0]; got.Verdict != NotReady || got.Containers[0].Verdict != Unsupported || !strings.Contains(got.Containers[0].Reason, "/app is an x86-64 ELF") {
		t.Errorf("deep: workload %s, container %s (%s); want not ready, unsupported, with verify's reason", got.Verdict, got.Containers[0].Verdict, got.Containers[0].Reason)
	}
	if r.Images[0].Verdict != Unsupported {
		t.Errorf("image verdict %s, want unsupported", r.Images[0].Verdict)
	}
	if plain := Assess([]workload.Workload{w}, images, arm64); plain.Workloads[0].Verdict != Ready {
		t.Errorf("without --deep: %s, want ready", plain.Workloads[0].Verdict)
	}
	pinned := ctr(workload.ContainerRegular, "api", "multi:1")
	pinned.Platform = amd64
	r = AssessDeep([]workload.Workload{deploy(pinned)}, images, arm64, bins)
	if got := r.Workloads[0].Containers[0]; got.Verdict != Supported {
		t.Errorf("container pinned to amd64: %s, want supported (verify judged arm64 only)", got.Verdict)
	}
}
