package compose

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/workload"
)

const (
	build   = workload.ContainerBuild
	regular = workload.ContainerRegular
)

func at(file string, line, col int) workload.Location {
	return workload.Location{File: filepath.FromSlash(file), Line: line, Column: col}
}

func svc(project, name string, loc workload.Location, pinned []string, cs ...workload.Container) workload.Workload {
	if cs == nil {
		cs = []workload.Container{}
	}
	return workload.Workload{
		Source:              workload.SourceCompose,
		Location:            loc,
		Kind:                "Service",
		Namespace:           project,
		Name:                name,
		Containers:          cs,
		PinnedArchitectures: pinned,
	}
}

// built is w building the given Dockerfiles.
func built(w workload.Workload, dockerfiles ...string) workload.Workload {
	w.Builds = dockerfiles
	return w
}

func ctr(name string, kind workload.ContainerKind, image string, loc workload.Location, p platform.Platform) workload.Container {
	return workload.Container{Name: name, Kind: kind, Image: image, Location: loc, Platform: p}
}

var (
	none  platform.Platform
	amd64 = platform.LinuxAMD64
	arm64 = platform.LinuxARM64
)

func TestRead(t *testing.T) {
	const shop = "testdata/shop/compose.yaml"
	tests := []struct {
		path string
		want []workload.Workload
	}{
		{
			path: shop,
			want: []workload.Workload{
				svc("shop", "api", at(shop, 7, 3), nil,
					ctr("api", regular, "demo/api:2.1", at(shop, 8, 12), none)),
				svc("shop", "queue", at(shop, 11, 3), nil,
					ctr("queue", regular, "demo/queue:1.1", at(shop, 13, 12), none)),
				svc("shop", "sidecar", at(shop, 15, 3), nil,
					ctr("sidecar", regular, "demo/sidecar:1.0", at(shop, 4, 10), none)),
				built(svc("shop", "web", at(shop, 18, 3), []string{"amd64"},
					ctr("assets", build, "node:20", at("testdata/shop/web/Dockerfile", 1, 0), none),
					ctr("stage-1", regular, "nginx:1.27-alpine", at("testdata/shop/web/Dockerfile", 4, 0), amd64)),
					"testdata/shop/web/Dockerfile"),
				built(svc("shop", "worker", at(shop, 23, 3), nil,
					ctr("release", regular, "demo/worker:1.0", at("testdata/shop/worker/docker/Worker.Dockerfile", 2, 0), none)),
					"testdata/shop/worker/docker/Worker.Dockerfile"),
				svc("shop", "inline", at(shop, 33, 3), nil,
					ctr("build", build, "golang:1.23", at(shop, 36, 0), none),
					ctr("stage-1", regular, "demo/edge-agent:0.9", at(shop, 37, 0), none)),
				svc("shop", "admin", at(shop, 39, 3), nil,
					ctr("admin", regular, "demo/api:2.1", at(shop, 8, 12), none)),
				svc("shop", "cache", at(shop, 44, 3), []string{"arm64"},
					ctr("cache", regular, "${CACHE_IMAGE}", at(shop, 45, 12), arm64)),
				svc("shop", "tools", at(shop, 48, 3), nil,
					ctr("tools", regular, "${NOT_A_VAR}/tools:latest", at(shop, 49, 12), none)),
			},
		},
		{
			// An override file: services with only settings are skipped.
			path: "testdata/shop/docker-compose.override.yml",
			want: []workload.Workload{
				svc("shop", "queue", at("testdata/shop/docker-compose.override.yml", 6, 3), nil,
					ctr("queue", regular, "demo/queue:2.0", at("testdata/shop/docker-compose.override.yml", 7, 12), none)),
			},
		},
		{
			path: "testdata/named/compose.yaml",
			want: []workload.Workload{
				svc("edge_fleet", "sensor", at("testdata/named/compose.yaml", 3, 3), []string{"arm"},
					ctr("sensor", regular, "demo/pi-sensor:1.0", at("testdata/named/compose.yaml", 4, 12), platform.MustParse("linux/arm/v7"))),
				svc("edge_fleet", "gateway", at("testdata/named/compose.yaml", 6, 3), []string{"arm64"},
					ctr("gateway", regular, "demo/edge-agent:0.9", at("testdata/named/compose.yaml", 7, 12), arm64)),
				svc("edge_fleet", "fallback", at("testdata/named/compose.yaml", 9, 3), nil,
					ctr("fallback", regular, "demo/dotnet-app:4.8", at("testdata/named/compose.yaml", 10, 12), none)),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := Read(filepath.FromSlash(tt.path))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Read(%s) mismatch (-want +got):\n%s", tt.path, diff)
			}
		})
	}
}

