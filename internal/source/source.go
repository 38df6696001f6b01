package source

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/archwaydev/archway/internal/render"
	"github.com/archwaydev/archway/internal/source/compose"
	"github.com/archwaydev/archway/internal/source/dockerfile"
	"github.com/archwaydev/archway/internal/source/ecs"
	"github.com/archwaydev/archway/internal/source/helm"
	"github.com/archwaydev/archway/internal/source/kube"
	"github.com/archwaydev/archway/internal/source/kustomize"
	"github.com/archwaydev/archway/internal/walk"
	"github.com/archwaydev/archway/internal/workload"
)

// Kind is a kind of input.
type Kind string

// The input kinds Read understands.
const (
	Kubernetes Kind = "kubernetes" // YAML or JSON manifests, a file or a directory of them
	Helm       Kind = "helm"       // a chart directory or packaged .tgz
	Kustomize  Kind = "kustomize"  // a directory with a kustomization file
	ECS        Kind = "ecs"        // ECS task definition JSON
	Compose    Kind = "compose"    // a compose file
	Dockerfile Kind = "dockerfile" // a Dockerfile
	Directory  Kind = "directory"  // a plain directory, walked and detected per file
)

// Kinds lists every Kind, in the order above.
func Kinds() []Kind {
	return []Kind{Kubernetes, Helm, Kustomize, ECS, Compose, Dockerfile, Directory}
}

