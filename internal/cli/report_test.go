package cli

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/policyreport"
	"github.com/archwaydev/archway/internal/registrytest"
	"github.com/archwaydev/archway/internal/report"
	"github.com/archwaydev/archway/internal/testenv"
)

// reportFixture is a control plane with the PolicyReport CRD, an amd64
// and a tainted arm64 node, and images in a test registry: multi:1
// (amd64 and arm64), amd:1 (amd64 only); missing:1 does not exist.
type reportFixture struct {
	env  *testenv.Env
	dyn  dynamic.Interface
	host string
}

func startReportFixture(t *testing.T) *reportFixture {
	t.Helper()
	// A fresh cache dir moves the user cache dir, where testenv finds its binaries.
	if bin, err := testenv.BinDir(); err == nil && os.Getenv(testenv.BinDirEnv) == "" {
		t.Setenv(testenv.BinDirEnv, bin)
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	reg := registrytest.StartInProcess(t)
	registrytest.PushIndex(t, reg.Ref("app/multi:1"), registrytest.Index(t, platform.LinuxAMD64, platform.LinuxARM64))
	registrytest.Push(t, reg.Ref("app/amd:1"), registrytest.Image(t, platform.LinuxAMD64))
	env := testenv.Start(t, testenv.Options{})
	ctx := t.Context()
	env.InstallCRD(ctx, t, "../policyreport/testdata/policyreports.wgpolicyk8s.io.yaml")
	env.AddNode(ctx, t, "amd-1", "amd64", nil, nil)
	env.AddNode(ctx, t, "arm-1", "arm64", nil, []corev1.Taint{{Key: "arm", Value: "true", Effect: corev1.TaintEffectNoSchedule}})
	dyn, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", env.Kubeconfig)
	return &reportFixture{env: env, dyn: dyn, host: reg.Host}
}

// deploy creates a Deployment of image in ns; edit changes its pod spec.
func (f *reportFixture) deploy(t *testing.T, ns, name, image string, edit func(*corev1.PodSpec)) *appsv1.Deployment {
	t.Helper()
	labels := map[string]string{"app": name}
	spec := corev1.PodSpec{Containers: []corev1.Container{{Name: name, Image: f.host + "/" + image}}}
	if edit != nil {
		edit(&spec)
	}
	d, err := f.env.Client.AppsV1().Deployments(ns).Create(t.Context(), &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create deployment %s/%s: %v", ns, name, err)
	}
	return d
}

// reports returns the PolicyReports in the cluster by namespace/name.
func (f *reportFixture) reports(t *testing.T) map[string]*unstructured.Unstructured {
	t.Helper()
	l, err := f.dyn.Resource(policyreport.PolicyReport.Resource()).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*unstructured.Unstructured{}
	for i := range l.Items {
		out[l.Items[i].GetNamespace()+"/"+l.Items[i].GetName()] = &l.Items[i]
	}
	return out
}

// resultsOf maps "Kind/name rule" to the result, over reports.
func resultsOf(t *testing.T, reports ...*unstructured.Unstructured) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range reports {
		rs, _, _ := unstructured.NestedSlice(r.Object, "results")
		for _, x := range rs {
			m := x.(map[string]any)
			res := m["resources"].([]any)[0].(map[string]any)
			key := fmt.Sprintf("%s/%s %s", res["kind"], res["name"], m["rule"])
			if _, dup := out[key]; dup {
				t.Errorf("result %s twice", key)
			}
			out[key] = m["result"].(string)
			if m["policy"] != "arm64-readiness" || m["source"] != "archway" {
				t.Errorf("%s: policy %v source %v", key, m["policy"], m["source"])
			}
		}
	}
	return out
}

// property returns the named property of the result for "Kind/name rule".
func property(r *unstructured.Unstructured, key, prop string) string {
	rs, _, _ := unstructured.NestedSlice(r.Object, "results")
	for _, x := range rs {
		m := x.(map[string]any)
		res := m["resources"].([]any)[0].(map[string]any)
		if fmt.Sprintf("%s/%s %s", res["kind"], res["name"], m["rule"]) == key {
			p, _ := m["properties"].(map[string]any)
			s, _ := p[prop].(string)
			return s
		}
	}
	return ""
}

