package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/archwaydev/archway/internal/sandbox"
)

// scanFleet serves the catalogue, writes the example fleet pointing at it
// into a temporary directory and makes that the working directory, so
// locations in reports are relative ("k8s/api.yaml"). It returns the
// registry host.
func scanFleet(t *testing.T) string {
	t.Helper()
	host := startSandbox(t)
	dir := t.TempDir()
	if err := sandbox.WriteFleet(dir, host); err != nil {
		t.Fatalf("WriteFleet: %v", err)
	}
	t.Chdir(dir)
	return host
}

// fleetVerdicts are the example fleet's workloads and their arm64 verdicts.
var fleetVerdicts = map[string]string{
	"Deployment/shop/api":           "ready",
	"Deployment/shop/billing":       "not-ready",
	"Deployment/shop/edge":          "ready",
	"CronJob/shop/report":           "unknown",
	"DaemonSet/shop/worker":         "ready",
	"Deployment/release-name-queue": "not-ready",
	"Service/shop/api":              "ready",
	"Service/shop/queue":            "not-ready",
	"Service/shop/billing":          "not-ready",
	"TaskDefinition/checkout:4":     "not-ready",
	// app/Dockerfile is reported under Service/shop/billing, which builds it.
}

// scanJSON is the part of scan's JSON output the tests look at.
type scanJSON struct {
	Workloads []struct {
		ID, Verdict string
	} `json:"workloads"`
}

func verdictsOf(t *testing.T, stdout string) map[string]string {
	t.Helper()
	var rep scanJSON
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("decoding scan JSON: %v\n%s", err, stdout)
	}
	got := map[string]string{}
	for _, w := range rep.Workloads {
		got[w.ID] = w.Verdict
	}
	return got
}

func TestScanFleetVerdicts(t *testing.T) {
	scanFleet(t)
	got := runArchway(t.Context(), "", "scan", "--no-cache", ".")
	if got.code != ExitUnsupported {
		t.Errorf("exit code = %d, want %d; stderr:\n%s", got.code, ExitUnsupported, got.stderr)
	}
	if diff := cmp.Diff(fleetVerdicts, verdictsOf(t, got.stdout)); diff != "" {
		t.Errorf("verdicts (-want +got):\n%s\nstdout:\n%s", diff, got.stdout)
	}
}

func TestScanGolden(t *testing.T) {
	pkgDir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	host := scanFleet(t)
	for _, format := range []string{"table", "json"} {
		t.Run(format, func(t *testing.T) {
			got := runArchway(t.Context(), "", "scan", "--no-cache", "-o", format, ".")
			if got.code != ExitUnsupported {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", got.code, ExitUnsupported, got.stderr)
			}
			if got.stderr != "" {
				t.Errorf("stderr = %q, want nothing", got.stderr)
			}
			out := strings.ReplaceAll(got.stdout, host, hostPlaceholder)
			t.Chdir(pkgDir) // golden files are under the package's testdata
			golden(t, "scan_"+format+".golden", out)
		})
	}
}

// TestScanFailOn: the exit code follows --fail-on, over inputs whose worst
// verdict is not-ready, unknown and ready.
func TestScanFailOn(t *testing.T) {
	scanFleet(t)
	tests := []struct {
		path, failOn string
		want         int
	}{
		{".", "", ExitUnsupported},
		{".", "unknown", ExitUnsupported},
		{".", "not-ready", ExitUnsupported},
		{".", "never", ExitOK},
		{"k8s/report.yaml", "", ExitUnknown},
		{"k8s/report.yaml", "unknown", ExitUnknown},
		{"k8s/report.yaml", "not-ready", ExitOK},
		{"k8s/report.yaml", "never", ExitOK},
		{"k8s/api.yaml", "", ExitOK},
		{"k8s/api.yaml", "unknown", ExitOK},
		{"k8s/", "not-ready", ExitUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.path+"/"+tt.failOn, func(t *testing.T) {
			args := []string{"scan", "--no-cache", "-o", "json", tt.path}
			if tt.failOn != "" {
				args = append(args, "--fail-on", tt.failOn)
			}
			got := runArchway(t.Context(), "", args...)
			if got.code != tt.want {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", got.code, tt.want, got.stderr)
			}
		})
	}
}

// TestScanInputs: --kind, Helm values and --set, and several paths at once,
// with images shared between them.
func TestScanInputs(t *testing.T) {
	scanFleet(t)
	tests := []struct {
		name string
		args []string
		want map[string]string
	}{
		{"chart", []string{"chart"}, map[string]string{"Deployment/release-name-queue": "not-ready"}},
		{"chart --set", []string{"chart", "--set", "image.tag=2.0"}, map[string]string{"Deployment/release-name-queue": "ready"}},
		{"chart -f", []string{"chart", "-f", "values-2.1.yaml"}, map[string]string{"Deployment/release-name-queue": "ready"}},
		{"compose", []string{"compose.yaml"}, map[string]string{"Service/shop/api": "ready", "Service/shop/queue": "not-ready", "Service/shop/billing": "not-ready"}},
		{"dockerfile", []string{"app/Dockerfile"}, map[string]string{"Dockerfile/app/Dockerfile": "not-ready"}},
		{"ecs", []string{"ecs/taskdef.json"}, map[string]string{"TaskDefinition/checkout:4": "not-ready"}},
		{"--kind ecs", []string{"--kind", "ecs", "ecs/taskdef.json"}, map[string]string{"TaskDefinition/checkout:4": "not-ready"}},
		{"two paths", []string{"k8s/api.yaml", "k8s/edge.yaml"}, map[string]string{"Deployment/shop/api": "ready", "Deployment/shop/edge": "ready"}},
	}
	if err := os.WriteFile("values-2.1.yaml", []byte("image:\n  tag: \"2.1\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runArchway(t.Context(), "", append([]string{"scan", "--no-cache", "--fail-on", "never"}, tt.args...)...)
			if got.code != ExitOK {
				t.Errorf("exit code = %d, want 0; stderr:\n%s", got.code, got.stderr)
			}
			if diff := cmp.Diff(tt.want, verdictsOf(t, got.stdout)); diff != "" {
				t.Errorf("verdicts (-want +got):\n%s", diff)
			}
		})
	}
}

