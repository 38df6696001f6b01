package kustomize

import (
	"fmt"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/archwaydev/archway/internal/source/kube"
	"github.com/archwaydev/archway/internal/workload"
)

// FileNames are the names kustomize accepts for a kustomization file, in
// the order it looks for them.
var FileNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// DisplayName is the file name given to the build output of dir in
// workload and container locations.
func DisplayName(dir string) string { return "kustomize build " + dir }

// Read builds the kustomization in dir and returns the workloads of the
// output, with Source set to workload.SourceKustomize. A kustomization
// that does not build is an error with no workloads; an object of the
// output that is not a valid workload is a *kube.Error in the joined
// error, and the others are still returned.
func Read(dir string) ([]workload.Workload, error) {
	data, err := Build(dir)
	if err != nil {
		return nil, err
	}
	ws, err := kube.Parse(DisplayName(dir), data)
	for i := range ws {
		ws[i].Source = workload.SourceKustomize
	}
	return ws, err
}

// Build runs kustomize on dir with its default options and returns the
// output as a YAML stream.
func Build(dir string) ([]byte, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	data, err := m.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	return data, nil
}
