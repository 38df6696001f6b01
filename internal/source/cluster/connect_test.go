package cluster

import (
	"strings"
	"testing"
)

// TestConnectWithoutKubeconfig: with no kubeconfig anywhere, the error says
// which files were tried and how to point at one, not client-go's text
// about KUBERNETES_MASTER.
func TestConnectWithoutKubeconfig(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBECONFIG", "")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
	_, err := Connect(Config{})
	if err == nil {
		t.Fatal("Connect succeeded without a kubeconfig")
	}
	for _, want := range []string{"no kubeconfig found (tried ", "/.kube/config", "--kubeconfig"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "KUBERNETES_MASTER") {
		t.Errorf("error %q quotes client-go's KUBERNETES_MASTER text", err)
	}
}
