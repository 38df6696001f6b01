package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// writeFiles writes files (slash paths to contents) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestScanNothingFound: a scan with nothing to judge is a usage error that
// says what was read and skipped, unless --allow-empty.
func TestScanNothingFound(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeFiles(t, dir, map[string]string{"empty/.keep": "", "links/real/pod.txt": "not yaml", "mixed/empty.yaml": "", "mixed/notes.md": "# notes\n"})
	if err := os.Symlink("real/pod.txt", filepath.Join(dir, "links", "pod.yaml")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"empty"}, ExitUsage, "no workload found: 0 inputs read, 1 skipped (empty/.keep: not a known kind of input)"},
		// links/pod.yaml links to links/real/pod.txt: read once, under that name (package walk).
		{[]string{"links"}, ExitUsage, "links/real/pod.txt: not a known kind of input"},
		{[]string{"mixed"}, ExitUsage, "no workload found: 1 input read, 1 skipped (mixed/notes.md: not a known kind of input)"},
		{[]string{"mixed/empty.yaml"}, ExitUsage, "no workload found: 1 input read, nothing skipped (--allow-empty to accept an empty scan)"},
		{[]string{"--allow-empty", "empty", "mixed"}, ExitOK, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got := runArchway(t.Context(), "", append([]string{"scan", "--no-cache", "-o", "json"}, tt.args...)...)
			if got.code != tt.code || !strings.Contains(got.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", got.code, got.stderr, tt.code, tt.want)
			}
		})
	}
}

// TestScanChartKubeVersion: a chart declaring a current kubeVersion renders
// by default; --kube-version renders it for another version, as helm
// template does; --api-versions reaches .Capabilities.
func TestScanChartKubeVersion(t *testing.T) {
	host := startSandbox(t)
	dir := t.TempDir()
	t.Chdir(dir)
	writeFiles(t, dir, map[string]string{
		"chart/Chart.yaml":  "apiVersion: v2\nname: api\nversion: 1.0.0\nkubeVersion: \">=1.25.0-0\"\n",
		"chart/values.yaml": "image: " + host + "/demo/api:2.1\n",
		"chart/templates/deployment.yaml": "apiVersion: apps/v1\nkind: {{ if .Capabilities.APIVersions.Has \"argoproj.io/v1alpha1/Rollout\" }}Rollout{{ else }}Deployment{{ end }}\n" +
			"metadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: {{ .Values.image }}\n",
	})
	got := runArchway(t.Context(), "", "scan", "--no-cache", "-o", "json", "chart")
	if got.code != ExitOK || !strings.Contains(got.stdout, `"id": "Deployment/api"`) {
		t.Errorf("default: exit %d, stderr %q; want 0 and Deployment/api:\n%s", got.code, got.stderr, got.stdout)
	}
	if !strings.Contains(got.stdout, `"file": "chart/templates/deployment.yaml",
            "line": 10,`) {
		t.Errorf("the image is not located at chart/templates/deployment.yaml:10:\n%s", got.stdout)
	}
	got = runArchway(t.Context(), "", "scan", "--no-cache", "-o", "json", "--kube-version", "1.24.0", "chart")
	if got.code != ExitError || !strings.Contains(got.stderr, "chart requires kubeVersion >=1.25.0-0, which is incompatible with Kubernetes v1.24.0") {
		t.Errorf("--kube-version 1.24.0: exit %d, stderr %q", got.code, got.stderr)
	}
	got = runArchway(t.Context(), "", "scan", "--no-cache", "-o", "json", "--api-versions", "argoproj.io/v1alpha1/Rollout", ".")
	if got.code != ExitOK || !strings.Contains(got.stdout, `"id": "Rollout/api"`) {
		t.Errorf("--api-versions in a walk: exit %d, stderr %q; want Rollout/api:\n%s", got.code, got.stderr, got.stdout)
	}
	got = runArchway(t.Context(), "", "scan", "--kube-version", "one.two", "chart")
	if got.code != ExitUsage || !strings.Contains(got.stderr, `--kube-version "one.two"`) {
		t.Errorf("bad --kube-version: exit %d, stderr %q", got.code, got.stderr)
	}
}

