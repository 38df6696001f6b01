package webhook_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/google/go-cmp/cmp"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/archwaydev/archway/internal/placement"
	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/webhook"
)

// rawPod is a pod as a newer API server might send it: fields this build's
// corev1 does not know at pod, spec and container level, and no status.
const rawPod = `{
  "apiVersion": "v1",
  "kind": "Pod",
  "metadata": {"name": "p", "namespace": "ns", "labels": {"app": "x"}},
  "someFuturePodField": {"a": [1, 2]},
  "spec": {
    "someFutureField": "keep me",
    "containers": [{"name": "app", "image": "IMAGE", "futureContainerField": {"x": true}}]
  }
}`

func rawRequest(t *testing.T, raw string) webhook.Request {
	t.Helper()
	return webhook.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID:       types.UID("uid-raw"),
		Kind:      metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
		Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
		Namespace: "ns",
		Operation: admissionv1.Create,
		Object:    runtimeRaw([]byte(raw)),
	}}
}

func applyRaw(t *testing.T, raw []byte, resp webhook.Response) []byte {
	t.Helper()
	if len(resp.Patches) == 0 {
		return raw
	}
	b, err := json.Marshal(resp.Patches)
	if err != nil {
		t.Fatal(err)
	}
	patch, err := jsonpatch.DecodePatch(b)
	if err != nil {
		t.Fatalf("decode patch %s: %v", b, err)
	}
	out, err := patch.Apply(raw)
	if err != nil {
		t.Fatalf("apply patch %s: %v", b, err)
	}
	return out
}

// TestPatchTouchesOnlyPlacement checks the exact operations of each outcome
// on a pod with unknown fields, and that everything else of the raw object
// comes back byte for byte equal (as JSON values).
func TestPatchTouchesOnlyPlacement(t *testing.T) {
	tests := []struct {
		name      string
		image     string
		mode      webhook.Mode
		annotated bool     // the pod has annotations of its own
		want      []string // "op path"
	}{
		{name: "placed amd64", image: amd64Only, want: []string{"add /spec/affinity", "add /metadata/annotations"}},
		{name: "placed amd64, annotated pod", image: amd64Only, annotated: true, want: []string{
			"add /spec/affinity", "add /metadata/annotations/archway.dev~1placement", "add /metadata/annotations/archway.dev~1placement-added"}},
		{name: "placed arm64", image: arm64Only, want: []string{"add /spec/affinity", "add /spec/tolerations", "add /metadata/annotations"}},
		{name: "placed multi-arch, annotated pod", image: multiArch, annotated: true, want: []string{
			"add /spec/tolerations", "add /metadata/annotations/archway.dev~1placement", "add /metadata/annotations/archway.dev~1placement-added"}},
		{name: "skipped", image: notFound, want: []string{"add /metadata/annotations"}},
		{name: "skipped, annotated pod", image: notFound, annotated: true, want: []string{"add /metadata/annotations/archway.dev~1placement"}},
		{name: "audit", image: arm64Only, mode: webhook.ModeAudit, want: []string{"add /metadata/annotations"}},
		{name: "audit, annotated pod", image: arm64Only, mode: webhook.ModeAudit, annotated: true, want: []string{"add /metadata/annotations/archway.dev~1placement"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mode := tc.mode
			if mode == "" {
				mode = webhook.ModeEnforce
			}
			p, _ := newPlacer(t, mode, time.Second, webhook.StaticLookups((&scripted{}).lookup))
			raw := []byte(strings.Replace(rawPod, "IMAGE", tc.image, 1))
			if tc.annotated {
				raw = []byte(strings.Replace(string(raw), `"labels"`, `"annotations": {"team": "a"}, "labels"`, 1))
			}
			resp := p.Handle(context.Background(), rawRequest(t, string(raw)))
			var got []string
			for _, op := range resp.Patches {
				got = append(got, op.Operation+" "+op.Path)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("patch operations (-want +got):\n%s", diff)
			}
			// Everything but the placement fields and archway's
			// annotations is as it was, unknown fields included.
			var before, after map[string]any
			if err := json.Unmarshal(raw, &before); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(applyRaw(t, raw, resp), &after); err != nil {
				t.Fatal(err)
			}
			for _, m := range []map[string]any{before, after} {
				spec := m["spec"].(map[string]any)
				delete(spec, "affinity")
				delete(spec, "tolerations")
				delete(spec, "nodeSelector")
				meta := m["metadata"].(map[string]any)
				if ann, ok := meta["annotations"].(map[string]any); ok {
					delete(ann, webhook.AnnotationKey)
					delete(ann, webhook.AddedAnnotationKey)
					if len(ann) == 0 {
						delete(meta, "annotations")
					}
				}
			}
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("fields outside the placement changed (-before +after):\n%s", diff)
			}
			if _, ok := after["status"]; ok {
				t.Error("patch adds status")
			}
		})
	}
}

