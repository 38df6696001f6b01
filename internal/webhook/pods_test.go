package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/placement"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/webhook"
)

// Images of the scripted registry: what a lookup of each returns.
const (
	amd64Only = "example.test/legacy:1"
	arm64Only = "example.test/edge:1"
	multiArch = "example.test/api:2"
	notFound  = "example.test/missing:1"
	slow      = "example.test/slow:1"
)

// scripted answers lookups from a table; slow blocks until ctx ends.
type scripted struct{ calls atomic.Int64 }

func (s *scripted) lookup(ctx context.Context, ref string) lookup.Result {
	s.calls.Add(1)
	entries := func(ps ...platform.Platform) []lookup.Entry {
		var out []lookup.Entry
		for _, p := range ps {
			out = append(out, lookup.Entry{Platform: p, Digest: "sha256:" + strings.Repeat("a", 64)})
		}
		return out
	}
	switch ref {
	case amd64Only:
		return lookup.Result{Ref: ref, Kind: lookup.KindManifest, Entries: entries(platform.LinuxAMD64)}
	case arm64Only:
		return lookup.Result{Ref: ref, Kind: lookup.KindManifest, Entries: entries(platform.LinuxARM64)}
	case multiArch:
		return lookup.Result{Ref: ref, Kind: lookup.KindIndex, Entries: entries(platform.LinuxAMD64, platform.LinuxARM64)}
	case slow:
		<-ctx.Done()
		return lookup.Result{Ref: ref, Err: &lookup.Error{Ref: ref, Cause: lookup.CauseTimeout, Err: ctx.Err()}}
	}
	return lookup.Result{Ref: ref, Err: &lookup.Error{Ref: ref, Cause: lookup.CauseNotFound, StatusCode: 404}}
}

var armTaint = corev1.Taint{Key: "arm", Value: "true", Effect: corev1.TaintEffectNoSchedule}

func newPlacer(t *testing.T, mode webhook.Mode, budget time.Duration, lookups webhook.Lookups) (*webhook.PodPlacer, *webhook.Metrics) {
	t.Helper()
	m := webhook.NewMetrics()
	p, err := webhook.NewPodPlacer(webhook.PodPlacerOptions{
		Cache:     registry.NewMemCache(registry.MemCacheOptions{Observer: m}),
		Lookups:   lookups,
		Placement: placement.Options{ClusterArchs: []string{"amd64", "arm64"}, ArmTaint: &armTaint},
		Mode:      mode,
		Budget:    budget,
		Metrics:   m,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p, m
}

func pod(images ...string) *corev1.Pod {
	p := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"},
	}
	for i, img := range images {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: fmt.Sprintf("c%d", i), Image: img})
	}
	return p
}

func request(t *testing.T, obj *corev1.Pod, op admissionv1.Operation) webhook.Request {
	t.Helper()
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return webhook.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID:       types.UID("uid-1"),
		Kind:      metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
		Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
		Namespace: "ns",
		Operation: op,
		Object:    runtimeRaw(raw),
	}}
}

// applied applies the response's patches to the request's object.
func applied(t *testing.T, req webhook.Request, resp webhook.Response) *corev1.Pod {
	t.Helper()
	var p corev1.Pod
	if err := json.Unmarshal(applyRaw(t, req.Object.Raw, resp), &p); err != nil {
		t.Fatal(err)
	}
	return &p
}

func requireArch(archs ...string) *corev1.Affinity {
	return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "kubernetes.io/arch", Operator: corev1.NodeSelectorOpIn, Values: archs}},
		}}},
	}}
}

var tolerateArm = []corev1.Toleration{{Key: "arm", Operator: corev1.TolerationOpEqual, Value: "true", Effect: corev1.TaintEffectNoSchedule}}

