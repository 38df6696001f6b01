package reporter

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/policyreport"
	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/registrytest"
	"github.com/archwaydev/archway/internal/testenv"
)

// replica is one running reporter and its /metrics endpoint.
type replica struct {
	name    string
	metrics *httptest.Server
	stop    context.CancelFunc
	done    chan error
}

func (r *replica) scrape(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(r.metrics.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// eventually polls cond every 100ms for up to 30s.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var ok bool
		if ok, last = cond(); ok {
			return
		}
	}
	t.Fatalf("timed out waiting for %s; last: %s", what, last)
}

// fixture is a control plane with the PolicyReport CRD, an arm64 node,
// namespace shop with three Deployments (api: ready, running on arm64 and
// requesting 500m; billing: amd64 only and failed there with exec format
// error, requesting 2 CPUs; ghost: an image that does not exist), and a
// test registry.
type fixture struct {
	env    *testenv.Env
	dyn    dynamic.Interface
	reg    *registrytest.InProcess
	deploy func(name, image, cpu string) *appsv1.Deployment
}

func startFixture(t *testing.T) *fixture {
	t.Helper()
	reg := registrytest.StartInProcess(t)
	registrytest.PushIndex(t, reg.Ref("app/multi:1"), registrytest.Index(t, platform.LinuxAMD64, platform.LinuxARM64))
	registrytest.Push(t, reg.Ref("app/amd:1"), registrytest.Image(t, platform.LinuxAMD64))
	env := testenv.Start(t, testenv.Options{})
	ctx := t.Context()
	env.InstallCRD(ctx, t, "../policyreport/testdata/policyreports.wgpolicyk8s.io.yaml")
	env.AddNode(ctx, t, "arm-1", "arm64", nil, nil)
	env.Namespace(ctx, t, "shop")
	env.Namespace(ctx, t, "archway-system")
	dyn, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	deploy := func(name, image, cpu string) *appsv1.Deployment {
		t.Helper()
		labels := map[string]string{"app": name}
		c := corev1.Container{Name: name, Image: reg.Ref(image)}
		if cpu != "" {
			c.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}
		}
		d, err := env.Client.AppsV1().Deployments("shop").Create(ctx, &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name},
			Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{c}},
			}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	api := deploy("api", "app/multi:1", "500m")
	env.RunPodOf(ctx, t, api, "arm-1", testenv.Running(map[string]string{"api": reg.Ref("app/multi@sha256:" + strings.Repeat("c", 64))}))
	billing := deploy("billing", "app/amd:1", "2")
	env.RunPodOf(ctx, t, billing, "arm-1", corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{{
		Name: "billing", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "StartError", Message: "exec format error"}},
	}}})
	deploy("ghost", "app/missing:1", "")
	return &fixture{env: env, dyn: dyn, reg: reg, deploy: deploy}
}

