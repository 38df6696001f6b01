package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/placement"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/registrytest"
	"github.com/archwaydev/archway/internal/webhook"
)

// fuzzRegistry stands in the seed corpus for the host of the test
// registry, which listens on a new port each run.
const fuzzRegistry = "registry.test"

// FuzzAdmissionReview sends arbitrary bodies to the webhook's HTTP handler,
// the decode → lookups → placement → patch path the server runs, with the
// production pod placer looking images up in a real registry on loopback
// (legacy:1 amd64, edge:1 arm64, api:2 both; any other host is refused at
// the dial, so it fails fast as unknown), in three configurations: node
// affinity with an arm taint, nodeSelector with a preferred arm64, audit.
// The answer to a body that is not an AdmissionReview v1 with a request is
// a plain-text 400; to every other one an AdmissionReview with the
// request's UID that admits the pod (the webhook fails open), with at most
// a JSON patch that applies to the object (with the API server's patch
// library), touches only the placement fields and archway's annotations,
// leaves a pod that decodes, and that a reinvocation on the patched pod
// does not change.
func FuzzAdmissionReview(f *testing.F) {
	reg := registrytest.StartInProcess(f)
	registrytest.Push(f, reg.Ref("legacy:1"), registrytest.Image(f, platform.LinuxAMD64))
	registrytest.Push(f, reg.Ref("edge:1"), registrytest.Image(f, platform.LinuxARM64))
	registrytest.PushIndex(f, reg.Ref("api:2"), registrytest.Index(f, platform.LinuxAMD64, platform.LinuxARM64))
	lookups := loopbackLookups(f, reg.Host)
	cache := registry.NewMemCache(registry.MemCacheOptions{})
	webhooks := []*webhook.Webhook{
		fuzzWebhook(f, cache, lookups, webhook.ModeEnforce, placement.Options{ClusterArchs: []string{"amd64", "arm64"}, ArmTaint: &armTaint}),
		fuzzWebhook(f, cache, lookups, webhook.ModeEnforce, placement.Options{Style: placement.StyleNodeSelector, Prefer: map[string]int32{"arm64": 80}}),
		fuzzWebhook(f, cache, lookups, webhook.ModeAudit, placement.Options{ArmTaint: &armTaint}),
	}

	f.Fuzz(func(t *testing.T, body []byte) {
		body = bytes.ReplaceAll(body, []byte(fuzzRegistry), []byte(reg.Host))
		var in admissionv1.AdmissionReview
		decodable := utiljson.Unmarshal(body, &in) == nil && in.APIVersion == "admission.k8s.io/v1" && in.Kind == "AdmissionReview" && in.Request != nil
		for _, wh := range webhooks {
			code, resp := post(wh, body)
			if !decodable {
				if code != http.StatusBadRequest || !strings.HasPrefix(string(resp), "archway webhook: ") {
					t.Fatalf("not an AdmissionReview v1 with a request: status %d %q, want 400 and the reason", code, resp)
				}
				continue
			}
			if code != http.StatusOK {
				t.Fatalf("status %d %q, want 200", code, resp)
			}
			if out := checkReview(t, in.Request, resp); out.Patch != nil {
				checkReinvocation(t, wh, in, checkPatch(t, in.Request.Object.Raw, out))
			}
		}
	})
}

// checkReinvocation checks that admitting the patched pod again (as the API
// server does after another webhook) leaves it as it is.
func checkReinvocation(t *testing.T, wh *webhook.Webhook, in admissionv1.AdmissionReview, patched []byte) {
	t.Helper()
	again := *in.Request
	again.Object.Raw = patched
	body, err := json.Marshal(admissionv1.AdmissionReview{TypeMeta: in.TypeMeta, Request: &again})
	if err != nil {
		t.Fatal(err)
	}
	code, resp := post(wh, body)
	if code != http.StatusOK {
		t.Fatalf("reinvocation: status %d %q, want 200", code, resp)
	}
	if out := checkReview(t, &again, resp); out.Patch != nil {
		if twice := checkPatch(t, patched, out); !jsonEqual(t, patched, twice) {
			t.Errorf("a reinvocation changes the pod\npatch: %s\nafter one: %s\nafter two: %s", out.Patch, patched, twice)
		}
	}
}