func TestPodPlacer(t *testing.T) {
	withInit := pod(multiArch)
	withInit.Spec.InitContainers = []corev1.Container{{Name: "init", Image: amd64Only}}
	pinned := pod(amd64Only)
	pinned.Spec.Affinity = requireArch("amd64")
	conflicting := pod(amd64Only)
	conflicting.Spec.NodeSelector = map[string]string{"kubernetes.io/arch": "arm64"}
	optedOut := pod(amd64Only)
	optedOut.Annotations = map[string]string{webhook.AnnotationKey: webhook.AnnotationDisabled}
	zoned := pod(arm64Only)
	zoned.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{
			{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}}}},
			{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"b"}}}},
		}},
	}}
	zonedWant := zoned.Spec.Affinity.DeepCopy()
	for i := range zonedWant.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		term := &zonedWant.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[i]
		term.MatchExpressions = append(term.MatchExpressions, corev1.NodeSelectorRequirement{Key: "kubernetes.io/arch", Operator: corev1.NodeSelectorOpIn, Values: []string{"arm64"}})
	}

	tests := []struct {
		name           string
		pod            *corev1.Pod
		mode           webhook.Mode
		op             admissionv1.Operation
		wantPatch      bool
		wantAffinity   *corev1.Affinity
		wantToleration []corev1.Toleration
		wantAnnotation string // prefix of the archway annotation; "" = none
		wantWarning    string // substring of a warning; "" = no warnings
		wantOutcome    string
	}{
		{name: "amd64 only: required amd64, no toleration", pod: pod(amd64Only), wantPatch: true,
			wantAffinity: requireArch("amd64"), wantAnnotation: "placed (required kubernetes.io/arch In [amd64]", wantOutcome: webhook.OutcomePlaced},
		{name: "arm64 only: required arm64 and toleration", pod: pod(arm64Only), wantPatch: true,
			wantAffinity: requireArch("arm64"), wantToleration: tolerateArm, wantAnnotation: "placed (", wantOutcome: webhook.OutcomePlaced},
		{name: "multi-arch: toleration only", pod: pod(multiArch), wantPatch: true,
			wantToleration: tolerateArm, wantAnnotation: "placed (toleration arm=true:NoSchedule)", wantOutcome: webhook.OutcomePlaced},
		{name: "init container counts", pod: withInit, wantPatch: true,
			wantAffinity: requireArch("amd64"), wantAnnotation: "placed (", wantOutcome: webhook.OutcomePlaced},
		{name: "AND-ed into every existing term", pod: zoned, wantPatch: true,
			wantAffinity: zonedWant, wantToleration: tolerateArm, wantAnnotation: "placed (", wantOutcome: webhook.OutcomePlaced},
		{name: "already placed: no patch", pod: pinned, wantAffinity: requireArch("amd64"), wantOutcome: webhook.OutcomeUnchanged},
		{name: "no common architecture: finding, spec untouched", pod: pod(amd64Only, arm64Only), wantPatch: true,
			wantAnnotation: "unplaced (no architecture runs every container)", wantWarning: "no architecture runs every container", wantOutcome: webhook.OutcomeUnplaceable},
		{name: "conflicting pin: finding, never overridden", pod: conflicting, wantPatch: true,
			wantAnnotation: "unplaced (existing kubernetes.io/arch constraint", wantWarning: "left as is", wantOutcome: webhook.OutcomeUnplaceable},
		{name: "unknown image: fail open", pod: pod(multiArch, notFound), wantPatch: true,
			wantAnnotation: "skipped (lookup of example.test/missing:1 failed: not found)", wantWarning: "placement skipped", wantOutcome: webhook.OutcomeSkipped},
		{name: "bad reference: fail open", pod: pod("UPPER/case::x"), wantPatch: true,
			wantAnnotation: "skipped (lookup of UPPER/case::x failed: bad reference)", wantWarning: "placement skipped", wantOutcome: webhook.OutcomeSkipped},
		{name: "audit: annotation and warnings, no placement", pod: pod(arm64Only), mode: webhook.ModeAudit, wantPatch: true,
			wantAnnotation: "audit (would: required kubernetes.io/arch In [arm64]; toleration arm=true:NoSchedule)",
			wantWarning:    "archway audit: would required kubernetes.io/arch In [arm64]", wantOutcome: webhook.OutcomeAudit},
		{name: "opted out by annotation", pod: optedOut, wantAnnotation: webhook.AnnotationDisabled, wantOutcome: webhook.OutcomeDisabled},
		{name: "update passes through", pod: pod(amd64Only), op: admissionv1.Update, wantOutcome: webhook.OutcomeIgnored},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mode := tc.mode
			if mode == "" {
				mode = webhook.ModeEnforce
			}
			op := tc.op
			if op == "" {
				op = admissionv1.Create
			}
			s := &scripted{}
			p, m := newPlacer(t, mode, time.Second, webhook.StaticLookups(s.lookup))
			req := request(t, tc.pod, op)
			resp := p.Handle(context.Background(), req)
			if !resp.Allowed {
				t.Fatalf("not allowed: %+v", resp.Result)
			}
			if got := len(resp.Patches) > 0; got != tc.wantPatch {
				t.Fatalf("patch = %v, want %v: %+v", got, tc.wantPatch, resp.Patches)
			}
			got := applied(t, req, resp)
			if diff := cmp.Diff(tc.wantAffinity, got.Spec.Affinity); diff != "" {
				t.Errorf("affinity (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantToleration, got.Spec.Tolerations); diff != "" {
				t.Errorf("tolerations (-want +got):\n%s", diff)
			}
			if tc.mode == webhook.ModeAudit || tc.wantOutcome == webhook.OutcomeSkipped || tc.wantOutcome == webhook.OutcomeUnplaceable {
				if diff := cmp.Diff(tc.pod.Spec, got.Spec); diff != "" {
					t.Errorf("spec changed (-before +after):\n%s", diff)
				}
			}
			ann, ok := got.Annotations[webhook.AnnotationKey]
			switch {
			case tc.wantAnnotation == "" && ok:
				t.Errorf("annotation %q, want none", ann)
			case !strings.HasPrefix(ann, tc.wantAnnotation):
				t.Errorf("annotation %q, want prefix %q", ann, tc.wantAnnotation)
			}
			warnings := strings.Join(resp.Warnings, "\n")
			if tc.wantWarning == "" && warnings != "" || !strings.Contains(warnings, tc.wantWarning) {
				t.Errorf("warnings %q, want %q", warnings, tc.wantWarning)
			}
			if n := counter(t, m, "archway_webhook_admissions_total", "outcome", tc.wantOutcome); n != 1 {
				t.Errorf("admissions{outcome=%q} = %v, want 1", tc.wantOutcome, n)
			}
		})
	}
}