// TestScanBadInput: a malformed file among good ones is reported on
// stderr by name, the rest is still scanned and reported, and the exit
// code is ExitError.
func TestScanBadInput(t *testing.T) {
	scanFleet(t)
	if err := os.WriteFile(filepath.Join("k8s", "broken.yaml"), []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"notes.txt":         "not an input\n",   // given as a PATH below: an error
		"README.md":         "# not an input\n", // found in the walk: skipped
		"broken.json":       "{\"apiVersion\": \"v1\",\n  \"kind\": ",
		".git/config.yaml":  "{{{ not read: dot-directories are skipped",
		"nested/deeper.yml": "kind: Pod\napiVersion: v1\nmetadata: {name: deeper, namespace: shop}\nspec:\n  containers: [{name: c, image: [oops]}]\n",
	} {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := runArchway(t.Context(), "", "scan", "--no-cache", "--fail-on", "never", ".", "notes.txt")
	if got.code != ExitError {
		t.Errorf("exit code = %d, want %d", got.code, ExitError)
	}
	for _, want := range []string{"k8s/broken.yaml", "notes.txt", "broken.json: line 2", "nested/deeper.yml", "4 problems reading the inputs"} {
		if !strings.Contains(got.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, got.stderr)
		}
	}
	for _, unwanted := range []string{".git", "README.md"} {
		if strings.Contains(got.stderr, unwanted) {
			t.Errorf("stderr mentions %q, which the walk skips:\n%s", unwanted, got.stderr)
		}
	}
	if diff := cmp.Diff(fleetVerdicts, verdictsOf(t, got.stdout)); diff != "" {
		t.Errorf("the good inputs' verdicts (-want +got):\n%s", diff)
	}
}

// TestScanOutputFile: --output-file gets the report, in the format its
// extension names unless -o says otherwise, and stdout stays empty.
func TestScanOutputFile(t *testing.T) {
	scanFleet(t)
	tests := []struct {
		file, format, want string
	}{
		{"report.html", "", "<!DOCTYPE html>"},
		{"report.sarif", "", `"version": "2.1.0"`},
		{"report.md", "", "| Workload"},
		{"report.out", "json", `"schemaVersion": 2`},
		{"report.txt", "", "NOT READY (5)"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			args := []string{"scan", "--no-cache", "--output-file", tt.file, "k8s", "compose.yaml", "chart", "app", "ecs"}
			if tt.format != "" {
				args = append(args, "-o", tt.format)
			}
			got := runArchway(t.Context(), "", args...)
			if got.code != ExitUnsupported {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", got.code, ExitUnsupported, got.stderr)
			}
			if got.stdout != "" {
				t.Errorf("stdout = %q, want nothing", got.stdout)
			}
			if want := "to " + tt.file + " (10 workloads: 4 ready, 5 not ready, 1 unknown)"; !strings.Contains(got.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, got.stderr)
			}
			data, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), tt.want) {
				t.Errorf("%s lacks %q", tt.file, tt.want)
			}
		})
	}
	left, err := filepath.Glob(".report.*")
	if err != nil || len(left) != 0 {
		t.Errorf("temporary files left behind: %v %v", left, err)
	}
	// -q: nothing on stderr.
	got := runArchway(t.Context(), "", "scan", "-q", "--no-cache", "--output-file", "q.json", "k8s/api.yaml")
	if got.code != ExitOK || got.stderr != "" || got.stdout != "" {
		t.Errorf("scan -q: exit %d, stdout %q, stderr %q; want 0 and nothing", got.code, got.stdout, got.stderr)
	}
}

func TestScanUsage(t *testing.T) {
	scanFleet(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no input", nil, "nothing to scan"},
		{"missing path", []string{"nope.yaml"}, "nope.yaml"},
		{"bad kind", []string{"--kind", "terraform", "k8s"}, "--kind"},
		{"bad platform", []string{"--platform", "linux/arm64/v8/x", "k8s"}, "--platform"},
		{"two platforms", []string{"--platform", "linux/arm64,linux/amd64", "k8s"}, "one platform"},
		{"bad fail-on", []string{"--fail-on", "sometimes", "k8s"}, "--fail-on"},
		{"bad format", []string{"-o", "xml", "k8s"}, "-o"},
		{"-A and -n", []string{"--cluster", "-A", "-n", "x"}, "exclude each other"},
		{"--context without --cluster", []string{"--context", "prod", "k8s"}, "only apply with --cluster"},
		{"--set without a value", []string{"--set", "foo", "k8s"}, `--set "foo": key "foo" has no value`},
		{"bad jobs", []string{"--jobs", "0", "k8s"}, "--jobs"},
		{"--username without --registry-auth", []string{"--username", "me", "--password-stdin", "k8s"}, "--registry-auth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runArchway(t.Context(), "", append([]string{"scan"}, tt.args...)...)
			if got.code != ExitUsage {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", got.code, ExitUsage, got.stderr)
			}
			if !strings.Contains(got.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, got.stderr)
			}
		})
	}
}

// recordingLookup answers every reference as unknown and records what it