// TestPatchMissingMembers: the patch applies to objects without a spec or
// metadata object (absent or null), which a JSON patch cannot add below, and
// the pod is read as the API server reads it, keys case-sensitive, so a
// "SPEC" is no spec (found by FuzzAdmissionReview).
func TestPatchMissingMembers(t *testing.T) {
	tests := []struct {
		name, raw string
		want      []string // "op path"
	}{
		{name: "no metadata", raw: `{"spec": {"containers": [{"image": "` + amd64Only + `"}]}}`,
			want: []string{"add /spec/affinity", "add /metadata"}},
		{name: "null metadata", raw: `{"metadata": null, "spec": {"containers": [{"image": "` + amd64Only + `"}]}}`,
			want: []string{"add /spec/affinity", "add /metadata"}},
		{name: "null annotations", raw: `{"metadata": {"annotations": null}, "spec": {"containers": [{"image": "` + amd64Only + `"}]}}`,
			want: []string{"add /spec/affinity", "add /metadata/annotations"}},
		{name: "keys in other cases are not the pod's: no containers, nothing to do",
			raw: `{"metadata": {"Name": "p"}, "SPEC": {"Containers": [{"Image": "` + amd64Only + `"}]}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := newPlacer(t, webhook.ModeEnforce, time.Second, webhook.StaticLookups((&scripted{}).lookup))
			req := rawRequest(t, tc.raw)
			resp := p.Handle(context.Background(), req)
			var got []string
			for _, op := range resp.Patches {
				got = append(got, op.Operation+" "+op.Path)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("patch operations (-want +got):\n%s", diff)
			}
			if after := applied(t, req, resp); len(tc.want) > 0 && after.Annotations[webhook.AnnotationKey] == "" {
				t.Errorf("annotations %v, want archway's", after.Annotations)
			}
		})
	}
}

// TestReinvocation admits a pod, lets "another webhook" inject a container
// into the admitted object, and admits it again, as the API server does
// with reinvocationPolicy IfNeeded.
func TestReinvocation(t *testing.T) {
	userTol := corev1.Toleration{Key: "team", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}
	tests := []struct {
		name           string
		image, sidecar string
		wantArchs      []string
		wantTolerates  bool // the arm toleration
		wantAnnotation string
		wantAdded      bool
	}{
		{name: "multi-arch app, amd64-only sidecar: requirement tightened, toleration dropped",
			image: multiArch, sidecar: amd64Only, wantArchs: []string{"amd64"},
			wantAnnotation: "placed (required kubernetes.io/arch In [amd64])", wantAdded: true},
		{name: "arm64-only app, amd64-only sidecar: nothing runs both, archway's placement taken back",
			image: arm64Only, sidecar: amd64Only,
			wantAnnotation: "unplaced (no architecture runs every container)"},
		{name: "multi-arch app, multi-arch sidecar: unchanged",
			image: multiArch, sidecar: multiArch, wantTolerates: true,
			wantAnnotation: "placed (toleration arm=true:NoSchedule)", wantAdded: true},
		{name: "amd64-only app, unknown sidecar: fail open, archway's placement taken back",
			image: amd64Only, sidecar: notFound,
			wantAnnotation: "skipped (lookup of example.test/missing:1 failed: not found)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &scripted{}
			p, _ := newPlacer(t, webhook.ModeEnforce, time.Second, webhook.StaticLookups(s.lookup))
			first := pod(tc.image)
			first.Spec.Tolerations = []corev1.Toleration{userTol}
			req := request(t, first, admissionv1.Create)
			admitted := applied(t, req, p.Handle(context.Background(), req))

			// Another webhook injects a sidecar and the API server calls
			// archway again with the object as it is now.
			admitted.Spec.Containers = append(admitted.Spec.Containers, corev1.Container{Name: "sidecar", Image: tc.sidecar})
			callsBefore := s.calls.Load()
			req2 := request(t, admitted, admissionv1.Create)
			resp := p.Handle(context.Background(), req2)
			got := applied(t, req2, resp)

			if diff := cmp.Diff(tc.wantArchs, requiredArchs(got)); diff != "" {
				t.Errorf("required archs (-want +got):\n%s", diff)
			}
			wantTol := []corev1.Toleration{userTol}
			if tc.wantTolerates {
				wantTol = append(wantTol, tolerateArm...)
			}
			if diff := cmp.Diff(wantTol, got.Spec.Tolerations); diff != "" {
				t.Errorf("tolerations (-want +got):\n%s", diff)
			}
			if ann := got.Annotations[webhook.AnnotationKey]; ann != tc.wantAnnotation {
				t.Errorf("annotation %q, want %q", ann, tc.wantAnnotation)
			}
			if _, ok := got.Annotations[webhook.AddedAnnotationKey]; ok != tc.wantAdded {
				t.Errorf("%s present = %v, want %v", webhook.AddedAnnotationKey, ok, tc.wantAdded)
			}
			// The app image was cached at the first call: only a new
			// sidecar image is looked up.
			wantCalls := int64(1)
			if tc.sidecar == tc.image {
				wantCalls = 0
			}
			if n := s.calls.Load() - callsBefore; n != wantCalls {
				t.Errorf("reinvocation made %d lookups, want %d", n, wantCalls)
			}
			if tc.sidecar == tc.image && len(resp.Patches) != 0 {
				t.Errorf("nothing changed, yet patch %+v", resp.Patches)
			}
			// A third call, with nothing new, changes nothing.
			req3 := request(t, got, admissionv1.Create)
			if resp := p.Handle(context.Background(), req3); len(resp.Patches) != 0 {
				t.Errorf("idempotent reinvocation patched %+v", resp.Patches)
			}
		})
	}
}

// TestPatchKeepsUnknownFieldsInAffinity places a pod whose existing
// affinity carries fields this build does not know: the arch requirement is
// added next to them, and they stay.
func TestPatchKeepsUnknownFieldsInAffinity(t *testing.T) {
	raw := strings.Replace(rawPod, `"someFutureField": "keep me",`, `"someFutureField": "keep me",
    "affinity": {"nodeAffinity": {"futureAffinityField": 1, "requiredDuringSchedulingIgnoredDuringExecution": {
      "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}], "futureTermField": true}]}}},`, 1)
	raw = strings.Replace(raw, "IMAGE", amd64Only, 1)
	p, _ := newPlacer(t, webhook.ModeEnforce, time.Second, webhook.StaticLookups((&scripted{}).lookup))
	resp := p.Handle(context.Background(), rawRequest(t, raw))
	var got struct {
		Spec struct {
			Affinity struct {
				NodeAffinity struct {
					Future   *int `json:"futureAffinityField"`
					Required struct {
						Terms []struct {
							Exprs  []corev1.NodeSelectorRequirement `json:"matchExpressions"`
							Future *bool                            `json:"futureTermField"`
						} `json:"nodeSelectorTerms"`
					} `json:"requiredDuringSchedulingIgnoredDuringExecution"`
				} `json:"nodeAffinity"`
			} `json:"affinity"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(applyRaw(t, []byte(raw), resp), &got); err != nil {
		t.Fatal(err)
	}
	na := got.Spec.Affinity.NodeAffinity
	if na.Future == nil || len(na.Required.Terms) != 1 || na.Required.Terms[0].Future == nil {
		t.Fatalf("unknown affinity fields lost: %+v", na)
	}
	want := []corev1.NodeSelectorRequirement{
		{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}},
		{Key: "kubernetes.io/arch", Operator: corev1.NodeSelectorOpIn, Values: []string{"amd64"}},
	}
	if diff := cmp.Diff(want, na.Required.Terms[0].Exprs); diff != "" {
		t.Errorf("term (-want +got):\n%s", diff)
	}
}

// TestReinvocationKeepsOwnAffinity: taking back archway's nodeSelector on
// a reinvocation leaves the pod's own node affinity alone, even when this
// build sees it empty (its fields unknown); it was removed (found by
// FuzzAdmissionReview).
func TestReinvocationKeepsOwnAffinity(t *testing.T) {
	raw := `{"metadata": {"name": "p", "annotations": {"archway.dev/placement-added": "{\"nodeSelector\":\"amd64\"}"}},
  "spec": {"affinity": {"nodeAffinity": {"futureAffinityField": 1}}, "nodeSelector": {"kubernetes.io/arch": "amd64"},
    "containers": [{"image": "` + amd64Only + `"}]}}`
	p, err := webhook.NewPodPlacer(webhook.PodPlacerOptions{
		Cache:     registry.NewMemCache(registry.MemCacheOptions{}),
		Lookups:   webhook.StaticLookups((&scripted{}).lookup),
		Placement: placement.Options{Style: placement.StyleNodeSelector},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp := p.Handle(context.Background(), rawRequest(t, raw))
	for _, op := range resp.Patches {
		if strings.HasPrefix(op.Path, "/spec/affinity") {
			t.Errorf("patch %s %s, want the affinity left alone", op.Operation, op.Path)
		}
	}
	var got struct {
		Spec struct {
			Affinity     map[string]map[string]int `json:"affinity"`
			NodeSelector map[string]string         `json:"nodeSelector"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(applyRaw(t, []byte(raw), resp), &got); err != nil {
		t.Fatal(err)
	}
	if got.Spec.Affinity["nodeAffinity"]["futureAffinityField"] != 1 || got.Spec.NodeSelector["kubernetes.io/arch"] != "amd64" {
		t.Errorf("spec %+v, want the affinity kept and the nodeSelector placed again", got.Spec)
	}
}
