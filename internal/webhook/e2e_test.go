package webhook_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/archwaydev/archway/internal/placement"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/registrytest"
	"github.com/archwaydev/archway/internal/sandbox"
	"github.com/archwaydev/archway/internal/testenv"
	"github.com/archwaydev/archway/internal/webhook"
	"github.com/archwaydev/archway/internal/webhook/install"
)

// TestEndToEnd runs the webhook on 127.0.0.1 against a real kube-apiserver
// and kube-scheduler: the API server calls it for every Pod created, the
// admitted Pods carry the placement, and the scheduler binds each to a node
// whose architecture its images support.
func TestEndToEnd(t *testing.T) {
	env, ctx, reg := startCluster(t, true)
	// A registry behind htpasswd basic auth, for pull secrets.
	private := registrytest.StartDistribution(t, registrytest.DistributionOptions{TLS: true, Users: map[string]string{"puller": "s3cret"}})
	registrytest.Push(t, private.Ref("team/billing:1.0"), registrytest.Image(t, platform.LinuxAMD64), private.RemoteOptions()...)
	// A registry that is gone.
	gone, err := sandbox.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := gone.Close(); err != nil {
		t.Fatal(err)
	}

	hangHost := hangingRegistry(t)

	const budget = 2 * time.Second
	armTaint := corev1.Taint{Key: "arm", Value: "true", Effect: corev1.TaintEffectNoSchedule}
	serving, certFile, keyFile := loopbackCerts(t)
	srv, err := webhook.NewServer(ctx, webhook.Config{
		Addr:        "127.0.0.1:0",
		CertFile:    certFile,
		KeyFile:     keyFile,
		Placement:   placement.Options{ClusterArchs: []string{"amd64", "arm64"}, ArmTaint: &armTaint},
		Budget:      budget,
		Kube:        env.Client,
		PullSecrets: true,
		Keychain:    authn.NewMultiKeychain(),
		Registry:    []registry.Option{registry.WithTransport(private.Transport), registry.WithRetry(2, 500*time.Millisecond)},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := srv.Metrics()

	env.AddNode(ctx, t, "amd64-node", "amd64", nil, nil)
	env.AddNode(ctx, t, "arm64-node", "arm64", nil, []corev1.Taint{armTaint})
	const ns = "apps"
	env.Namespace(ctx, t, ns)
	register(ctx, t, env, "https://"+srv.Addr()+webhook.MutatePath, serving.CAPEM)
	waitHonoured(ctx, t, env, ns, reg.Host+"/demo/legacy-billing:3.2")

	// Pull secrets: one on the pod, one on its service account.
	dockerConfig := func(user, pass string) []byte {
		b, _ := json.Marshal(map[string]any{"auths": map[string]any{private.Host: map[string]string{
			"username": user, "password": pass, "auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + pass)),
		}}})
		return b
	}
	for _, name := range []string{"regcred", "sa-regcred"} {
		_, err := env.Client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Type:       corev1.SecretTypeDockerConfigJson,
			Data:       map[string][]byte{corev1.DockerConfigJsonKey: dockerConfig("puller", "s3cret")},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := env.Client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{
		ObjectMeta:       metav1.ObjectMeta{Name: "builder"},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "sa-regcred"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	tolerations := []corev1.Toleration{{Key: "arm", Operator: corev1.TolerationOpEqual, Value: "true", Effect: corev1.TaintEffectNoSchedule}}
	tests := []struct {
		name           string
		image          string
		pullSecret     string
		serviceAccount string
		wantArchs      []string // required kubernetes.io/arch; nil = none
		wantToleration bool
		wantAnnotation string // prefix
		wantNodes      []string
	}{
		{name: "amd64-only", image: reg.Host + "/demo/legacy-billing:3.2", wantArchs: []string{"amd64"},
			wantAnnotation: "placed (", wantNodes: []string{"amd64-node"}},
		{name: "arm64-only", image: reg.Host + "/demo/edge-agent:0.9", wantArchs: []string{"arm64"}, wantToleration: true,
			wantAnnotation: "placed (", wantNodes: []string{"arm64-node"}},
		{name: "multi-arch", image: reg.Host + "/demo/api:2.1", wantToleration: true,
			wantAnnotation: "placed (toleration arm=true:NoSchedule)", wantNodes: []string{"amd64-node", "arm64-node"}},
		{name: "private with pod pull secret", image: private.Ref("team/billing:1.0"), pullSecret: "regcred", wantArchs: []string{"amd64"},
			wantAnnotation: "placed (", wantNodes: []string{"amd64-node"}},
		{name: "private with service account pull secret", image: private.Ref("team/billing:1.0"), serviceAccount: "builder", wantArchs: []string{"amd64"},
			wantAnnotation: "placed (", wantNodes: []string{"amd64-node"}},
		{name: "registry gone", image: gone.Host + "/demo/api:2.1",
			wantAnnotation: "skipped (lookup of " + gone.Host + "/demo/api:2.1 failed: network)", wantNodes: []string{"amd64-node"}},
		{name: "registry hangs past the budget", image: hangHost + "/demo/api:2.1",
			wantAnnotation: "skipped (lookup of " + hangHost + "/demo/api:2.1 timed out (budget 2s))", wantNodes: []string{"amd64-node"}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pod-%d", i)},
				Spec: corev1.PodSpec{
					Containers:         []corev1.Container{{Name: "app", Image: tc.image}},
					ServiceAccountName: tc.serviceAccount,
				},
			}
			if tc.pullSecret != "" {
				pod.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: tc.pullSecret}}
			}
			start := time.Now()
			got, err := env.Client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
			took := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			if took > budget+time.Second {
				t.Errorf("admission took %s, budget %s", took, budget)
			}
			if ann := got.Annotations[webhook.AnnotationKey]; !strings.HasPrefix(ann, tc.wantAnnotation) {
				t.Errorf("annotation %q, want prefix %q", ann, tc.wantAnnotation)
			}
			if diff := cmp.Diff(tc.wantArchs, requiredArchs(got)); diff != "" {
				t.Errorf("required archs (-want +got):\n%s", diff)
			}
			var wantTol []corev1.Toleration
			if tc.wantToleration {
				wantTol = tolerations
			}
			var gotTol []corev1.Toleration
			for _, tol := range got.Spec.Tolerations {
				if tol.Key == "arm" {
					gotTol = append(gotTol, tol)
				}
			}
			if diff := cmp.Diff(wantTol, gotTol); diff != "" {
				t.Errorf("arm tolerations (-want +got):\n%s", diff)
			}
			node, err := env.WaitScheduled(ctx, ns, pod.Name)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(tc.wantNodes, node) {
				t.Errorf("bound to %s, want one of %v", node, tc.wantNodes)
			}
		})
	}

	// A lookup made with a pod's pull secrets is cached under a hash of
	// those credentials: a pod without them, asking for the same private
	// image after it was looked up, learns nothing from the cache.
	t.Run("private image looked up by another tenant fails open", func(t *testing.T) {
		got, err := env.Client.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "no-creds"},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: private.Ref("team/billing:1.0")}}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := "skipped (lookup of " + private.Ref("team/billing:1.0") + " failed: unauthorized)"
		if ann := got.Annotations[webhook.AnnotationKey]; ann != want {
			t.Errorf("annotation %q, want %q", ann, want)
		}
		if got.Spec.Affinity != nil {
			t.Errorf("pod without credentials was placed from another tenant's lookup: %+v", got.Spec.Affinity)
		}
	})
	t.Run("opted-out namespace is not sent", func(t *testing.T) {
		// Labelled at creation: a label added later reaches the API
		// server's namespace cache, which the namespaceSelector reads, a
		// moment after the update returns.
		if _, err := env.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name: "legacy", Labels: map[string]string{webhook.AnnotationKey: webhook.AnnotationDisabled},
		}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := env.Client.CoreV1().ServiceAccounts("legacy").Create(ctx, &corev1.ServiceAccount{
			ObjectMeta: metav1.ObjectMeta{Name: "default"},
		}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		got, err := env.Client.CoreV1().Pods("legacy").Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "untouched"},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: reg.Host + "/demo/legacy-billing:3.2"}}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := got.Annotations[webhook.AnnotationKey]; ok || got.Spec.Affinity != nil {
			t.Errorf("pod in an opted-out namespace was mutated: %v %+v", got.Annotations, got.Spec.Affinity)
		}
	})

	t.Run("opted-out pod is not sent (matchConditions)", func(t *testing.T) {
		got, err := env.Client.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "opted-out", Annotations: map[string]string{webhook.AnnotationKey: webhook.AnnotationDisabled}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: reg.Host + "/demo/legacy-billing:3.2"}}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Spec.Affinity != nil {
			t.Errorf("opted-out pod was placed: %+v", got.Spec.Affinity)
		}
		if n := counter(t, m, "archway_webhook_admissions_total", "outcome", webhook.OutcomeDisabled); n != 0 {
			t.Errorf("the API server sent %v opted-out pods, want 0", n)
		}
	})

	for _, reason := range []string{"network", "timeout", "unauthorized"} {
		if n := counter(t, m, "archway_webhook_skipped_total", "reason", reason); n < 1 {
			t.Errorf("skipped{reason=%s} = %v, want ≥ 1", reason, n)
		}
	}
}

