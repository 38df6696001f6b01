package kube

import (
	"fmt"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"

	"github.com/archwaydev/archway/internal/manifest"
	"github.com/archwaydev/archway/internal/workload"
)

// workloadOf turns one object of the manifest layer into a workload; ok is
// false for an object that is not a workload.
func workloadOf(file string, o manifest.Object) (w workload.Workload, ok bool, err error) {
	if o.Err != nil {
		return w, false, o.Err
	}
	if o.Spec == nil {
		return customResource(file, o)
	}
	specPath := strings.Join(o.SpecPath, ".")
	podSpec, err := o.PodSpec()
	if err != nil {
		return w, false, &Error{File: file, Line: o.Spec.Line, Err: fmt.Errorf("%s: %s: %w", o.ID(), specPath, err)}
	}
	containers, err := containers(file, o.Spec)
	if err != nil {
		return w, false, &Error{File: file, Line: o.Spec.Line, Err: fmt.Errorf("%s: %s: %w", o.ID(), specPath, err)}
	}
	w = objectWorkload(file, o)
	w.Containers, w.PodSpec, w.PinnedArchitectures = containers, podSpec, workload.PodArchitectures(podSpec)
	return w, true, nil
}

// objectWorkload is the workload of object o, before its containers.
func objectWorkload(file string, o manifest.Object) workload.Workload {
	return workload.Workload{
		Source:     workload.SourceKubernetes,
		Location:   workload.Location{File: file, Line: o.Line},
		APIVersion: o.APIVersion,
		Kind:       o.Kind,
		Namespace:  o.Namespace,
		Name:       o.Name,
	}
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
func containers(file string, spec *yaml.Node) ([]workload.Container, error) {
	var out []workload.Container
	for _, l := range containerLists {
		list := manifest.Get(spec, l.field)
		if list == nil || list.Tag == "!!null" {
			continue
		}
		if list.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("%s: expected a list, found %s", l.field, manifest.KindName(list))
		}
		for _, c := range list.Content {
			c = manifest.Resolve(c)
			if c.Kind != yaml.MappingNode {
				return nil, fmt.Errorf("%s: line %d: expected a container (a mapping), found %s", l.field, c.Line, manifest.KindName(c))
			}
			kind := l.kind
			if kind == workload.ContainerInit && manifest.Str(c, "restartPolicy") == string(corev1.ContainerRestartPolicyAlways) {
				kind = workload.ContainerSidecar
			}
			wc := workload.Container{Name: manifest.Str(c, "name"), Kind: kind}
			if img := manifest.Get(c, "image"); img != nil && img.Kind == yaml.ScalarNode {
				wc.Image = manifest.Str(c, "image")
				wc.Location = workload.Location{File: file, Line: img.Line, Column: img.Column}
			} else {
				wc.Location = workload.Location{File: file, Line: c.Line, Column: c.Column}
			}
			out = append(out, wc)
		}
	}
	return out, nil
}

// customResource is the workload of an object with no pod template whose
// fields name images; ok is false when none does.
func customResource(file string, o manifest.Object) (w workload.Workload, ok bool, err error) {
	if len(o.Images) == 0 {
		return w, false, nil
	}
	w = objectWorkload(file, o)
	w.CustomResource = true
	for _, f := range o.Images {
		w.Containers = append(w.Containers, workload.Container{
			Name: f.Path, Kind: workload.ContainerCustom, Image: f.Node.Value,
			Location: workload.Location{File: file, Line: f.Node.Line, Column: f.Node.Column},
		})
	}
	return w, true, nil
}
