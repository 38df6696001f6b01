package testenv

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestKubernetesVersionMatchesGoMod(t *testing.T) {
	path := filepath.Join("..", "..", "hack", "testenv", "go.mod")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "k8s.io/kubernetes" && strings.HasPrefix(fields[1], "v") {
			got = fields[1]
			break
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if got != KubernetesVersion {
		t.Errorf("%s requires k8s.io/kubernetes %q, KubernetesVersion is %q", path, got, KubernetesVersion)
	}
}

func TestBinDir(t *testing.T) {
	tests := []struct {
		name, binDir, cacheHome, want string
	}{
		{name: "override", binDir: "/opt/k8s", cacheHome: "/cache", want: "/opt/k8s"},
		{name: "user cache", cacheHome: "/cache", want: "/cache/archway/k8s/" + KubernetesVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(BinDirEnv, tt.binDir)
			t.Setenv("XDG_CACHE_HOME", tt.cacheHome)
			got, err := BinDir()
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("BinDir() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestSchedulesByArch starts a control plane with a scheduler, one amd64
// node and one arm64 node tainted arm=true:NoSchedule, and checks where the
// scheduler binds pods that select an architecture.
func TestSchedulesByArch(t *testing.T) {
	t.Parallel()
	env := Start(t, Options{Scheduler: true})
	ctx := t.Context()

	version, err := env.Client.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if version.GitVersion != KubernetesVersion {
		t.Errorf("server version %q, want %q", version.GitVersion, KubernetesVersion)
	}

	armTaint := corev1.Taint{Key: "arm", Value: "true", Effect: corev1.TaintEffectNoSchedule}
	amd := env.AddNode(ctx, t, "node-amd64", "amd64", map[string]string{"pool": "x86"}, nil)
	arm := env.AddNode(ctx, t, "node-arm64", "arm64", nil, []corev1.Taint{armTaint})
	if diff := cmp.Diff([]corev1.Taint{armTaint}, arm.Spec.Taints); diff != "" {
		t.Errorf("arm64 node taints (-want +got):\n%s", diff)
	}
	if got := amd.Labels[corev1.LabelArchStable] + "," + amd.Labels["pool"]; got != "amd64,x86" {
		t.Errorf("amd64 node labels arch,pool = %q", got)
	}

	env.Namespace(ctx, t, "apps")
	toleration := corev1.Toleration{Key: "arm", Operator: corev1.TolerationOpEqual, Value: "true", Effect: corev1.TaintEffectNoSchedule}
	pods := []struct {
		name        string
		arch        string
		tolerations []corev1.Toleration
	}{
		{name: "on-arm", arch: "arm64", tolerations: []corev1.Toleration{toleration}},
		{name: "on-amd", arch: "amd64"},
		{name: "arm-without-toleration", arch: "arm64"},
	}
	for _, p := range pods {
		_, err := env.Client.CoreV1().Pods("apps").Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: p.name},
			Spec: corev1.PodSpec{
				NodeSelector: map[string]string{corev1.LabelArchStable: p.arch},
				Tolerations:  p.tolerations,
				Containers:   []corev1.Container{{Name: "app", Image: "registry.example/app:1"}},
			},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create pod %s: %v", p.name, err)
		}
	}

	got := map[string]string{}
	for _, name := range []string{"on-arm", "on-amd"} {
		node, err := env.WaitScheduled(ctx, "apps", name)
		if err != nil {
			t.Fatal(err)
		}
		got[name] = node
	}
	want := map[string]string{"on-arm": "node-arm64", "on-amd": "node-amd64"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pod → node (-want +got):\n%s", diff)
	}

	// The arm64 node's taint keeps out a pod that does not tolerate it.
	short, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	node, err := env.WaitScheduled(short, "apps", "arm-without-toleration")
	if err == nil {
		t.Fatalf("pod without the arm toleration was bound to %s", node)
	}
	if !strings.Contains(err.Error(), "untolerated taint") {
		t.Errorf("WaitScheduled error does not name the taint: %v", err)
	}
}

// TestCallsWebhookOnLoopback registers a mutating webhook served on
// 127.0.0.1 and checks that the API server calls it and applies its patch.
func TestCallsWebhookOnLoopback(t *testing.T) {
	t.Parallel()
	env := Start(t, Options{})
	ctx := t.Context()

	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var review admissionv1.AdmissionReview
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&review); err != nil || review.Request == nil {
			http.Error(w, "bad admission review", http.StatusBadRequest)
			return
		}
		patch := admissionv1.PatchTypeJSONPatch
		review.Response = &admissionv1.AdmissionResponse{
			UID:       review.Request.UID,
			Allowed:   true,
			PatchType: &patch,
			Patch:     []byte(`[{"op":"add","path":"/metadata/labels","value":{"mutated":"yes"}}]`),
		}
		review.Request = nil
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(review)
	}))
	t.Cleanup(srv.Close)

	env.Namespace(ctx, t, "hooked")
	url := srv.URL + "/mutate"
	none := admissionregistrationv1.SideEffectClassNone
	fail := admissionregistrationv1.Fail
	_, err := env.Client.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "testenv-probe"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name:                    "probe.testenv.archway.dev",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})},
			Rules:                   []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create}, Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}}}},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: "hooked"}},
			SideEffects:             &none,
			FailurePolicy:           &fail,
			AdmissionReviewVersions: []string{"v1"},
		}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	// A new webhook configuration is honoured after a moment: create
	// ConfigMaps until one comes back patched.
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		cm, err := env.Client.CoreV1().ConfigMaps("hooked").Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("probe-%d", i)},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create configmap: %v", err)
		}
		if cm.Labels["mutated"] == "yes" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the API server did not call the webhook on %s within 30s", url)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestWithFreshPorts(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name      string
		errs      []error // what each start call returns, in order
		wantCalls int
		wantErr   error
	}{
		{name: "first try", errs: []error{nil}, wantCalls: 1},
		{name: "port taken twice", errs: []error{errPortInUse, fmt.Errorf("etcd: %w", errPortInUse), nil}, wantCalls: 3},
		{name: "other error is final", errs: []error{boom}, wantCalls: 1, wantErr: boom},
		{name: "gives up after five", errs: []error{errPortInUse, errPortInUse, errPortInUse, errPortInUse, errPortInUse, nil}, wantCalls: 5, wantErr: errPortInUse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			got, err := withFreshPorts(2, func(ports []int) (*process, string, error) {
				if len(ports) != 2 || ports[0] == ports[1] {
					t.Errorf("ports %v, want two distinct", ports)
				}
				err := tt.errs[calls]
				calls++
				return nil, "value", err
			})
			if calls != tt.wantCalls {
				t.Errorf("start called %d times, want %d", calls, tt.wantCalls)
			}
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && got.value != "value" {
				t.Errorf("value = %q", got.value)
			}
		})
	}
}