// register creates the MutatingWebhookConfiguration the chart renders
// (selectors, matchConditions, reinvocationPolicy, failurePolicy), pointing
// at url instead of the in-cluster Service.
func register(ctx context.Context, t *testing.T, env *testenv.Env, url string, caPEM []byte) {
	t.Helper()
	manifest, err := install.Render("archway", "archway", map[string]any{
		"tls": map[string]any{"existingSecret": "archway-tls", "caBundle": string(caPEM)},
	})
	if err != nil {
		t.Fatal(err)
	}
	var hook admissionregistrationv1.MutatingWebhookConfiguration
	for _, doc := range strings.Split(manifest, "\n---\n") {
		if strings.Contains(doc, "\nkind: MutatingWebhookConfiguration\n") {
			if err := yaml.UnmarshalStrict([]byte(doc), &hook); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(hook.Webhooks) != 1 {
		t.Fatalf("chart renders %d webhooks", len(hook.Webhooks))
	}
	hook.Webhooks[0].ClientConfig = admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: caPEM}
	if _, err := env.Client.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, &hook, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitHonoured creates probe pods until the API server calls the webhook
// (a new configuration takes a moment to be picked up) and, when given,
// ready says the admitted probe shows every other webhook's work too.
func waitHonoured(ctx context.Context, t *testing.T, env *testenv.Env, ns, image string, ready ...func(*corev1.Pod) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		p, err := env.Client.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("probe-%d", i)},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create probe pod: %v", err)
		}
		_ = env.Client.CoreV1().Pods(ns).Delete(ctx, p.Name, metav1.DeleteOptions{})
		if _, ok := p.Annotations[webhook.AnnotationKey]; ok && (len(ready) == 0 || ready[0](p)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no probe pod admitted as wanted within 30s; the last: annotations %v, containers %+v", p.Annotations, p.Spec.Containers)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// requiredArchs returns the kubernetes.io/arch In values of the pod's
// required node affinity (first term), or nil.
func requiredArchs(p *corev1.Pod) []string {
	a := p.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return nil
	}
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, r := range term.MatchExpressions {
			if r.Key == "kubernetes.io/arch" && r.Operator == corev1.NodeSelectorOpIn {
				return r.Values
			}
		}
	}
	return nil
}
