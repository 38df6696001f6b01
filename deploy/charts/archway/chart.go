// Package archway embeds the archway Helm chart so the binary can render it
// (archway webhook manifests) and tests can load it with the Helm SDK.
package archway

import (
	"embed"
	"fmt"
	"io/fs"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
)

//go:embed Chart.yaml values.yaml .helmignore all:templates
var files embed.FS

// Load returns the chart.
func Load() (*chart.Chart, error) {
	var buffered []*loader.BufferedFile
	err := fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(path)
		if err != nil {
			return err
		}
		buffered = append(buffered, &loader.BufferedFile{Name: path, Data: b})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("archway chart: %w", err)
	}
	c, err := loader.LoadFiles(buffered)
	if err != nil {
		return nil, fmt.Errorf("archway chart: %w", err)
	}
	return c, nil
}
