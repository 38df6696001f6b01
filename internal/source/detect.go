package source

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/archwaydev/archway/internal/source/compose"
	"github.com/archwaydev/archway/internal/source/dockerfile"
	"github.com/archwaydev/archway/internal/source/kube"
	"github.com/archwaydev/archway/internal/source/kustomize"
	"github.com/archwaydev/archway/internal/walk"
)

// chartFile names a Helm chart's metadata file.
const chartFile = "Chart.yaml"

// bom is the UTF-8 byte order mark some editors write first.
var bom = []byte("\xef\xbb\xbf")

// Detect tells which kind of input path is:
//
//   - a directory with a kustomization file is Kustomize, one with a
//     Chart.yaml is Helm, any other is Directory;
//   - Chart.yaml is Helm and a kustomization file is Kustomize (for their
//     directory); a .tgz or .tar.gz holding <name>/Chart.yaml is Helm;
//   - Dockerfile, Containerfile, *.Dockerfile and Dockerfile.* (but not
//     *.dockerignore) are Dockerfile;
//   - compose.yaml, docker-compose.yml and their variants
//     (docker-compose.override.yml, compose.prod.yaml, ...) are Compose;
//   - JSON with containerDefinitions or taskDefinition (or an array of
//     those, or of container definitions) is ECS; JSON with apiVersion and
//     kind is Kubernetes;
//   - YAML with a document holding apiVersion and kind is Kubernetes; YAML
//     with a top-level services mapping is Compose;
//   - an empty or whitespace-only .yaml, .yml or .json file is Kubernetes
//     with no objects, as kubectl reads it.
//
// Anything else is an error wrapping ErrUnknownKind. JSON that does not
// parse is a *kube.Error naming the file and line; YAML that does not
// parse is Kubernetes, so that package reports the bad document with its
// line and still reads the good ones.
func Detect(p string) (Kind, error) {
	kind, _, err := detect(p)
	return kind, err
}

// detect is Detect, also returning the file's content when detection had to
// read it (JSON and YAML files), so that the reader need not read it again.
func detect(p string) (Kind, []byte, error) {
	info, err := os.Stat(p)
	if err != nil {
		return "", nil, err
	}
	if info.IsDir() {
		return dirKind(p), nil, nil
	}
	return detectFile(p)
}

// dirKind is the kind of directory dir.
func dirKind(dir string) Kind {
	for _, name := range kustomize.FileNames {
		if isFile(filepath.Join(dir, name)) {
			return Kustomize
		}
	}
	if isFile(filepath.Join(dir, chartFile)) {
		return Helm
	}
	return Directory
}

func isFile(p string) bool {
	info, err := os.Stat(p)
	return err == nil && !info.IsDir()
}

// detectFile is the kind of regular file p, and its content when it had to
// be read to tell.
func detectFile(p string) (Kind, []byte, error) {
	base := filepath.Base(p)
	lower := strings.ToLower(base)
	ext := strings.ToLower(filepath.Ext(base))
	switch {
	case base == chartFile:
		return Helm, nil, nil
	case slices.Contains(kustomize.FileNames, base):
		return Kustomize, nil, nil
	case dockerfile.IsDockerfileName(lower):
		return Dockerfile, nil, nil
	case compose.IsComposeFileName(lower):
		return Compose, nil, nil
	case strings.HasSuffix(lower, ".tgz") || strings.HasSuffix(lower, ".tar.gz"):
		if isChartArchive(p) {
			return Helm, nil, nil
		}
	case ext == ".json" || ext == ".yaml" || ext == ".yml":
		data, err := walk.ReadFile(p)
		if err != nil {
			return "", nil, err
		}
		if len(bytes.TrimSpace(bytes.TrimPrefix(data, bom))) == 0 {
			return Kubernetes, data, nil // no objects, as kubectl reads it
		}
		detectData := detectYAML
		if ext == ".json" {
			detectData = detectJSON
		}
		kind, err := detectData(p, data)
		return kind, data, err
	}
	return "", nil, fmt.Errorf("%s: %w", p, ErrUnknownKind)
}

// isChartArchive reports whether the gzipped tar at p holds a chart: a
// top-level directory with a Chart.yaml.
func isChartArchive(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return false
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			return false
		}
		parts := strings.Split(strings.TrimPrefix(path.Clean(h.Name), "./"), "/")
		if len(parts) == 2 && parts[1] == chartFile {
			return true
		}
	}
}

// detectJSON tells ECS task definitions from Kubernetes objects.
func detectJSON(p string, data []byte) (Kind, error) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		e := &kube.Error{File: p, Err: err}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			e.Line = lineAt(data, se.Offset)
		}
		return "", e
	}
	objs, isArray := v.([]any)
	if !isArray {
		objs = []any{v}
	}
	for _, o := range objs {
		m, ok := o.(map[string]any)
		if !ok {
			break
		}
		switch {
		case has(m, "containerDefinitions"), has(m, "taskDefinition"):
			return ECS, nil
		case has(m, "apiVersion") && has(m, "kind"):
			return Kubernetes, nil
		case isArray && has(m, "image") && has(m, "name"):
			return ECS, nil // a bare array of container definitions
		}
	}
	return "", fmt.Errorf("%s: %w", p, ErrUnknownKind)
}

func has(m map[string]any, key string) bool {
	_, ok := m[key]
	return ok
}

// lineAt is the 1-based line of byte offset off in data.
func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// detectYAML tells Kubernetes manifests from compose files. Most files say
// which they are in their top-level keys, written at column 0 in block
// style, so a line scan answers without parsing; flow-style or otherwise
// unusual files fall back to decoding.
func detectYAML(p string, data []byte) (Kind, error) {
	if kind, ok := detectYAMLKeys(data); ok {
		return kind, nil
	}
	return decodeYAMLKind(p, data)
}

// detectYAMLKeys looks for the top-level keys that name a kind: apiVersion
// and kind in one document for Kubernetes, services for compose.
func detectYAMLKeys(data []byte) (Kind, bool) {
	var apiVersion, kind bool
	for line := range bytes.Lines(data) {
		switch {
		case bytes.HasPrefix(line, []byte("---")):
			apiVersion, kind = false, false
		case bytes.HasPrefix(line, []byte("apiVersion:")):
			apiVersion = true
		case bytes.HasPrefix(line, []byte("kind:")):
			kind = true
		case bytes.HasPrefix(line, []byte("services:")):
			return Compose, true
		}
		if apiVersion && kind {
			return Kubernetes, true
		}
	}
	return "", false
}

// decodeYAMLKind decides by decoding the documents one by one.
func decodeYAMLKind(p string, data []byte) (Kind, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// Let the Kubernetes reader report it with its line; it also
			// reads the good documents around a bad one.
			return Kubernetes, nil
		}
		if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
			continue
		}
		keys := map[string]*yaml.Node{}
		m := doc.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			keys[m.Content[i].Value] = m.Content[i+1]
		}
		if keys["apiVersion"] != nil && keys["kind"] != nil {
			return Kubernetes, nil
		}
		if s := keys["services"]; s != nil && s.Kind == yaml.MappingNode {
			return Compose, nil
		}
	}
	return "", fmt.Errorf("%s: %w", p, ErrUnknownKind)
}