// TestReadPartial: each bad service is its own error with its line; the
// good services around them are still returned, and so is one pinned to a
// platform archway does not know (judged unknown, not an input error).
func TestReadPartial(t *testing.T) {
	path := filepath.FromSlash("testdata/errors/partial.yaml")
	got, err := Read(path)
	var names []string
	for _, w := range got {
		names = append(names, w.Name)
	}
	if diff := cmp.Diff([]string{"good", "badplatform", "good2"}, names); diff != "" {
		t.Errorf("workloads (-want +got):\n%s", diff)
	}
	if err == nil {
		t.Fatal("Read: no error")
	}
	var parts []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		parts = append(parts, e.Error())
	}
	want := []string{
		path + `: line 7: service notmap: want a mapping`,
		path + `: line 9: service nodockerfile: build: open ` + filepath.FromSlash("testdata/errors/nowhere/Dockerfile") + `: no such file or directory`,
		path + `: line 11: service remote: build: remote context "https://github.com/example/app.git#main" cannot be read`,
		path + `: line 13: service listimage: image: want a string`,
		path + `: line 15: service badvar: image: invalid interpolation "demo/api:${TAG:-2.1": unterminated ${`,
		path + `: line 17: service emptyimage: image: empty`,
		path + `: line 18: service loop: extends: chain too long or circular`,
		path + `: line 21: service device: build: /dev/zero: not a regular file`,
	}
	if diff := cmp.Diff(want, parts); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		file       string
		want       string
		notCompose bool
	}{
		{file: "badyaml.yaml", want: "testdata/errors/badyaml.yaml: line 1: did not find expected key"}, // yaml.v3 reports the mapping's line
		{file: "list.yaml", want: "testdata/errors/list.yaml: line 1: not a compose file: the top level is not a mapping", notCompose: true},
		{file: "noservices.yaml", want: "testdata/errors/noservices.yaml: line 1: not a compose file: no services", notCompose: true},
		{file: "empty.yaml", want: "testdata/errors/empty.yaml: ", notCompose: true},
		{file: "missing.yaml", want: "compose: stat testdata/errors/missing.yaml: no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := Read(filepath.Join("testdata", "errors", tt.file))
			if err == nil || !strings.HasPrefix(err.Error(), filepath.FromSlash(tt.want)) {
				t.Fatalf("Read error = %v, want prefix %q", err, tt.want)
			}
			if got := errors.Is(err, ErrNotCompose); got != tt.notCompose {
				t.Errorf("errors.Is(err, ErrNotCompose) = %v, want %v", got, tt.notCompose)
			}
		})
	}
}

