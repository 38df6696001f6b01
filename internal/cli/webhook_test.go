package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/archwaydev/archway/internal/certs"
	"github.com/archwaydev/archway/internal/sandbox"
	"github.com/archwaydev/archway/internal/webhook"
)

// TestWebhookManifests decodes every printed object strictly with the
// Kubernetes scheme: a typo in a field name fails.
func TestWebhookManifests(t *testing.T) {
	got := runArchway(t.Context(), "", "webhook", "manifests", "--generate-certs", "--namespace", "placement", "--image", "registry.example.test/archway:9.9", "--arm-taint", "arm=true:NoSchedule")
	if got.code != ExitOK {
		t.Fatalf("exit %d: %s", got.code, got.stderr)
	}
	decoder := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()
	var kinds []string
	var hook *admissionregistrationv1.MutatingWebhookConfiguration
	var deploy *appsv1.Deployment
	var secret *corev1.Secret
	for _, doc := range strings.Split(got.stdout, "\n---\n") {
		doc = strings.TrimPrefix(doc, "---\n")
		if strings.TrimSpace(doc) == "" {
			continue
		}
		obj, gvk, err := decoder.Decode([]byte(doc), nil, nil)
		if err != nil {
			t.Fatalf("decode: %v\n%s", err, doc)
		}
		kinds = append(kinds, gvk.Kind)
		switch o := obj.(type) {
		case *admissionregistrationv1.MutatingWebhookConfiguration:
			hook = o
		case *appsv1.Deployment:
			deploy = o
		case *corev1.Secret:
			secret = o
		}
		if m, ok := obj.(metav1.Object); ok && gvk.Kind != "Namespace" && gvk.Kind != "ClusterRole" && gvk.Kind != "ClusterRoleBinding" &&
			gvk.Kind != "MutatingWebhookConfiguration" && m.GetNamespace() != "placement" {
			t.Errorf("%s %s in namespace %q", gvk.Kind, m.GetName(), m.GetNamespace())
		}
	}
	want := []string{"Namespace", "PodDisruptionBudget", "ServiceAccount", "Secret", "ClusterRole", "ClusterRoleBinding", "Service", "Deployment", "MutatingWebhookConfiguration"}
	if !slices.Equal(kinds, want) {
		t.Fatalf("kinds %v, want %v", kinds, want)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(hook.Webhooks[0].ClientConfig.CABundle) {
		t.Fatal("caBundle is not a PEM certificate")
	}
	pair, err := tls.X509KeyPair(secret.Data["tls.crt"], secret.Data["tls.key"])
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "archway.placement.svc"}); err != nil {
		t.Errorf("certificate does not verify for the Service: %v", err)
	}
	c := deploy.Spec.Template.Spec.Containers[0]
	if c.Image != "registry.example.test/archway:9.9" || !slices.Contains(c.Args, "--arm-taint=arm=true:NoSchedule") {
		t.Errorf("container image %s args %v", c.Image, c.Args)
	}
	// The chart's arguments are ones archway webhook accepts.
	cmd := newWebhookCmd()
	if c.Args[0] != cmd.Name() {
		t.Fatalf("args %v do not start with %s", c.Args, cmd.Name())
	}
	if err := cmd.ParseFlags(c.Args[1:]); err != nil {
		t.Fatalf("chart args %v: %v", c.Args, err)
	}
	if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
		t.Errorf("chart args %v: %v", c.Args, err)
	}
}

func TestWebhookUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no certificate", []string{"webhook"}, "--tls-cert-file and --tls-key-file are required"},
		{"bad mode", []string{"webhook", "--tls-cert-file", "a", "--tls-key-file", "b", "--mode", "strict"}, `mode "strict": want enforce or audit`},
		{"bad taint", []string{"webhook", "--tls-cert-file", "a", "--tls-key-file", "b", "--arm-taint", "=x:Bogus"}, "--arm-taint"},
		{"bad mirror", []string{"webhook", "--tls-cert-file", "a", "--tls-key-file", "b", "--registry-mirror", "mirror.gcr.io"}, "want ORIGIN=MIRROR"},
		{"bad budget", []string{"webhook", "--tls-cert-file", "a", "--tls-key-file", "b", "--budget", "1m"}, "--budget must be between"},
		{"manifests bad mode", []string{"webhook", "manifests", "--mode", "x"}, "--mode"},
		{"cluster-archs typo", []string{"webhook", "--tls-cert-file", "a", "--tls-key-file", "b", "--cluster-archs", "amd46"}, `--cluster-archs: "amd46" is not a CPU architecture`},
		{"manifests cluster-archs typo", []string{"webhook", "manifests", "--cluster-archs", "amd46"}, `--cluster-archs: "amd46" is not a CPU architecture`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := runArchway(t.Context(), "", tc.args...)
			if got.code != ExitUsage || !strings.Contains(got.stderr, tc.want) {
				t.Errorf("exit %d stderr %q, want %d and %q", got.code, got.stderr, ExitUsage, tc.want)
			}
		})
	}
	got := runArchway(t.Context(), "", "webhook", "--tls-cert-file", "/nonexistent/tls.crt", "--tls-key-file", "/nonexistent/tls.key", "--listen", "127.0.0.1:0", "--pull-secrets=false")
	if got.code != ExitError || !strings.Contains(got.stderr, "/nonexistent/tls.crt") {
		t.Errorf("missing cert files: exit %d stderr %q", got.code, got.stderr)
	}
}

// TestWebhookServe runs archway webhook against the sandbox registry and
// sends it one AdmissionReview over TLS.
func TestWebhookServe(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	reg, err := sandbox.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	serving, err := certs.NewServing("test-ca", []string{"127.0.0.1"}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := serving.WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Execute(ctx, []string{"webhook", "--listen", addr, "--tls-cert-file", certFile, "--tls-key-file", keyFile,
			"--arm-taint", "arm=true:NoSchedule", "--pull-secrets=false", "--warm-start=-1s", "--log-level", "debug"}, strings.NewReader(""), io.Discard, &stderr)
	}()

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(serving.CAPEM)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	pod := corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "billing", Namespace: "default"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: reg.Host + "/demo/legacy-billing:3.2"}}},
	}
	raw, _ := json.Marshal(pod)
	body, _ := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{UID: "u1", Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
			Operation: admissionv1.Create, Namespace: "default", Object: runtime.RawExtension{Raw: raw}},
	})
	var resp *http.Response
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err = client.Post("https://"+addr+webhook.MutatePath, "application/json", bytes.NewReader(body))
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("webhook never answered: %v\n%s", err, stderr.String())
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(out, &review); err != nil || review.Response == nil {
		t.Fatalf("response %s: %v", out, err)
	}
	patch := string(review.Response.Patch)
	if !review.Response.Allowed || !strings.Contains(patch, `"values":["amd64"]`) || !strings.Contains(patch, "placed (required kubernetes.io/arch In [amd64])") {
		t.Errorf("allowed %v patch %s", review.Response.Allowed, patch)
	}
	cancel()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("exit %d after cancel:\n%s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("webhook did not shut down")
	}
	logs := stderr.String()
	if !strings.Contains(logs, `"msg":"admission"`) || !strings.Contains(logs, `"outcome":"placed"`) {
		t.Errorf("no JSON admission log line:\n%s", logs)
	}
}
