package reporter

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	"github.com/archwaydev/archway/internal/app"
	"github.com/archwaydev/archway/internal/nodes"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/policyreport"
	"github.com/archwaydev/archway/internal/source/cluster"
)

// WriterAnnotation names, on every report, the replica that wrote it.
const WriterAnnotation = "archway.dev/written-by"

// Defaults for Options.
const (
	DefaultInterval      = time.Hour
	DefaultDebounce      = 10 * time.Second
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
)

// Options configure a Reporter.
type Options struct {
	// Client and Dynamic reach the cluster: Client for the informers and
	// the Lease, Dynamic to apply the reports.
	Client  kubernetes.Interface
	Dynamic dynamic.Interface
	// Lookuper looks images up; *registry.Client is one.
	Lookuper app.Lookuper
	// Namespace limits the reporter to one namespace; "" watches all.
	Namespace string
	// Target is the platform workloads are judged against.
	Target platform.Platform
	// Jobs is how many lookups run at once.
	Jobs int
	// Reports says how to build the reports; Now is set on each run.
	Reports policyreport.Options
	// Interval is the period of full recomputations; DefaultInterval when 0.
	Interval time.Duration
	// Debounce is how long a change waits for more before a recomputation;
	// DefaultDebounce when 0.
	Debounce time.Duration
	// Identity names this replica in the Lease (the pod name).
	Identity string
	// LeaseNamespace and LeaseName are the Lease's place.
	LeaseNamespace, LeaseName string
	// LeaseDuration, RenewDeadline and RetryPeriod are client-go's leader
	// election timings; the defaults above when 0.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// Metrics receives the readiness and run metrics; required.
	Metrics *Metrics
	// Logger logs runs and leadership; slog.Default when nil.
	Logger *slog.Logger
}

// Reporter is the in-cluster loop.
type Reporter struct {
	o       Options
	factory informers.SharedInformerFactory
	nodes   informers.SharedInformerFactory
	changed chan struct{}
}

// New checks o and sets up the informers (started by Run).
func New(o Options) (*Reporter, error) {
	switch {
	case o.Client == nil || o.Dynamic == nil || o.Lookuper == nil || o.Metrics == nil:
		return nil, errors.New("reporter: Client, Dynamic, Lookuper and Metrics are required")
	case o.Identity == "" || o.LeaseNamespace == "" || o.LeaseName == "":
		return nil, errors.New("reporter: Identity, LeaseNamespace and LeaseName are required")
	}
	o.Interval = cmp.Or(o.Interval, DefaultInterval)
	o.Debounce = cmp.Or(o.Debounce, DefaultDebounce)
	o.LeaseDuration = cmp.Or(o.LeaseDuration, DefaultLeaseDuration)
	o.RenewDeadline = cmp.Or(o.RenewDeadline, DefaultRenewDeadline)
	o.RetryPeriod = cmp.Or(o.RetryPeriod, DefaultRetryPeriod)
	o.Logger = cmp.Or(o.Logger, slog.Default())
	strip := informers.WithTransform(stripManagedFields) // the caches hold every Pod: keep them lean
	r := &Reporter{
		o:       o,
		factory: informers.NewSharedInformerFactoryWithOptions(o.Client, 0, informers.WithNamespace(o.Namespace), strip),
		nodes:   informers.NewSharedInformerFactoryWithOptions(o.Client, 0, strip),
		changed: make(chan struct{}, 1),
	}
	notify := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { r.touch() },
		UpdateFunc: func(old, cur any) { r.update(old, cur) },
		DeleteFunc: func(any) { r.touch() },
	}
	f := r.factory
	for _, inf := range []cache.SharedIndexInformer{
		f.Apps().V1().Deployments().Informer(), f.Apps().V1().StatefulSets().Informer(),
		f.Apps().V1().DaemonSets().Informer(), f.Apps().V1().ReplicaSets().Informer(),
		f.Batch().V1().CronJobs().Informer(), f.Batch().V1().Jobs().Informer(),
		f.Core().V1().ReplicationControllers().Informer(), f.Core().V1().Pods().Informer(),
		r.nodes.Core().V1().Nodes().Informer(),
	} {
		if _, err := inf.AddEventHandler(notify); err != nil {
			return nil, fmt.Errorf("reporter: %w", err)
		}
	}
	return r, nil
}

