package webhook_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/archwaydev/archway/internal/placement"
	"github.com/archwaydev/archway/internal/testenv"
	"github.com/archwaydev/archway/internal/webhook"
)

// TestSidecarInjectorEndToEnd puts a second mutating webhook after archway
// (its configuration's name sorts after "archway", so the API server calls
// it second) that injects an amd64-only sidecar into every pod, as istio,
// linkerd, vault or datadog injectors do. Archway first places each
// multi-arch pod on either architecture and tolerates the arm taint, with a
// preference for arm64; reinvoked after the injection, it must tighten the
// pod to amd64 and take its toleration and preference back. Every pod must
// then be bound to the amd64 node, and the reinvocations must cost no
// registry lookup.
func TestSidecarInjectorEndToEnd(t *testing.T) {
	env, ctx, reg := startCluster(t, true)
	sidecarImage := reg.Host + "/demo/legacy-billing:3.2" // linux/amd64 only

	serving, certFile, keyFile := loopbackCerts(t)
	armTaint := corev1.Taint{Key: "arm", Value: "true", Effect: corev1.TaintEffectNoSchedule}
	srv, err := webhook.NewServer(ctx, webhook.Config{
		Addr:     "127.0.0.1:0",
		CertFile: certFile,
		KeyFile:  keyFile,
		Placement: placement.Options{
			ClusterArchs: []string{"amd64", "arm64"},
			ArmTaint:     &armTaint,
			Prefer:       map[string]int32{"arm64": 100},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := srv.Metrics()

	// The injector: adds the sidecar once, never reinvoked itself.
	injector := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var review admissionv1.AdmissionReview
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil || review.Request == nil {
			http.Error(w, "bad review", http.StatusBadRequest)
			return
		}
		var pod corev1.Pod
		_ = json.Unmarshal(review.Request.Object.Raw, &pod)
		resp := &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true}
		if !slices.ContainsFunc(pod.Spec.Containers, func(c corev1.Container) bool { return c.Name == "proxy" }) {
			patch, _ := json.Marshal([]map[string]any{{"op": "add", "path": "/spec/containers/-",
				"value": map[string]any{"name": "proxy", "image": sidecarImage}}})
			pt := admissionv1.PatchTypeJSONPatch
			resp.Patch, resp.PatchType = patch, &pt
		}
		review.Response, review.Request = resp, nil
		_ = json.NewEncoder(w).Encode(review)
	}))
	pair, err := tls.X509KeyPair(serving.CertPEM, serving.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	injector.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	injector.StartTLS()
	t.Cleanup(injector.Close)

	env.AddNode(ctx, t, "amd64-node", "amd64", nil, nil)
	env.AddNode(ctx, t, "arm64-node", "arm64", nil, []corev1.Taint{armTaint})
	const ns = "mesh"
	env.Namespace(ctx, t, ns)
	register(ctx, t, env, "https://"+srv.Addr()+webhook.MutatePath, serving.CAPEM)
	registerInjector(ctx, t, env, injector.URL+"/inject", serving.CAPEM)
	injected := func(p *corev1.Pod) bool {
		return slices.ContainsFunc(p.Spec.Containers, func(c corev1.Container) bool { return c.Image == sidecarImage })
	}
	const wantAnnotation = "placed (required kubernetes.io/arch In [amd64])"
	// Wait until the injector is called too and archway reinvoked after it.
	waitHonoured(ctx, t, env, ns, reg.Host+"/demo/api:2.1", func(p *corev1.Pod) bool {
		return injected(p) && p.Annotations[webhook.AnnotationKey] == wantAnnotation
	})
	lookupsBefore := histogramCount(t, m, "archway_webhook_registry_lookup_seconds")

	// Multi-arch apps: each would run on arm64, and without reinvocation
	// would be tolerated and preferred there.
	apps := []string{"demo/api:2.1", "demo/worker:1.0", "demo/sidecar:1.0", "demo/nested:1.0", "demo/queue:2.0", "demo/queue:2.1", "demo/api:2.1"}
	for i, app := range apps {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("app-%d", i)},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: reg.Host + "/" + app}}},
		}
		got, err := env.Client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !injected(got) {
			t.Fatalf("%s: the sidecar was not injected: %+v", pod.Name, got.Spec.Containers)
		}
		if diff := requiredArchs(got); !slices.Equal(diff, []string{"amd64"}) {
			t.Errorf("%s: required archs %v, want [amd64]", pod.Name, diff)
		}
		if slices.ContainsFunc(got.Spec.Tolerations, func(tol corev1.Toleration) bool { return tol.Key == "arm" }) {
			t.Errorf("%s: still tolerates the arm taint: %+v", pod.Name, got.Spec.Tolerations)
		}
		if a := got.Spec.Affinity; a != nil && a.NodeAffinity != nil && len(a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution) > 0 {
			t.Errorf("%s: still prefers %+v", pod.Name, a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution)
		}
		if ann := got.Annotations[webhook.AnnotationKey]; ann != wantAnnotation {
			t.Errorf("%s: annotation %q", pod.Name, ann)
		}
	}
	for i := range apps {
		node, err := env.WaitScheduled(ctx, ns, fmt.Sprintf("app-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if node != "amd64-node" {
			t.Errorf("app-%d bound to %s, want amd64-node", i, node)
		}
	}
	// Each admission was answered twice (first call and reinvocation).
	if n := counter(t, m, "archway_webhook_admissions_total", "outcome", webhook.OutcomePlaced); n < float64(2*len(apps)) {
		t.Errorf("placed admissions %v, want ≥ %d (a first call and a reinvocation per pod)", n, 2*len(apps))
	}
	// One registry lookup per distinct app image (the sidecar was looked up
	// by the probe pods already): reinvocations hit the cache.
	if n := histogramCount(t, m, "archway_webhook_registry_lookup_seconds") - lookupsBefore; n != 5 {
		t.Errorf("%v registry lookups for 5 new images, want 5", n)
	}
}

// registerInjector registers the injecting webhook under a name that sorts
// after archway's.
func registerInjector(ctx context.Context, t *testing.T, env *testenv.Env, url string, caPEM []byte) {
	t.Helper()
	none := admissionregistrationv1.SideEffectClassNone
	fail := admissionregistrationv1.Fail
	never := admissionregistrationv1.NeverReinvocationPolicy
	_, err := env.Client.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "zz-sidecar-injector"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name:         "inject.sidecar.test",
			ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: caPEM},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
				Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}},
			}},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: "mesh"}},
			SideEffects:             &none,
			FailurePolicy:           &fail,
			ReinvocationPolicy:      &never,
			AdmissionReviewVersions: []string{"v1"},
		}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// histogramCount returns the sample count of the histogram name, summed
// over its labels.
func histogramCount(t *testing.T, m *webhook.Metrics, name string) float64 {
	t.Helper()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, f := range families {
		if f.GetName() == name {
			for _, metric := range f.GetMetric() {
				n += float64(metric.GetHistogram().GetSampleCount())
			}
		}
	}
	return n
}
