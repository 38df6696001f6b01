package dockerfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/workload"
)

// c builds an expected container of a testdata file.
func c(file, name string, kind workload.ContainerKind, image string, line int) workload.Container {
	return workload.Container{
		Name:     name,
		Kind:     kind,
		Image:    image,
		Location: workload.Location{File: filepath.Join("testdata", file), Line: line},
	}
}

func pinned(ct workload.Container, p platform.Platform) workload.Container {
	ct.Platform = p
	return ct
}

const (
	build   = workload.ContainerBuild
	regular = workload.ContainerRegular
)

func TestRead(t *testing.T) {
	tests := []struct {
		file     string
		opts     Options
		wantLine int // the workload's line: its first FROM
		want     []workload.Container
	}{
		{
			file:     "simple.Dockerfile",
			wantLine: 1,
			want:     []workload.Container{c("simple.Dockerfile", "stage-0", regular, "alpine:3.20", 1)},
		},
		{
			// Global ARG defaults substituted; the builder stage needs no
			// target support; the test stage and an unused stage are skipped.
			file:     "multistage.Dockerfile",
			wantLine: 6,
			want: []workload.Container{
				c("multistage.Dockerfile", "build", build, "golang:1.23", 6),
				c("multistage.Dockerfile", "stage-3", regular, "demo/api:2.1", 19),
			},
		},
		{
			// --target picks the test stage, which is built FROM the builder
			// stage: its image is what the target stage finally runs on.
			file:     "multistage.Dockerfile",
			opts:     Options{Target: "Test"},
			wantLine: 6,
			want:     []workload.Container{c("multistage.Dockerfile", "build", regular, "golang:1.23", 6)},
		},
		{
			file:     "multistage.Dockerfile",
			opts:     Options{BuildArgs: map[string]string{"GO_VERSION": "1.24", "BASE": "demo/sidecar:1.0"}},
			wantLine: 6,
			want: []workload.Container{
				c("multistage.Dockerfile", "build", build, "golang:1.24", 6),
				c("multistage.Dockerfile", "stage-3", regular, "demo/sidecar:1.0", 19),
			},
		},
		{
			file:     "scratch.Dockerfile",
			wantLine: 1,
			want:     []workload.Container{c("scratch.Dockerfile", "build", build, "golang:1.23-alpine", 1)},
		},
		{
			file:     "pinned.Dockerfile",
			wantLine: 2,
			want: []workload.Container{
				pinned(c("pinned.Dockerfile", "tools", regular, "ubuntu:22.04", 2), platform.LinuxAMD64),
				pinned(c("pinned.Dockerfile", "stage-1", regular, "demo/legacy-billing:3.2", 5), platform.LinuxAMD64),
			},
		},
		{
			// Arguments without a value stay as written: the lookup fails
			// and the verdict is unknown, never a guess.
			file:     "unresolved.Dockerfile",
			wantLine: 2,
			want: []workload.Container{
				c("unresolved.Dockerfile", "base", regular, "$BASE", 2),
				c("unresolved.Dockerfile", "stage-1", regular, "demo/app:${TARGETARCH}-1.0", 3),
			},
		},
		{
			file:     "copyfrom.Dockerfile",
			wantLine: 1,
			want: []workload.Container{
				c("copyfrom.Dockerfile", "assets", build, "node:20", 1),
				c("copyfrom.Dockerfile", "assets", build, "busybox:1.36", 3),
				c("copyfrom.Dockerfile", "stage-1", regular, "nginx:1.27-alpine", 6),
				c("copyfrom.Dockerfile", "stage-1", regular, "demo/sidecar:1.0", 9),
			},
		},
		{
			file:     "builderfinal.Dockerfile",
			wantLine: 1,
			want:     []workload.Container{c("builderfinal.Dockerfile", "deps", regular, "node:20", 1)},
		},
		{
			// escape directive, a continued FROM, and a check directive
			// (BuildKit dereferences the linter for it).
			file:     "escape.Dockerfile",
			wantLine: 4,
			want:     []workload.Container{c("escape.Dockerfile", "base", regular, "mcr.example.com/windows/servercore:ltsc2022", 4)},
		},
		{
			file:     "heredoc.Dockerfile",
			wantLine: 1,
			want:     []workload.Container{c("heredoc.Dockerfile", "base", regular, "debian:12", 1)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.opts.Target, func(t *testing.T) {
			path := filepath.Join("testdata", tt.file)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var got []workload.Workload
			if tt.opts.Target == "" && tt.opts.BuildArgs == nil {
				got, err = Read(path)
			} else {
				got, err = ParseOptions(path, data, tt.opts)
			}
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			want := []workload.Workload{{
				Source:     workload.SourceDockerfile,
				Location:   workload.Location{File: path, Line: tt.wantLine},
				Kind:       "Dockerfile",
				Name:       path,
				Containers: tt.want,
			}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Read(%s) mismatch (-want +got):\n%s", path, diff)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		file string
		opts Options
		want string // the error starts with this
	}{
		{file: "empty.Dockerfile", want: "testdata/empty.Dockerfile: "},
		{file: "noargs.Dockerfile", want: "testdata/noargs.Dockerfile: line 2: "},
		{file: "unknown.Dockerfile", want: "testdata/unknown.Dockerfile: line 2: unknown instruction: FORM"},
		{file: "threeargs.Dockerfile", want: "testdata/threeargs.Dockerfile: line 3: FROM requires either one or three arguments"},
		{file: "badplatform.Dockerfile", want: "testdata/badplatform.Dockerfile: line 2: FROM --platform=linux/sparc9: "},
		{file: "badindex.Dockerfile", want: "testdata/badindex.Dockerfile: line 2: --from=3: no earlier stage with index 3"},
		{file: "onlyargs.Dockerfile", want: "testdata/onlyargs.Dockerfile: no FROM instruction"},
		{file: "emptybase.Dockerfile", want: "testdata/emptybase.Dockerfile: line 2: base name \"${BASE}\" is empty"},
		{file: "simple.Dockerfile", opts: Options{Target: "release"}, want: "testdata/simple.Dockerfile: target stage \"release\" not found"},
		{file: "missing.Dockerfile", want: "dockerfile: stat testdata/missing.Dockerfile: no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", tt.file)
			var err error
			if tt.opts.Target != "" {
				data, rerr := os.ReadFile(path)
				if rerr != nil {
					t.Fatal(rerr)
				}
				_, err = ParseOptions(path, data, tt.opts)
			} else {
				_, err = Read(path)
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Read(%s) error = %v, want prefix %q", path, err, tt.want)
			}
		})
	}
}

// TestParseGarbage feeds bytes that are not a Dockerfile; Parse must
// return an error, never panic.
func TestParseGarbage(t *testing.T) {
	inputs := map[string]string{
		"binary":       "\x00\x01\x02\xff\xfe",
		"json":         `{"services": {}}`,
		"unterminated": "FROM alpine\nRUN <<EOF\necho",
		"badvar":       "FROM ${BASE:?base is required}",
		"badflag":      "FROM --nope=1 alpine",
		"json array":   `["FROM", "alpine"]`,
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			ws, err := Parse(name, []byte(in))
			if err == nil {
				t.Fatalf("Parse(%s) = %+v, nil; want an error", name, ws)
			}
			if !strings.HasPrefix(err.Error(), name+": line 1: ") && !strings.HasPrefix(err.Error(), name+": line 2: ") {
				t.Errorf("Parse(%s) error %q does not name the file", name, err)
			}
		})
	}
}

