package reporter

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/archwaydev/archway/internal/webhook/install"
)

// chartResources are the API resources of the objects the reporter's
// chart template creates.
var chartResources = map[string]schema.GroupVersionResource{
	"ServiceAccount":     {Version: "v1", Resource: "serviceaccounts"},
	"ClusterRole":        {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"},
	"ClusterRoleBinding": {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"},
	"Role":               {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"},
	"RoleBinding":        {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"},
	"Service":            {Version: "v1", Resource: "services"},
	"Deployment":         {Group: "apps", Version: "v1", Resource: "deployments"},
}

// TestChartRBAC renders the chart with reporter.enabled, creates the
// reporter's ServiceAccount and RBAC in a real API server, and runs a
// reporter as that ServiceAccount (impersonated): the RBAC the chart
// grants is enough to watch, hold the Lease and write the reports. The
// Deployment's arguments are the reporter's.
func TestChartRBAC(t *testing.T) {
	out, err := install.Render("archway", "archway-system", map[string]any{
		"reporter": map[string]any{"enabled": true},
		"armTaint": "arm=true:NoSchedule",
		"tls":      map[string]any{"caBundle": "unused", "crt": "unused", "key": "unused"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var objs []*unstructured.Unstructured
	for _, doc := range strings.Split(out, "\n---\n") {
		if !strings.Contains(doc, "# Source: archway/templates/reporter.yaml") {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatalf("rendered reporter.yaml: %v\n%s", err, doc)
		}
		objs = append(objs, u)
	}
	kinds := map[string]bool{}
	for _, u := range objs {
		kinds[u.GetKind()] = true
		if u.GetKind() == "Deployment" {
			args, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
			got := strings.Join(toStrings(args[0].(map[string]any)["args"]), " ")
			if want := "reporter --metrics-addr=:9090 --format=policyreport --report-interval=1h --debounce=10s --lease-name=archway-reporter --cluster-archs=amd64,arm64 --arm-taint=arm=true:NoSchedule"; got != want {
				t.Errorf("reporter args:\n got %s\nwant %s", got, want)
			}
		}
	}
	if len(kinds) != len(chartResources) {
		t.Fatalf("reporter.yaml renders %v, want one of each of %d kinds", kinds, len(chartResources))
	}

	f := startFixture(t)
	ctx := t.Context()
	for _, u := range objs {
		if u.GetKind() == "Deployment" || u.GetKind() == "Service" {
			continue // no kubelet runs here: the reporter runs in the test
		}
		res := f.dyn.Resource(chartResources[u.GetKind()])
		var err error
		if ns := u.GetNamespace(); ns != "" {
			_, err = res.Namespace(ns).Create(ctx, u, metav1.CreateOptions{})
		} else {
			_, err = res.Create(ctx, u, metav1.CreateOptions{})
		}
		if err != nil {
			t.Fatalf("create %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
	cfg := rest.CopyConfig(f.env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:archway-system:archway-reporter",
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:archway-system", "system:authenticated"},
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().Secrets("shop").List(ctx, metav1.ListOptions{}); err == nil {
		t.Error("the reporter's ServiceAccount can list Secrets: it needs no such right")
	}
	r := f.start(t, "archway-reporter-0", "archway-reporter", client, dyn)
	f.writtenWith(t, "archway-reporter-0", "api", "billing", "ghost")
	eventually(t, "a run counted ok and none failed", func() (bool, string) {
		got := r.scrape(t)
		return strings.Contains(got, `archway_reporter_runs_total{outcome="error"} 0`) && !strings.Contains(got, `archway_reporter_runs_total{outcome="ok"} 0`), grep(got, "archway_reporter_runs")
	})
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}
