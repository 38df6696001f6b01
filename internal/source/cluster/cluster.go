package cluster

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/archwaydev/archway/internal/workload"
)

// pageSize is how many objects one List call asks for.
const pageSize = 500

// Options says what to read.
type Options struct {
	// Namespace limits the read to one namespace; empty reads all.
	Namespace string
	// Context names the cluster (a kubeconfig context) in locations:
	// Location.File is "cluster:" + Context.
	Context string
	// NodeArch, when set, is how a node's architecture is told; Read then
	// also lists the nodes (unless Nodes has them), so each workload's
	// runtime evidence says which architectures its pods run on.
	NodeArch func(*corev1.Node) string
	// Nodes, when set, are the cluster's nodes as the caller listed them
	// (for its own census), so Read does not list them again.
	Nodes []*corev1.Node
}

// object is one listed object with a pod template, before owners are
// resolved; pod is set for Pods, whose status is the runtime evidence.
type object struct {
	apiVersion, kind string
	meta             metav1.ObjectMeta
	spec             corev1.PodSpec
	pod              *corev1.Pod
}

// lister lists one kind and appends what it found.
type lister struct {
	kind string // "group/Kind", as owner references name it ("" for the core group)
	list func(ctx context.Context, c kubernetes.Interface, ns string, add func(runtime.Object)) error
}

var listers = []lister{
	{"apps/Deployment", func(ctx context.Context, c kubernetes.Interface, ns string, add func(runtime.Object)) error {
		return each(ctx, c.AppsV1().Deployments(ns).List, func(l *appsv1.DeploymentList) { items(l.Items, add) })
	}},
	{"apps/StatefulSet", func(ctx context.Context, c kubernetes.Interface, ns string, add func(runtime.Object)) error {
		return each(ctx, c.AppsV1().StatefulSets(ns).List, func(l *appsv1.StatefulSetList) { items(l.Items, add) })
	}},
	{"apps/DaemonSet", func(ctx context.Context, c kubernetes.Interface, ns string, add func(runtime.Object)) error {
		return each(ctx, c.AppsV1().DaemonSets(ns).List, func(l *appsv1.DaemonSetList) { items(l.Items, add) })
	}},
	{"apps/ReplicaSet", func(ctx context.Context, c kubernetes.Interface, ns string, add func(runtime.Object)) error {
		return each(ctx, c.AppsV1().ReplicaSets(ns).List, func(l *appsv1.ReplicaSetList) { items(l.Items, add) })
	}},
	{"batch/CronJob", func(ctx context.Context, c kubernetes.Interface, ns string, add func(runtime.Object)) error {
		return each(ctx, c.BatchV1().CronJobs(ns).List, func(l *batchv1.CronJobList) { items(l.Items, add) })
	}},
	{"batch/Job", func(ctx context.Context, c kubernetes.Interface, ns string, add func(runtime.Object)) error {
		return each(ctx, c.BatchV1().Jobs(ns).List, func(l *batchv1.JobList) { items(l.Items, add) })
	}},
	{"/ReplicationController", func(ctx context.Context, c kubernetes.Interface, ns string, add func(runtime.Object)) error {
		return each(ctx, c.CoreV1().ReplicationControllers(ns).List, func(l *corev1.ReplicationControllerList) { items(l.Items, add) })
	}},
	{"/Pod", func(ctx context.Context, c kubernetes.Interface, ns string, add func(runtime.Object)) error {
		return each(ctx, c.CoreV1().Pods(ns).List, func(l *corev1.PodList) { items(l.Items, add) })
	}},
}

// items hands a pointer to each element of a list page to add.
func items[T any, PT interface {
	*T
	runtime.Object
}](l []T, add func(runtime.Object)) {
	for i := range l {
		add(PT(&l[i]))
	}
}

