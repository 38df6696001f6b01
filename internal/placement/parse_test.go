package placement

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestParseTaint(t *testing.T) {
	tests := []struct {
		in      string
		want    *corev1.Taint
		wantErr bool
	}{
		{in: "arm=true:NoSchedule", want: &corev1.Taint{Key: "arm", Value: "true", Effect: corev1.TaintEffectNoSchedule}},
		{in: "kubernetes.io/arch=arm64:NoExecute", want: &corev1.Taint{Key: "kubernetes.io/arch", Value: "arm64", Effect: corev1.TaintEffectNoExecute}},
		{in: "arm:PreferNoSchedule", want: &corev1.Taint{Key: "arm", Effect: corev1.TaintEffectPreferNoSchedule}},
		{in: "arm=true", wantErr: true},
		{in: "arm=true:Sometimes", wantErr: true},
		{in: "=true:NoSchedule", wantErr: true},
		{in: "a b=c:NoSchedule", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTaint(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseTaint(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			if got != nil {
				if back := FormatTaint(*got); back != tt.in {
					t.Errorf("FormatTaint = %q, want %q", back, tt.in)
				}
			}
		})
	}
}

func TestParsePrefer(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]int32
		wantErr bool
	}{
		{in: "arm64=80", want: map[string]int32{"arm64": 80}},
		{in: "aarch64=80, amd64=20", want: map[string]int32{"arm64": 80, "amd64": 20}},
		{in: "arm64=0", wantErr: true},
		{in: "arm64=101", wantErr: true},
		{in: "arm64", wantErr: true},
		{in: "sparc=5", wantErr: true},
		{in: ",", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePrefer(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParsePrefer(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseStyle(t *testing.T) {
	for in, want := range map[string]Style{"affinity": StyleAffinity, "node-selector": StyleNodeSelector, "": StyleAffinity} {
		if got, err := ParseStyle(in); err != nil || got != want {
			t.Errorf("ParseStyle(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseStyle("label"); err == nil {
		t.Error("ParseStyle(label): want error")
	}
}
