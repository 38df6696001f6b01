package placement

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/archwaydev/archway/internal/platform"
)

// DefaultArmTaint is the taint assumed when --arm-taint is given bare.
const DefaultArmTaint = "arm=true:NoSchedule"

// ParseTaint parses "key=value:Effect" or "key:Effect"; Effect is one of
// NoSchedule, PreferNoSchedule, NoExecute.
func ParseTaint(s string) (*corev1.Taint, error) {
	s = strings.TrimSpace(s)
	kv, effect, ok := strings.Cut(s, ":")
	if !ok {
		return nil, fmt.Errorf("taint %q: want key=value:Effect", s)
	}
	key, value, _ := strings.Cut(kv, "=")
	if key == "" {
		return nil, fmt.Errorf("taint %q: empty key", s)
	}
	if strings.ContainsAny(key+value, " :=,") {
		return nil, fmt.Errorf("taint %q: invalid character in key or value", s)
	}
	e := corev1.TaintEffect(effect)
	switch e {
	case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
	default:
		return nil, fmt.Errorf("taint %q: effect %q: want NoSchedule, PreferNoSchedule or NoExecute", s, effect)
	}
	return &corev1.Taint{Key: key, Value: value, Effect: e}, nil
}

// FormatTaint formats t as key=value:Effect (key:Effect without a value).
func FormatTaint(t corev1.Taint) string {
	if t.Value == "" {
		return t.Key + ":" + string(t.Effect)
	}
	return t.Key + "=" + t.Value + ":" + string(t.Effect)
}

// ParsePrefer parses "arm64=80,amd64=20" into weights (1-100) per
// architecture; architecture aliases (aarch64) are normalised.
func ParsePrefer(s string) (map[string]int32, error) {
	out := map[string]int32{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		arch, w, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("prefer %q: want arch=weight", f)
		}
		p, err := platform.Parse(strings.TrimSpace(arch))
		if err != nil {
			return nil, fmt.Errorf("prefer %q: %w", f, err)
		}
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || n < 1 || n > 100 {
			return nil, fmt.Errorf("prefer %q: weight must be an integer 1-100", f)
		}
		out[p.Architecture] = int32(n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("prefer %q: empty", s)
	}
	return out, nil
}
