package workload

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
