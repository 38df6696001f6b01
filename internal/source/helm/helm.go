package helm

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/strvals"
	"sigs.k8s.io/yaml"

	"github.com/archwaydev/archway/internal/source/kube"
	"github.com/archwaydev/archway/internal/walk"
	"github.com/archwaydev/archway/internal/workload"
)

// DefaultReleaseName is the release name used when Options.ReleaseName is
// empty; it is the one `helm template` uses.
const DefaultReleaseName = "release-name"

// DefaultNamespace is the namespace used when Options.Namespace is empty.
const DefaultNamespace = "default"

// Options says how to render a chart. The zero value renders it with its
// own values as release DefaultReleaseName in DefaultNamespace.
type Options struct {
	// ReleaseName is .Release.Name; default DefaultReleaseName.
	ReleaseName string
	// Namespace is .Release.Namespace; default DefaultNamespace.
	Namespace string
	// ValueFiles are values files (helm -f), merged in order over the
	// chart's values.yaml.
	ValueFiles []string
	// Values are --set assignments ("image.tag=1.2,replicas=3").
	Values []string
	// StringValues are --set-string assignments.
	StringValues []string
	// FileValues are --set-file assignments (key=path).
	FileValues []string
	// JSONValues are --set-json assignments.
	JSONValues []string
	// KubeVersion is .Capabilities.KubeVersion (e.g. "1.31.0"), checked
	// against the chart's kubeVersion constraint; default DefaultKubeVersion.
	KubeVersion string
	// APIVersions are added to .Capabilities.APIVersions (helm template
	// --api-versions), e.g. "monitoring.coreos.com/v1" or
	// "monitoring.coreos.com/v1/ServiceMonitor".
	APIVersions []string
}

// Rendered is a chart rendered: each manifest template's output, and the
// source of each template (for locations).
type Rendered struct {
	// Files is the output of each manifest template, keyed by template
	// name ("chart/templates/x.yaml"), as Render returns it.
	Files map[string]string `json:"files"`
	// Templates is the source of every template, by the same names.
	Templates map[string]Template `json:"templates"`
}

// RenderChart loads the chart at path (a directory or a .tgz) and renders
// it with opts. A chart that does not load or render is an error naming
// the chart, with template names made the files on disk.
func RenderChart(path string, opts Options) (Rendered, error) {
	chrt, err := loader.Load(path)
	if err != nil {
		return Rendered{}, fmt.Errorf("helm: loading chart %s: %w", path, err)
	}
	srcs := templates(chrt, path)
	files, err := Render(chrt, opts)
	if err != nil {
		return Rendered{}, fmt.Errorf("helm: chart %s: %w", path, onDisk(err, srcs))
	}
	return Rendered{Files: files, Templates: srcs}, nil
}

// Workloads reads the workloads of a rendered chart, each located at its
// template (see the package doc). A rendered template that is not valid
// YAML, or an object that is not a valid workload, is reported as a
// *kube.Error in the joined error while the other templates are still
// read.
func Workloads(ctx context.Context, r Rendered) ([]workload.Workload, error) {
	names := slices.Sorted(maps.Keys(r.Files))
	var out []workload.Workload
	var errs []error
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return out, errors.Join(append(errs, err)...)
		}
		ws, err := kube.Parse(name, []byte(r.Files[name]))
		for i := range ws {
			ws[i].Source = workload.SourceHelm
		}
		src, ok := r.Templates[name]
		if ok {
			locate(ws, src)
		}
		out = append(out, ws...)
		for _, e := range kube.Errors(err) {
			errs = append(errs, renderedError(e, src.File, ok))
		}
	}
	return out, errors.Join(errs...)
}

// renderedError names the template's file in an error about its rendered
// output, the line being one of the output.
func renderedError(err error, file string, ok bool) error {
	var ke *kube.Error
	if !ok || !errors.As(err, &ke) {
		return err
	}
	e := &kube.Error{File: file, Err: ke.Err}
	if ke.Line > 0 {
		e.Err = fmt.Errorf("rendered line %d: %w", ke.Line, ke.Err)
	}
	return e
}