// stripManagedFields drops managed fields, which the reporter never reads,
// from objects entering the caches.
func stripManagedFields(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

// touch marks the cluster changed; a pending mark absorbs the next ones.
func (r *Reporter) touch() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// update marks a change unless only the resource version moved (the
// periodic resync, or a Node's heartbeat).
func (r *Reporter) update(old, cur any) {
	o, ok1 := old.(metav1.Object)
	c, ok2 := cur.(metav1.Object)
	if ok1 && ok2 && o.GetResourceVersion() == c.GetResourceVersion() {
		return
	}
	if on, ok := old.(*corev1.Node); ok {
		if cn, ok := cur.(*corev1.Node); ok && nodes.NodeArch(on) == nodes.NodeArch(cn) {
			return // only the architecture of a node matters here
		}
	}
	r.touch()
}

// Run starts the informers, waits for their caches, and campaigns for the
// Lease until ctx ends; while it leads it writes the reports and metrics,
// and when it loses the Lease it campaigns again. It returns ctx's error.
func (r *Reporter) Run(ctx context.Context) error {
	r.factory.Start(ctx.Done())
	r.nodes.Start(ctx.Done())
	for _, synced := range []map[any]bool{anyMap(r.factory.WaitForCacheSync(ctx.Done())), anyMap(r.nodes.WaitForCacheSync(ctx.Done()))} {
		for typ, ok := range synced {
			if !ok {
				return fmt.Errorf("reporter: informer for %v did not sync: %w", typ, context.Cause(ctx))
			}
		}
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: r.o.LeaseNamespace, Name: r.o.LeaseName},
		Client:     r.o.Client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: r.o.Identity},
	}
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   r.o.LeaseDuration,
		RenewDeadline:   r.o.RenewDeadline,
		RetryPeriod:     r.o.RetryPeriod,
		ReleaseOnCancel: true,
		Name:            r.o.LeaseName,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: r.lead,
			OnStoppedLeading: func() {
				r.o.Metrics.lost()
				r.o.Logger.Info("reporter: stopped leading", "identity", r.o.Identity)
			},
		},
	})
	if err != nil {
		return fmt.Errorf("reporter: %w", err)
	}
	for ctx.Err() == nil {
		le.Run(ctx) // returns when leadership is lost or ctx ends
	}
	return ctx.Err()
}

func anyMap[K comparable](m map[K]bool) map[any]bool {
	out := make(map[any]bool, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// lead is the leader's loop: a run now, then one per debounced change
// and per interval, until ctx (the leadership) ends.
func (r *Reporter) lead(ctx context.Context) {
	r.o.Metrics.Leader.Set(1)
	r.o.Logger.Info("reporter: leading", "identity", r.o.Identity)
	tick := time.NewTicker(r.o.Interval)
	defer tick.Stop()
	r.runOnce(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-r.changed:
			select { // debounce: wait for the burst to settle
			case <-ctx.Done():
				return
			case <-time.After(r.o.Debounce):
			}
			select { // changes during the wait are covered by this run
			case <-r.changed:
			default:
			}
		}
		r.runOnce(ctx)
	}
}

// runOnce recomputes readiness from the caches, applies the reports and
// sets the metrics; a failure is logged and counted, and the next change
// or tick tries again.
func (r *Reporter) runOnce(ctx context.Context) {
	began := time.Now()
	ws := cluster.FromObjects(r.objects(), r.nodeList(), cluster.Options{NodeArch: nodes.NodeArch})
	opts := r.o.Reports
	opts.Now = began
	rep, reports := app.Readiness(ctx, r.o.Lookuper, ws, r.o.Target, r.o.Jobs, nil, opts)
	if ctx.Err() != nil {
		return // leadership lost mid-run: the next leader writes
	}
	for _, rp := range reports {
		rp.SetAnnotations(map[string]string{WriterAnnotation: r.o.Identity})
	}
	applied, err := policyreport.Apply(ctx, r.o.Dynamic, opts.Format, r.o.Namespace, reports)
	if err != nil {
		r.o.Metrics.Runs.WithLabelValues("error").Inc()
		r.o.Logger.Error("reporter: applying the reports failed", "error", err)
		return
	}
	r.o.Metrics.observe(rep, time.Since(began))
	r.o.Logger.Info("reporter: reports applied", "workloads", len(rep.Workloads), "reports", len(applied.Applied),
		"removed", len(applied.Deleted), "took", time.Since(began).Round(time.Millisecond))
}

// objects lists the caches in Read's order: by kind, then namespace and
// name.
func (r *Reporter) objects() []runtime.Object {
	f, all := r.factory, labels.Everything()
	var out []runtime.Object
	add := func(items []runtime.Object) {
		slices.SortFunc(items, func(a, b runtime.Object) int {
			ma, mb := a.(metav1.Object), b.(metav1.Object)
			return cmp.Or(cmp.Compare(ma.GetNamespace(), mb.GetNamespace()), cmp.Compare(ma.GetName(), mb.GetName()))
		})
		out = append(out, items...)
	}
	add(objs(f.Apps().V1().Deployments().Lister().List(all)))
	add(objs(f.Apps().V1().StatefulSets().Lister().List(all)))
	add(objs(f.Apps().V1().DaemonSets().Lister().List(all)))
	add(objs(f.Apps().V1().ReplicaSets().Lister().List(all)))
	add(objs(f.Batch().V1().CronJobs().Lister().List(all)))
	add(objs(f.Batch().V1().Jobs().Lister().List(all)))
	add(objs(f.Core().V1().ReplicationControllers().Lister().List(all)))
	add(objs(f.Core().V1().Pods().Lister().List(all)))
	return out
}

func (r *Reporter) nodeList() []*corev1.Node {
	ns, _ := r.nodes.Core().V1().Nodes().Lister().List(labels.Everything()) // a cache list does not fail
	return ns
}

// objs converts a lister's answer; a cache list does not fail.
func objs[T runtime.Object](items []T, _ error) []runtime.Object {
	out := make([]runtime.Object, len(items))
	for i, x := range items {
		out[i] = x
	}
	return out
}
