package install_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"

	goldenfile "github.com/archwaydev/archway/internal/golden"
	"github.com/archwaydev/archway/internal/webhook/install"
)

// valuesFiles returns the values files under testdata/values by name.
func valuesFiles(t *testing.T) map[string]map[string]any {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "values", "*.yaml"))
	if err != nil || len(paths) < 4 {
		t.Fatalf("values files %v: %v", paths, err)
	}
	out := map[string]map[string]any{}
	for _, p := range paths {
		v, err := chartutil.ReadValuesFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(p), ".yaml")] = v
	}
	return out
}

// TestChartGolden pins the whole rendered chart for each values file under
// testdata/values (no generated certificate, so runs do not differ), and
// checks each decodes strictly. Regenerate with
// go test ./internal/webhook/install -update.
func TestChartGolden(t *testing.T) {
	for name, values := range valuesFiles(t) {
		t.Run(name, func(t *testing.T) {
			got, err := install.Render("archway", "archway", values)
			if err != nil {
				t.Fatal(err)
			}
			goldenfile.Check(t, filepath.Join("testdata", name+".golden.yaml"), []byte(got))
			decode(t, got)
		})
	}
}

// TestChartLint runs Helm's own linter (what `helm lint --strict` runs) on
// the chart directory with each values file: no warning or error.
func TestChartLint(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "deploy", "charts", "archway")
	if _, err := os.Stat(filepath.Join(dir, "Chart.yaml")); err != nil {
		t.Fatal(err)
	}
	for name, values := range valuesFiles(t) {
		t.Run(name, func(t *testing.T) {
			linter := lint.All(dir, values, "archway", true)
			for _, m := range linter.Messages {
				if m.Severity >= support.WarningSev {
					t.Errorf("helm lint: %s", m)
				}
			}
			if linter.HighestSeverity >= support.WarningSev {
				t.Errorf("helm lint highest severity %d", linter.HighestSeverity)
			}
		})
	}
	// And the linter does see a template that renders broken YAML.
	broken := map[string]any{"certManager": map[string]any{"enabled": true}, "priorityClassName": "a: b"}
	if l := lint.All(dir, broken, "archway", true); l.HighestSeverity != support.ErrorSev {
		t.Errorf("helm lint of a broken render: highest severity %d, want an error: %v", l.HighestSeverity, l.Messages)
	}
}