// Render renders chrt client-only with opts and returns the manifest
// templates' output keyed by template name ("chart/templates/x.yaml"),
// leaving out NOTES.txt, partials and templates that render to nothing.
func Render(chrt *chart.Chart, opts Options) (map[string]string, error) {
	if err := checkDependencies(chrt); err != nil {
		return nil, err
	}
	vals, err := mergeValues(opts)
	if err != nil {
		return nil, err
	}
	if err := chartutil.ProcessDependenciesWithMerge(chrt, vals); err != nil {
		return nil, fmt.Errorf("dependencies: %w", err)
	}
	caps, err := capabilities(opts)
	if err != nil {
		return nil, err
	}
	if c := chrt.Metadata.KubeVersion; c != "" && !chartutil.IsCompatibleRange(c, caps.KubeVersion.String()) {
		return nil, fmt.Errorf("chart requires kubeVersion %s, which is incompatible with Kubernetes %s", c, caps.KubeVersion.String())
	}
	release := chartutil.ReleaseOptions{
		Name:      cmpOr(opts.ReleaseName, DefaultReleaseName),
		Namespace: cmpOr(opts.Namespace, DefaultNamespace),
		Revision:  1,
		IsInstall: true,
	}
	renderVals, err := chartutil.ToRenderValuesWithSchemaValidation(chrt, vals, release, caps, false)
	if err != nil {
		return nil, err
	}
	files, err := engine.Engine{}.Render(chrt, renderVals)
	if err != nil {
		return nil, err
	}
	for name, content := range files {
		if path.Base(name) == "NOTES.txt" || strings.TrimSpace(content) == "" {
			delete(files, name)
		}
	}
	return files, nil
}

// checkDependencies fails when a dependency named in Chart.yaml, at any
// depth, is not vendored under charts/.
func checkDependencies(c *chart.Chart) error {
	var missing []string
	for _, dep := range c.Metadata.Dependencies {
		if !slices.ContainsFunc(c.Dependencies(), func(d *chart.Chart) bool { return d.Name() == dep.Name }) {
			missing = append(missing, dep.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("chart %s: dependencies in Chart.yaml but missing from charts/ (run helm dependency build): %s", c.Name(), strings.Join(missing, ", "))
	}
	for _, d := range c.Dependencies() {
		if err := checkDependencies(d); err != nil {
			return err
		}
	}
	return nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// mergeValues merges the user-supplied values the way helm's
// pkg/cli/values does: values files in order (maps merged deeply), then
// --set-json, --set, --set-string and --set-file. Values files are local
// paths only.
func mergeValues(opts Options) (map[string]any, error) {
	base := map[string]any{}
	for _, file := range opts.ValueFiles {
		data, err := walk.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("values file: %w", err)
		}
		cur := map[string]any{}
		if err := yaml.Unmarshal(data, &cur); err != nil {
			return nil, fmt.Errorf("values file %s: %w", file, err)
		}
		base = mergeMaps(base, cur)
	}
	for _, v := range opts.JSONValues {
		if err := strvals.ParseJSON(v, base); err != nil {
			return nil, fmt.Errorf("--set-json %q: %w", v, err)
		}
	}
	for _, v := range opts.Values {
		if err := strvals.ParseInto(v, base); err != nil {
			return nil, fmt.Errorf("--set %q: %w", v, err)
		}
	}
	for _, v := range opts.StringValues {
		if err := strvals.ParseIntoString(v, base); err != nil {
			return nil, fmt.Errorf("--set-string %q: %w", v, err)
		}
	}
	for _, v := range opts.FileValues {
		read := func(rs []rune) (any, error) {
			data, err := walk.ReadFile(string(rs))
			return string(data), err
		}
		if err := strvals.ParseIntoFile(v, base, read); err != nil {
			return nil, fmt.Errorf("--set-file %q: %w", v, err)
		}
	}
	return base, nil
}

// mergeMaps returns b merged over a, recursing into maps both hold.
func mergeMaps(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a))
	maps.Copy(out, a)
	for k, v := range b {
		if bm, ok := v.(map[string]any); ok {
			if am, ok := out[k].(map[string]any); ok {
				out[k] = mergeMaps(am, bm)
				continue
			}
		}
		out[k] = v
	}
	return out
}
