package nodes

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/archwaydev/archway/internal/testenv"
)

func TestCensusRealAPIServer(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := t.Context()
	armTaint := corev1.Taint{Key: "arch", Value: "arm64", Effect: corev1.TaintEffectNoSchedule}
	spot := corev1.Taint{Key: "spot", Effect: corev1.TaintEffectPreferNoSchedule}
	env.AddNode(ctx, t, "amd-1", "amd64", nil, nil)
	env.AddNode(ctx, t, "amd-2", "amd64", nil, []corev1.Taint{spot})
	env.AddNode(ctx, t, "graviton-1", "arm64", map[string]string{"node.kubernetes.io/instance-type": "m7g.large"}, []corev1.Taint{armTaint, spot})
	env.AddNode(ctx, t, "graviton-2", "arm64", nil, []corev1.Taint{armTaint})

	got, err := ReadCensus(ctx, env.Client)
	if err != nil {
		t.Fatalf("ReadCensus: %v", err)
	}
	want := Census{
		Nodes:  4,
		ByArch: map[string]int{"amd64": 2, "arm64": 2},
		Taints: map[string]int{"arch=arm64:NoSchedule": 2, "spot:PreferNoSchedule": 2},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("census (-want +got):\n%s", diff)
	}
}

func TestNodeArch(t *testing.T) {
	for _, tt := range []struct {
		name string
		node corev1.Node
		want string
	}{
		{"label", corev1.Node{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"kubernetes.io/arch": "arm64"}}}, "arm64"},
		{"beta label", corev1.Node{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"beta.kubernetes.io/arch": "s390x"}}}, "s390x"},
		{"node info", corev1.Node{Status: corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{Architecture: "amd64"}}}, "amd64"},
		{"nothing", corev1.Node{}, UnknownArch},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := NodeArch(&tt.node); got != tt.want {
				t.Errorf("NodeArch = %q, want %q", got, tt.want)
			}
		})
	}
}