func TestPodPlacerBudget(t *testing.T) {
	s := &scripted{}
	budget := 100 * time.Millisecond
	p, m := newPlacer(t, webhook.ModeEnforce, budget, webhook.StaticLookups(s.lookup))
	req := request(t, pod(multiArch, slow), admissionv1.Create)
	start := time.Now()
	resp := p.Handle(context.Background(), req)
	if took := time.Since(start); took > budget+500*time.Millisecond {
		t.Errorf("took %s, budget %s", took, budget)
	}
	got := applied(t, req, resp)
	want := "skipped (lookup of example.test/slow:1 timed out (budget 100ms))"
	if ann := got.Annotations[webhook.AnnotationKey]; ann != want {
		t.Errorf("annotation %q, want %q", ann, want)
	}
	if got.Spec.Affinity != nil || got.Spec.Tolerations != nil {
		t.Errorf("spec changed: %+v %+v", got.Spec.Affinity, got.Spec.Tolerations)
	}
	if n := counter(t, m, "archway_webhook_skipped_total", "reason", "timeout"); n != 1 {
		t.Errorf("skipped{reason=timeout} = %v, want 1", n)
	}
}

// panicky is a Lookups that panics, standing for any bug in the handler.
type panicky struct{}

func (panicky) For(registry.PullSecrets) (*registry.Credentials, error) { panic("boom") }

