package install_test

import (
	"path/filepath"
	"testing"

	goldenfile "github.com/archwaydev/archway/internal/golden"
	"github.com/archwaydev/archway/internal/webhook/install"
)

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
	goldenfile.Check(t, filepath.Join("testdata", "chart.golden.yaml"), []byte(got))
	decode(t, got) // and it decodes strictly
}
