package kube

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
	corev1 "k8s.io/api/core/v1"

	"github.com/archwaydev/archway/internal/workload"
)

// reader turns documents into workloads, gathering per-object errors.
type reader struct {
	file      string
	workloads []workload.Workload
	errs      []error
}

func (r *reader) fail(line int, format string, args ...any) {
	r.errs = append(r.errs, &Error{File: r.file, Line: line, Err: fmt.Errorf(format, args...)})
}

// object reads one Kubernetes object. defaultAPIVersion and defaultKind
// apply to the items of a typed list (e.g. DeploymentList), which may omit
// their own.
func (r *reader) object(n *yaml.Node, defaultAPIVersion, defaultKind string) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		r.fail(n.Line, "expected a Kubernetes object (a mapping), found %s", kindName(n))
		return
	}
	apiVersion, kind := str(n, "apiVersion"), str(n, "kind")
	if apiVersion == "" {
		apiVersion = defaultAPIVersion
	}
	if kind == "" {
		kind = defaultKind
	}
	if kind == "" {
		return // not a Kubernetes object (a values file, a CI config, ...)
	}
	if items := get(n, "items"); strings.HasSuffix(kind, "List") && items != nil {
		if items.Kind != yaml.SequenceNode {
			if items.Tag != "!!null" {
				r.fail(items.Line, "%s: items: expected a list, found %s", kind, kindName(items))
			}
			return
		}
		itemKind := ""
		if kind != "List" {
			itemKind = strings.TrimSuffix(kind, "List")
		}
		for _, item := range items.Content {
			r.object(item, apiVersion, itemKind)
		}
		return
	}

	name := str(get(n, "metadata"), "name")
	if name == "" {
		name = str(get(n, "metadata"), "generateName")
	}
	id := kind
	if name != "" {
		id = kind + " " + name
	}
	spec, specPath := findPodSpec(n, kind)
	if spec == nil {
		if specPath != "" {
			r.fail(n.Line, "%s: no pod spec at %s", id, specPath)
		}
		return
	}
	if spec.Kind != yaml.MappingNode {
		r.fail(spec.Line, "%s: %s: expected a mapping, found %s", id, specPath, kindName(spec))
		return
	}
	podSpec, err := workload.DecodePodSpec(spec.Decode)
	if err != nil {
		r.fail(spec.Line, "%s: %s: %w", id, specPath, err)
		return
	}
	containers, err := r.containers(spec)
	if err != nil {
		r.fail(spec.Line, "%s: %s: %w", id, specPath, err)
		return
	}
	r.workloads = append(r.workloads, workload.Workload{
		Source:              workload.SourceKubernetes,
		Location:            workload.Location{File: r.file, Line: n.Line},
		APIVersion:          apiVersion,
		Kind:                kind,
		Namespace:           str(get(n, "metadata"), "namespace"),
		Name:                name,
		Containers:          containers,
		PodSpec:             podSpec,
		PinnedArchitectures: workload.PodArchitectures(podSpec),
	})
}

// findPodSpec returns the pod spec node of object n of the given kind and
// the dotted path it was (or, for a built-in kind, should have been) found
// at. Both are empty when n is not a workload.
func findPodSpec(n *yaml.Node, kind string) (*yaml.Node, string) {
	paths, builtin := workload.PodSpecPaths(kind)
	if builtin {
		return path(n, paths[0]...), strings.Join(paths[0], ".")
	}
	for _, p := range paths {
		if spec := path(n, p...); spec != nil && get(spec, "containers") != nil {
			return spec, strings.Join(p, ".")
		}
	}
	return nil, ""
}

// containerLists are the pod spec fields that hold containers, in the order
// they are reported.
var containerLists = []struct {
	field string
	kind  workload.ContainerKind
}{
	{"containers", workload.ContainerRegular},
	{"initContainers", workload.ContainerInit},
	{"ephemeralContainers", workload.ContainerEphemeral},
}

// containers lists the containers of pod spec node spec with the location
// of each image value.
func (r *reader) containers(spec *yaml.Node) ([]workload.Container, error) {
	var out []workload.Container
	for _, l := range containerLists {
		list := get(spec, l.field)
		if list == nil || list.Tag == "!!null" {
			continue
		}
		if list.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("%s: expected a list, found %s", l.field, kindName(list))
		}
		for _, c := range list.Content {
			c = resolve(c)
			if c.Kind != yaml.MappingNode {
				return nil, fmt.Errorf("%s: line %d: expected a container (a mapping), found %s", l.field, c.Line, kindName(c))
			}
			kind := l.kind
			if kind == workload.ContainerInit && str(c, "restartPolicy") == string(corev1.ContainerRestartPolicyAlways) {
				kind = workload.ContainerSidecar
			}
			wc := workload.Container{Name: str(c, "name"), Kind: kind}
			if img := get(c, "image"); img != nil && img.Kind == yaml.ScalarNode {
				wc.Image = str(c, "image")
				wc.Location = workload.Location{File: r.file, Line: img.Line, Column: img.Column}
			} else {
				wc.Location = workload.Location{File: r.file, Line: c.Line, Column: c.Column}
			}
			out = append(out, wc)
		}
	}
	return out, nil
}
