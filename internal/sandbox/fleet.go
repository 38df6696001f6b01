package sandbox

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// fleet is the example fleet; "all:" keeps the chart's _helpers.tpl.
//
//go:embed all:fleet
var fleet embed.FS

// fleetRoot is the embedded directory holding the fleet.
const fleetRoot = "fleet"

// FleetPlaceholder starts every image reference in the example fleet's
// files; [WriteFleet] replaces it with the registry host.
const FleetPlaceholder = "REGISTRY"

// FleetFiles returns the paths of the example fleet's files, relative to
// the directory [WriteFleet] writes to, slash-separated and sorted:
// Kubernetes manifests under k8s/, a Helm chart under chart/, compose.yaml
// with the Dockerfile it builds under app/, and an ECS task definition
// under ecs/.
func FleetFiles() []string {
	var out []string
	// The embedded tree is fixed at build time; walking it cannot fail.
	_ = fs.WalkDir(fleet, fleetRoot, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, strings.TrimPrefix(p, fleetRoot+"/"))
		}
		return err
	})
	return out // WalkDir visits in lexical order
}

// WriteFleet writes the example fleet (see [FleetFiles]) under dir, which
// is created if needed, with every image reference pointing at the
// registry at registryHost (e.g. "127.0.0.1:5000"), whose catalogue is
// [Catalog]. Each file is written atomically (a temporary file renamed
// into place), so a reader never sees half a file; existing files are
// replaced.
func WriteFleet(dir, registryHost string) error {
	if registryHost == "" || strings.ContainsAny(registryHost, "/ \t\r\n") {
		return fmt.Errorf("sandbox: write fleet: invalid registry host %q", registryHost)
	}
	from := []byte(FleetPlaceholder + "/")
	to := []byte(registryHost + "/")
	for _, rel := range FleetFiles() {
		data, err := fleet.ReadFile(path.Join(fleetRoot, rel))
		if err != nil {
			return fmt.Errorf("sandbox: write fleet: %w", err)
		}
		target := filepath.Join(dir, filepath.FromSlash(rel))
		if err := writeFileAtomic(target, bytes.ReplaceAll(data, from, to)); err != nil {
			return fmt.Errorf("sandbox: write fleet: %w", err)
		}
	}
	return nil
}

// writeFileAtomic writes data to a temporary file next to name and renames
// it into place.
func writeFileAtomic(name string, data []byte) (err error) {
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, os.Remove(f.Name()))
		}
	}()
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}
