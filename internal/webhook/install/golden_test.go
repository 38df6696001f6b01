package install_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/archwaydev/archway/internal/webhook/install"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestChartGolden pins the whole rendered chart (pre-created Secret, so no
// generated certificate makes it differ between runs). Regenerate with
// go test ./internal/webhook/install -update.
func TestChartGolden(t *testing.T) {
	got, err := install.Render("archway", "archway", map[string]any{
		"tls":      map[string]any{"existingSecret": "archway-tls", "caBundle": "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"},
		"armTaint": "arm=true:NoSchedule",
		"prefer":   "arm64=80",
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "chart.golden.yaml")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
	decode(t, got) // and it decodes strictly
}
