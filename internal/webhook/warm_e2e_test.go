package webhook_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/archwaydev/archway/internal/webhook"
)

// TestWarmStart starts the webhook in a cluster that already runs pods:
// /readyz stays unready while their images are looked up, turns ready when
// the warm-up's bound runs out (one registry never answers), and the first
// admission of an image a running pod uses makes no registry request.
func TestWarmStart(t *testing.T) {
	env, ctx, reg := startCluster(t, false)
	hangHost := hangingRegistry(t)

	// Pods that exist before the webhook starts (no webhook registered).
	images := map[string][]string{
		"shop":    {reg.Host + "/demo/api:2.1", reg.Host + "/demo/legacy-billing:3.2"},
		"billing": {reg.Host + "/demo/legacy-billing:3.2", hangHost + "/demo/slow:1"},
	}
	for ns, imgs := range images {
		env.Namespace(ctx, t, ns)
		for i, img := range imgs {
			_, err := env.Client.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "running-" + string(rune('a'+i))},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: img}}},
			}, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
		}
	}

	dir := t.TempDir()
	serving := writeCerts(t, dir, time.Now())
	const bound = 2 * time.Second
	start := time.Now()
	srv, err := webhook.NewServer(ctx, webhook.Config{
		Addr:      "127.0.0.1:0",
		CertFile:  dir + "/tls.crt",
		KeyFile:   dir + "/tls.key",
		Kube:      env.Client,
		Keychain:  authn.NewMultiKeychain(),
		WarmStart: bound,
	})
	if err != nil {
		t.Fatal(err)
	}
	client := tlsClient(t, serving.CAPEM)
	if code, body := get(t, client, "https://"+srv.Addr()+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "warming") {
		t.Errorf("readyz during the warm start = %d %q, want 503 warming", code, body)
	}
	for {
		code, _ := get(t, client, "https://"+srv.Addr()+"/readyz")
		if code == http.StatusOK {
			break
		}
		if time.Since(start) > bound+10*time.Second {
			t.Fatal("never ready after the warm start's bound")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if took := time.Since(start); took < bound-200*time.Millisecond {
		t.Errorf("ready after %s, before the hanging lookup's bound %s", took, bound)
	}
	m := srv.Metrics()
	// Three distinct images, each looked up once (legacy-billing is shared
	// by both namespaces: anonymous lookups are shared); the hanging one
	// is still in flight.
	if n := histogramCount(t, m, "archway_webhook_registry_lookup_seconds"); n != 2 {
		t.Errorf("%v finished lookups during the warm start, want 2", n)
	}

	// The first admission after the rollout: answered from the cache.
	p := pod(reg.Host+"/demo/api:2.1", reg.Host+"/demo/legacy-billing:3.2")
	resp, err := client.Post("https://"+srv.Addr()+webhook.MutatePath, "application/json", strings.NewReader(string(review(t, request(t, p, admissionv1.Create)))))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mutate: %d", resp.StatusCode)
	}
	if n := histogramCount(t, m, "archway_webhook_registry_lookup_seconds"); n != 2 {
		t.Errorf("%v lookups after the first admission, want still 2", n)
	}
	if n := counter(t, m, "archway_webhook_admissions_total", "outcome", webhook.OutcomePlaced); n != 1 {
		t.Errorf("placed admissions %v, want 1", n)
	}
}
