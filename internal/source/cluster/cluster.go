package cluster

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
}

// object is one listed object with a pod template, before owners are
// resolved.
type object struct {
	apiVersion, kind string
	meta             metav1.ObjectMeta
	spec             corev1.PodSpec
}

// lister lists one kind and appends what it found.
type lister struct {
	kind string // "group/Kind", as owner references name it ("" for the core group)
	list func(ctx context.Context, c kubernetes.Interface, ns string, add func(object)) error
}

var listers = []lister{
	{"apps/Deployment", func(ctx context.Context, c kubernetes.Interface, ns string, add func(object)) error {
		return each(ctx, c.AppsV1().Deployments(ns).List, func(l *appsv1.DeploymentList) {
			for _, x := range l.Items {
				add(object{"apps/v1", "Deployment", x.ObjectMeta, x.Spec.Template.Spec})
			}
		})
	}},
	{"apps/StatefulSet", func(ctx context.Context, c kubernetes.Interface, ns string, add func(object)) error {
		return each(ctx, c.AppsV1().StatefulSets(ns).List, func(l *appsv1.StatefulSetList) {
			for _, x := range l.Items {
				add(object{"apps/v1", "StatefulSet", x.ObjectMeta, x.Spec.Template.Spec})
			}
		})
	}},
	{"apps/DaemonSet", func(ctx context.Context, c kubernetes.Interface, ns string, add func(object)) error {
		return each(ctx, c.AppsV1().DaemonSets(ns).List, func(l *appsv1.DaemonSetList) {
			for _, x := range l.Items {
				add(object{"apps/v1", "DaemonSet", x.ObjectMeta, x.Spec.Template.Spec})
			}
		})
	}},
	{"apps/ReplicaSet", func(ctx context.Context, c kubernetes.Interface, ns string, add func(object)) error {
		return each(ctx, c.AppsV1().ReplicaSets(ns).List, func(l *appsv1.ReplicaSetList) {
			for _, x := range l.Items {
				add(object{"apps/v1", "ReplicaSet", x.ObjectMeta, x.Spec.Template.Spec})
			}
		})
	}},
	{"batch/CronJob", func(ctx context.Context, c kubernetes.Interface, ns string, add func(object)) error {
		return each(ctx, c.BatchV1().CronJobs(ns).List, func(l *batchv1.CronJobList) {
			for _, x := range l.Items {
				add(object{"batch/v1", "CronJob", x.ObjectMeta, x.Spec.JobTemplate.Spec.Template.Spec})
			}
		})
	}},
	{"batch/Job", func(ctx context.Context, c kubernetes.Interface, ns string, add func(object)) error {
		return each(ctx, c.BatchV1().Jobs(ns).List, func(l *batchv1.JobList) {
			for _, x := range l.Items {
				add(object{"batch/v1", "Job", x.ObjectMeta, x.Spec.Template.Spec})
			}
		})
	}},
	{"/ReplicationController", func(ctx context.Context, c kubernetes.Interface, ns string, add func(object)) error {
		return each(ctx, c.CoreV1().ReplicationControllers(ns).List, func(l *corev1.ReplicationControllerList) {
			for _, x := range l.Items {
				if x.Spec.Template != nil {
					add(object{"v1", "ReplicationController", x.ObjectMeta, x.Spec.Template.Spec})
				}
			}
		})
	}},
	{"/Pod", func(ctx context.Context, c kubernetes.Interface, ns string, add func(object)) error {
		return each(ctx, c.CoreV1().Pods(ns).List, func(l *corev1.PodList) {
			for _, x := range l.Items {
				add(object{"v1", "Pod", x.ObjectMeta, x.Spec})
			}
		})
	}},
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
// ReplicationControllers, Pods, each by namespace and name. When listing a
// kind fails (for example RBAC forbids it) the other kinds are still read
// and the failures come back joined in the error; objects owned by an
// object of a kind that could not be listed are left out rather than
// reported twice.
func Read(ctx context.Context, client kubernetes.Interface, opts Options) ([]workload.Workload, error) {
	var objs []object
	known := map[types.UID]bool{}
	failed := map[string]bool{}
	var errs []error
	for _, l := range listers {
		err := l.list(ctx, client, opts.Namespace, func(o object) {
			objs = append(objs, o)
			if o.meta.UID != "" {
				known[o.meta.UID] = true
			}
		})
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, fmt.Errorf("cluster: %w", ctxErr)
			}
			failed[l.kind] = true
			errs = append(errs, fmt.Errorf("list %s: %w", l.kind, err))
		}
	}
	loc := workload.Location{File: "cluster:" + opts.Context}
	var out []workload.Workload
	for _, o := range objs {
		if owned(o.meta, known, failed) {
			continue
		}
		spec := o.spec
		out = append(out, workload.Workload{
			Source:              workload.SourceCluster,
			Location:            loc,
			APIVersion:          o.apiVersion,
			Kind:                o.kind,
			Namespace:           o.meta.Namespace,
			Name:                o.meta.Name,
			Containers:          Containers(&spec, loc),
			PodSpec:             &spec,
			PinnedArchitectures: workload.PodArchitectures(&spec),
		})
	}
	return out, errors.Join(errs...)
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
