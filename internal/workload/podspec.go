package workload

import (
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// builtinPodSpecPaths says where the built-in kinds keep their pod spec.
var builtinPodSpecPaths = map[string][]string{
	"Pod":                   {"spec"},
	"PodTemplate":           {"template", "spec"},
	"Deployment":            {"spec", "template", "spec"},
	"ReplicaSet":            {"spec", "template", "spec"},
	"StatefulSet":           {"spec", "template", "spec"},
	"DaemonSet":             {"spec", "template", "spec"},
	"Job":                   {"spec", "template", "spec"},
	"ReplicationController": {"spec", "template", "spec"},
	"CronJob":               {"spec", "jobTemplate", "spec", "template", "spec"},
}

// genericPodSpecPaths are the candidates for any other kind (custom
// resources such as Argo Rollouts and Knative Services, or ones whose spec
// is itself pod-like), in the order to try them.
var genericPodSpecPaths = [][]string{
	{"spec", "template", "spec"},
	{"spec", "jobTemplate", "spec", "template", "spec"},
	{"template", "spec"},
	{"spec"},
}

// PodSpecPaths returns the field paths at which an object of the given
// kind keeps its pod spec, in the order to try them. For a built-in kind
// there is exactly one and builtin is true; for any other kind the paths
// are candidates, and one counts only when the mapping it leads to has a
// "containers" key. Readers and rewriters share this table so that what
// scan reports is what place edits.
func PodSpecPaths(kind string) (paths [][]string, builtin bool) {
	if p, ok := builtinPodSpecPaths[kind]; ok {
		return [][]string{p}, true
	}
	return genericPodSpecPaths, false
}

// DecodePodSpec converts a decoded pod spec to the API type through JSON,
// the way the API server reads it: unknown fields are ignored, wrong types
// are errors. decode fills a generic value, e.g. a yaml.Node's Decode method
// (either YAML library's: they share the signature).
func DecodePodSpec(decode func(v any) error) (*corev1.PodSpec, error) {
	var v any
	if err := decode(&v); err != nil {
		return nil, err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("converting to JSON: %w", err)
	}
	var spec corev1.PodSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, err
	}
	return &spec, nil
}