// TestParseGarbage: bytes that are not YAML, or YAML shaped oddly, give an
// error naming the file, never a panic.
func TestParseGarbage(t *testing.T) {
	inputs := map[string]string{
		"binary":        "\x00\x01\xff\xfe",
		"tabs":          "services:\n\tapi:\n\t\timage: x",
		"alias loop":    "a: &a [*a]\nservices: *a",
		"unknown alias": "services: *nope",
		"scalar":        "just text",
		"services list": "services: [api, web]",
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			ws, err := Parse(name, []byte(in))
			if err == nil {
				t.Fatalf("Parse = %+v, nil; want an error", ws)
			}
			if !strings.HasPrefix(err.Error(), name+": ") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestInterpolate(t *testing.T) {
	tests := []struct {
		in       string
		want     string
		resolved bool
		err      bool
	}{
		{in: "demo/api:2.1", want: "demo/api:2.1", resolved: true},
		{in: "demo/api:${TAG:-2.1}", want: "demo/api:2.1", resolved: true},
		{in: "demo/api:${TAG-2.1}", want: "demo/api:2.1", resolved: true},
		{in: "${R:-${M:-demo}}/api:${T:-1}", want: "demo/api:1", resolved: true},
		{in: "demo/api${SUFFIX:+-slim}:2.1", want: "demo/api:2.1", resolved: true},
		{in: "$${HOME}/x", want: "${HOME}/x", resolved: true},
		{in: "cost $5", want: "cost $5", resolved: true},
		{in: "trailing $", want: "trailing $", resolved: true},
		{in: "demo/api:${TAG:-}", want: "demo/api:", resolved: true},
		{in: "demo/api:$TAG", want: "demo/api:$TAG"},
		{in: "demo/api:${TAG}", want: "demo/api:${TAG}"},
		{in: "demo/api:${TAG:?set TAG}", want: "demo/api:${TAG:?set TAG}"},
		{in: "${A:-${B}}/x", want: "${A:-${B}}/x"},
		{in: "demo/api:${TAG", err: true},
		{in: "demo/api:${}", err: true},
		{in: "demo/api:${1X}", err: true},
		{in: "demo/api:${TAG/x/y}", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, resolved, err := interpolate(tt.in)
			if (err != nil) != tt.err {
				t.Fatalf("interpolate(%q) error = %v, want error %v", tt.in, err, tt.err)
			}
			if err != nil {
				return
			}
			if got != tt.want || resolved != tt.resolved {
				t.Errorf("interpolate(%q) = %q, %v; want %q, %v", tt.in, got, resolved, tt.want, tt.resolved)
			}
		})
	}
}

// nestedDefaults is "${A:-${A:-…x…}}" nested depth deep.
func nestedDefaults(depth int) string {
	return strings.Repeat("${A:-", depth) + "x" + strings.Repeat("}", depth)
}

// TestInterpolateNestingBounded: defaults nest up to maxNesting deep; past
// that the value is refused at once, where the work used to grow with the
// square of its length (a 4× longer value took 12–15× as long).
func TestInterpolateNestingBounded(t *testing.T) {
	got, resolved, err := interpolate(nestedDefaults(maxNesting))
	if err != nil || !resolved || got != "x" {
		t.Fatalf("interpolate(%d deep) = %q, %v, %v; want x", maxNesting, got, resolved, err)
	}
	deep := nestedDefaults(200_000) // 1.2 MB
	start := time.Now()
	_, _, err = interpolate(deep)
	if err == nil || !strings.Contains(err.Error(), "nested more than 32 deep") {
		t.Fatalf("interpolate(200,000 deep) error = %v, want the nesting bound", err)
	}
	if len(err.Error()) > 200 {
		t.Errorf("the error quotes %d bytes of the value", len(err.Error()))
	}
	t.Logf("200,000 nested defaults refused in %s", time.Since(start))
}

// FuzzParse: no input makes Parse panic, and every error names the file.
func FuzzParse(f *testing.F) {
	for _, p := range []string{"shop/compose.yaml", "named/compose.yaml", "errors/partial.yaml", "errors/badyaml.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(p)))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("a: &a {<<: [*a, *a]}\nservices: {x: {<<: *a}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Parse("fuzz.yaml", data)
		if err != nil && !strings.Contains(err.Error(), "fuzz.yaml: ") {
			t.Errorf("error %q does not name the file", err)
		}
	})
}

func TestIsComposeFileName(t *testing.T) {
	for name, want := range map[string]bool{
		"compose.yaml":                 true,
		"compose.yml":                  true,
		"docker-compose.yml":           true,
		"deploy/docker-compose.yaml":   true,
		"compose.override.yaml":        true,
		"docker-compose.prod.test.yml": true,
		"compose.json":                 false,
		"my-compose.yaml":              false,
		"compose.yaml.bak":             false,
		"k8s/deployment.yaml":          false,
	} {
		if got := IsComposeFileName(name); got != want {
			t.Errorf("IsComposeFileName(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestReadPlatforms reads a compose file with WebAssembly services (Docker's
// wasi/wasm platform), a Windows one, a pin archway does not know and
// build contexts: every service is kept, with its pin as written.
func TestReadPlatforms(t *testing.T) {
	ws, err := Read(filepath.FromSlash("testdata/wasm/compose.yaml"))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	var got, names []string
	for _, w := range ws {
		names = append(names, fmt.Sprintf("%s%v", w.Name, w.PinnedArchitectures))
		for _, c := range w.Containers {
			got = append(got, fmt.Sprintf("%s %s(%s) %s platform=%q unread=%q %s:%d", w.Name, c.Name, c.Kind, c.Image, pin(c.Platform), c.UnreadPlatform, filepath.ToSlash(c.Location.File), c.Location.Line))
		}
	}
	want := []string{
		`api build(container) golang:1.23 platform="" unread="" testdata/wasm/api/Dockerfile:2`,
		`api stage-1(container) gcr.io/distroless/static-debian12:nonroot platform="" unread="" testdata/wasm/api/Dockerfile:7`,
		`spin spin(container) ghcr.io/example/spin-hello:0.4.0 platform="wasi/wasm" unread="" testdata/wasm/compose.yaml:15`,
		`reports reports(container) mcr.microsoft.com/dotnet/framework/runtime:4.8 platform="windows/amd64" unread="" testdata/wasm/compose.yaml:18`,
		`legacy legacy(container) example/legacy:2.0 platform="" unread="linux/sparc9" testdata/wasm/compose.yaml:21`,
		`db db(container) postgres:16.3 platform="" unread="" testdata/wasm/compose.yaml:24`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("containers (-want +got):\n%s", diff)
	}
	// edge builds FROM scratch: no image to judge, but the service is kept.
	if diff := cmp.Diff([]string{"api[]", "edge[]", "spin[]", "reports[amd64]", "legacy[]", "db[]"}, names); diff != "" {
		t.Errorf("services (-want +got):\n%s", diff)
	}
}

// pin is a container's platform pin, "" when it has none.
func pin(p platform.Platform) string {
	if p.IsZero() {
		return ""
	}
	return p.String()
}