// TestScanKustomizeNotes: kustomize's deprecation warnings are notes, once
// per kustomization file, silenced by -q, and never printed raw.
func TestScanKustomizeNotes(t *testing.T) {
	host := startSandbox(t)
	dir := t.TempDir()
	t.Chdir(dir)
	writeFiles(t, dir, map[string]string{
		"base/kustomization.yaml": "commonLabels:\n  team: shop\nresources:\n  - api.yaml\n",
		"base/api.yaml":           "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: " + host + "/demo/api:2.0\n",
		"prod/kustomization.yaml": "resources:\n  - ../base\nimages:\n  - name: " + host + "/demo/api\n    newTag: \"2.1\"\n",
	})
	got := runArchway(t.Context(), "", "scan", "--no-cache", "-o", "json", "prod")
	if got.code != ExitOK {
		t.Fatalf("exit %d, stderr %q", got.code, got.stderr)
	}
	note := "archway: scan: note: base/kustomization.yaml: 'commonLabels' is deprecated. Please use 'labels' instead."
	if strings.Count(got.stderr, note) != 1 || strings.Contains(got.stderr, "# Warning") {
		t.Errorf("stderr = %q, want the note %q once and no raw warning", got.stderr, note)
	}
	if !strings.Contains(got.stdout, `"file": "prod/kustomization.yaml",
            "line": 4,`) {
		t.Errorf("the image set by images: is not located at prod/kustomization.yaml:4:\n%s", got.stdout)
	}
	got = runArchway(t.Context(), "", "scan", "--no-cache", "-q", "-o", "json", "prod")
	if got.code != ExitOK || got.stderr != "" {
		t.Errorf("-q: exit %d, stderr %q; want nothing on stderr", got.code, got.stderr)
	}
}

// TestScanSARIFSchema checks scan's SARIF against the SARIF 2.1.0 JSON
// schema (OASIS, errata 01; vendored from the testdata of
// github.com/securego/gosec/v2 v2.29.0), and that a chart's results open
// the template file on disk.
func TestScanSARIFSchema(t *testing.T) {
	pkgDir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	schemaFile, err := os.Open(filepath.Join(pkgDir, "testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer schemaFile.Close()
	doc, err := jsonschema.UnmarshalJSON(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("sarif-schema-2.1.0.json", doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	scanFleet(t)
	got := runArchway(t.Context(), "", "scan", "--no-cache", "-o", "sarif", ".")
	if got.code != ExitUnsupported {
		t.Fatalf("exit %d, stderr %q", got.code, got.stderr)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(got.stdout)))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(inst); err != nil {
		t.Errorf("SARIF output is not valid SARIF 2.1.0: %v", err)
	}
	// The schema accepts anything in a URI; the file must exist.
	var log struct {
		Runs []struct {
			Results []struct {
				Properties struct{ Workload string }
				Locations  []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine int }
					}
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(got.stdout), &log); err != nil {
		t.Fatal(err)
	}
	var chart bool
	for _, r := range log.Runs[0].Results {
		pl := r.Locations[0].PhysicalLocation
		data, err := os.ReadFile(filepath.FromSlash(pl.ArtifactLocation.URI))
		if err != nil {
			t.Errorf("%s: result opens %s: %v", r.Properties.Workload, pl.ArtifactLocation.URI, err)
			continue
		}
		if lines := strings.Count(string(data), "\n") + 1; pl.Region.StartLine > lines {
			t.Errorf("%s: line %d past the end of %s", r.Properties.Workload, pl.Region.StartLine, pl.ArtifactLocation.URI)
		}
		if pl.ArtifactLocation.URI == "chart/templates/deployment.yaml" {
			chart = true
			if line := strings.Split(string(data), "\n")[pl.Region.StartLine-1]; !strings.Contains(line, "image:") {
				t.Errorf("chart result at line %d, %q: not the image line", pl.Region.StartLine, line)
			}
		}
	}
	if !chart {
		t.Errorf("no result opens chart/templates/deployment.yaml:\n%s", got.stdout)
	}
}

// TestPlaceCustomResources: place leaves a monitoring stack's custom
// resources alone and says so, one note each.
func TestPlaceCustomResources(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "source", "kube", "testdata", "operators", "monitoring.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	writeFiles(t, dir, map[string]string{"monitoring.yaml": string(data)})
	got := runArchway(t.Context(), "", "place", "--dry-run", "--no-cache", "monitoring.yaml")
	if got.code != ExitOK || got.stdout != "" {
		t.Errorf("exit %d, stdout %q; want 0 and no diff", got.code, got.stdout)
	}
	for _, want := range []string{
		"monitoring.yaml: note: line 2: Prometheus main: a custom resource naming images (spec.image, spec.thanos.image) with no pod template, left alone: its operator schedules the pods",
		"monitoring.yaml: note: line 19: Alertmanager main:",
		"monitoring.yaml: note: line 47: Database orders:",
	} {
		if !strings.Contains(got.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, got.stderr)
		}
	}
}