// toObject returns the pod template of a workload object of one of the
// kinds Read lists; ok is false for any other object (and a
// ReplicationController without a template).
func toObject(o runtime.Object) (obj object, ok bool) {
	switch x := o.(type) {
	case *appsv1.Deployment:
		return object{"apps/v1", "Deployment", x.ObjectMeta, x.Spec.Template.Spec, nil}, true
	case *appsv1.StatefulSet:
		return object{"apps/v1", "StatefulSet", x.ObjectMeta, x.Spec.Template.Spec, nil}, true
	case *appsv1.DaemonSet:
		return object{"apps/v1", "DaemonSet", x.ObjectMeta, x.Spec.Template.Spec, nil}, true
	case *appsv1.ReplicaSet:
		return object{"apps/v1", "ReplicaSet", x.ObjectMeta, x.Spec.Template.Spec, nil}, true
	case *batchv1.CronJob:
		return object{"batch/v1", "CronJob", x.ObjectMeta, x.Spec.JobTemplate.Spec.Template.Spec, nil}, true
	case *batchv1.Job:
		return object{"batch/v1", "Job", x.ObjectMeta, x.Spec.Template.Spec, nil}, true
	case *corev1.ReplicationController:
		if x.Spec.Template == nil {
			return object{}, false
		}
		return object{"v1", "ReplicationController", x.ObjectMeta, x.Spec.Template.Spec, nil}, true
	case *corev1.Pod:
		return object{"v1", "Pod", x.ObjectMeta, x.Spec, x}, true
	}
	return object{}, false
}

// each lists all pages of a kind and hands each page to add.
func each[L metav1.ListInterface](ctx context.Context, list func(context.Context, metav1.ListOptions) (L, error), add func(L)) error {
	return pages(ctx, func(o metav1.ListOptions) (string, error) {
		l, err := list(ctx, o)
		if err != nil {
			return "", err
		}
		add(l)
		return l.GetContinue(), nil
	})
}

// pages calls list with a page size and each continue token it returns
// until the last page.
func pages(ctx context.Context, list func(metav1.ListOptions) (string, error)) error {
	opts := metav1.ListOptions{Limit: pageSize}
	for {
		next, err := list(opts)
		if err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		opts.Continue = next
	}
}

// Read lists the workloads of the cluster behind client (one namespace or
// all) and returns each once, at its top owner, in the order Deployments,
// StatefulSets, DaemonSets, ReplicaSets, CronJobs, Jobs,
// ReplicationControllers, Pods, each by namespace and name, with the
// runtime evidence of the pods each owns. When listing a kind fails (for
// example RBAC forbids it) the other kinds are still read and the failures
// come back joined in the error; objects owned by an object of a kind that
// could not be listed are left out rather than reported twice.
func Read(ctx context.Context, client kubernetes.Interface, opts Options) ([]workload.Workload, error) {
	var objs []runtime.Object
	failed := map[string]bool{}
	var errs []error
	for _, l := range listers {
		err := l.list(ctx, client, opts.Namespace, func(o runtime.Object) { objs = append(objs, o) })
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, fmt.Errorf("cluster: %w", ctxErr)
			}
			failed[l.kind] = true
			errs = append(errs, fmt.Errorf("list %s: %w", l.kind, err))
		}
	}
	nodeList := opts.Nodes
	if opts.NodeArch != nil && nodeList == nil {
		err := each(ctx, client.CoreV1().Nodes().List, func(l *corev1.NodeList) {
			for i := range l.Items {
				nodeList = append(nodeList, &l.Items[i])
			}
		})
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, fmt.Errorf("cluster: %w", ctxErr)
			}
			errs = append(errs, fmt.Errorf("list nodes (for the architectures pods run on): %w", err))
		}
	}
	return build(objs, nodeList, failed, opts), errors.Join(errs...)
}

// FromObjects is Read on objects already in hand (an informer's cache):
// the workload objects and Pods of the kinds Read lists, in Read's order,
// and the nodes their pods run on. Other objects are ignored.
func FromObjects(objs []runtime.Object, nodeList []*corev1.Node, opts Options) []workload.Workload {
	return build(objs, nodeList, nil, opts)
}