// FuzzParse: no input makes Parse panic, and every error names the file.
func FuzzParse(f *testing.F) {
	for _, p := range []string{"multistage.Dockerfile", "copyfrom.Dockerfile", "escape.Dockerfile", "heredoc.Dockerfile", "unresolved.Dockerfile"} {
		data, err := os.ReadFile(filepath.Join("testdata", p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Parse("fuzz.Dockerfile", data)
		if err != nil && !strings.HasPrefix(err.Error(), "fuzz.Dockerfile: ") {
			t.Errorf("error %q does not name the file", err)
		}
	})
}

func TestIsDockerfileName(t *testing.T) {
	for name, want := range map[string]bool{
		"Dockerfile":                 true,
		"app/Dockerfile":             true,
		"Containerfile":              true,
		"Dockerfile.prod":            true,
		"build/api.Dockerfile":       true,
		"api.dockerfile":             true,
		"Dockerfile.dockerignore":    false,
		".dockerignore":              false,
		"Dockerfiles/README.md":      false,
		"compose.yaml":               false,
		"mydockerfile":               false,
		"dockerfile-generator.go":    false,
		"testdata/simple.Dockerfile": true,
	} {
		if got := IsDockerfileName(name); got != want {
			t.Errorf("IsDockerfileName(%q) = %v, want %v", name, got, want)
		}
	}
}