// start runs a reporter named name with the clients client and dyn
// until the test ends (or its stop is called).
func (f *fixture) start(t *testing.T, name, lease string, client kubernetes.Interface, dyn dynamic.Interface) *replica {
	t.Helper()
	lookups, err := registry.New(registry.WithoutCache())
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics()
	r, err := New(Options{
		Client: client, Dynamic: dyn, Lookuper: lookups, Target: platform.LinuxARM64, Jobs: 4,
		Reports:  policyreport.Options{Format: policyreport.PolicyReport},
		Debounce: 200 * time.Millisecond, Interval: time.Hour,
		Identity: name, LeaseNamespace: "archway-system", LeaseName: lease,
		// Generous: a loaded CI machine must not flip leadership; a stopped leader releases the Lease at once.
		LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 300 * time.Millisecond,
		Metrics: m, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(t.Context())
	rep := &replica{name: name, metrics: httptest.NewServer(m.Handler()), stop: cancel, done: make(chan error, 1)}
	t.Cleanup(rep.metrics.Close)
	go func() { rep.done <- r.Run(rctx) }()
	t.Cleanup(func() { cancel(); <-rep.done })
	return rep
}

// writtenWith waits until shop's report was written by writer and holds
// a result for every one of names.
func (f *fixture) writtenWith(t *testing.T, writer string, names ...string) {
	t.Helper()
	eventually(t, writer+" writing results for "+strings.Join(names, ", "), func() (bool, string) {
		r, err := f.dyn.Resource(policyreport.PolicyReport.Resource()).Namespace("shop").Get(t.Context(), "archway-arm64-readiness", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		if got := r.GetAnnotations()[WriterAnnotation]; got != writer {
			return false, "written by " + got
		}
		rs, _, _ := unstructured.NestedSlice(r.Object, "results")
		have := map[string]bool{}
		for _, x := range rs {
			res := x.(map[string]any)["resources"].([]any)[0].(map[string]any)
			have[res["name"].(string)] = true
		}
		for _, n := range names {
			if !have[n] {
				return false, fmt.Sprintf("no result for %s in %v", n, have)
			}
		}
		return true, ""
	})
}

// TestReporterLeaderFailover runs two reporter replicas against a real
// API server: only the leader writes the report and exports readiness,
// a change is picked up, and when the leader stops the other takes over.
// The first to lead is a; should a loaded machine have handed the Lease
// to b before the report was written, b is the leader the test follows.
func TestReporterLeaderFailover(t *testing.T) {
	f := startFixture(t)
	env, ctx, reg := f.env, t.Context(), f.reg
	const lease = "archway-reporter"
	a := f.start(t, "a", lease, env.Client, f.dyn)
	eventually(t, "a leading", func() (bool, string) {
		s := a.scrape(t)
		return strings.Contains(s, "archway_reporter_leader 1"), s
	})
	b := f.start(t, "b", lease, env.Client, f.dyn)
	if f.writer(t) == "b" {
		a, b = b, a
	}
	f.writtenWith(t, a.name, "api", "billing", "ghost")
	t.Run("only the leader exports readiness", func(t *testing.T) {
		// The metrics follow the apply: wait for the run to be counted.
		eventually(t, "a counting its run", func() (bool, string) {
			got := a.scrape(t)
			return !strings.Contains(got, `archway_reporter_runs_total{outcome="ok"} 0`), grep(got, "archway_reporter_runs")
		})
		got := a.scrape(t)
		for _, want := range []string{
			`archway_workloads{namespace="shop",readiness="ready"} 1`,
			`archway_workloads{namespace="shop",readiness="not_ready"} 1`,
			`archway_workloads{namespace="shop",readiness="unknown"} 1`,
			`archway_workload_cpu_requests{namespace="shop",readiness="ready"} 0.5`,
			`archway_workload_cpu_requests{namespace="shop",readiness="not_ready"} 2`,
			fmt.Sprintf(`archway_lookups_total{cause="ok",registry=%q} 2`, reg.Host),
			fmt.Sprintf(`archway_lookups_total{cause="not found",registry=%q} 1`, reg.Host),
		} {
			if !strings.Contains(got, want) {
				t.Errorf("leader's /metrics lacks %s:\n%s", want, grep(got, "archway_"))
			}
		}
		got = b.scrape(t)
		for _, want := range []string{"archway_reporter_leader 0", `archway_reporter_runs_total{outcome="ok"} 0`} {
			if !strings.Contains(got, want) {
				t.Errorf("follower's /metrics lacks %s:\n%s", want, grep(got, "archway_"))
			}
		}
		if strings.Contains(got, "archway_workloads{") {
			t.Errorf("the follower exports readiness:\n%s", grep(got, "archway_workloads"))
		}
	})

	t.Run("a change is reported", func(t *testing.T) {
		f.deploy("late", "app/multi:1", "")
		f.writtenWith(t, a.name, "api", "billing", "ghost", "late")
	})

	t.Run("failover", func(t *testing.T) {
		a.stop()
		if err := <-a.done; err != context.Canceled {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
		a.done <- nil // for the cleanup
		f.writtenWith(t, b.name, "api", "billing", "ghost", "late")
		f.deploy("later", "app/multi:1", "")
		f.writtenWith(t, b.name, "later")
		lease, err := env.Client.CoordinationV1().Leases("archway-system").Get(ctx, "archway-reporter", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if h := lease.Spec.HolderIdentity; h == nil || *h != b.name {
			t.Errorf("lease holder = %v, want %s", h, b.name)
		}
		// The metrics follow the apply: wait for them.
		eventually(t, "b exporting the new readiness", func() (bool, string) {
			got := b.scrape(t)
			return strings.Contains(got, "archway_reporter_leader 1") && strings.Contains(got, `archway_workloads{namespace="shop",readiness="ready"} 3`), grep(got, "archway_")
		})

	})
}

// writer waits for shop's report and returns who wrote it.
func (f *fixture) writer(t *testing.T) string {
	t.Helper()
	var who string
	eventually(t, "shop's report", func() (bool, string) {
		r, err := f.dyn.Resource(policyreport.PolicyReport.Resource()).Namespace("shop").Get(t.Context(), "archway-arm64-readiness", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		who = r.GetAnnotations()[WriterAnnotation]
		return who != "", "no writer"
	})
	return who
}

// grep keeps the lines of s that start with prefix.
func grep(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