// build resolves owners and returns each top owner as a workload with the
// evidence of its pods.
func build(in []runtime.Object, nodeList []*corev1.Node, failed map[string]bool, opts Options) []workload.Workload {
	var objs []object
	byUID := map[types.UID]*object{}
	for _, o := range in {
		if obj, ok := toObject(o); ok {
			objs = append(objs, obj)
		}
	}
	for i := range objs {
		if uid := objs[i].meta.UID; uid != "" {
			byUID[uid] = &objs[i]
		}
	}
	known := map[types.UID]bool{}
	for uid := range byUID {
		known[uid] = true
	}
	arch := map[string]string{}
	if opts.NodeArch != nil {
		for _, n := range nodeList {
			arch[n.Name] = opts.NodeArch(n)
		}
	}
	evidence := map[*object]*workload.Runtime{}
	cpu := map[*object]int64{}
	for i := range objs {
		if p := objs[i].pod; p != nil {
			top := topOwner(&objs[i], byUID)
			if evidence[top] == nil {
				evidence[top] = &workload.Runtime{}
			}
			addPod(evidence[top], p, arch)
			cpu[top] += podCPU(&p.Spec)
		}
	}
	loc := workload.Location{File: "cluster:" + opts.Context}
	var out []workload.Workload
	for i := range objs {
		o := &objs[i]
		if owned(o.meta, known, failed) {
			continue
		}
		spec := o.spec
		w := workload.Workload{
			Source:              workload.SourceCluster,
			Location:            loc,
			APIVersion:          o.apiVersion,
			Kind:                o.kind,
			Namespace:           o.meta.Namespace,
			Name:                o.meta.Name,
			Containers:          Containers(&spec, loc),
			PodSpec:             &spec,
			PinnedArchitectures: workload.PodArchitectures(&spec),
			UID:                 string(o.meta.UID),
		}
		w.Runtime, w.CPURequests = evidence[o], cpu[o]
		out = append(out, w)
	}
	return out
}

// topOwner follows controller references from o through the objects read
// to the top one.
func topOwner(o *object, byUID map[types.UID]*object) *object {
	for range 8 { // owner chains are short (Pod, ReplicaSet, Deployment); a loop is not followed
		ref := metav1.GetControllerOfNoCopy(&o.meta)
		if ref == nil {
			return o
		}
		up, ok := byUID[ref.UID]
		if !ok {
			return o
		}
		o = up
	}
	return o
}

// owned reports whether the object with meta is reported through its
// controller: the controller was read, or is of a kind whose list failed.
func owned(meta metav1.ObjectMeta, known map[types.UID]bool, failed map[string]bool) bool {
	ref := metav1.GetControllerOfNoCopy(&meta)
	if ref == nil {
		return false
	}
	if known[ref.UID] {
		return true
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return false
	}
	return failed[gv.Group+"/"+ref.Kind]
}

// Containers lists the containers of spec, regular then init (sidecars
// being init containers with restartPolicy Always) then ephemeral, each at
// loc.
func Containers(spec *corev1.PodSpec, loc workload.Location) []workload.Container {
	var out []workload.Container
	for _, c := range spec.Containers {
		out = append(out, workload.Container{Name: c.Name, Kind: workload.ContainerRegular, Image: c.Image, Location: loc})
	}
	for _, c := range spec.InitContainers {
		kind := workload.ContainerInit
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			kind = workload.ContainerSidecar
		}
		out = append(out, workload.Container{Name: c.Name, Kind: kind, Image: c.Image, Location: loc})
	}
	for _, c := range spec.EphemeralContainers {
		out = append(out, workload.Container{Name: c.Name, Kind: workload.ContainerEphemeral, Image: c.Image, Location: loc})
	}
	return out
}