// loopbackLookups are the production pod lookups (no pull secrets read),
// their registry client limited to the registry at host.
func loopbackLookups(f *testing.F, host string) webhook.Lookups {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr != host {
			return nil, fmt.Errorf("fuzz: no network but the test registry, not %s", addr)
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	lookups, err := registry.NewPullSecretLookups(registry.PullSecretLookupsOptions{
		NewLookup: func(kc authn.Keychain) (lookup.Func, error) {
			c, err := registry.New(registry.WithoutCache(), registry.WithKeychain(kc), registry.WithTransport(transport),
				registry.WithRetry(1, 0), registry.WithCircuitBreaker(0, 0), registry.WithRequestTimeout(5*time.Second))
			if err != nil {
				return nil, err
			}
			return c.Lookup, nil
		},
	})
	if err != nil {
		f.Fatal(err)
	}
	return lookups
}

// fuzzWebhook builds the handler NewServer serves.
func fuzzWebhook(f *testing.F, cache *registry.MemCache, lookups webhook.Lookups, mode webhook.Mode, opts placement.Options) *webhook.Webhook {
	placer, err := webhook.NewPodPlacer(webhook.PodPlacerOptions{
		Cache: cache, Lookups: lookups, Placement: opts, Mode: mode, Budget: 10 * time.Second,
	})
	if err != nil {
		f.Fatal(err)
	}
	return &webhook.Webhook{Handler: placer, Recover: placer.Recover}
}

// post sends body to wh as the API server does and returns the status and
// body of the answer.
func post(wh http.Handler, body []byte) (int, []byte) {
	r := httptest.NewRequest(http.MethodPost, webhook.MutatePath, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	wh.ServeHTTP(w, r)
	return w.Code, w.Body.Bytes()
}

// checkReview checks that resp is an AdmissionReview v1 admitting req.
func checkReview(t *testing.T, req *admissionv1.AdmissionRequest, resp []byte) *admissionv1.AdmissionResponse {
	t.Helper()
	var out admissionv1.AdmissionReview
	if err := json.Unmarshal(resp, &out); err != nil {
		t.Fatalf("the answer is not JSON: %v: %s", err, resp)
	}
	switch {
	case out.APIVersion != "admission.k8s.io/v1" || out.Kind != "AdmissionReview" || out.Response == nil:
		t.Fatalf("the answer is not an AdmissionReview v1 with a response: %s", resp)
	case out.Response.UID != req.UID:
		t.Fatalf("response UID %q, want the request's %q", out.Response.UID, req.UID)
	case !out.Response.Allowed:
		t.Fatalf("the pod is refused, the webhook fails open: %s", resp)
	case (out.Response.Patch == nil) != (out.Response.PatchType == nil):
		t.Fatalf("patch %s with patch type %v", out.Response.Patch, out.Response.PatchType)
	case out.Response.PatchType != nil && *out.Response.PatchType != admissionv1.PatchTypeJSONPatch:
		t.Fatalf("patch type %q, want JSONPatch", *out.Response.PatchType)
	}
	return out.Response
}

// placementPaths are what the patch may touch; it adds /spec or /metadata
// whole to an object without them.
var placementPaths = []string{"/spec/affinity", "/spec/tolerations", "/spec/nodeSelector", "/metadata/annotations"}

// checkPatch applies the response's patch to raw and checks the result:
// a pod, different from raw only in the placement fields and archway's
// annotations. It returns the patched object.
func checkPatch(t *testing.T, raw []byte, resp *admissionv1.AdmissionResponse) []byte {
	t.Helper()
	patch, err := jsonpatch.DecodePatch(resp.Patch)
	if err != nil {
		t.Fatalf("patch %s does not decode: %v", resp.Patch, err)
	}
	for _, op := range patch {
		path, err := op.Path()
		if err != nil {
			t.Fatalf("patch %s: %v", resp.Patch, err)
		}
		if !placementPath(op.Kind(), path) {
			t.Errorf("patch %s touches %s", resp.Patch, path)
		}
	}
	patched, err := patch.Apply(raw)
	if err != nil {
		t.Fatalf("patch %s does not apply to the object: %v\nobject: %s", resp.Patch, err, raw)
	}
	var pod corev1.Pod
	if err := json.Unmarshal(patched, &pod); err != nil {
		t.Fatalf("the patched object is not a pod: %v\n%s", err, patched)
	}
	before, after := withoutPlacement(t, raw), withoutPlacement(t, patched)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("the patch changes more than the placement (-before +after):\n%s\npatch: %s", diff, resp.Patch)
	}
	return patched
}

// placementPath reports whether an operation of kind on path is one the
// webhook may make.
func placementPath(kind, path string) bool {
	if kind == "add" && (path == "/spec" || path == "/metadata") {
		return true
	}
	for _, p := range placementPaths {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// withoutPlacement decodes a pod object and drops what the webhook may
// change.
func withoutPlacement(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("object %s: %v", raw, err)
	}
	if spec, ok := m["spec"].(map[string]any); ok {
		delete(spec, "affinity")
		delete(spec, "tolerations")
		delete(spec, "nodeSelector")
	}
	if meta, ok := m["metadata"].(map[string]any); ok {
		if ann, ok := meta["annotations"].(map[string]any); ok {
			delete(ann, webhook.AnnotationKey)
			delete(ann, webhook.AddedAnnotationKey)
		}
		dropEmpty(meta, "annotations")
	}
	dropEmpty(m, "spec")
	dropEmpty(m, "metadata")
	return m
}

// dropEmpty deletes m[key] when it is null or an empty object.
func dropEmpty(m map[string]any, key string) {
	if v, ok := m[key].(map[string]any); ok && len(v) == 0 || m[key] == nil {
		delete(m, key)
	}
}

// jsonEqual reports whether a and b are the same JSON value.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatal(err)
	}
	return cmp.Equal(va, vb)
}
