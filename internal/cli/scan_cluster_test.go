package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/archwaydev/archway/internal/testenv"
)

// TestScanCluster scans a real kube-apiserver holding a Deployment per
// verdict in two namespaces and three nodes, through a kubeconfig file.
func TestScanCluster(t *testing.T) {
	// startSandbox moves the user cache dir, where testenv finds its binaries.
	if bin, err := testenv.BinDir(); err == nil && os.Getenv(testenv.BinDirEnv) == "" {
		t.Setenv(testenv.BinDirEnv, bin)
	}
	host := startSandbox(t)
	env := testenv.Start(t, testenv.Options{})
	ctx := t.Context()
	env.AddNode(ctx, t, "amd-1", "amd64", nil, nil)
	env.AddNode(ctx, t, "amd-2", "amd64", nil, nil)
	env.AddNode(ctx, t, "arm-1", "arm64", nil, []corev1.Taint{{Key: "arch", Value: "arm64", Effect: corev1.TaintEffectNoSchedule}})
	deploy := func(ns, name, image string) {
		t.Helper()
		labels := map[string]string{"app": name}
		d := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: appsv1.DeploymentSpec{
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: name, Image: host + "/" + image}}},
				},
			},
		}
		if _, err := env.Client.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create deployment %s/%s: %v", ns, name, err)
		}
	}
	env.Namespace(ctx, t, "shop")
	deploy("shop", "api", "demo/api:2.1")
	deploy("shop", "billing", "demo/legacy-billing:3.2")
	deploy("default", "report", "demo/missing:1.0")
	t.Setenv("KUBECONFIG", "") // only the flags below say where the cluster is

	tests := []struct {
		name     string
		args     []string
		want     map[string]string
		wantCode int
	}{
		{"all namespaces", []string{"-A"}, map[string]string{
			"Deployment/default/report": "unknown", "Deployment/shop/api": "ready", "Deployment/shop/billing": "not-ready",
		}, ExitUnsupported},
		{"one namespace", []string{"-n", "shop"}, map[string]string{
			"Deployment/shop/api": "ready", "Deployment/shop/billing": "not-ready",
		}, ExitUnsupported},
		{"the context's namespace", []string{"--context", "testenv"}, map[string]string{
			"Deployment/default/report": "unknown",
		}, ExitUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"scan", "--no-cache", "-o", "json", "--cluster", "--kubeconfig", env.Kubeconfig}, tt.args...)
			got := runArchway(ctx, "", args...)
			if got.code != tt.wantCode {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", got.code, tt.wantCode, got.stderr)
			}
			if diff := cmp.Diff(tt.want, verdictsOf(t, got.stdout)); diff != "" {
				t.Errorf("verdicts (-want +got):\n%s", diff)
			}
			// JSON keeps stdout parseable: the census goes to stderr.
			if want := `Nodes in cluster "testenv": 3`; !strings.Contains(got.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, got.stderr)
			}
		})
	}

	t.Run("table with census", func(t *testing.T) {
		t.Setenv("KUBECONFIG", env.Kubeconfig) // found as kubectl finds it
		got := runArchway(ctx, "", "scan", "--no-cache", "-o", "table", "--cluster", "-A")
		if got.code != ExitUnsupported {
			t.Errorf("exit code = %d, want %d; stderr:\n%s", got.code, ExitUnsupported, got.stderr)
		}
		for _, want := range []string{
			"Deployment/shop/billing",
			"cluster:testenv",
			`Nodes in cluster "testenv": 3`,
			"  by kubernetes.io/arch: amd64 2, arm64 1\n",
			"  taints: arch=arm64:NoSchedule 1\n",
		} {
			if !strings.Contains(got.stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, got.stdout)
			}
		}
	})

	t.Run("cluster and files together", func(t *testing.T) {
		got := runArchway(ctx, "", "scan", "--no-cache", "-o", "json", "--cluster", "--kubeconfig", env.Kubeconfig, "-n", "shop", writeManifest(t, host))
		want := map[string]string{"Deployment/shop/api": "ready", "Deployment/shop/billing": "not-ready", "Deployment/files/edge": "ready"}
		if diff := cmp.Diff(want, verdictsOf(t, got.stdout)); diff != "" {
			t.Errorf("verdicts (-want +got):\n%s", diff)
		}
	})

	t.Run("unreachable cluster", func(t *testing.T) {
		got := runArchway(ctx, "", "scan", "--no-cache", "-o", "json", "--cluster", "--kubeconfig", writeKubeconfigTo(t, "https://127.0.0.1:1"), writeManifest(t, host))
		if got.code != ExitError {
			t.Errorf("exit code = %d, want %d; stderr:\n%s", got.code, ExitError, got.stderr)
		}
		if diff := cmp.Diff(map[string]string{"Deployment/files/edge": "ready"}, verdictsOf(t, got.stdout)); diff != "" {
			t.Errorf("the file's verdicts (-want +got):\n%s", diff)
		}
		if !strings.Contains(got.stderr, `cluster "dead"`) {
			t.Errorf("stderr does not name the cluster:\n%s", got.stderr)
		}
	})
}

// writeManifest writes a Deployment of demo/edge-agent in namespace files
// and returns its path.
func writeManifest(t *testing.T, host string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "edge.yaml")
	data := `apiVersion: apps/v1
kind: Deployment
metadata: {name: edge, namespace: files}
spec:
  template:
    spec:
      containers:
        - {name: edge, image: ` + host + `/demo/edge-agent:0.9}
`
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeKubeconfigTo writes a kubeconfig whose only context, "dead", points
// at server.
func writeKubeconfigTo(t *testing.T, server string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "kubeconfig")
	data := `apiVersion: v1
kind: Config
clusters: [{name: dead, cluster: {server: "` + server + `", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: dead, context: {cluster: dead, user: u}}]
current-context: dead
`
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