func review(t *testing.T, req webhook.Request) []byte {
	t.Helper()
	b, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request:  &req.AdmissionRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWebhookHTTP(t *testing.T) {
	s := &scripted{}
	good, _ := newPlacer(t, webhook.ModeEnforce, time.Second, webhook.StaticLookups(s.lookup))
	bad, m := newPlacer(t, webhook.ModeEnforce, time.Second, panicky{})
	req := request(t, pod(amd64Only), admissionv1.Create)
	deployment := request(t, pod(amd64Only), admissionv1.Create)
	deployment.Kind = metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}

	tests := []struct {
		name        string
		handler     *webhook.PodPlacer
		body        []byte
		contentType string
		wantStatus  int
		wantError   string // substring of the plain-text error
		wantPatch   string // substring of the decoded JSON patch
		wantNoPatch bool
	}{
		{name: "placed", handler: good, body: review(t, req), wantStatus: 200, wantPatch: `"path":"/spec/affinity"`},
		{name: "deployment passes through", handler: good, body: review(t, deployment), wantStatus: 200, wantNoPatch: true},
		{name: "panic fails open", handler: bad, body: review(t, req), wantStatus: 200, wantPatch: `skipped (internal error)`},
		{name: "oversize body", handler: good, body: bytes.Repeat([]byte(" "), 4<<20+1), wantStatus: 413, wantError: "request body larger than 4194304 bytes"},
		{name: "bad JSON", handler: good, body: []byte(`{"kind":`), wantStatus: 400, wantError: "decode AdmissionReview"},
		{name: "no request", handler: good, body: []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`), wantStatus: 400, wantError: "has no request"},
		{name: "keys are case-sensitive, as the API server writes them", handler: good, body: bytes.Replace(review(t, req), []byte(`"request"`), []byte(`"Request"`), 1), wantStatus: 400, wantError: "has no request"},
		{name: "v1beta1 refused", handler: good, body: []byte(`{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{}}`), wantStatus: 400, wantError: "want admission.k8s.io/v1 AdmissionReview"},
		{name: "wrong content type", handler: good, body: review(t, req), contentType: "text/plain", wantStatus: 415, wantError: "want application/json"},
		{name: "empty body", handler: good, body: nil, wantStatus: 400, wantError: "request body is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wh := &webhook.Webhook{Handler: tc.handler, Recover: tc.handler.Recover}
			ct := tc.contentType
			if ct == "" {
				ct = "application/json"
			}
			r := httptest.NewRequest(http.MethodPost, webhook.MutatePath, bytes.NewReader(tc.body))
			r.Header.Set("Content-Type", ct)
			w := httptest.NewRecorder()
			wh.ServeHTTP(w, r)
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.wantStatus, w.Body)
			}
			if tc.wantError != "" {
				if !strings.Contains(w.Body.String(), tc.wantError) {
					t.Errorf("body %q, want %q", w.Body, tc.wantError)
				}
				return
			}
			var out admissionv1.AdmissionReview
			if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
				t.Fatalf("decode response: %v: %s", err, w.Body)
			}
			if out.APIVersion != "admission.k8s.io/v1" || out.Kind != "AdmissionReview" || out.Response == nil {
				t.Fatalf("bad review: %s", w.Body)
			}
			if out.Response.UID != req.UID || !out.Response.Allowed {
				t.Errorf("uid %q allowed %v, want %q true", out.Response.UID, out.Response.Allowed, req.UID)
			}
			if tc.wantNoPatch && (out.Response.Patch != nil || out.Response.PatchType != nil) {
				t.Errorf("patch %s, want none", out.Response.Patch)
			}
			if tc.wantPatch != "" {
				if out.Response.PatchType == nil || *out.Response.PatchType != admissionv1.PatchTypeJSONPatch {
					t.Errorf("patch type %v, want JSONPatch", out.Response.PatchType)
				}
				if !strings.Contains(string(out.Response.Patch), tc.wantPatch) {
					t.Errorf("patch %s, want %s", out.Response.Patch, tc.wantPatch)
				}
			}
		})
	}
	if n := counter(t, m, "archway_webhook_skipped_total", "reason", "internal error"); n != 1 {
		t.Errorf("skipped{reason=internal error} = %v, want 1", n)
	}
}