// TestReportCluster runs archway report --apply against a real API server
// and checks the reports, their results and summaries, the runtime
// evidence, stale-result and stale-report removal, and size splitting.
func TestReportCluster(t *testing.T) {
	f := startReportFixture(t)
	ctx := t.Context()
	env := f.env
	env.Namespace(ctx, t, "shop")
	env.Namespace(ctx, t, "batch")
	tolerate := func(s *corev1.PodSpec) {
		s.Tolerations = []corev1.Toleration{{Key: "arm", Operator: corev1.TolerationOpEqual, Value: "true", Effect: corev1.TaintEffectNoSchedule}}
	}
	f.deploy(t, "shop", "api", "app/multi:1", nil)
	f.deploy(t, "shop", "web", "app/multi:1", tolerate)
	f.deploy(t, "shop", "billing", "app/amd:1", nil)
	f.deploy(t, "shop", "ledger", "app/amd:1", func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"kubernetes.io/arch": "amd64"} })
	// Runtime evidence: lookups fail for ghost, but a pod of it runs on
	// arm64; crashy's image claims arm64, but fails there.
	ghost := f.deploy(t, "shop", "ghost", "app/missing:1", tolerate)
	crashy := f.deploy(t, "shop", "crashy", "app/multi:1", tolerate)
	env.RunPodOf(ctx, t, ghost, "arm-1", testenv.Running(map[string]string{"ghost": f.host + "/app/missing@sha256:" + strings.Repeat("a", 64)}))
	env.RunPodOf(ctx, t, crashy, "arm-1", corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{
		Name: "crashy", ImageID: f.host + "/app/multi@sha256:" + strings.Repeat("b", 64),
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: 1, Reason: "Error", Message: "exec /usr/bin/app: exec format error",
		}},
	}}})
	cron := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Namespace: "batch", Name: "nightly"},
		Spec: batchv1.CronJobSpec{Schedule: "0 3 * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
			Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "job", Image: f.host + "/app/missing:1"}}},
		}}}},
	}
	if _, err := env.Client.BatchV1().CronJobs("batch").Create(ctx, cron, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	archwayReport := func(t *testing.T, args ...string) runResult {
		t.Helper()
		got := runArchway(ctx, "", append([]string{"report", "--cluster", "--no-cache", "--arm-taint", "arm=true:NoSchedule"}, args...)...)
		if got.code != ExitOK {
			t.Fatalf("archway report %v: exit %d; stderr:\n%s", args, got.code, got.stderr)
		}
		return got
	}

	t.Run("apply", func(t *testing.T) {
		got := archwayReport(t, "-A", "--apply")
		if !strings.Contains(got.stderr, "applied 2 reports") {
			t.Errorf("stderr:\n%s", got.stderr)
		}
		rs := f.reports(t)
		if diff := cmp.Diff([]string{"batch/archway-arm64-readiness", "shop/archway-arm64-readiness"}, slices.Sorted(maps.Keys(rs))); diff != "" {
			t.Fatalf("reports (-want +got):\n%s", diff)
		}
		shop := rs["shop/archway-arm64-readiness"]
		want := map[string]string{
			"Deployment/api images-support-arm64": "pass", "Deployment/api placement-present": "pass", "Deployment/api toleration-present": "fail",
			"Deployment/web images-support-arm64": "pass", "Deployment/web placement-present": "pass", "Deployment/web toleration-present": "pass",
			"Deployment/billing images-support-arm64": "fail", "Deployment/billing placement-present": "fail", "Deployment/billing toleration-present": "skip",
			"Deployment/ledger images-support-arm64": "fail", "Deployment/ledger placement-present": "pass", "Deployment/ledger toleration-present": "skip",
			"Deployment/ghost images-support-arm64": "pass", "Deployment/ghost placement-present": "error", "Deployment/ghost toleration-present": "error",
			"Deployment/crashy images-support-arm64": "fail", "Deployment/crashy placement-present": "pass", "Deployment/crashy toleration-present": "pass",
		}
		if diff := cmp.Diff(want, resultsOf(t, shop)); diff != "" {
			t.Errorf("shop results (-want +got):\n%s", diff)
		}
		summary, _, _ := unstructured.NestedMap(shop.Object, "summary")
		if diff := cmp.Diff(map[string]any{"pass": int64(9), "fail": int64(5), "warn": int64(0), "error": int64(2), "skip": int64(2)}, summary); diff != "" {
			t.Errorf("shop summary (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]string{
			"CronJob/nightly images-support-arm64": "error", "CronJob/nightly placement-present": "error", "CronJob/nightly toleration-present": "error",
		}, resultsOf(t, rs["batch/archway-arm64-readiness"])); diff != "" {
			t.Errorf("batch results (-want +got):\n%s", diff)
		}
		for key, want := range map[[2]string]string{
			{"Deployment/billing images-support-arm64", "blockingImages"}:    f.host + "/app/amd:1",
			{"Deployment/billing images-support-arm64", "platforms"}:         f.host + "/app/amd:1=linux/amd64",
			{"Deployment/ghost images-support-arm64", "proven"}:              "ready",
			{"Deployment/ghost images-support-arm64", "runningOn"}:           "arm64=1",
			{"Deployment/crashy images-support-arm64", "proven"}:             "not-ready",
			{"Deployment/billing placement-present", "allowedArchitectures"}: "amd64",
		} {
			if got := property(shop, key[0], key[1]); got != want {
				t.Errorf("%s property %s = %q, want %q", key[0], key[1], got, want)
			}
		}
		if got := property(shop, "Deployment/crashy images-support-arm64", "execFormatErrors"); !strings.Contains(got, "on arm-1 (arm64)") {
			t.Errorf("crashy's execFormatErrors = %q", got)
		}
		if shop.GetLabels()[policyreport.ManagedByLabel] != "archway" {
			t.Errorf("labels = %v", shop.GetLabels())
		}
		if mf := shop.GetManagedFields(); len(mf) != 1 || mf[0].Manager != "archway" || mf[0].Operation != metav1.ManagedFieldsOperationApply {
			t.Errorf("managed fields = %+v, want one server-side apply by archway", mf)
		}
	})

	t.Run("stale results and reports removed", func(t *testing.T) {
		if err := env.Client.AppsV1().Deployments("shop").Delete(ctx, "billing", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := env.Client.BatchV1().CronJobs("batch").Delete(ctx, "nightly", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		got := archwayReport(t, "-A", "--apply")
		if !strings.Contains(got.stderr, "removed 1 stale: batch/archway-arm64-readiness") {
			t.Errorf("stderr:\n%s", got.stderr)
		}
		rs := f.reports(t)
		if len(rs) != 1 {
			t.Fatalf("reports = %v, want shop's alone", slices.Sorted(maps.Keys(rs)))
		}
		res := resultsOf(t, rs["shop/archway-arm64-readiness"])
		if len(res) != 15 || res["Deployment/billing images-support-arm64"] != "" {
			t.Errorf("results after billing was deleted: %v", res)
		}
	})

	t.Run("split when large, parts removed when no longer needed", func(t *testing.T) {
		archwayReport(t, "-n", "shop", "--apply", "--max-results", "4")
		rs := f.reports(t)
		var parts []*unstructured.Unstructured
		for _, name := range []string{"archway-arm64-readiness", "archway-arm64-readiness-2", "archway-arm64-readiness-3", "archway-arm64-readiness-4"} {
			r := rs["shop/"+name]
			if r == nil {
				t.Fatalf("no report shop/%s; have %v", name, slices.Sorted(maps.Keys(rs)))
			}
			if n := len(r.Object["results"].([]any)); n > 4 {
				t.Errorf("%s has %d results, want at most 4", name, n)
			}
			parts = append(parts, r)
		}
		if len(rs) != 4 || len(resultsOf(t, parts...)) != 15 {
			t.Errorf("reports %v, results %d: want 4 parts holding all 15", slices.Sorted(maps.Keys(rs)), len(resultsOf(t, parts...)))
		}
		archwayReport(t, "-n", "shop", "--apply")
		if rs := f.reports(t); len(rs) != 1 {
			t.Errorf("reports after the split was undone: %v", slices.Sorted(maps.Keys(rs)))
		}
	})

	t.Run("print", func(t *testing.T) {
		before := f.reports(t)["shop/archway-arm64-readiness"].GetResourceVersion()
		got := archwayReport(t, "-n", "shop", "-o", "yaml", "--format", "openreports")
		var u map[string]any
		if err := yaml.Unmarshal([]byte(got.stdout), &u); err != nil {
			t.Fatalf("stdout is not one YAML object: %v\n%s", err, got.stdout)
		}
		if u["apiVersion"] != "openreports.io/v1alpha1" || u["kind"] != "Report" || len(u["results"].([]any)) != 15 {
			t.Errorf("printed %v %v with %d results", u["apiVersion"], u["kind"], len(u["results"].([]any)))
		}
		if after := f.reports(t)["shop/archway-arm64-readiness"].GetResourceVersion(); after != before {
			t.Error("-o yaml without --apply changed the cluster")
		}
	})

	t.Run("scan shows the runtime evidence", func(t *testing.T) {
		got := runArchway(ctx, "", "scan", "--no-cache", "--cluster", "-n", "shop", "-o", "json")
		var rep report.JSONReport
		if err := json.Unmarshal([]byte(got.stdout), &rep); err != nil {
			t.Fatalf("scan JSON: %v\n%s", err, got.stdout)
		}
		byName := map[string]report.JSONWorkload{}
		for _, w := range rep.Workloads {
			byName[w.Name] = w
		}
		ghost, crashy := byName["ghost"], byName["crashy"]
		if ghost.Verdict != "ready" || ghost.Proven != "ready" || ghost.Runtime == nil || ghost.Runtime.Running["arm64"] != 1 {
			t.Errorf("ghost: verdict %s proven %q runtime %+v, want proven ready by its pod on arm64", ghost.Verdict, ghost.Proven, ghost.Runtime)
		}
		if crashy.Verdict != "not-ready" || crashy.Runtime == nil || len(crashy.Runtime.ExecFormatErrors) != 1 ||
			len(crashy.Runtime.Images) != 1 || !strings.HasSuffix(crashy.Runtime.Images[0].ImageID, strings.Repeat("b", 64)) {
			t.Errorf("crashy: verdict %s runtime %+v, want not ready with one exec format error and its image ID", crashy.Verdict, crashy.Runtime)
		}
	})

	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{{"report", "-A", "--apply"}, {"report", "--cluster", "-A"}, {"report", "--cluster", "-o", "table"}, {"report", "--cluster", "--apply", "--format", "sarif"}} {
			if got := runArchway(ctx, "", args...); got.code != ExitUsage {
				t.Errorf("%v: exit %d, want %d; stderr:\n%s", args, got.code, ExitUsage, got.stderr)
			}
		}
	})
}

// TestReporterUsage checks the reporter's flag errors exit 3 before it
// connects anywhere.
func TestReporterUsage(t *testing.T) {
	for _, args := range [][]string{
		{"reporter", "--format", "sarif"},
		{"reporter", "--report-interval", "10ms"},
		{"reporter", "--debounce", "0s"},
		{"reporter", "--platform", "linux/arm64,linux/amd64"},
		{"reporter", "--arm-taint", "arm"},
		{"reporter", "extra"},
	} {
		if got := runArchway(t.Context(), "", args...); got.code != ExitUsage {
			t.Errorf("%v: exit %d, want %d; stderr:\n%s", args, got.code, ExitUsage, got.stderr)
		}
	}
}
