package ecs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/archwaydev/archway/internal/workload"
)

func at(file string, line, col int) workload.Location {
	return workload.Location{File: filepath.Join("testdata", file), Line: line, Column: col}
}

func td(file string, line int, name string, pinned []string, cs ...workload.Container) workload.Workload {
	if cs == nil {
		cs = []workload.Container{}
	}
	return workload.Workload{
		Source:              workload.SourceECS,
		Location:            at(file, line, 0),
		Kind:                "TaskDefinition",
		Name:                name,
		Containers:          cs,
		PinnedArchitectures: pinned,
	}
}

func ctr(name, image string, loc workload.Location) workload.Container {
	return workload.Container{Name: name, Kind: workload.ContainerRegular, Image: image, Location: loc}
}

func TestRead(t *testing.T) {
	tests := []struct {
		file string
		want []workload.Workload
	}{
		{
			file: "describe.json",
			want: []workload.Workload{td("describe.json", 2, "checkout:7", []string{"arm64"},
				ctr("api", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout/api:2.1", at("describe.json", 7, 26)),
				ctr("log-router", "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable", at("describe.json", 26, 26)),
			)},
		},
		{
			// The image value on the line after its key: the value's line.
			file: "register.json",
			want: []workload.Workload{td("register.json", 1, "billing", []string{"amd64"},
				ctr("billing", "demo/legacy-billing:3.2", at("register.json", 9, 35)),
				ctr("envoy", "envoyproxy/envoy:v1.31-latest", at("register.json", 13, 9)),
			)},
		},
		{
			file: "array.json",
			want: []workload.Workload{
				td("array.json", 3, "web:12", nil, ctr("web", "demo/api:2.1", at("array.json", 6, 58))),
				td("array.json", 9, "jobs", nil, ctr("runner", "<IMAGE1_NAME>", at("array.json", 11, 59))),
			},
		},
		{
			file: "containers.json",
			want: []workload.Workload{td("containers.json", 1, "containers", nil,
				ctr("app", "demo/worker:1.0", at("containers.json", 4, 14)),
				ctr("metrics", "demo/sidecar:1.0", at("containers.json", 10, 14)),
			)},
		},
		{
			// One line: the column tells the containers apart.
			file: "minified.json",
			want: []workload.Workload{td("minified.json", 1, "mini:3", nil,
				ctr("a", "demo/api:2.1", at("minified.json", 1, 93)),
				ctr("containerDefinitions[1]", "demo/queue:2.0", at("minified.json", 1, 118)),
			)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := Read(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Read(%s) mismatch (-want +got):\n%s", tt.file, diff)
			}
		})
	}
}

// TestReadPartial: each bad task definition is its own error with its
// line; the good ones are still returned, in order.
func TestReadPartial(t *testing.T) {
	path := filepath.Join("testdata", "errors", "partial.json")
	got, err := Read(path)
	var names []string
	for _, w := range got {
		names = append(names, w.Name)
	}
	if diff := cmp.Diff([]string{"ok", "ok2"}, names); diff != "" {
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
		path + `: line 3, column 3: array element is not a task definition`,
		path + `: line 4, column 3: task definition without a family`,
		path + `: line 5, column 51: container c: no image (task definition noimage)`,
		path + `: line 6, column 66: runtimePlatform.cpuArchitecture: unknown value "SPARC" (want X86_64 or ARM64) (task definition badarch)`,
		path + `: line 8, column 51: task definition notarray: containerDefinitions: want an array`,
		path + `: line 9, column 76: container f: image: want a non-empty string (task definition numimage)`,
	}
	if diff := cmp.Diff(want, parts); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		file  string
		want  string
		notTD bool
	}{
		{file: "trailingcomma.json", want: "line 5, column 3: invalid character ']' looking for beginning of value"},
		{file: "truncated.json", want: "line 4, column 1: unexpected end of JSON input"},
		{file: "two-values.json", want: "line 2, column 1: unexpected data after the top-level value"},
		{file: "package.json", want: "line 1, column 1: not an ECS task definition: no containerDefinitions or taskDefinition", notTD: true},
		{file: "empty-array.json", want: "line 1, column 1: not an ECS task definition: an empty array", notTD: true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "errors", tt.file)
			got, err := Read(path)
			if err == nil || err.Error() != path+": "+tt.want {
				t.Fatalf("Read = %v, %v; want error %q", got, err, path+": "+tt.want)
			}
			if is := errors.Is(err, ErrNotTaskDefinition); is != tt.notTD {
				t.Errorf("errors.Is(err, ErrNotTaskDefinition) = %v, want %v", is, tt.notTD)
			}
		})
	}
	if _, err := Read(filepath.Join("testdata", "nope.json")); err == nil || !strings.HasPrefix(err.Error(), "ecs: stat ") {
		t.Errorf("Read(missing) error = %v", err)
	}
}

// TestParseGarbage: input that is not JSON, or JSON nested oddly, gives
// an error naming the file, never a panic.
func TestParseGarbage(t *testing.T) {
	inputs := map[string]string{
		"binary":      "\x00\x01\xff",
		"yaml":        "family: x\ncontainerDefinitions: []",
		"deep":        strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
		"number":      "42",
		"bad escape":  `{"family": "\x"}`,
		"key only":    `{"family"}`,
		"open string": `{"family": "x`,
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			ws, err := Parse(name, []byte(in))
			if err == nil {
				t.Fatalf("Parse = %+v, nil; want an error", ws)
			}
			if !strings.HasPrefix(err.Error(), name+": line ") {
				t.Errorf("error %q does not name the file and line", err)
			}
		})
	}
}

func TestLines(t *testing.T) {
	ls := newLines([]byte("ab\ncd\n\nef"))
	for _, tt := range []struct{ off, line, col int }{
		{0, 1, 1}, {2, 1, 3}, {3, 2, 1}, {5, 2, 3}, {6, 3, 1}, {7, 4, 1}, {9, 4, 3},
	} {
		if line, col := ls.at(tt.off); line != tt.line || col != tt.col {
			t.Errorf("at(%d) = %d:%d, want %d:%d", tt.off, line, col, tt.line, tt.col)
		}
	}
}

// FuzzParse: no input makes Parse panic, and every error names the file.
func FuzzParse(f *testing.F) {
	for _, p := range []string{"describe.json", "register.json", "array.json", "containers.json", "minified.json", "errors/partial.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(p)))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Parse("fuzz.json", data)
		if err != nil && !strings.Contains(err.Error(), "fuzz.json: ") {
			t.Errorf("error %q does not name the file", err)
		}
	})
}

// TestParseEmpty: an empty or whitespace-only file (--kind ecs on a file
// not yet written, say) holds no task definitions, and is no error.
func TestParseEmpty(t *testing.T) {
	for _, data := range []string{"", " \n\t\r\n"} {
		if ws, err := Parse("empty.json", []byte(data)); err != nil || len(ws) != 0 {
			t.Errorf("Parse(%q) = %d workloads, %v; want none, nil", data, len(ws), err)
		}
	}
}
