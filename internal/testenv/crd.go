package testenv

import (
	"context"
	"os"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"
)

var crds = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// InstallCRD creates the CustomResourceDefinition in the YAML file path
// and waits until the API server serves it.
func (e *Env) InstallCRD(ctx context.Context, t testing.TB, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	var u unstructured.Unstructured
	if err := yaml.Unmarshal(data, &u.Object); err != nil {
		t.Fatalf("testenv: %s: %v", path, err)
	}
	dyn, err := dynamic.NewForConfig(e.Config)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if _, err := dyn.Resource(crds).Create(ctx, &u, metav1.CreateOptions{}); err != nil {
		t.Fatalf("testenv: create CRD %s: %v", u.GetName(), err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		got, err := dyn.Resource(crds).Get(ctx, u.GetName(), metav1.GetOptions{})
		if err == nil && established(got) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("testenv: CRD %s not established after 30s", u.GetName())
}

func established(u *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}