// ParseKind reads a kind name as a user writes it (e.g. a --kind flag);
// "k8s" is accepted for kubernetes, and "" or "auto" give "" (detect).
func ParseKind(s string) (Kind, error) {
	switch k := Kind(strings.ToLower(strings.TrimSpace(s))); k {
	case "", "auto":
		return "", nil
	case "k8s":
		return Kubernetes, nil
	default:
		if slices.Contains(Kinds(), k) {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown input kind %q (want one of %v)", s, Kinds())
}

// ErrUnknownKind is wrapped by Detect's error for a file of no known kind.
var ErrUnknownKind = errors.New("not a known kind of input")

// Options change how Read reads.
type Options struct {
	// Kind, when set, overrides detection.
	Kind Kind
	// Helm renders charts. Values files and --set values apply only when
	// the input itself is a chart; charts found while walking a directory
	// are rendered with their own values (ReleaseName, Namespace and
	// KubeVersion still apply).
	Helm helm.Options
	// Dockerfile holds the target stage and build arguments for a
	// Dockerfile input (not for Dockerfiles found in a directory walk).
	Dockerfile dockerfile.Options
	// Render bounds each chart render and kustomize build (package
	// render); the zero value is its defaults.
	Render render.Limits
	// AllowRemote lets kustomize fetch the remote resources, bases and
	// components a kustomization names (bounded by Render and
	// render.MaxRemoteBody); unset, such a kustomization fails, nothing
	// fetched.
	AllowRemote bool
	// Within are the directories the command was given: a directory walk
	// follows symbolic links that point inside one (package walk's rule).
	// Nil: the directory walked.
	Within []string
}

// Read reads the workloads of the input at path, of opts.Kind or else of
// the kind Detect finds. See the package doc for how problems are
// reported; ReadResult also says what was read and skipped.
func Read(ctx context.Context, path string, opts Options) ([]workload.Workload, error) {
	r := ReadResult(ctx, path, opts)
	return r.Workloads, errors.Join(r.Errs...)
}

// ReadResult reads the input at path as Read does and returns all it
// found: workloads, problems, notes, and what was read and skipped.
func ReadResult(ctx context.Context, path string, opts Options) Result {
	var r Result
	r.read(ctx, path, opts, false)
	return Merge(r)
}

// read reads the input at path into r. walked is true for an input a
// directory walk met: one of no known kind, or a kustomize Component, is
// then skipped rather than an error.
func (r *Result) read(ctx context.Context, path string, opts Options, walked bool) {
	kind := opts.Kind
	var data []byte // the file's content, when detection read it
	if kind == "" {
		var err error
		if kind, data, err = detect(path); err != nil {
			if walked && errors.Is(err, ErrUnknownKind) {
				r.Skipped = append(r.Skipped, Skip{Path: path, Why: whyUnknown})
				return
			}
			r.Errs = append(r.Errs, err)
			return
		}
	}
	if kind == Directory {
		r.readDir(ctx, path, opts)
		return
	}
	if kind == Kustomize && kustomize.IsComponent(kustomizationDir(path)) {
		if walked {
			r.Skipped = append(r.Skipped, Skip{Path: path, Why: whyComponent})
			return
		}
		r.Errs = append(r.Errs, fmt.Errorf("%s: %s: scan a kustomization that uses it", path, whyComponent))
		return
	}
	r.Read++
	if kind == Dockerfile && walked {
		r.walkedDockerfiles = append(r.walkedDockerfiles, path)
	}
	ws, err := r.readKind(ctx, path, kind, data, opts)
	if r.Workloads == nil {
		r.Workloads = ws // the reader's own slice: no copy of a large file's workloads
	} else {
		r.Workloads = append(r.Workloads, ws...)
	}
	r.Errs = append(r.Errs, kube.Errors(err)...)
}

// readKind reads the input at path of kind, from data when detection read
// it.
func (r *Result) readKind(ctx context.Context, path string, kind Kind, data []byte, opts Options) ([]workload.Workload, error) {
	switch {
	case data != nil && kind == Kubernetes:
		return kube.Parse(path, data)
	case data != nil && kind == ECS:
		return ecs.Parse(path, data)
	case data != nil && kind == Compose:
		return compose.Parse(path, data)
	}
	switch kind {
	case Kubernetes:
		return kube.ReadWithin(path, opts.Within)
	case Helm:
		rendered, notes, err := render.Helm(ctx, chartPath(path), opts.Helm, opts.Render)
		r.Notes = append(r.Notes, notes...)
		if err != nil {
			return nil, err
		}
		return helm.Workloads(ctx, rendered)
	case Kustomize:
		dir := kustomizationDir(path)
		built, err := render.Kustomize(ctx, dir, kustomize.BuildOptions{Origins: true, AllowRemote: opts.AllowRemote}, opts.Render)
		r.Notes = append(r.Notes, built.Warnings...)
		if err != nil {
			return nil, err
		}
		return kustomize.Workloads(dir, built.YAML)
	case ECS:
		return ecs.Read(path)
	case Compose:
		return compose.Read(path)
	case Dockerfile:
		data, err := walk.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("dockerfile: %w", err)
		}
		return dockerfile.ParseOptions(path, data, opts.Dockerfile)
	}
	return nil, fmt.Errorf("%s: unknown input kind %q", path, kind)
}

// chartPath is the chart for a helm input: the directory of a Chart.yaml
// named directly, else path itself.
func chartPath(path string) string {
	if filepath.Base(path) == chartFile {
		return filepath.Dir(path)
	}
	return path
}

// kustomizationDir is the directory of a kustomize input: the directory of
// a kustomization file named directly, else path itself.
func kustomizationDir(path string) string {
	if slices.Contains(kustomize.FileNames, filepath.Base(path)) {
		return filepath.Dir(path)
	}
	return path
}

// walkHelm is how charts found while walking a directory are rendered:
// with their own values, the rest of o kept.
func walkHelm(o helm.Options) helm.Options {
	return helm.Options{ReleaseName: o.ReleaseName, Namespace: o.Namespace, KubeVersion: o.KubeVersion, APIVersions: o.APIVersions}
}

// readDir walks root and reads every input under it into r (see the
// package doc).
func (r *Result) readDir(ctx context.Context, root string, opts Options) {
	walkHelm := walkHelm(opts.Helm)
	walkErr := walk.Dir(root, walk.Options{Within: opts.Within}, func(p string, d fs.DirEntry, err error) error {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if err != nil {
			r.Errs = append(r.Errs, err)
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p == root {
				return nil
			}
			if strings.HasPrefix(d.Name(), ".") {
				r.Skipped = append(r.Skipped, Skip{Path: p, Why: whyHidden})
				return fs.SkipDir
			}
			if kind := dirKind(p); kind != Directory {
				r.read(ctx, p, Options{Kind: kind, Helm: walkHelm, Render: opts.Render, AllowRemote: opts.AllowRemote, Within: opts.Within}, true)
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			r.Skipped = append(r.Skipped, Skip{Path: p, Why: whyNotFile})
			return nil
		}
		r.read(ctx, p, Options{Helm: walkHelm, Render: opts.Render, AllowRemote: opts.AllowRemote}, true) // detects the kind, reading the file once
		return nil
	})
	if walkErr != nil {
		r.Errs = append(r.Errs, walkErr)
	}
}
